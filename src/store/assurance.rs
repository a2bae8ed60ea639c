//! Storage of the assurance bookkeeping (docs/API.md "Sign-in beyond
//! passwords", "Assurance"), written once as flows for both backends:
//! raising or refreshing a live session's `auth_time`, `amr`, `aal` and
//! `factor` after a reauthentication, and an administrator's reset of a
//! user's second factors.
//!
//! Both change `sessions`, which the session cache watches (SQLite's
//! update hook bumps the generation before the call returns, `cache.rs`),
//! so the next token check sees the new assurance or the ended sessions.

use super::flows::{self, Arg, Tx};
use serde_json::json;

use super::records::{amr_from_text, amr_to_text};
use super::{AuditEvent, Store, StoreError};
use crate::domain::mail::OutgoingMail;

/// A reauthentication to record on a live session.
#[derive(Debug, Clone)]
pub struct Reauthentication {
    pub session_id: String,
    pub user_id: String,
    /// SHA-256 (hex) of the session's new refresh secret: the current one
    /// is rotated out (and counts as spent, like after a refresh).
    pub refresh_hash: String,
    pub now_ms: i64,
    /// The fresh `auth_time`.
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub aal: u8,
    pub factor: Option<String>,
}

/// What a session holds after a reauthentication, read back from its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAssurance {
    pub expires_at: i64,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub aal: u8,
    pub factor: Option<String>,
}

/// Records `r` on its session if that session is still live and the
/// user's: `None` (nothing written) when it ended meanwhile.
///
/// The session row is locked first (the no-op update), so on PostgreSQL a
/// refresh of the same session waits for this one or went before it: the
/// refresh hash moved to `spent_refresh_tokens` is the current one either
/// way.
pub(crate) fn reauthenticate(
    tx: &mut dyn Tx,
    r: &Reauthentication,
    event: &AuditEvent,
) -> Result<Option<StoredAssurance>, StoreError> {
    let now = r.now_ms.div_euclid(1000);
    let live = tx.execute(
        "UPDATE sessions SET last_used_at = ?3
         WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3",
        &[
            Arg::Text(&r.session_id),
            Arg::Text(&r.user_id),
            Arg::Int(now),
        ],
    )?;
    if live == 0 {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO spent_refresh_tokens (hash, session_id)
         SELECT refresh_hash, id FROM sessions WHERE id = ?1",
        &[Arg::Text(&r.session_id)],
    )?;
    let amr = amr_to_text(&r.amr);
    tx.execute(
        "UPDATE sessions SET prev_refresh_hash = refresh_hash, refresh_hash = ?2,
                rotated_at_ms = ?3, auth_time = ?4, amr = ?5, aal = ?6, factor = ?7
         WHERE id = ?1",
        &[
            Arg::Text(&r.session_id),
            Arg::Text(&r.refresh_hash),
            Arg::Int(r.now_ms),
            Arg::Int(r.auth_time),
            Arg::Text(&amr),
            Arg::Int(i64::from(r.aal)),
            Arg::OptText(r.factor.as_deref()),
        ],
    )?;
    flows::audit(tx, event)?;
    let rows = tx.query(
        "SELECT expires_at, auth_time, amr, aal, factor FROM sessions WHERE id = ?1",
        &[Arg::Text(&r.session_id)],
    )?;
    let Some([expires_at, auth_time, amr, aal, factor]) = rows.first().map(Vec::as_slice) else {
        return Err(StoreError::Internal(
            "a session updated just now cannot be read back".to_owned(),
        ));
    };
    Ok(Some(StoredAssurance {
        expires_at: expires_at.int()?,
        auth_time: auth_time.int()?,
        amr: amr_from_text(&amr.text()?),
        aal: u8::try_from(aal.int()?).unwrap_or(1),
        factor: factor.opt_text()?,
    }))
}

/// Removes every second factor of user `id` (TOTP, passkeys, recovery
/// codes) and ends all their sessions, with `event` (its detail: what was
/// removed) and `mails`: `None` (nothing written) when there is no such
/// user. The user row is touched first, the lock order of every flow on a
/// user (`flows::set_password`).
pub(crate) fn reset_factors(
    tx: &mut dyn Tx,
    id: &str,
    now: i64,
    mut event: AuditEvent,
    mails: &[OutgoingMail],
) -> Result<Option<usize>, StoreError> {
    let found = tx.execute(
        "UPDATE users SET updated_at = ?2 WHERE id = ?1",
        &[Arg::Text(id), Arg::Int(now)],
    )?;
    if found == 0 {
        return Ok(None);
    }
    let rows = tx.query(
        "SELECT (SELECT MAX(confirmed_at) FROM totp_factors WHERE user_id = ?1),
                (SELECT COUNT(*) FROM passkeys WHERE user_id = ?1),
                (SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL)",
        &[Arg::Text(id)],
    )?;
    if let Some([totp, passkeys, codes]) = rows.first().map(Vec::as_slice) {
        event.detail = json!({
            "totp": totp.opt_int()?.is_some(),
            "passkeys": passkeys.int()?,
            "recovery_codes": codes.int()?,
        });
    }
    for table in ["totp_factors", "passkeys", "recovery_codes"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE user_id = ?1"),
            &[Arg::Text(id)],
        )?;
    }
    let ended = tx.revoke_sessions(id, None, "factors_reset", now)?;
    flows::audit(tx, &event)?;
    flows::enqueue_all(tx, mails, now)?;
    Ok(Some(ended))
}

impl Store {
    /// See [`reauthenticate`]: the session's assurance as stored now, or
    /// `None` when the session is no longer live.
    pub async fn reauthenticate_session(
        &self,
        r: Reauthentication,
        event: AuditEvent,
    ) -> Result<Option<StoredAssurance>, StoreError> {
        self.write(move |tx| reauthenticate(tx, &r, &event)).await
    }

    /// See [`reset_factors`]: the number of sessions ended, `None` for an
    /// unknown user. `event`'s detail is replaced by what was removed.
    pub async fn reset_factors(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
        mails: Vec<OutgoingMail>,
    ) -> Result<Option<usize>, StoreError> {
        if !flows::storable(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.write(move |tx| reset_factors(tx, &id, now, event, &mails))
            .await
    }
}
