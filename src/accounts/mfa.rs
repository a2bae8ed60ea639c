//! The MFA step of a sign-in (docs/API.md "Sign-in beyond passwords"): a
//! first factor passed for a user with a second one, so instead of a
//! session the answer is an `mfa_token`, redeemed at `POST /v1/auth/mfa`
//! with a TOTP code, a recovery code or a passkey assertion.
//!
//! The rules, each a lesson of a peer (landscape review §5.4, §5.5):
//! - **No session before the second factor** (Zitadel CVE-2025-64103): the
//!   first factor creates only a flow row (`store/mfa.rs`); the session is
//!   made when the step succeeds, at `aal` 2, depending on the factor used.
//! - **One use.** Of any number of concurrent right answers, one signs in
//!   (the row is deleted in the transaction that lets it, E2).
//! - **Wrong codes cost like wrong passwords.** Each answer takes an
//!   attempt on the account's lockout (L3) before it is checked, exactly as
//!   a password does (`login.rs`, `Attempt`); only a full sign-in clears
//!   the count, so a thief who knows the password cannot reset it by
//!   signing in again between guesses. Five wrong answers also kill the
//!   flow.
//! - **The account is read again** at the step: disabled, deleted, or a
//!   password changed since the first factor, and the flow is dead.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::login::{sign_in, Assurance, Attempt};
use super::passkeys::{self, PasskeyOptions};
use super::signin::MfaRequired;
use super::{recovery, tokens, totp, RequestMeta, TokenResponse};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::error::ApiError;
use crate::ratelimit::Bucket;
use crate::store::{FactorSummary, MfaFlow, UserRecord};

/// What every `mfa_token` starts with.
pub const MFA_PREFIX: &str = "mfa_";
/// How long an MFA step may take.
pub const MFA_TTL_SECS: i64 = 300;

/// The second factor a client answers the MFA step with.
#[derive(Debug)]
pub enum Proof {
    Totp(String),
    RecoveryCode(String),
    Passkey { flow_id: String, credential: Value },
}

/// What a user can answer the MFA step with, as `MfaRequired::factors`.
pub fn factor_names(f: &FactorSummary) -> Vec<&'static str> {
    let mut names = Vec::new();
    if f.totp {
        names.push("totp");
    }
    if f.passkeys > 0 {
        names.push("passkey");
    }
    if f.recovery_codes > 0 {
        names.push("recovery_code");
    }
    names
}

/// Starts the MFA step for `user`, whose first factor (`amr`) just passed.
pub async fn begin(
    state: &AppState,
    user: &UserRecord,
    email_key: String,
    amr: Vec<String>,
    factors: &FactorSummary,
    meta: &RequestMeta,
) -> Result<MfaRequired, ApiError> {
    let secret = tokens::random_jti()?;
    let now = state.now();
    let names = factor_names(factors);
    let event = meta.event(
        now,
        "mfa.challenged",
        Some(&user.id),
        json!({ "first_factor": amr, "factors": names }),
    );
    let flow = MfaFlow {
        token_hash: sha256_hex(&secret),
        user_id: user.id.clone(),
        email_key,
        amr,
        password_hash: user.password_hash.clone(),
        created_at: now,
        expires_at: now + MFA_TTL_SECS,
        failures: 0,
    };
    state.store.start_mfa_flow(flow, event).await?;
    Ok(MfaRequired {
        mfa_required: true,
        mfa_token: format!("{MFA_PREFIX}{secret}"),
        factors: names,
        expires_in: MFA_TTL_SECS as u64,
    })
}

/// The stored hash of a presented `mfa_token`, or 401 `invalid_token` when
/// it is not one toktok could have issued.
fn token_hash(token: &str) -> Result<String, ApiError> {
    let secret = token
        .strip_prefix(MFA_PREFIX)
        .filter(|s| s.len() == tokens::REFRESH_SECRET_LEN)
        .filter(|s| URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 32))
        .ok_or(ApiError::InvalidToken)?;
    Ok(sha256_hex(secret))
}

/// The live flow of `token` and its user, still as it was at the first
/// factor; a flow whose user changed is dropped. 401 `invalid_token`
/// otherwise.
async fn open(state: &AppState, token: &str) -> Result<(MfaFlow, UserRecord), ApiError> {
    let hash = token_hash(token)?;
    let flow = state
        .store
        .mfa_flow(&hash, state.now())
        .await?
        .ok_or(ApiError::InvalidToken)?;
    match state.store.user_by_id(&flow.user_id).await? {
        Some(user) if !user.disabled && user.password_hash == flow.password_hash => {
            Ok((flow, user))
        }
        _ => {
            state.store.drop_mfa_flow(&hash).await?;
            Err(ApiError::InvalidToken)
        }
    }
}

