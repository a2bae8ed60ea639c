//! OAuth clients of toktok as an OpenID Connect provider, and the grants
//! users gave them (docs/API.md "OpenID Connect provider", docs/oidc.md).
//!
//! This module owns what a client may be: its redirect URIs (absolute,
//! `https`, or `http` on a loopback host; no wildcard, fragment or
//! userinfo; kept exactly as given, since the authorize endpoint compares
//! them as strings), its grant types, scopes and ID token algorithm, and
//! its secret (256 random bits; only a SHA-256 is stored, as for API keys).
//! The admin API and the `toktok client` command both go through
//! [`prepare`], so the two cannot register different things.
//!
//! With `[oidc] enabled = false` the HTTP routes answer 404
//! `feature_disabled` ([`enabled`]); the command line registers clients
//! either way (it is set-up).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SecureRandom as _;
use serde::Serialize;
use serde_json::json;

use super::admin::admin_event;
use super::{Authenticated, RequestMeta};
use crate::app::AppState;
use crate::clock::rfc3339;
use crate::error::{ApiError, FieldError};
use crate::store::{AuditEvent, ConsentRow, OAuthClientChange, OAuthClientRow};

mod redirect_uri;

pub use redirect_uri::check_redirect_uri;
#[cfg(test)]
pub use redirect_uri::REDIRECT_URI_PATTERN;

/// The grant types a client may have.
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];
/// The scopes a client may ask for.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];
/// The algorithms an ID token may be signed with.
pub const ID_TOKEN_ALGS: [&str; 3] = ["RS256", "ES256", "EdDSA"];
/// Longest client name, in characters.
pub const MAX_NAME: usize = 100;
/// Most redirect URIs (and post-logout redirect URIs) a client may have.
pub const MAX_URIS: usize = 20;
/// Longest audience, in characters.
pub const MAX_AUDIENCE: usize = 256;
/// Random bytes in a client secret.
const SECRET_BYTES: usize = 32;

/// Confidential clients authenticate with a secret; public ones (browser
/// and native apps) cannot keep one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Confidential,
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }

    pub fn parse(raw: &str) -> Option<ClientType> {
        match raw {
            "confidential" => Some(ClientType::Confidential),
            "public" => Some(ClientType::Public),
            _ => None,
        }
    }
}

/// A client as the admin API shows it: never its secret or its hash.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = OAuthClient, example = json!({
    "client_id": "0193a5c4-7d2e-7b61-9a0c-2f4e8d1b3c5a",
    "name": "Wiki",
    "type": "confidential",
    "redirect_uris": ["https://wiki.example.com/oauth/callback"],
    "post_logout_redirect_uris": [],
    "grant_types": ["authorization_code", "refresh_token"],
    "scopes": ["openid", "profile", "email", "offline_access"],
    "audience": null,
    "skip_consent": false,
    "id_token_signed_response_alg": "RS256",
    "created_at": "2026-12-04T15:00:00Z",
    "updated_at": "2026-12-04T15:00:00Z"
}))]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    #[serde(rename = "type")]
    #[schema(pattern = "^(confidential|public)$")]
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// `aud` of the client's access tokens; `null`: `jwt.audience`.
    #[schema(required = true)]
    pub audience: Option<String>,
    pub skip_consent: bool,
    pub id_token_signed_response_alg: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&OAuthClientRow> for ClientView {
    fn from(c: &OAuthClientRow) -> Self {
        ClientView {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            client_type: c.client_type.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.clone(),
            audience: c.audience.clone(),
            skip_consent: c.skip_consent,
            id_token_signed_response_alg: c.id_token_alg.clone(),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// A client with its secret: the answer of a creation or a rotation, the
/// only time the secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OAuthClientWithSecret)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: ClientView,
    /// Confidential clients only; shown once (toktok keeps a hash).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// The list of clients.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OAuthClientList)]
pub struct ClientList {
    pub clients: Vec<ClientView>,
}

/// One grant of the signed-in user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "client_id": "0193a5c4-7d2e-7b61-9a0c-2f4e8d1b3c5a",
    "name": "Wiki",
    "scopes": ["openid", "email"],
    "granted_at": "2026-12-04T15:00:00Z"
}))]
pub struct AppView {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    #[schema(format = DateTime)]
    pub granted_at: String,
}

impl From<&ConsentRow> for AppView {
    fn from(c: &ConsentRow) -> Self {
        AppView {
            client_id: c.client_id.clone(),
            name: c.client_name.clone(),
            scopes: c.scopes.clone(),
            granted_at: rfc3339(c.granted_at),
        }
    }
}

/// The signed-in user's grants.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppList {
    pub apps: Vec<AppView>,
}

