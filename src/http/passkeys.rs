//! Passkeys: discoverable sign-in (`/v1/auth/passkey*`) and the signed-in
//! user's passkeys (`/v1/users/me/passkeys*`). With `[webauthn] enabled =
//! false` every one answers 404 `feature_disabled`, before anything else.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{Anonymous, Auth, JsonBody, Meta};
use crate::accounts::assurance::require_recent;
use crate::accounts::passkeys::{self, manage, PasskeyOptions, PasskeyView};
use crate::accounts::signin::SignInAnswer;
use crate::app::AppState;
use crate::error::ApiError;

/// Passes only with `[webauthn] enabled` (404 `feature_disabled`).
#[derive(Debug, Clone, Copy)]
pub struct PasskeysOn;

impl FromRequestParts<AppState> for PasskeysOn {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        passkeys::relying_party(state).map(|_| PasskeysOn)
    }
}

/// `{}`: the options endpoints take nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct NoOptions {}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "flow_id": "AaBbCc…", "credential": {
    "id": "…", "rawId": "…", "type": "public-key", "clientExtensionResults": {},
    "response": { "clientDataJSON": "…", "authenticatorData": "…", "signature": "…", "userHandle": "…" }
}}))]
pub struct PasskeySignInBody {
    /// From `POST /v1/auth/passkey/options`.
    pub flow_id: String,
    /// WebAuthn Level 3 `AuthenticationResponseJSON`: what `.toJSON()` of
    /// the browser's `PublicKeyCredential` gives.
    #[schema(value_type = Object)]
    pub credential: Value,
}

#[utoipa::path(post, path = "/v1/auth/passkey/options", tag = "accounts",
    summary = "Options for a passkey sign-in (A)",
    security((), ("bearer_jwt" = [])),
    request_body = NoOptions,
    responses(
        (status = 200, body = PasskeyOptions,
            description = "`options` for `PublicKeyCredential.parseRequestOptionsFromJSON()`, \
                no `allowCredentials`: the authenticator offers its discoverable passkeys."),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn sign_in_options(
    _on: PasskeysOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    _anonymous: Anonymous,
    JsonBody(_): JsonBody<NoOptions>,
) -> Result<Json<PasskeyOptions>, ApiError> {
    Ok(Json(passkeys::sign_in_options(&state, &meta).await?))
}

#[utoipa::path(post, path = "/v1/auth/passkey", tag = "accounts",
    summary = "Sign in with a passkey (A)",
    security((), ("bearer_jwt" = [])),
    request_body = PasskeySignInBody,
    responses(
        (status = 200, body = SignInAnswer,
            description = "Token response (`amr` `[\"hwk\"|\"swk\",\"user\"]`, `aal` 2 with user \
                verification, else 1), or `mfa_required`."),
        (status = 401, description = "`invalid_credentials`, whatever was wrong"),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    _on: PasskeysOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    _anonymous: Anonymous,
    JsonBody(body): JsonBody<PasskeySignInBody>,
) -> Result<Json<SignInAnswer>, ApiError> {
    let answer = passkeys::sign_in(&state, &body.flow_id, body.credential, &meta).await?;
    Ok(Json(answer))
}

#[utoipa::path(post, path = "/v1/users/me/passkeys/options", tag = "users",
    summary = "Options to register a passkey (R)",
    security(("bearer_jwt" = [])),
    request_body = NoOptions,
    responses(
        (status = 200, body = PasskeyOptions,
            description = "`options` for `PublicKeyCredential.parseCreationOptionsFromJSON()`."),
        (status = 403, description = "`reauthentication_required`"),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn register_options(
    _on: PasskeysOn,
    State(state): State<AppState>,
    Auth(who): Auth,
    JsonBody(_): JsonBody<NoOptions>,
) -> Result<Json<PasskeyOptions>, ApiError> {
    require_recent(&state, &who).await?;
    Ok(Json(manage::register_options(&state, &who).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "flow_id": "AaBbCc…", "name": "Laptop", "credential": {
    "id": "…", "rawId": "…", "type": "public-key", "clientExtensionResults": {},
    "response": { "clientDataJSON": "…", "attestationObject": "…", "transports": ["internal"] }
}}))]
pub struct RegisterPasskeyBody {
    /// From `POST /v1/users/me/passkeys/options`.
    pub flow_id: String,
    /// WebAuthn Level 3 `RegistrationResponseJSON` (`.toJSON()`).
    #[schema(value_type = Object)]
    pub credential: Value,
    /// 1 to 64 characters, no control characters; default "Passkey (date)".
    /// (The pattern: something besides whitespace, no control characters.)
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: Option<String>,
}

#[utoipa::path(post, path = "/v1/users/me/passkeys", tag = "users",
    summary = "Register a passkey (R)",
    security(("bearer_jwt" = [])),
    request_body = RegisterPasskeyBody,
    responses(
        (status = 201, body = PasskeyView, description = "The new passkey; a notice is mailed."),
        (status = 403, description = "`reauthentication_required`"),
        (status = 404, description = "`feature_disabled`"),
        (status = 422, description = "`validation_failed` naming `flow_id`, `credential` or `name`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn register(
    _on: PasskeysOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    JsonBody(body): JsonBody<RegisterPasskeyBody>,
) -> Result<(StatusCode, Json<PasskeyView>), ApiError> {
    require_recent(&state, &who).await?;
    let view = manage::register(
        &state,
        &who,
        &body.flow_id,
        body.credential,
        body.name,
        &meta,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Work laptop" }))]
pub struct RenamePasskeyBody {
    /// 1 to 64 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
}

#[utoipa::path(patch, path = "/v1/users/me/passkeys/{id}", tag = "users",
    summary = "Rename a passkey",
    security(("bearer_jwt" = [])),
    params(("id" = String, Path, description = "Passkey id.")),
    request_body = RenamePasskeyBody,
    responses(
        (status = 200, body = PasskeyView, description = "The passkey."),
        (status = 404, description = "`not_found`, `feature_disabled`"),
        (status = 422, description = "`validation_failed` naming `name`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn rename(
    _on: PasskeysOn,
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RenamePasskeyBody>,
) -> Result<Json<PasskeyView>, ApiError> {
    Ok(Json(manage::rename(&state, &who, &id, &body.name).await?))
}

#[utoipa::path(delete, path = "/v1/users/me/passkeys/{id}", tag = "users",
    summary = "Remove a passkey (R)",
    security(("bearer_jwt" = [])),
    params(("id" = String, Path, description = "Passkey id.")),
    responses(
        (status = 204, description = "Removed; the sessions it raised to `aal` 2 ended."),
        (status = 403, description = "`reauthentication_required`"),
        (status = 404, description = "`not_found`, `feature_disabled`"),
        (status = 409, description = "`conflict`: the account's last way to sign in"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn remove(
    _on: PasskeysOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_recent(&state, &who).await?;
    manage::remove(&state, &who, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
