//! TOTP second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, one
//! step of drift either way), on the `totp-rs` crate.
//!
//! Enrolment is two steps: `begin` stores a pending secret (160 random
//! bits, base32) for ten minutes and hands it out once, as text and as an
//! `otpauth://` URI; `confirm` takes a first code, turns the secret on and
//! hands out the first set of recovery codes. A time step is accepted at
//! most once: a code verifies only when its step is later than every step
//! accepted before, and taking the step is one conditional `UPDATE`
//! (`Store::take_totp_step`), so of two requests with one code exactly one
//! wins.

use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use serde_json::json;
use totp_rs::{Builder, Secret, Totp};

use super::{email, recovery, Authenticated, RequestMeta};
use crate::app::AppState;
use crate::error::ApiError;
use crate::mail::MailKind;
use crate::store::Confirmation;

/// Seconds a time step lasts.
pub const STEP_SECS: i64 = 30;
/// Seconds a pending secret waits for its first code.
pub const PENDING_SECS: i64 = 600;
/// Steps of clock drift accepted either way.
const DRIFT: i64 = 1;

/// The answer of `POST /v1/users/me/totp`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/toktok:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=toktok",
    "expires_in": 600
}))]
pub struct TotpEnrolment {
    /// The secret, base32 without padding (160 bits), for manual entry.
    pub secret: String,
    /// The same secret for a QR code: `otpauth://totp/…` (SHA-1, 6 digits,
    /// 30 s).
    pub otpauth_uri: String,
    /// Seconds left to confirm it with a first code.
    pub expires_in: i64,
}

/// The answer of `POST /v1/users/me/totp/confirm`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({ "recovery_codes": ["k3m9q-7vx2a", "…"] }))]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown this once (only their hashes are kept).
    pub recovery_codes: Vec<String>,
}

/// Passes only with `[totp] enabled` (404 `feature_disabled`).
pub fn enabled(state: &AppState) -> Result<(), ApiError> {
    if state.config.totp.enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

/// 160 random bits from the operating system, base32 without padding.
fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 20];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the random number generator failed".to_owned()))?;
    Ok(Secret::from(bytes.to_vec()).to_base32())
}

/// The generator for a stored secret (RFC 6238 defaults of `totp-rs`:
/// SHA-1, 6 digits, 30 s). `account` and `issuer` only matter for the URI.
fn generator(secret: &str, account: &str, issuer: &str) -> Result<Totp, ApiError> {
    let secret = Secret::try_from_base32(secret)
        .map_err(|e| ApiError::Internal(format!("a stored TOTP secret is not base32: {e}")))?;
    // The otpauth label separates issuer and account with ':'.
    let issuer = (!issuer.is_empty()).then(|| issuer.replace(':', " "));
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', " "))
        .with_issuer(issuer)
        .build()
        .map_err(|e| ApiError::Internal(format!("TOTP parameters refused: {e}")))
}

