//! OAuth clients (`/v1/admin/oauth-clients*`, for admins like every
//! `/v1/admin` route) and the signed-in user's grants to them
//! (`/v1/users/me/apps*`). With `[oidc] enabled = false` every route here
//! answers 404 `feature_disabled`, before anything else.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Admin, Auth, JsonBody, Meta};
use crate::accounts::oauth_clients::{
    self, AppList, ClientList, ClientView, ClientWithSecret, NewClient,
};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::OAuthClientChange;

/// Passes only with `[oidc] enabled` (404 `feature_disabled`).
#[derive(Debug, Clone, Copy)]
pub struct OidcOn;

impl FromRequestParts<AppState> for OidcOn {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        oauth_clients::enabled(state).map(|()| OidcOn)
    }
}

/// A redirect URI (`accounts::oauth_clients::check_redirect_uri`; the
/// pattern is that rule, exactly).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(
    pattern = "^(https://(([A-Za-z0-9-]+\\.)*[A-Za-z][A-Za-z0-9-]*|(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})|http://(localhost|127\\.0\\.0\\.1|\\[::1\\]))(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?][^\\s*#\\\\\\u0000-\\u001F\\u007F-\\u009F]*)?$",
    example = "https://wiki.example.com/oauth/callback"
)]
pub struct RedirectUri(String);

/// A grant type a client may have.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(
    pattern = "^(authorization_code|refresh_token|client_credentials)$",
    example = "authorization_code"
)]
pub struct GrantType(String);

/// A scope a client may ask for.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(
    pattern = "^(openid|profile|email|offline_access)$",
    example = "openid"
)]
pub struct ScopeName(String);

