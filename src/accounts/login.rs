//! Sign-in with a password: login, and the lockout that guards every
//! check of an account's password.
//!
//! **Lockout** (docs/SECURITY.md L3, review findings TT-03 and TT-09). Every
//! check of an account's password — a login, or the current password on
//! an authenticated route ([`verify_current_password`]) — takes an attempt
//! before the hash: failures are counted per account and per (account,
//! client address, an IPv6 /64 being one client), and each count waits
//! 1 s after its fifth failure, doubling up to 15 min. A client waiting on
//! its own count is refused. A client waiting only on the account's count
//! is refused too, unless the account signed in from it within
//! [`KNOWN_CLIENT_SECS`]: so an attacker at one address locks out only
//! that address, guesses from many addresses still share the account's
//! back-off, and the owner's known devices keep working. A refused attempt
//! costs no hash and answers 429 saying that a password reset link works
//! (the reset clears the counts).

use std::net::IpAddr;

use serde_json::json;

use super::signin::{self, SignInAnswer};
use super::{parse_email, tokens, Authenticated, RequestMeta, TokenResponse};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::domain::email::Email;
use crate::error::ApiError;
use crate::ratelimit::{self, Bucket};
use crate::store::{AuditEvent, LoginClient, SessionRecord, UserRecord};

/// Consecutive failures after which an account's logins are slowed (L3).
pub const LOCKOUT_THRESHOLD: u32 = 5;
/// Longest lockout window.
pub const LOCKOUT_CAP_SECS: i64 = 15 * 60;
/// How long a client address an account signed in from passes the
/// account's lockout (TT-09; at most `store::lockout::MAX_KNOWN_CLIENTS`
/// per account are remembered).
pub const KNOWN_CLIENT_SECS: i64 = 90 * 86_400;

/// How a session was signed in to: the access tokens' `amr` and `aal`, and
/// the second factor (if any) the session depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    /// RFC 8176 method references, e.g. `["pwd"]`, `["pwd", "otp"]`.
    pub amr: Vec<String>,
    /// 1, or 2 after a second factor or a user-verified passkey.
    pub aal: u8,
    /// `SessionRecord::factor`.
    pub factor: Option<String>,
}

impl Assurance {
    /// A password alone (register and login): `["pwd"]`, `aal` 1.
    pub fn password() -> Self {
        Assurance {
            amr: vec![tokens::AMR_PASSWORD.to_owned()],
            aal: 1,
            factor: None,
        }
    }
}

/// Starts a session for `user` and answers with its tokens.
pub(super) async fn sign_in(
    state: &AppState,
    user: &UserRecord,
    email_key: String,
    rehash: Option<String>,
    meta: &RequestMeta,
    kind: &'static str,
    assurance: Assurance,
) -> Result<TokenResponse, ApiError> {
    let now_ms = state.now_ms();
    let now = now_ms.div_euclid(1000);
    let jti = tokens::random_jti()?;
    let session = SessionRecord {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        refresh_hash: sha256_hex(&jti),
        prev_refresh_hash: None,
        rotated_at_ms: now_ms,
        created_at: now,
        last_used_at: now,
        expires_at: now + state.config.jwt.refresh_ttl.as_secs() as i64,
        user_agent: meta.user_agent.clone(),
        ip: meta.ip.map(|ip| ip.to_string()),
        revoked_at: None,
        auth_time: now,
        amr: assurance.amr,
        aal: assurance.aal,
        factor: assurance.factor,
        client_id: None,
        scope: None,
        parent_id: None,
    };
    let mut user = user.clone();
    user.last_login_at = Some(now);
    // Signed before the session is stored: an access-token hook that
    // denies the token leaves no session behind.
    let access_token = tokens::access_token(state, &user, &session, now).await?;
    let event = meta.event(now, kind, Some(&user.id), json!({ "session": session.id }));
    // Only while `user` (read before the password check) still holds: a
    // password change or a delete that committed meanwhile wins.
    let verified = user.password_hash.clone();
    let client = login_client(state, &email_key, meta.ip);
    let created = state
        .store
        .create_session(session.clone(), email_key.clone(), rehash, verified, event)
        .await?;
    if !created {
        return Err(ApiError::InvalidCredentials);
    }
    // This client's count ends and it becomes known (TT-09). Lost, the
    // client is merely not remembered this time: a warning, not an error.
    if let Err(e) = state
        .store
        .login_succeeded(&email_key, client, Some(&user.id), now)
        .await
    {
        tracing::warn!(error = %e, "cannot remember the client of a sign-in");
    }
    Ok(tokens::answer(
        state,
        &user,
        &session,
        access_token,
        &jti,
        now,
    ))
}
/// Seconds an account must still wait after `failures` consecutive failures,
/// the last at `last_failed_at`: 1 s after the fifth, doubling, at most 15 min.
pub fn lockout_remaining(failures: u32, last_failed_at: i64, now: i64) -> Option<u64> {
    if failures < LOCKOUT_THRESHOLD {
        return None;
    }
    let exponent = (failures - LOCKOUT_THRESHOLD).min(20);
    let window = (1i64 << exponent).min(LOCKOUT_CAP_SECS);
    let until = last_failed_at + window;
    (now < until).then(|| (until - now) as u64)
}

pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    meta: &RequestMeta,
) -> Result<SignInAnswer, ApiError> {
    let outcome = login_inner(state, email, password, meta).await;
    state.metrics.record_login(match &outcome {
        Ok(SignInAnswer::Tokens(_)) => "success",
        Ok(SignInAnswer::MfaRequired(_)) => "mfa_required",
        Err(ApiError::InvalidCredentials) => "invalid_credentials",
        Err(ApiError::RateLimited(_)) => "rate_limited",
        Err(ApiError::AccountLocked(_)) => "locked",
        Err(ApiError::EmailNotConfirmed) => "not_confirmed",
        Err(ApiError::Overloaded(_)) => "overloaded",
        Err(_) => "error",
    });
    outcome
}

async fn login_inner(
    state: &AppState,
    email: &str,
    password: String,
    meta: &RequestMeta,
) -> Result<SignInAnswer, ApiError> {
    meta.limit(state, Bucket::Login).await?;
    let email = parse_email("email", email)?;
    let key = email.normalized();
    let attempt = Attempt::take(state, &key, meta).await?;
    let outcome = login_checked(state, &key, password, meta, attempt.failures).await;
    // Not a wrong password (a correct one that may not sign in yet, an
    // overload, a storage error before the check): the attempt is given
    // back. After a wrong password nothing but 401 comes out. A success
    // already cleared the counts. A right password with a second factor
    // owed gives its attempt back but clears nothing: the count stands
    // until a sign-in completes, so wrong second factors add up with wrong
    // passwords (`mfa.rs`).
    let give_back = match &outcome {
        Ok(SignInAnswer::Tokens(_)) => false,
        Ok(SignInAnswer::MfaRequired(_)) => true,
        Err(e) => !matches!(e, ApiError::InvalidCredentials),
    };
    if give_back {
        attempt.give_back(state).await;
    }
    outcome
}

/// The lockout client of a request from `ip` for the account `email_key`:
/// its rate-limit key and an HMAC of both under a server key (the row that
/// remembers it as known, which so names no address).
fn login_client(state: &AppState, email_key: &str, ip: Option<IpAddr>) -> Option<LoginClient> {
    let key = ratelimit::client_key(ip?);
    let input = format!("toktok sign-in client\0{email_key}\0{key}");
    let tag = ring::hmac::sign(&state.refresh_chain_key, input.as_bytes());
    let hash = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Some(LoginClient { key, hash })
}