/// Equal bytes, compared in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The time step whose code `code` is, within [`DRIFT`] steps of `now`.
/// Every step of the window is computed and compared (no early exit).
fn matching_step(totp: &Totp, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP_SECS);
    let mut found = None;
    for step in current - DRIFT..=current + DRIFT {
        let Ok(at) = u64::try_from(step * STEP_SECS) else {
            continue;
        };
        let expected = totp.generate(at).to_string();
        if same(expected.as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// Checks `code` against the user's confirmed TOTP secret and, when it
/// matches, marks its time step used (a code never verifies twice).
/// `Ok(false)`: wrong code, replayed code, or no confirmed secret.
pub async fn verify_code(state: &AppState, user_id: &str, code: &str) -> Result<bool, ApiError> {
    let Some(row) = state.store.totp_factor(user_id).await? else {
        return Ok(false);
    };
    if row.confirmed_at.is_none() {
        return Ok(false);
    }
    let totp = generator(&row.secret, "", "")?;
    match matching_step(&totp, code, state.now()) {
        Some(step) if step > row.last_step => Ok(state.store.take_totp_step(user_id, step).await?),
        _ => Ok(false),
    }
}

/// Starts an enrolment (`POST /v1/users/me/totp`, after the (R) guard):
/// a new pending secret, replacing an unconfirmed one; 409 `conflict` when
/// TOTP is on already.
pub async fn begin(state: &AppState, who: &Authenticated) -> Result<TotpEnrolment, ApiError> {
    enabled(state)?;
    let secret = new_secret()?;
    let issuer = state.config.totp.issuer(&state.config);
    let totp = generator(&secret, &who.user.email, issuer)?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|e| ApiError::Internal(format!("no otpauth URI: {e}")))?;
    let now = state.now();
    let stored = state
        .store
        .begin_totp(&who.user.id, secret.clone(), now, now + PENDING_SECS)
        .await?;
    if !stored {
        return Err(ApiError::Conflict(
            "TOTP is already on; remove it before enrolling a new secret".to_owned(),
        ));
    }
    Ok(TotpEnrolment {
        secret,
        otpauth_uri,
        expires_in: PENDING_SECS,
    })
}

/// Confirms the pending secret with a first code: TOTP is on, the session
/// that did it is raised to `aal` 2 (it just showed both factors), and
/// the first set of recovery codes is returned. 422 naming `code` for a
/// wrong code; 404 `not_found` without a live pending secret; 409
/// `conflict` when TOTP is on already.
pub async fn confirm(
    state: &AppState,
    who: &Authenticated,
    code: &str,
    meta: &RequestMeta,
) -> Result<RecoveryCodes, ApiError> {
    enabled(state)?;
    let now = state.now();
    let row = state.store.totp_factor(&who.user.id).await?;
    let Some(row) = row else {
        return Err(ApiError::NotFound);
    };
    if row.confirmed_at.is_some() {
        return Err(ApiError::Conflict("TOTP is already on".to_owned()));
    }
    if row.pending_until.is_none_or(|until| until <= now) {
        return Err(ApiError::NotFound);
    }
    let totp = generator(&row.secret, "", "")?;
    let step = match matching_step(&totp, code, now) {
        Some(step) if step > row.last_step => step,
        _ => {
            return Err(ApiError::field(
                "code",
                "is not the current code of this secret",
            ))
        }
    };
    let (codes, hashes) = recovery::new_set()?;
    let events = vec![
        meta.event(now, "totp.enabled", Some(&who.user.id), json!({})),
        meta.event(
            now,
            "recovery_codes.generated",
            Some(&who.user.id),
            json!({ "count": codes.len() }),
        ),
    ];
    let done = state
        .store
        .confirm_totp(
            &who.user.id,
            &who.session.id,
            row.secret,
            step,
            hashes,
            now,
            events,
        )
        .await?;
    match done {
        Confirmation::Confirmed => Ok(RecoveryCodes {
            recovery_codes: codes,
        }),
        Confirmation::AlreadyOn => Err(ApiError::Conflict("TOTP is already on".to_owned())),
        Confirmation::NoPending => Err(ApiError::NotFound),
    }
}

/// Turns TOTP off (`DELETE /v1/users/me/totp`, after the (R) guard): the
/// secret goes, the recovery codes too unless a passkey remains, the
/// sessions raised to `aal` 2 by TOTP or a recovery code end, and a notice
/// is mailed. 404 `not_found` when TOTP is not on.
pub async fn disable(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    enabled(state)?;
    let now = state.now();
    let event = meta.event(now, "totp.disabled", Some(&who.user.id), json!({}));
    let mails = email::if_email_on(
        state,
        email::notice(MailKind::TotpDisabledNotice, &who.user, json!({}), meta),
    );
    if !state
        .store
        .remove_totp(&who.user.id, now, event, mails)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    email::mail_queued(state);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 (secret "12345678901234567890"), last
    /// six digits of the eight given there.
    #[test]
    fn rfc6238_vectors() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let totp = generator(&secret, "a@example.com", "toktok").unwrap();
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(totp.generate(t).to_string(), code, "t = {t}");
            let at = i64::try_from(t).unwrap();
            assert_eq!(matching_step(&totp, code, at), Some(at / 30));
        }
    }

    #[test]
    fn drift_is_one_step_and_junk_never_matches() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 32, "160 bits in unpadded base32");
        let totp = generator(&secret, "a@example.com", "").unwrap();
        let now = 1_700_000_000;
        let code = |t: i64| totp.generate(u64::try_from(t).unwrap()).to_string();
        assert!(matching_step(&totp, &code(now - 30), now).is_some());
        assert!(matching_step(&totp, &code(now + 30), now).is_some());
        let spaced = format!("{} {}", &code(now)[..3], &code(now)[3..]);
        assert_eq!(matching_step(&totp, &spaced, now), Some(now / 30));
        for junk in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(matching_step(&totp, junk, now), None, "{junk:?}");
        }
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let totp = generator(&new_secret().unwrap(), "ada@example.com", "Toktok: dev").unwrap();
        let uri = totp.to_url().unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("issuer=Toktok"), "{uri}");
        assert!(uri.contains("ada%40example.com"), "{uri}");
    }
}