fn strings<T>(list: Option<Vec<T>>, inner: fn(T) -> String) -> Option<Vec<String>> {
    list.map(|l| l.into_iter().map(inner).collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Wiki",
    "type": "confidential",
    "redirect_uris": ["https://wiki.example.com/oauth/callback"],
    "scopes": ["openid", "profile", "email"]
}))]
pub struct CreateClientBody {
    /// 1 to 100 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*\\S[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    #[serde(rename = "type")]
    #[schema(pattern = "^(confidential|public)$")]
    pub client_type: String,
    /// Absolute `https` URLs (`http` only on localhost, 127.0.0.1, [::1]);
    /// no wildcard, fragment or user name. Compared as exact strings.
    #[schema(min_items = 1, max_items = 20)]
    pub redirect_uris: Vec<RedirectUri>,
    /// Same rules as `redirect_uris`; may be empty (the default).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub post_logout_redirect_uris: Option<Vec<RedirectUri>>,
    /// Any of `authorization_code`, `refresh_token`, `client_credentials`
    /// (not for public clients); default the first two.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub grant_types: Option<Vec<GrantType>>,
    /// Any of `openid`, `profile`, `email`, `offline_access`; default all.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub scopes: Option<Vec<ScopeName>>,
    /// `aud` of the client's access tokens (default `jwt.audience`).
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub audience: Option<String>,
    #[serde(default)]
    pub skip_consent: Option<bool>,
    /// `RS256` (default), `ES256` or `EdDSA`.
    #[serde(default)]
    #[schema(pattern = "^(RS256|ES256|EdDSA)$")]
    pub id_token_signed_response_alg: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/oauth-clients", tag = "admin",
    summary = "Register an OAuth client",
    security(("api_key" = []), ("bearer_jwt" = [])),
    request_body = CreateClientBody,
    responses(
        (status = 201, body = ClientWithSecret,
            description = "The client; for a confidential one, its `client_secret`, shown \
                this once (toktok keeps only a hash).",
            example = json!({
                "client_id": "0193a5c4-7d2e-7b61-9a0c-2f4e8d1b3c5a",
                "name": "Wiki",
                "type": "confidential",
                "redirect_uris": ["https://wiki.example.com/oauth/callback"],
                "post_logout_redirect_uris": [],
                "grant_types": ["authorization_code", "refresh_token"],
                "scopes": ["openid", "profile", "email"],
                "audience": null,
                "skip_consent": false,
                "id_token_signed_response_alg": "RS256",
                "created_at": "2026-12-04T15:00:00Z",
                "updated_at": "2026-12-04T15:00:00Z",
                "client_secret": "q3Jb7hN2xYtq0m9VvK8cP4sR1eWzA6uLdF5gHiJkTo0"
            })),
        (status = 404, description = "`feature_disabled`"),
        (status = 422, description = "`validation_failed`, naming each bad field \
            (`redirect_uris[1]`, `grant_types`, …)"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    _on: OidcOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    JsonBody(body): JsonBody<CreateClientBody>,
) -> Result<(StatusCode, Json<ClientWithSecret>), ApiError> {
    let input = NewClient {
        name: body.name,
        client_type: body.client_type,
        redirect_uris: strings(Some(body.redirect_uris), |u| u.0).unwrap_or_default(),
        post_logout_redirect_uris: strings(body.post_logout_redirect_uris, |u| u.0),
        grant_types: strings(body.grant_types, |g| g.0),
        scopes: strings(body.scopes, |s| s.0),
        audience: body.audience,
        skip_consent: body.skip_consent,
        id_token_signed_response_alg: body.id_token_signed_response_alg,
    };
    let client = oauth_clients::create(&state, &actor, input, &meta).await?;
    Ok((StatusCode::CREATED, Json(client)))
}

#[utoipa::path(get, path = "/v1/admin/oauth-clients", tag = "admin",
    summary = "List OAuth clients",
    security(("api_key" = []), ("bearer_jwt" = [])),
    responses(
        (status = 200, body = ClientList, description = "Every client, oldest first (never \
            a secret)."),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    _on: OidcOn,
    State(state): State<AppState>,
    Admin(_actor): Admin,
) -> Result<Json<ClientList>, ApiError> {
    Ok(Json(oauth_clients::list(&state).await?))
}

#[utoipa::path(get, path = "/v1/admin/oauth-clients/{id}", tag = "admin",
    summary = "One OAuth client",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 200, body = ClientView, description = "The client (never its secret)."),
        (status = 404, description = "`not_found`, `feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get(
    _on: OidcOn,
    State(state): State<AppState>,
    Admin(_actor): Admin,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, ApiError> {
    Ok(Json(oauth_clients::get(&state, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "redirect_uris": ["https://wiki.example.com/oauth/callback", "http://localhost:8000/cb"],
    "skip_consent": true
}))]
pub struct PatchClientBody {
    /// 1 to 100 characters, no control characters.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*\\S[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
    /// As for a new client; replaces the list.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 20)]
    pub redirect_uris: Option<Vec<RedirectUri>>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub post_logout_redirect_uris: Option<Vec<RedirectUri>>,
    #[serde(default)]
    #[schema(min_items = 1)]
    pub grant_types: Option<Vec<GrantType>>,
    #[serde(default)]
    #[schema(min_items = 1)]
    pub scopes: Option<Vec<ScopeName>>,
    /// 1 to 256 characters; `null` clears it (then `jwt.audience`).
    #[serde(default, deserialize_with = "super::extract::explicit_null")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 256, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub audience: Option<Option<String>>,
    #[serde(default)]
    pub skip_consent: Option<bool>,
    #[serde(default)]
    #[schema(pattern = "^(RS256|ES256|EdDSA)$")]
    pub id_token_signed_response_alg: Option<String>,
}

#[utoipa::path(patch, path = "/v1/admin/oauth-clients/{id}", tag = "admin",
    summary = "Change an OAuth client",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The client id.")),
    request_body = PatchClientBody,
    responses(
        (status = 200, body = ClientView, description = "The changed client."),
        (status = 404, description = "`not_found`, `feature_disabled`"),
        (status = 422, description = "`validation_failed`, naming each bad field"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn patch(
    _on: OidcOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchClientBody>,
) -> Result<Json<ClientView>, ApiError> {
    let change = OAuthClientChange {
        name: body.name,
        redirect_uris: strings(body.redirect_uris, |u| u.0),
        post_logout_redirect_uris: strings(body.post_logout_redirect_uris, |u| u.0),
        grant_types: strings(body.grant_types, |g| g.0),
        scopes: strings(body.scopes, |s| s.0),
        audience: body.audience,
        skip_consent: body.skip_consent,
        id_token_alg: body.id_token_signed_response_alg,
    };
    Ok(Json(
        oauth_clients::update(&state, &actor, &id, change, &meta).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/admin/oauth-clients/{id}", tag = "admin",
    summary = "Delete an OAuth client",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 204, description = "Deleted, with every grant to it; its sessions ended."),
        (status = 404, description = "`not_found`, `feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn delete(
    _on: OidcOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    oauth_clients::delete(&state, &actor, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/oauth-clients/{id}/secret", tag = "admin",
    summary = "A new secret for a confidential OAuth client",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 200, body = ClientWithSecret,
            description = "The client with its new `client_secret`, shown this once; the \
                old secret no longer works."),
        (status = 404, description = "`not_found`, `feature_disabled`"),
        (status = 409, description = "`conflict`: a public client has no secret"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn rotate_secret(
    _on: OidcOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<Json<ClientWithSecret>, ApiError> {
    Ok(Json(
        oauth_clients::rotate_secret(&state, &actor, &id, &meta).await?,
    ))
}

#[utoipa::path(get, path = "/v1/users/me/apps", tag = "users",
    summary = "The apps the signed-in user granted access",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, body = AppList, description = "The user's grants, oldest first.",
            example = json!({ "apps": [{
                "client_id": "0193a5c4-7d2e-7b61-9a0c-2f4e8d1b3c5a",
                "name": "Wiki",
                "scopes": ["openid", "email"],
                "granted_at": "2026-12-04T15:00:00Z"
            }] })),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn apps(
    _on: OidcOn,
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<AppList>, ApiError> {
    Ok(Json(oauth_clients::apps(&state, &who).await?))
}

#[utoipa::path(delete, path = "/v1/users/me/apps/{client_id}", tag = "users",
    summary = "Revoke an app's access",
    security(("bearer_jwt" = [])),
    params(("client_id" = String, Path, description = "The client id.")),
    responses(
        (status = 204, description = "The grant is gone; the user's sessions of that app \
            ended."),
        (status = 404, description = "`not_found`: no such grant; `feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke_app(
    _on: OidcOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    Path(client_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    oauth_clients::revoke_app(&state, &who, &client_id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema as _;

    use super::RedirectUri;
    use crate::accounts::oauth_clients::REDIRECT_URI_PATTERN;

    /// The document states the rule the server applies, character for
    /// character (a derive attribute cannot name the constant).
    #[test]
    fn the_redirect_uri_schema_has_the_servers_pattern() {
        let schema = serde_json::to_value(RedirectUri::schema()).unwrap();
        assert_eq!(schema["pattern"], REDIRECT_URI_PATTERN);
    }
}
