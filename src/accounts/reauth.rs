//! Reauthentication (`POST /v1/auth/reauthenticate`, docs/API.md "Sign-in
//! beyond passwords"): a signed-in user proves a factor again and the SAME
//! session gets a fresh `auth_time`, the `amr` of what was proven, and
//! `aal` 2 when that was a second factor, which is what the (R) endpoints
//! ask for ([`super::assurance::require_recent`]).
//!
//! What the session records is what was just proven, never more: a
//! password alone sets `["pwd"]` and `aal` 1 even on a session that was at
//! `aal` 2 (its second factor is then as old as the sign-in, and one
//! `auth_time` cannot say so); a TOTP code, a recovery code or a passkey
//! adds its method to the session's `amr` and sets `aal` 2 with `factor`,
//! so removing that factor ends the session.
//!
//! The refresh token is rotated as a refresh would: the answer carries a
//! new one and the old one is spent (presenting it again is reuse, R2).
//! It has to be: the store keeps only the hash of the current secret, so
//! a token answer cannot repeat it; and a raised session should not keep
//! a refresh token that may have been copied while it was weaker.
//!
//! Wrong codes count towards the account's lockout (L3) like wrong
//! passwords; the password goes through [`super::verify_current_password`].

use serde_json::{json, Value};

use super::login::{lockout_remaining, Assurance, LOCKOUT_THRESHOLD};
use super::passkeys::{self, PasskeyOptions};
use super::{recovery, tokens, totp, verify_current_password, Authenticated, RequestMeta};
use super::{TokenResponse, KNOWN_CLIENT_SECS};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::domain::email::Email;
use crate::error::ApiError;
use crate::ratelimit::Bucket;
use crate::store::{AuditEvent, Reauthentication};

/// RFC 8176 `amr` of a one-time code (TOTP or recovery code).
pub const AMR_OTP: &str = "otp";
/// RFC 8176 `amr` of a user-verified authenticator.
pub const AMR_USER: &str = "user";

/// What the user proves again.
#[derive(Debug)]
pub enum Proof {
    Password(String),
    Totp(String),
    RecoveryCode(String),
    /// An assertion answering [`passkey_options`].
    Passkey {
        flow_id: String,
        credential: Value,
    },
}

impl Proof {
    fn method(&self) -> &'static str {
        match self {
            Proof::Password(_) => "password",
            Proof::Totp(_) => "totp",
            Proof::RecoveryCode(_) => "recovery_code",
            Proof::Passkey { .. } => "passkey",
        }
    }
}

/// Checks `proof` for the signed-in user and records it on their session:
/// the token answer for the same session (same `sid`), with a fresh
/// `auth_time` and the new `amr`/`aal`.
pub async fn reauthenticate(
    state: &AppState,
    who: &Authenticated,
    proof: Proof,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    let method = proof.method();
    let user_id = who.user.id.as_str();
    let assurance = match proof {
        Proof::Password(password) => {
            verify_current_password(state, who, password, meta).await?;
            Assurance::password()
        }
        Proof::Totp(code) => {
            if !state.config.totp.enabled {
                return Err(ApiError::FeatureDisabled);
            }
            checked_code(state, who, meta, totp::verify_code(state, user_id, &code)).await?;
            second_factor(&who.session.amr, &[AMR_OTP], "totp".to_owned())
        }
        Proof::RecoveryCode(code) => {
            checked_code(state, who, meta, recovery::redeem(state, user_id, &code)).await?;
            second_factor(&who.session.amr, &[AMR_OTP], "recovery_code".to_owned())
        }
        Proof::Passkey {
            flow_id,
            credential,
        } => {
            if !state.config.webauthn.enabled {
                return Err(ApiError::FeatureDisabled);
            }
            meta.limit(state, Bucket::PasswordCheck).await?;
            let proof = passkeys::verify_for_user(state, &who.user, &flow_id, credential).await?;
            let mut methods = vec![proof.amr];
            if proof.user_verified {
                methods.push(AMR_USER);
            }
            // Without user verification a passkey is one factor: with a
            // password or code behind the session it is the second, alone
            // (a session signed in with that passkey) it stays `aal` 1.
            let other = who.session.amr.iter().any(|m| m == "pwd" || m == "otp");
            if proof.user_verified || other {
                let factor = format!("passkey:{}", proof.passkey_id);
                second_factor(&who.session.amr, &methods, factor)
            } else {
                Assurance {
                    amr: methods.iter().map(|m| (*m).to_owned()).collect(),
                    aal: 1,
                    factor: None,
                }
            }
        }
    };
    record(state, who, assurance, method, meta).await
}

/// Options for a passkey reauthentication: an assertion by one of the
/// user's passkeys (`POST /v1/auth/reauthenticate/passkey-options`).
pub async fn passkey_options(
    state: &AppState,
    who: &Authenticated,
) -> Result<PasskeyOptions, ApiError> {
    if !state.config.webauthn.enabled {
        return Err(ApiError::FeatureDisabled);
    }
    passkeys::options_for_user(state, &who.user).await
}