/// One attempt at an account's password (or second factor, `mfa.rs`),
/// taken before the check (see the module docs, "Lockout").
pub(super) struct Attempt {
    email_key: String,
    client: Option<LoginClient>,
    /// The account's consecutive failures with this one; `None` when the
    /// lockout is off (`rate_limit.enabled = false`).
    failures: Option<u32>,
}

impl Attempt {
    /// Takes the attempt, or answers 429 when the client must wait. The
    /// attempt is counted as a failure at once, under the count's lock:
    /// concurrent guesses, through any instance, each see the ones before
    /// them, so a burst cannot all pass a check made before any failed.
    pub(super) async fn take(
        state: &AppState,
        email_key: &str,
        meta: &RequestMeta,
    ) -> Result<Self, ApiError> {
        let client = login_client(state, email_key, meta.ip);
        let mut attempt = Attempt {
            email_key: email_key.to_owned(),
            client: client.clone(),
            failures: None,
        };
        if !state.config.rate_limit.enabled {
            return Ok(attempt);
        }
        let now = state.now();
        let locked = move |failures, last| lockout_remaining(failures, last, now);
        let known_since = now - KNOWN_CLIENT_SECS;
        match state
            .store
            .take_login_attempt(email_key, client, now, known_since, locked)
            .await?
        {
            Ok(failures) => {
                attempt.failures = Some(failures);
                Ok(attempt)
            }
            Err(wait) => Err(ApiError::AccountLocked(wait)),
        }
    }

    /// Counts a wrong second factor (`mfa.rs`): the attempt stays taken
    /// (or, with the lockout off, a failure is recorded), and `login.locked`
    /// is audited when the count reaches the threshold.
    pub(super) async fn failed(&self, state: &AppState, meta: &RequestMeta, user_id: &str) {
        let now = state.now();
        let id = Some(user_id);
        let detail = json!({ "reason": "wrong_second_factor" });
        let event = meta.event(now, "login.failed", id, detail);
        let failures = match self.failures {
            Some(failures) => {
                audit_or_warn(state, event).await;
                failures
            }
            None => match state
                .store
                .record_login_failure(&self.email_key, now, event)
                .await
            {
                Ok(failures) => failures,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot count a failed second factor");
                    return;
                }
            },
        };
        if failures == LOCKOUT_THRESHOLD {
            let event = meta.event(now, "login.locked", id, json!({ "failures": failures }));
            audit_or_warn(state, event).await;
        }
    }

    /// Uncounts an attempt that turned out not to be a wrong password.
    pub(super) async fn give_back(&self, state: &AppState) {
        if self.failures.is_none() {
            return;
        }
        let client = self.client.as_ref();
        if let Err(e) = state
            .store
            .return_login_attempt(&self.email_key, client)
            .await
        {
            tracing::warn!(error = %e, "cannot give a login attempt back");
        }
    }
}

/// The rest of a login once its attempt was `taken` (`None`: lockout off,
/// a failure is counted after the check instead).
async fn login_checked(
    state: &AppState,
    key: &str,
    password: String,
    meta: &RequestMeta,
    taken: Option<u32>,
) -> Result<SignInAnswer, ApiError> {
    let key = key.to_owned();
    let user = state.store.user_by_email_key(&key).await?;
    let phc = user.as_ref().and_then(|u| u.password_hash.clone());
    // L2: an unknown email still costs one (dummy) verification.
    let verification = state.hasher.verify(phc, password.clone()).await?;
    let user = match user {
        Some(user) if verification.ok && !user.disabled => user,
        user => {
            let now = state.now();
            let id = user.as_ref().map(|u| u.id.as_str());
            let reason = match &user {
                None => "unknown_email",
                Some(u) if u.disabled && verification.ok => "disabled",
                Some(_) => "wrong_password",
            };
            let event = meta.event(now, "login.failed", id, json!({ "reason": reason }));
            let failures = match taken {
                Some(failures) => {
                    // The attempt is counted already. A lost audit row is
                    // logged, never turned into an error: any error but
                    // 401 gives the attempt back, and this guess was wrong.
                    audit_or_warn(state, event).await;
                    failures
                }
                None => state.store.record_login_failure(&key, now, event).await?,
            };
            if failures == LOCKOUT_THRESHOLD {
                let event = meta.event(now, "login.locked", id, json!({ "failures": failures }));
                audit_or_warn(state, event).await;
            }
            // L1: one answer for unknown email, wrong password and disabled.
            return Err(ApiError::InvalidCredentials);
        }
    };
    if state.config.email.confirmation_required && user.email_confirmed_at.is_none() {
        return Err(ApiError::EmailNotConfirmed);
    }
    let rehash = if verification.needs_rehash {
        Some(state.hasher.hash(password).await?)
    } else {
        None
    };
    let assurance = Assurance::password();
    signin::finish(
        state,
        &user,
        key,
        rehash,
        meta,
        "login.succeeded",
        assurance,
    )
    .await
}

