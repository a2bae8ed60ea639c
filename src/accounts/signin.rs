//! Finishing a sign-in once its first factor is proven: a password, an
//! email code, a passkey. Every way in ends here, so the MFA step (docs/API.md
//! "Sign-in beyond passwords") is decided in one place.

use serde::Serialize;

use super::login::{sign_in, Assurance};
use super::mfa;
use super::{RequestMeta, TokenResponse};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::UserRecord;

/// The answer to a first factor: a session's tokens, or the MFA step.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SignInAnswer {
    Tokens(Box<TokenResponse>),
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
/// A knowledge or inbox factor alone (a password, an email code: `aal` 1)
/// of a user with a second factor (TOTP or a passkey) gets the MFA step
/// (`mfa.rs`) instead of a session. A passkey is itself the possession
/// factor the step would ask for: without user verification it signs in
/// at `aal` 1 directly, and an (R) endpoint then asks for more.
pub async fn finish(
    state: &AppState,
    user: &UserRecord,
    email_key: String,
    rehash: Option<String>,
    meta: &RequestMeta,
    kind: &'static str,
    assurance: Assurance,
) -> Result<SignInAnswer, ApiError> {
    let possession = assurance.amr.iter().any(|m| m == "hwk" || m == "swk");
    if assurance.aal < 2 && !possession {
        let factors = state.store.factor_summary(&user.id).await?;
        if factors.has_second_factor() {
            // A rehash waits for a sign-in that completes: the flow keeps
            // the hash the password was checked against.
            let amr = assurance.amr;
            let step = mfa::begin(state, user, email_key, amr, &factors, meta).await?;
            return Ok(SignInAnswer::MfaRequired(step));
        }
    }
    let tokens = sign_in(state, user, email_key, rehash, meta, kind, assurance).await?;
    Ok(SignInAnswer::Tokens(Box::new(tokens)))
}
