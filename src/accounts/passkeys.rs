//! Passkeys (WebAuthn) — built by the `passkeys` branch of issue 18. Until
//! then, only the interface other flows call exists.

use serde::Serialize;
use serde_json::Value;

use crate::app::AppState;
use crate::error::ApiError;
use crate::store::UserRecord;

/// A ceremony's options and the flow id its answer must name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasskeyOptions {
    pub flow_id: String,
    /// WebAuthn Level 3 `PublicKeyCredentialRequestOptionsJSON` (or
    /// `…CreationOptionsJSON` for a registration), under `publicKey`.
    #[schema(value_type = Object)]
    pub options: Value,
}

/// A verified assertion by one of a user's passkeys.
#[derive(Debug, Clone)]
pub struct PasskeyProof {
    /// `passkeys.id` (the session's `factor` is `passkey:<id>`).
    pub passkey_id: String,
    /// The authenticator verified the user (UV flag).
    pub user_verified: bool,
    /// RFC 8176: `"hwk"` (device-bound) or `"swk"` (synced, backed up).
    pub amr: &'static str,
}

/// Options to assert one of `user`'s passkeys (the MFA step, and
/// reauthentication): the user's credentials in `allowCredentials`.
pub async fn options_for_user(
    state: &AppState,
    user: &UserRecord,
) -> Result<PasskeyOptions, ApiError> {
    let _ = (state, user);
    Err(ApiError::FeatureDisabled)
}

/// Verifies the answer to [`options_for_user`]: the flow must be `user`'s,
/// unused and unexpired, and the assertion valid (401
/// `invalid_credentials` otherwise).
pub async fn verify_for_user(
    state: &AppState,
    user: &UserRecord,
    flow_id: &str,
    credential: Value,
) -> Result<PasskeyProof, ApiError> {
    let _ = (state, user, flow_id, credential);
    Err(ApiError::InvalidCredentials)
}