/// Writes an audit event whose loss must not change the answer.
async fn audit_or_warn(state: &AppState, event: AuditEvent) {
    let kind = event.kind;
    if let Err(e) = state.store.audit(event).await {
        tracing::warn!(error = %e, kind, "cannot write an audit event");
    }
}
/// Checks the signed-in user's current password (P6) before a sensitive
/// change — password change, email change, account delete, and the
/// re-authentication to come — answering 403 `wrong_password`.
///
/// Counted like a login (TT-03): first the client's `PasswordCheck`
/// bucket, then an attempt on the account's lockout and the (account,
/// client) one, all before the hash, so a flooding or locked-out client
/// costs no hash (and cannot fill the hash pool that every login needs).
/// A wrong password counts as a failed sign-in; a right one clears the
/// counts.
pub async fn verify_current_password(
    state: &AppState,
    who: &Authenticated,
    password: String,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    meta.limit(state, Bucket::PasswordCheck).await?;
    let email_key = Email::parse(&who.user.email)
        .map(|e| e.normalized())
        .unwrap_or_else(|_| who.user.email.to_lowercase());
    let attempt = Attempt::take(state, &email_key, meta).await?;
    let verification = match state
        .hasher
        .verify(who.user.password_hash.clone(), password)
        .await
    {
        Ok(verification) => verification,
        Err(e) => {
            attempt.give_back(state).await;
            return Err(e.into());
        }
    };
    let now = state.now();
    if verification.ok {
        if attempt.failures.is_some() {
            let cleared = state
                .store
                .login_succeeded(&email_key, attempt.client, None, now)
                .await;
            if let Err(e) = cleared {
                tracing::warn!(error = %e, "cannot clear the failed-attempt count");
            }
        }
        return Ok(());
    }
    if let Some(failures) = attempt.failures {
        let id = Some(who.user.id.as_str());
        let detail = json!({ "reason": "wrong_current_password" });
        audit_or_warn(state, meta.event(now, "login.failed", id, detail)).await;
        if failures == LOCKOUT_THRESHOLD {
            let event = meta.event(now, "login.locked", id, json!({ "failures": failures }));
            audit_or_warn(state, event).await;
        }
    }
    Err(ApiError::WrongPassword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_at_one_second_and_doubles_to_fifteen_minutes() {
        assert_eq!(lockout_remaining(4, 100, 100), None);
        assert_eq!(lockout_remaining(5, 100, 100), Some(1));
        assert_eq!(lockout_remaining(5, 100, 101), None);
        assert_eq!(lockout_remaining(6, 100, 100), Some(2));
        assert_eq!(lockout_remaining(8, 100, 100), Some(8));
        assert_eq!(lockout_remaining(50, 100, 100), Some(900));
        assert_eq!(lockout_remaining(u32::MAX, 100, 100), Some(900));
    }
}
