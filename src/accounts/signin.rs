//! Finishing a sign-in once its first factor is proven: a password, an
//! email code, a passkey. Every way in ends here, so the MFA step (docs/API.md
//! "Sign-in beyond passwords") is decided in one place.

use serde::Serialize;

use super::login::{sign_in, Assurance};
use super::{RequestMeta, TokenResponse};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::UserRecord;

/// The answer to a first factor: a session's tokens, or the MFA step.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SignInAnswer {
    Tokens(TokenResponse),
    MfaRequired(MfaRequired),
}

/// A correct first factor for a user with a second one: no session yet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaRequired {
    /// Always `true`.
    pub mfa_required: bool,
    /// Send it to `POST /v1/auth/mfa` with a code or a passkey assertion.
    pub mfa_token: String,
    /// What the user can answer with: `totp`, `passkey`, `recovery_code`.
    pub factors: Vec<&'static str>,
    pub expires_in: u64,
}

/// Starts a session for `user`, signed in with `assurance`, unless the
/// user must first pass a second factor.
///
/// The MFA step is decided here (issue 18, branch `mfa`); until it lands,
/// every first factor gets a session.
pub async fn finish(
    state: &AppState,
    user: &UserRecord,
    email_key: String,
    rehash: Option<String>,
    meta: &RequestMeta,
    kind: &'static str,
    assurance: Assurance,
) -> Result<SignInAnswer, ApiError> {
    let tokens = sign_in(state, user, email_key, rehash, meta, kind, assurance).await?;
    Ok(SignInAnswer::Tokens(tokens))
}
