//! `toktok client create|list|delete`: OAuth clients from the command line,
//! checked by the same rules as the admin API
//! (`accounts::oauth_clients::prepare`).

use anyhow::{bail, Context as _};

use super::api_key::cli_event;
use super::{open_store, ClientCommand};
use crate::accounts::oauth_clients::{self, NewClient};
use crate::clock::{rfc3339, Clock as _, SystemClock};
use crate::config::Config;
use crate::error::ApiError;

pub(super) async fn client(config: Config, command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create {
            name,
            redirect_uris,
            public,
            scopes,
        } => client_create(&config, name, redirect_uris, public, scopes).await,
        ClientCommand::List => client_list(&config).await,
        ClientCommand::Delete { id } => client_delete(&config, &id).await,
    }
}

/// The option a field of the API is set by here.
fn option_of(field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    match base {
        "redirect_uris" => format!("--redirect-uri ({field})"),
        "scopes" => format!("--scope ({field})"),
        "name" => "--name".to_owned(),
        other => other.to_owned(),
    }
}

async fn client_create(
    config: &Config,
    name: String,
    redirect_uris: Vec<String>,
    public: bool,
    scopes: Vec<String>,
) -> anyhow::Result<()> {
    let input = NewClient {
        name,
        client_type: if public { "public" } else { "confidential" }.to_owned(),
        redirect_uris,
        scopes: (!scopes.is_empty()).then_some(scopes),
        ..NewClient::default()
    };
    let now = SystemClock.now();
    let (row, secret) = match oauth_clients::prepare(input, now) {
        Ok(prepared) => prepared,
        Err(ApiError::Validation(errors)) => {
            let reasons: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {}", option_of(&e.field), e.message))
                .collect();
            bail!("{}", reasons.join("; "));
        }
        Err(other) => bail!("{other}"),
    };
    let mut event = oauth_clients::created_event(&row, now);
    event.actor = Some("cli".to_owned());
    let (id, kind) = (row.client_id.clone(), row.client_type.clone());
    let store = open_store(config).await?;
    store
        .insert_oauth_client(row, event)
        .await
        .context("while storing the new client")?;
    match secret {
        Some(secret) => {
            eprintln!(
                "created {kind} OAuth client {id}; its client_id and, on the next line, its \
                 secret (shown only once):"
            );
            println!("{id}\n{secret}");
        }
        None => {
            eprintln!("created {kind} OAuth client {id}; its client_id:");
            println!("{id}");
        }
    }
    Ok(())
}

async fn client_list(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let clients = store.oauth_clients().await?;
    if clients.is_empty() {
        eprintln!(
            "no OAuth clients; register one with: toktok client create --name N --redirect-uri U"
        );
        return Ok(());
    }
    let mut rows = vec![vec![
        "CLIENT ID".to_owned(),
        "NAME".to_owned(),
        "TYPE".to_owned(),
        "SCOPES".to_owned(),
        "CREATED".to_owned(),
        "REDIRECT URIS".to_owned(),
    ]];
    rows.extend(clients.iter().map(|c| {
        vec![
            c.client_id.clone(),
            c.name.clone(),
            c.client_type.clone(),
            c.scopes.join(","),
            rfc3339(c.created_at),
            c.redirect_uris.join(" "),
        ]
    }));
    super::print_table(&rows)
}

async fn client_delete(config: &Config, id: &str) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let now = SystemClock.now();
    let event = cli_event(
        "oauth.client_deleted",
        now,
        serde_json::json!({ "client_id": id }),
    );
    if store.delete_oauth_client(id, now, event).await? {
        eprintln!("deleted OAuth client {id}; its grants and sessions are gone");
        Ok(())
    } else {
        bail!("there is no OAuth client with id {id} (see toktok client list)")
    }
}