/// The assurance after a second factor on top of a session signed in
/// with `amr`: its methods plus `methods`, `aal` 2, held by `factor`.
fn second_factor(amr: &[String], methods: &[&str], factor: String) -> Assurance {
    let mut amr = amr.to_vec();
    for method in methods {
        if !amr.iter().any(|m| m == method) {
            amr.push((*method).to_owned());
        }
    }
    Assurance {
        amr,
        aal: 2,
        factor: Some(factor),
    }
}

/// Writes the reauthentication and answers with the session's new tokens;
/// `invalid_token` when the session ended meanwhile.
async fn record(
    state: &AppState,
    who: &Authenticated,
    assurance: Assurance,
    method: &'static str,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    let now_ms = state.now_ms();
    let now = now_ms.div_euclid(1000);
    let secret = tokens::random_jti()?;
    let change = Reauthentication {
        session_id: who.session.id.clone(),
        user_id: who.user.id.clone(),
        refresh_hash: sha256_hex(&secret),
        now_ms,
        auth_time: now,
        amr: assurance.amr,
        aal: assurance.aal,
        factor: assurance.factor,
    };
    let detail = json!({ "session": change.session_id, "method": method, "aal": change.aal });
    let event = meta.event(now, "reauthenticated", Some(&who.user.id), detail);
    let refresh_hash = change.refresh_hash.clone();
    let stored = state
        .store
        .reauthenticate_session(change, event)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let mut session = who.session.clone();
    session.prev_refresh_hash = Some(std::mem::replace(&mut session.refresh_hash, refresh_hash));
    session.rotated_at_ms = now_ms;
    session.last_used_at = now;
    session.expires_at = stored.expires_at;
    session.auth_time = stored.auth_time;
    session.amr = stored.amr;
    session.aal = stored.aal;
    session.factor = stored.factor;
    tokens::token_response(state, &who.user, &session, &secret, now).await
}

/// Runs `check` (a code's verification) as one attempt on the account's
/// lockout (L3): taken before, so a locked-out client costs nothing; given
/// back if the check failed for another reason than a wrong code; cleared
/// by a right one. A wrong code answers 401 `invalid_credentials`.
async fn checked_code(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
    check: impl std::future::Future<Output = Result<bool, ApiError>>,
) -> Result<(), ApiError> {
    meta.limit(state, Bucket::PasswordCheck).await?;
    let email_key = Email::parse(&who.user.email)
        .map(|e| e.normalized())
        .unwrap_or_else(|_| who.user.email.to_lowercase());
    let now = state.now();
    let failures = if state.config.rate_limit.enabled {
        let locked = move |failures, last| lockout_remaining(failures, last, now);
        let attempt = state
            .store
            .take_login_attempt(&email_key, None, now, now - KNOWN_CLIENT_SECS, locked)
            .await?;
        Some(attempt.map_err(ApiError::AccountLocked)?)
    } else {
        None
    };
    let right = match check.await {
        Ok(right) => right,
        Err(e) => {
            if failures.is_some() {
                if let Err(e) = state.store.return_login_attempt(&email_key, None).await {
                    tracing::warn!(error = %e, "cannot give a code attempt back");
                }
            }
            return Err(e);
        }
    };
    if right {
        if failures.is_some() {
            let cleared = state
                .store
                .login_succeeded(&email_key, None, None, now)
                .await;
            if let Err(e) = cleared {
                tracing::warn!(error = %e, "cannot clear the failed-attempt count");
            }
        }
        return Ok(());
    }
    let id = Some(who.user.id.as_str());
    let detail = json!({ "reason": "wrong_reauthentication_code" });
    audit_or_warn(state, meta.event(now, "login.failed", id, detail)).await;
    if failures == Some(LOCKOUT_THRESHOLD) {
        let detail = json!({ "failures": LOCKOUT_THRESHOLD });
        audit_or_warn(state, meta.event(now, "login.locked", id, detail)).await;
    }
    Err(ApiError::InvalidCredentials)
}

async fn audit_or_warn(state: &AppState, event: AuditEvent) {
    let kind = event.kind;
    if let Err(e) = state.store.audit(event).await {
        tracing::warn!(error = %e, kind, "cannot write an audit event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_factor_adds_its_methods_once_and_names_itself() {
        let a = second_factor(&["pwd".into()], &[AMR_OTP], "totp".into());
        assert_eq!(a.amr, ["pwd", "otp"]);
        assert_eq!((a.aal, a.factor.as_deref()), (2, Some("totp")));
        let again = second_factor(&a.amr, &[AMR_OTP], "recovery_code".into());
        assert_eq!(again.amr, ["pwd", "otp"]);
        let key = second_factor(&["otp".into()], &["hwk", AMR_USER], "passkey:p".into());
        assert_eq!(key.amr, ["otp", "hwk", "user"]);
        assert_eq!(key.factor.as_deref(), Some("passkey:p"));
    }
}
