//! The MFA step of a sign-in: `POST /v1/auth/mfa` and
//! `/v1/auth/mfa/passkey-options` (`crate::accounts::mfa`).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{JsonBody, Meta};
use crate::accounts::mfa::{self, Proof};
use crate::accounts::passkeys::PasskeyOptions;
use crate::accounts::TokenResponse;
use crate::app::AppState;
use crate::error::{ApiError, FieldError};

/// One second factor for the `mfa_token` of a sign-in: `totp`, or
/// `recovery_code`, or `flow_id` with `credential` (a passkey assertion
/// answering `/v1/auth/mfa/passkey-options`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "mfa_token": "mfa_…", "totp": "123456" }))]
pub struct MfaBody {
    /// From the `mfa_required` answer of a sign-in.
    pub mfa_token: String,
    /// The code an authenticator app shows now.
    #[schema(example = "123456")]
    pub totp: Option<String>,
    /// One of the recovery codes shown when TOTP was enrolled.
    #[schema(example = "abcde-fghij")]
    pub recovery_code: Option<String>,
    /// From `POST /v1/auth/mfa/passkey-options`.
    pub flow_id: Option<String>,
    /// WebAuthn Level 3 `AuthenticationResponseJSON`.
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
}

/// The OpenAPI shape of [`MfaBody`]: exactly one proof, so a body with two
/// (or a `flow_id` without its `credential`) is not schema-valid. The
/// handler reads [`MfaBody`] to name the offending field in its 422.
#[allow(dead_code)] // documents the body; the handler reads the flat struct
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(example = json!({ "mfa_token": "mfa_…", "totp": "123456" }))]
pub enum MfaProofBody {
    Totp(MfaTotpBody),
    RecoveryCode(MfaRecoveryBody),
    Passkey(MfaPasskeyBody),
}

/// The MFA step answered with an authenticator app's code.
#[allow(dead_code)] // documents the body; the handler reads the flat struct
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaTotpBody {
    pub mfa_token: String,
    #[schema(example = "123456")]
    pub totp: String,
}

/// The MFA step answered with a recovery code.
#[allow(dead_code)] // documents the body; the handler reads the flat struct
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaRecoveryBody {
    pub mfa_token: String,
    #[schema(example = "abcde-fghij")]
    pub recovery_code: String,
}

/// The MFA step answered with a passkey.
#[allow(dead_code)] // documents the body; the handler reads the flat struct
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaPasskeyBody {
    pub mfa_token: String,
    /// From `POST /v1/auth/mfa/passkey-options`.
    pub flow_id: String,
    /// WebAuthn Level 3 `AuthenticationResponseJSON`.
    #[schema(value_type = Object)]
    pub credential: Value,
}

impl MfaBody {
    /// The one proof the body carries; 422 naming the fields otherwise.
    fn proof(self) -> Result<Proof, ApiError> {
        match (self.totp, self.recovery_code, self.flow_id, self.credential) {
            (Some(code), None, None, None) => Ok(Proof::Totp(code)),
            (None, Some(code), None, None) => Ok(Proof::RecoveryCode(code)),
            (None, None, Some(flow_id), Some(credential)) => Ok(Proof::Passkey {
                flow_id,
                credential,
            }),
            (None, None, Some(_), None) => Err(ApiError::Validation(vec![FieldError::new(
                "credential",
                "is required with flow_id",
            )])),
            (None, None, None, Some(_)) => Err(ApiError::Validation(vec![FieldError::new(
                "flow_id",
                "is required with credential",
            )])),
            _ => Err(ApiError::Validation(vec![FieldError::new(
                "totp",
                "give exactly one of totp, recovery_code, or flow_id with credential",
            )])),
        }
    }
}

#[utoipa::path(post, path = "/v1/auth/mfa", tag = "accounts",
    summary = "Finish a sign-in with a second factor",
    request_body = MfaProofBody,
    responses(
        (status = 200, description = "Token response (`aal` 2).", body = TokenResponse),
        (status = 422, description = "`validation_failed`: not exactly one proof"),
        (status = 401, description = "`invalid_credentials` (a wrong code or assertion: counted \
            like a wrong password; five kill the `mfa_token`), `invalid_token` (unknown, used or \
            expired `mfa_token`)"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn mfa(
    State(state): State<AppState>,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<MfaBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    let token = body.mfa_token.clone();
    let proof = body.proof()?;
    Ok(Json(mfa::step(&state, &token, proof, &meta).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "mfa_token": "mfa_…" }))]
pub struct MfaTokenBody {
    pub mfa_token: String,
}

#[utoipa::path(post, path = "/v1/auth/mfa/passkey-options", tag = "accounts",
    summary = "Options to answer the MFA step with a passkey",
    request_body = MfaTokenBody,
    responses(
        (status = 200, body = PasskeyOptions, description = "`options` for \
            `PublicKeyCredential.parseRequestOptionsFromJSON()`, listing the user's passkeys."),
        (status = 401, description = "`invalid_token`"),
        (status = 404, description = "`feature_disabled`, or `not_found`: the user has no passkey"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn passkey_options(
    State(state): State<AppState>,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<MfaTokenBody>,
) -> Result<Json<PasskeyOptions>, ApiError> {
    Ok(Json(
        mfa::passkey_options(&state, &body.mfa_token, &meta).await?,
    ))
}
