//! `/v1/auth/reauthenticate*`: a signed-in user proves a factor again, for
//! the endpoints marked (R) (docs/API.md "Sign-in beyond passwords").

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{Auth, JsonBody, Meta};
use crate::accounts::passkeys::PasskeyOptions;
use crate::accounts::reauth::{self, Proof};
use crate::accounts::tokens::TokenResponse;
use crate::app::AppState;
use crate::error::ApiError;

/// Exactly one proof: `password`, `totp`, `recovery_code`, or a passkey
/// assertion (`flow_id` from `POST /v1/auth/reauthenticate/passkey-options`
/// with its `credential`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "password": "correct horse battery staple" }))]
pub struct ReauthenticateBody {
    #[serde(default)]
    pub password: Option<String>,
    /// A 6-digit code of the user's authenticator app.
    #[serde(default)]
    pub totp: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
    #[serde(default)]
    pub flow_id: Option<String>,
    /// WebAuthn Level 3 `AuthenticationResponseJSON`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
}

impl ReauthenticateBody {
    /// The one proof the body carries; 422 naming the fields otherwise.
    fn proof(self) -> Result<Proof, ApiError> {
        let passkey = match (self.flow_id, self.credential) {
            (Some(flow_id), Some(credential)) => Some(Proof::Passkey {
                flow_id,
                credential,
            }),
            (None, None) => None,
            (Some(_), None) => return Err(ApiError::field("credential", "is required")),
            (None, Some(_)) => return Err(ApiError::field("flow_id", "is required")),
        };
        let mut proofs = [
            self.password.map(Proof::Password),
            self.totp.map(Proof::Totp),
            self.recovery_code.map(Proof::RecoveryCode),
            passkey,
        ]
        .into_iter()
        .flatten();
        match (proofs.next(), proofs.next()) {
            (Some(proof), None) => Ok(proof),
            _ => Err(ApiError::field(
                "body",
                "must hold exactly one of password, totp, recovery_code, or flow_id with credential",
            )),
        }
    }
}

#[utoipa::path(post, path = "/v1/auth/reauthenticate", tag = "accounts",
    summary = "Prove a factor again: a fresh auth_time for this session",
    security(("bearer_jwt" = [])),
    request_body = ReauthenticateBody,
    responses(
        (status = 200, description = "Token response for the same session (same `sid`; the refresh token is rotated).", body = TokenResponse),
        (status = 401, description = "`invalid_credentials` (wrong code or passkey)"),
        (status = 403, description = "`wrong_password`"),
        (status = 422, description = "`validation_failed`: not exactly one proof"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reauthenticate(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    JsonBody(body): JsonBody<ReauthenticateBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    let proof = body.proof()?;
    Ok(Json(
        reauth::reauthenticate(&state, &who, proof, &meta).await?,
    ))
}

#[utoipa::path(post, path = "/v1/auth/reauthenticate/passkey-options", tag = "accounts",
    summary = "Options to reauthenticate with a passkey",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "`options.publicKey` lists the user's passkeys; answer with `POST /v1/auth/reauthenticate`.", body = PasskeyOptions),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reauthenticate_passkey_options(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<PasskeyOptions>, ApiError> {
    Ok(Json(reauth::passkey_options(&state, &who).await?))
}