/// `POST /v1/auth/mfa/passkey-options`: options to assert one of the
/// flow's user's passkeys.
pub async fn passkey_options(
    state: &AppState,
    token: &str,
    meta: &RequestMeta,
) -> Result<PasskeyOptions, ApiError> {
    meta.limit(state, Bucket::Login).await?;
    let (_, user) = open(state, token).await?;
    passkeys::options_for_user(state, &user).await
}

/// `POST /v1/auth/mfa`: checks the second factor and, when it is right,
/// signs in at `aal` 2.
pub async fn step(
    state: &AppState,
    token: &str,
    proof: Proof,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    meta.limit(state, Bucket::Login).await?;
    let (flow, user) = open(state, token).await?;
    let attempt = Attempt::take(state, &flow.email_key, meta).await?;
    let checked = check(state, &user, proof).await;
    let (method, factor) = match checked {
        Ok(Some(found)) => found,
        Ok(None) => {
            let now = state.now();
            let event = meta.event(now, "mfa.failed", Some(&user.id), json!({}));
            state.store.fail_mfa_flow(&flow.token_hash, event).await?;
            attempt.failed(state, meta, &user.id).await;
            return Err(ApiError::InvalidCredentials);
        }
        Err(e) => {
            attempt.give_back(state).await;
            return Err(e);
        }
    };
    if !state
        .store
        .finish_mfa_flow(&flow.token_hash, state.now())
        .await?
    {
        attempt.give_back(state).await;
        return Err(ApiError::InvalidToken);
    }
    let mut amr = flow.amr.clone();
    if !amr.iter().any(|m| *m == method) {
        amr.push(method.to_owned());
    }
    let assurance = Assurance {
        amr,
        aal: 2,
        factor: Some(factor),
    };
    let now = state.now();
    let event = meta.event(
        now,
        "mfa.succeeded",
        Some(&user.id),
        json!({ "method": method }),
    );
    if let Err(e) = state.store.audit(event).await {
        tracing::warn!(error = %e, "cannot write an audit event");
    }
    sign_in(
        state,
        &user,
        flow.email_key,
        None,
        meta,
        "login.succeeded",
        assurance,
    )
    .await
}

/// Checks one second factor of `user`: its RFC 8176 method and the
/// session's `factor` when right, `None` when wrong.
async fn check(
    state: &AppState,
    user: &UserRecord,
    proof: Proof,
) -> Result<Option<(&'static str, String)>, ApiError> {
    Ok(match proof {
        Proof::Totp(code) => totp::verify_code(state, &user.id, &code)
            .await?
            .then(|| ("otp", "totp".to_owned())),
        // A recovery code is a one-time password (RFC 8176 "otp").
        Proof::RecoveryCode(code) => recovery::redeem(state, &user.id, &code)
            .await?
            .then(|| ("otp", "recovery_code".to_owned())),
        Proof::Passkey {
            flow_id,
            credential,
        } => match passkeys::verify_for_user(state, user, &flow_id, credential).await {
            Ok(proof) => Some((proof.amr, format!("passkey:{}", proof.passkey_id))),
            Err(ApiError::InvalidCredentials) => None,
            Err(e) => return Err(e),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_toktok_could_have_issued_are_looked_up() {
        let secret = URL_SAFE_NO_PAD.encode([7u8; 32]);
        assert!(token_hash(&format!("mfa_{secret}")).is_ok());
        for bad in [
            secret.clone(),
            format!("mfa_{}", &secret[..42]),
            format!("mfa_{secret}A"),
            format!("rt_{secret}"),
            format!("mfa_+{}", &secret[1..]),
            String::new(),
        ] {
            assert!(
                matches!(token_hash(&bad), Err(ApiError::InvalidToken)),
                "{bad}"
            );
        }
    }

    #[test]
    fn factors_list_only_what_the_user_has() {
        let f = FactorSummary {
            totp: true,
            passkeys: 0,
            recovery_codes: 3,
        };
        assert_eq!(factor_names(&f), ["totp", "recovery_code"]);
        let f = FactorSummary {
            totp: false,
            passkeys: 2,
            recovery_codes: 0,
        };
        assert_eq!(factor_names(&f), ["passkey"]);
    }
}
