//! `toktok api-key create|list|revoke`.

use anyhow::{bail, Context as _};

use super::{open_store, ApiKeyCommand};
use crate::auth::api_keys::{self, Scope};
use crate::clock::{rfc3339, Clock as _, SystemClock};
use crate::config::Config;
use crate::store::AuditEvent;

pub(super) async fn api_key(config: Config, command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create { name, scopes } => api_key_create(&config, name, scopes).await,
        ApiKeyCommand::List => api_key_list(&config).await,
        ApiKeyCommand::Revoke { id } => api_key_revoke(&config, &id).await,
    }
}

pub(super) fn cli_event(kind: &'static str, at: i64, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        at,
        kind,
        user_id: None,
        actor: Some("cli".to_owned()),
        ip: None,
        user_agent: None,
        detail,
    }
}

pub(super) async fn api_key_create(
    config: &Config,
    name: String,
    scopes: Vec<Scope>,
) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let new = api_keys::new_key(&name, scopes, now).map_err(|e| match e {
        api_keys::NewKeyError::EmptyName => anyhow::anyhow!("--name must not be empty"),
        api_keys::NewKeyError::LongName => {
            anyhow::anyhow!("--name is longer than {} bytes", api_keys::MAX_NAME)
        }
        api_keys::NewKeyError::ControlInName => {
            anyhow::anyhow!("--name must not contain control characters")
        }
        other => anyhow::anyhow!("{other}"),
    })?;
    let store = open_store(config).await?;
    let event = cli_event(
        "api_key.created",
        now,
        api_keys::created_detail(&new.record),
    );
    let (id, scope_list) = (new.record.id.clone(), scope_names(&new.record.scopes));
    store
        .insert_api_key(new.record, new.hash, event)
        .await
        .context("while storing the new API key")?;
    eprintln!("created API key {id} with scope(s) {scope_list}; it is shown only once:");
    println!("{}", new.key);
    Ok(())
}

pub(super) fn scope_names(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) async fn api_key_list(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let keys = store.list_api_keys().await?;
    if keys.is_empty() {
        eprintln!("no API keys; create one with: toktok api-key create --name N --scope S");
        return Ok(());
    }
    let when = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), rfc3339);
    let mut rows = vec![vec![
        "ID".to_owned(),
        "NAME".to_owned(),
        "SCOPES".to_owned(),
        "CREATED".to_owned(),
        "LAST USED".to_owned(),
        "REVOKED".to_owned(),
    ]];
    rows.extend(keys.iter().map(|k| {
        vec![
            k.id.clone(),
            k.name.clone(),
            scope_names(&k.scopes),
            rfc3339(k.created_at),
            when(k.last_used_at),
            when(k.revoked_at),
        ]
    }));
    super::print_table(&rows)
}

pub(super) async fn api_key_revoke(config: &Config, id: &str) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let now = SystemClock.now();
    let event = cli_event("api_key.revoked", now, serde_json::json!({ "id": id }));
    if store.revoke_api_key(id, now, event).await? {
        eprintln!("revoked API key {id}");
        return Ok(());
    }
    let known = store
        .list_api_keys()
        .await?
        .into_iter()
        .find(|k| k.id == id);
    match known.and_then(|k| k.revoked_at) {
        Some(at) => bail!("API key {id} was already revoked at {}", rfc3339(at)),
        None => bail!("there is no API key with id {id} (see toktok api-key list)"),
    }
}
