//! TOTP, recovery codes and the factors overview of the signed-in user
//! (`/v1/users/me/factors`, `/v1/users/me/totp*`,
//! `/v1/users/me/recovery-codes`). With `[totp] enabled = false` the TOTP
//! routes answer 404 `feature_disabled`, before anything else.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Auth, JsonBody, Meta};
use crate::accounts::assurance::require_recent;
use crate::accounts::factors::{self, FactorsView};
use crate::accounts::recovery;
use crate::accounts::totp::{self, RecoveryCodes, TotpEnrolment};
use crate::app::AppState;
use crate::error::ApiError;

/// Passes only with `[totp] enabled` (404 `feature_disabled`).
#[derive(Debug, Clone, Copy)]
pub struct TotpOn;

impl FromRequestParts<AppState> for TotpOn {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        totp::enabled(state).map(|()| TotpOn)
    }
}

#[utoipa::path(get, path = "/v1/users/me/factors", tag = "users",
    summary = "The signed-in user's second factors",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, body = FactorsView, description = "TOTP, passkeys, recovery codes left."),
        (status = 401, description = "`unauthenticated`, `invalid_token`, `token_expired`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn factors(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<FactorsView>, ApiError> {
    Ok(Json(factors::factors(&state, &who).await?))
}

#[utoipa::path(post, path = "/v1/users/me/totp", tag = "users",
    summary = "Start enrolling TOTP (R)",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, body = TotpEnrolment,
            description = "A pending secret (RFC 6238, SHA-1, 6 digits, 30 s), to confirm \
                with a first code within `expires_in` seconds."),
        (status = 403, description = "`reauthentication_required`"),
        (status = 404, description = "`feature_disabled`"),
        (status = 409, description = "`conflict`: TOTP is on already"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn begin(
    _on: TotpOn,
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<TotpEnrolment>, ApiError> {
    require_recent(&state, &who).await?;
    Ok(Json(totp::begin(&state, &who).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "code": "123456" }))]
pub struct ConfirmTotpBody {
    /// The 6-digit code the authenticator shows now.
    pub code: String,
}

#[utoipa::path(post, path = "/v1/users/me/totp/confirm", tag = "users",
    summary = "Confirm TOTP with a first code (R)",
    security(("bearer_jwt" = [])),
    request_body = ConfirmTotpBody,
    responses(
        (status = 200, body = RecoveryCodes,
            description = "TOTP is on; ten recovery codes, shown this once."),
        (status = 403, description = "`reauthentication_required`"),
        (status = 404, description = "`feature_disabled`; `not_found`: no pending secret \
            (never started, or its ten minutes are over)"),
        (status = 409, description = "`conflict`: TOTP is on already"),
        (status = 422, description = "`validation_failed` naming `code`: not the current code"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn confirm(
    _on: TotpOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    JsonBody(body): JsonBody<ConfirmTotpBody>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    require_recent(&state, &who).await?;
    Ok(Json(totp::confirm(&state, &who, &body.code, &meta).await?))
}

#[utoipa::path(delete, path = "/v1/users/me/totp", tag = "users",
    summary = "Turn TOTP off (R)",
    security(("bearer_jwt" = [])),
    responses(
        (status = 204, description = "Off; the sessions it (or a recovery code) raised to \
            `aal` 2 ended; recovery codes removed unless a passkey remains; notice mailed."),
        (status = 403, description = "`reauthentication_required`"),
        (status = 404, description = "`not_found`: TOTP is not on; `feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn disable(
    _on: TotpOn,
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
) -> Result<StatusCode, ApiError> {
    require_recent(&state, &who).await?;
    totp::disable(&state, &who, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/users/me/recovery-codes", tag = "users",
    summary = "A new set of recovery codes (R)",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, body = RecoveryCodes, description = "Ten new codes; the old set is dead."),
        (status = 403, description = "`reauthentication_required`"),
        (status = 409, description = "`conflict`: no second factor (TOTP or a passkey)"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn recovery_codes(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
) -> Result<Json<RecoveryCodes>, ApiError> {
    require_recent(&state, &who).await?;
    Ok(Json(recovery::regenerate(&state, &who, &meta).await?))
}