/// What a new client is asked to be; `None` takes the default.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub audience: Option<String>,
    pub skip_consent: Option<bool>,
    pub id_token_signed_response_alg: Option<String>,
}

/// Passes only with `[oidc] enabled` (404 `feature_disabled`).
pub fn enabled(state: &AppState) -> Result<(), ApiError> {
    if state.config.oidc.enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

/// A fresh client secret and the SHA-256 (hex) of it: 256 bits from the
/// operating system, base64url without padding.
pub fn generate_secret() -> Result<(String, String), ApiError> {
    let mut bytes = [0u8; SECRET_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the system random source failed".to_owned()))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_secret(&secret);
    Ok((secret, hash))
}

/// What the store keeps of a client secret, and compares a presented one
/// by.
pub fn hash_secret(secret: &str) -> String {
    crate::auth::sha256_hex(secret)
}

fn check_name(raw: &str) -> Result<(), String> {
    let n = raw.chars().count();
    if raw.trim().is_empty() || n > MAX_NAME {
        return Err(format!("must be 1 to {MAX_NAME} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

/// A list of redirect URIs, each checked under `field[i]`; duplicates are
/// dropped (the first kept).
fn check_uris(
    field: &str,
    uris: Vec<String>,
    may_be_empty: bool,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    if uris.is_empty() && !may_be_empty {
        errors.push(FieldError::new(field, "must list at least one URI"));
    }
    if uris.len() > MAX_URIS {
        errors.push(FieldError::new(
            field,
            format!("must list at most {MAX_URIS} URIs"),
        ));
        return Vec::new();
    }
    for (i, uri) in uris.iter().enumerate() {
        if let Err(why) = check_redirect_uri(uri) {
            errors.push(FieldError::new(format!("{field}[{i}]"), why));
        }
    }
    unique(uris)
}

fn unique(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// A non-empty list of names from `allowed`, each once.
fn check_names(
    field: &str,
    list: Vec<String>,
    allowed: &[&str],
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    if list.is_empty() {
        errors.push(FieldError::new(field, "must list at least one"));
    }
    for (i, item) in list.iter().enumerate() {
        if !allowed.contains(&item.as_str()) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                format!("must be one of {}", allowed.join(", ")),
            ));
        }
    }
    unique(list)
}

fn check_grants_for(client_type: ClientType, grants: &[String], errors: &mut Vec<FieldError>) {
    if client_type == ClientType::Public && grants.iter().any(|g| g == "client_credentials") {
        errors.push(FieldError::new(
            "grant_types",
            "a public client cannot use client_credentials",
        ));
    }
}

fn check_audience(raw: &str) -> Result<(), String> {
    let n = raw.chars().count();
    if n == 0 || n > MAX_AUDIENCE {
        return Err(format!("must be 1 to {MAX_AUDIENCE} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

fn check_alg(raw: &str) -> Result<(), String> {
    if ID_TOKEN_ALGS.contains(&raw) {
        Ok(())
    } else {
        Err(format!("must be one of {}", ID_TOKEN_ALGS.join(", ")))
    }
}

fn push(errors: &mut Vec<FieldError>, field: &str, result: Result<(), String>) {
    if let Err(why) = result {
        errors.push(FieldError::new(field, why));
    }
}

fn defaults(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Checks a new client and builds its row, with a fresh id and (for a
/// confidential client) a fresh secret, returned beside the row: every
/// refusal at once, each naming its field.
pub fn prepare(input: NewClient, now: i64) -> Result<(OAuthClientRow, Option<String>), ApiError> {
    let mut errors = Vec::new();
    push(&mut errors, "name", check_name(&input.name));
    let client_type = ClientType::parse(&input.client_type);
    if client_type.is_none() {
        errors.push(FieldError::new("type", "must be confidential or public"));
    }
    let redirect_uris = check_uris("redirect_uris", input.redirect_uris, false, &mut errors);
    let post_logout_redirect_uris = check_uris(
        "post_logout_redirect_uris",
        input.post_logout_redirect_uris.unwrap_or_default(),
        true,
        &mut errors,
    );
    let grant_types = check_names(
        "grant_types",
        input
            .grant_types
            .unwrap_or_else(|| defaults(&["authorization_code", "refresh_token"])),
        &GRANT_TYPES,
        &mut errors,
    );
    if let Some(t) = client_type {
        check_grants_for(t, &grant_types, &mut errors);
    }
    let scopes = check_names(
        "scopes",
        input.scopes.unwrap_or_else(|| defaults(&SCOPES)),
        &SCOPES,
        &mut errors,
    );
    if let Some(audience) = &input.audience {
        push(&mut errors, "audience", check_audience(audience));
    }
    let alg = input
        .id_token_signed_response_alg
        .unwrap_or_else(|| "RS256".to_owned());
    push(&mut errors, "id_token_signed_response_alg", check_alg(&alg));
    let Some(client_type) = client_type.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let (secret, secret_hash) = match client_type {
        ClientType::Confidential => {
            let (secret, hash) = generate_secret()?;
            (Some(secret), Some(hash))
        }
        ClientType::Public => (None, None),
    };
    let row = OAuthClientRow {
        client_id: uuid::Uuid::now_v7().to_string(),
        name: input.name,
        client_type: client_type.as_str().to_owned(),
        secret_hash,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        scopes,
        audience: input.audience,
        skip_consent: input.skip_consent.unwrap_or(false),
        id_token_alg: alg,
        created_at: now,
        updated_at: now,
    };
    Ok((row, secret))
}

/// Checks a change of a client of type `client_type`; the change as the
/// store applies it.
pub fn check_change(
    client_type: ClientType,
    change: OAuthClientChange,
) -> Result<OAuthClientChange, ApiError> {
    let mut errors = Vec::new();
    if let Some(name) = &change.name {
        push(&mut errors, "name", check_name(name));
    }
    let redirect_uris = change
        .redirect_uris
        .map(|u| check_uris("redirect_uris", u, false, &mut errors));
    let post_logout_redirect_uris = change
        .post_logout_redirect_uris
        .map(|u| check_uris("post_logout_redirect_uris", u, true, &mut errors));
    let grant_types = change
        .grant_types
        .map(|g| check_names("grant_types", g, &GRANT_TYPES, &mut errors));
    if let Some(grants) = &grant_types {
        check_grants_for(client_type, grants, &mut errors);
    }
    let scopes = change
        .scopes
        .map(|s| check_names("scopes", s, &SCOPES, &mut errors));
    if let Some(Some(audience)) = &change.audience {
        push(&mut errors, "audience", check_audience(audience));
    }
    if let Some(alg) = &change.id_token_alg {
        push(&mut errors, "id_token_signed_response_alg", check_alg(alg));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(OAuthClientChange {
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        scopes,
        ..change
    })
}

/// The audit event of a new client (also for the command line).
pub fn created_event(client: &OAuthClientRow, at: i64) -> AuditEvent {
    AuditEvent {
        at,
        kind: "oauth.client_created",
        user_id: None,
        actor: None,
        ip: None,
        user_agent: None,
        detail: json!({
            "client_id": client.client_id,
            "name": client.name,
            "type": client.client_type,
        }),
    }
}

async fn existing(state: &AppState, id: &str) -> Result<OAuthClientRow, ApiError> {
    state
        .store
        .oauth_client(id)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn create(
    state: &AppState,
    actor: &str,
    input: NewClient,
    meta: &RequestMeta,
) -> Result<ClientWithSecret, ApiError> {
    let now = state.now();
    let (row, secret) = prepare(input, now)?;
    let mut event = created_event(&row, now);
    event.actor = Some(actor.to_owned());
    event.ip = meta.ip.map(|ip| ip.to_string());
    event.user_agent.clone_from(&meta.user_agent);
    let client = ClientView::from(&row);
    state.store.insert_oauth_client(row, event).await?;
    Ok(ClientWithSecret {
        client,
        client_secret: secret,
    })
}

pub async fn list(state: &AppState) -> Result<ClientList, ApiError> {
    let clients = state.store.oauth_clients().await?;
    Ok(ClientList {
        clients: clients.iter().map(ClientView::from).collect(),
    })
}

pub async fn get(state: &AppState, id: &str) -> Result<ClientView, ApiError> {
    Ok(ClientView::from(&existing(state, id).await?))
}

pub async fn update(
    state: &AppState,
    actor: &str,
    id: &str,
    change: OAuthClientChange,
    meta: &RequestMeta,
) -> Result<ClientView, ApiError> {
    let client = existing(state, id).await?;
    let client_type = ClientType::parse(&client.client_type)
        .ok_or_else(|| ApiError::Internal(format!("client {id} has an unknown type")))?;
    let change = check_change(client_type, change)?;
    let mut fields = Vec::new();
    let named = [
        ("name", change.name.is_some()),
        ("redirect_uris", change.redirect_uris.is_some()),
        (
            "post_logout_redirect_uris",
            change.post_logout_redirect_uris.is_some(),
        ),
        ("grant_types", change.grant_types.is_some()),
        ("scopes", change.scopes.is_some()),
        ("audience", change.audience.is_some()),
        ("skip_consent", change.skip_consent.is_some()),
        (
            "id_token_signed_response_alg",
            change.id_token_alg.is_some(),
        ),
    ];
    for (name, set) in named {
        if set {
            fields.push(name);
        }
    }
    let now = state.now();
    let event = admin_event(
        meta,
        actor,
        now,
        "oauth.client_updated",
        None,
        json!({ "client_id": client.client_id, "fields": fields }),
    );
    let row = state
        .store
        .update_oauth_client(id, change, now, event)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ClientView::from(&row))
}

pub async fn delete(
    state: &AppState,
    actor: &str,
    id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = admin_event(
        meta,
        actor,
        now,
        "oauth.client_deleted",
        None,
        json!({ "client_id": id }),
    );
    if state.store.delete_oauth_client(id, now, event).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

pub async fn rotate_secret(
    state: &AppState,
    actor: &str,
    id: &str,
    meta: &RequestMeta,
) -> Result<ClientWithSecret, ApiError> {
    let client = existing(state, id).await?;
    if client.client_type != ClientType::Confidential.as_str() {
        return Err(ApiError::Conflict(
            "a public client has no secret".to_owned(),
        ));
    }
    let (secret, hash) = generate_secret()?;
    let now = state.now();
    let event = admin_event(
        meta,
        actor,
        now,
        "oauth.client_secret_rotated",
        None,
        json!({ "client_id": client.client_id }),
    );
    let row = state
        .store
        .rotate_oauth_client_secret(id, hash, now, event)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ClientWithSecret {
        client: ClientView::from(&row),
        client_secret: Some(secret),
    })
}

/// The signed-in user's grants.
pub async fn apps(state: &AppState, who: &Authenticated) -> Result<AppList, ApiError> {
    let grants = state.store.consents_of(&who.user.id).await?;
    Ok(AppList {
        apps: grants.iter().map(AppView::from).collect(),
    })
}

/// Ends the signed-in user's grant to `client_id` and the user's sessions
/// of that client; 404 without such a grant.
pub async fn revoke_app(
    state: &AppState,
    who: &Authenticated,
    client_id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = meta.event(
        now,
        "oauth.consent_revoked",
        Some(&who.user.id),
        json!({ "client_id": client_id }),
    );
    if state
        .store
        .revoke_consent(&who.user.id, client_id, now, event)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> NewClient {
        NewClient {
            name: "Wiki".into(),
            client_type: "confidential".into(),
            redirect_uris: vec!["https://wiki.example.com/cb".into()],
            ..NewClient::default()
        }
    }

    fn fields(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn a_new_client_gets_the_defaults_and_a_secret() {
        let (row, secret) = prepare(base(), 7).unwrap();
        let secret = secret.unwrap();
        assert_eq!(secret.len(), 43);
        assert_eq!(
            row.secret_hash.as_deref(),
            Some(hash_secret(&secret).as_str())
        );
        assert_eq!(row.grant_types, ["authorization_code", "refresh_token"]);
        assert_eq!(row.scopes, SCOPES);
        assert_eq!(row.id_token_alg, "RS256");
        assert!(!row.skip_consent);
        let public = NewClient {
            client_type: "public".into(),
            ..base()
        };
        let (row, secret) = prepare(public, 7).unwrap();
        assert!(secret.is_none() && row.secret_hash.is_none());
    }

    #[test]
    fn every_refusal_names_its_field() {
        let input = NewClient {
            name: String::new(),
            client_type: "public".into(),
            redirect_uris: vec!["https://ok.example/cb".into(), "http://evil.example".into()],
            post_logout_redirect_uris: Some(vec!["https://x.example/#".into()]),
            grant_types: Some(vec!["client_credentials".into(), "implicit".into()]),
            scopes: Some(vec!["admin".into()]),
            audience: Some(String::new()),
            skip_consent: None,
            id_token_signed_response_alg: Some("HS256".into()),
        };
        let got = fields(prepare(input, 0).unwrap_err());
        assert_eq!(
            got,
            [
                "name",
                "redirect_uris[1]",
                "post_logout_redirect_uris[0]",
                "grant_types[1]",
                "grant_types",
                "scopes[0]",
                "audience",
                "id_token_signed_response_alg"
            ]
        );
    }

    #[test]
    fn a_change_of_grants_is_checked_against_the_type() {
        let change = OAuthClientChange {
            grant_types: Some(vec!["client_credentials".into()]),
            ..OAuthClientChange::default()
        };
        assert!(check_change(ClientType::Confidential, change.clone()).is_ok());
        assert_eq!(
            fields(check_change(ClientType::Public, change).unwrap_err()),
            ["grant_types"]
        );
    }
}
