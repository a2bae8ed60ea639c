//! TOTP secrets and recovery codes (`totp_factors`, `recovery_codes`,
//! schema migration 9): the flows, written once for both backends over
//! [`Tx`], and the `Store` methods that run them.
//!
//! Every rule that must hold against a second request at the same moment is
//! one conditional statement: a time step is taken by `UPDATE … WHERE
//! last_step < step`, a recovery code by `UPDATE … WHERE used_at IS NULL`,
//! so of two uses of one code exactly one changes a row.

use super::flows::{audit, enqueue_all, Arg, Cell, Tx};
use super::{AuditEvent, Store, StoreError};
use crate::domain::mail::OutgoingMail;

use Arg::{Int, Text};

/// A user's TOTP secret as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRow {
    /// base32 (no padding).
    pub secret: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub pending_until: Option<i64>,
    pub last_step: i64,
}

/// What `GET /v1/users/me/factors` shows besides the passkeys
/// (`Store::passkeys_of`), read in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorsRow {
    /// When the confirmed secret was confirmed; `None` without one.
    pub totp_since: Option<i64>,
    pub recovery_remaining: i64,
}

/// What [`Store::confirm_totp`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Confirmed,
    /// No pending secret (never started, expired, or replaced meanwhile).
    NoPending,
    /// A confirmed secret exists already.
    AlreadyOn,
}

fn cell(cells: &[Cell], i: usize) -> Result<&Cell, StoreError> {
    cells
        .get(i)
        .ok_or_else(|| StoreError::Internal("a factors row is short".to_owned()))
}

fn read_totp(tx: &mut dyn Tx, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
    let rows = tx.query(
        "SELECT secret, created_at, confirmed_at, pending_until, last_step
           FROM totp_factors WHERE user_id = ?1",
        &[Text(user_id)],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(TotpRow {
        secret: cell(r, 0)?.text()?,
        created_at: cell(r, 1)?.int()?,
        confirmed_at: cell(r, 2)?.opt_int()?,
        pending_until: cell(r, 3)?.opt_int()?,
        last_step: cell(r, 4)?.int()?,
    }))
}

/// Replaces the user's recovery codes with `hashes`.
fn replace_codes(
    tx: &mut dyn Tx,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM recovery_codes WHERE user_id = ?1",
        &[Text(user_id)],
    )?;
    for hash in hashes {
        tx.execute(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?1, ?2, ?3)",
            &[Text(user_id), Text(hash), Int(now)],
        )?;
    }
    Ok(())
}

/// Whether the user has a second factor: a confirmed secret or a passkey.
fn has_second_factor(tx: &mut dyn Tx, user_id: &str) -> Result<bool, StoreError> {
    let rows = tx.query(
        "SELECT (SELECT COUNT(*) FROM totp_factors
                  WHERE user_id = ?1 AND confirmed_at IS NOT NULL)
              + (SELECT COUNT(*) FROM passkeys WHERE user_id = ?1)",
        &[Text(user_id)],
    )?;
    let n = rows.first().map(|r| cell(r, 0)).transpose()?;
    Ok(n.map(Cell::int).transpose()?.unwrap_or(0) > 0)
}

/// Locks the user row first: the lock order of every flow on a user.
fn lock_user(tx: &mut dyn Tx, user_id: &str) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE users SET updated_at = updated_at WHERE id = ?1",
        &[Text(user_id)],
    )?;
    Ok(n == 1)
}

impl Store {
    /// Stores a pending secret, replacing an earlier pending one; `false`
    /// (nothing written) when a confirmed secret exists.
    pub async fn begin_totp(
        &self,
        user_id: &str,
        secret: String,
        now: i64,
        pending_until: i64,
    ) -> Result<bool, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            let n = tx.execute(
                "INSERT INTO totp_factors (user_id, secret, created_at, pending_until)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id) DO UPDATE
                    SET secret = excluded.secret, created_at = excluded.created_at,
                        pending_until = excluded.pending_until, last_step = 0
                  WHERE totp_factors.confirmed_at IS NULL",
                &[Text(&user_id), Text(&secret), Int(now), Int(pending_until)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// The user's TOTP row, pending or confirmed.
    pub async fn totp_factor(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| read_totp(tx, &user_id)).await
    }

    /// Confirms the pending `secret` with a code of time step `step`: marks
    /// it confirmed, takes the step, replaces the recovery codes with
    /// `hashes`, raises session `sid` to `aal` 2 by TOTP, and writes
    /// `events`, all at once.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_totp(
        &self,
        user_id: &str,
        sid: &str,
        secret: String,
        step: i64,
        hashes: Vec<String>,
        now: i64,
        events: Vec<AuditEvent>,
    ) -> Result<Confirmation, StoreError> {
        let (user_id, sid) = (user_id.to_owned(), sid.to_owned());
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE totp_factors
                    SET confirmed_at = ?3, pending_until = NULL, last_step = ?4
                  WHERE user_id = ?1 AND secret = ?2 AND confirmed_at IS NULL
                    AND pending_until > ?3 AND last_step < ?4",
                &[Text(&user_id), Text(&secret), Int(now), Int(step)],
            )?;
            if n != 1 {
                let on = read_totp(tx, &user_id)?.is_some_and(|t| t.confirmed_at.is_some());
                return Ok(if on {
                    Confirmation::AlreadyOn
                } else {
                    Confirmation::NoPending
                });
            }
            replace_codes(tx, &user_id, &hashes, now)?;
            tx.execute(
                "UPDATE sessions SET aal = 2, factor = 'totp'
                  WHERE id = ?1 AND user_id = ?2 AND aal < 2 AND revoked_at IS NULL",
                &[Text(&sid), Text(&user_id)],
            )?;
            for event in &events {
                audit(tx, event)?;
            }
            Ok(Confirmation::Confirmed)
        })
        .await
    }

    /// Takes time step `step` of the user's confirmed secret: `true` only
    /// if it is later than every step taken before (one winner per step).
    pub async fn take_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE totp_factors SET last_step = ?2
                  WHERE user_id = ?1 AND confirmed_at IS NOT NULL AND last_step < ?2",
                &[Text(&user_id), Int(step)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// Removes the user's confirmed secret; with no passkey left, the
    /// recovery codes too. Ends the live sessions raised to `aal` 2 by TOTP
    /// or a recovery code, writes `event`, queues `mails`. `false`
    /// (nothing written) without a confirmed secret.
    pub async fn remove_totp(
        &self,
        user_id: &str,
        now: i64,
        event: AuditEvent,
        mails: Vec<OutgoingMail>,
    ) -> Result<bool, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            if !lock_user(tx, &user_id)? {
                return Ok(false);
            }
            let n = tx.execute(
                "DELETE FROM totp_factors WHERE user_id = ?1 AND confirmed_at IS NOT NULL",
                &[Text(&user_id)],
            )?;
            if n != 1 {
                return Ok(false);
            }
            if !has_second_factor(tx, &user_id)? {
                tx.execute(
                    "DELETE FROM recovery_codes WHERE user_id = ?1",
                    &[Text(&user_id)],
                )?;
            }
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2, revoked_reason = 'factor_removed'
                  WHERE user_id = ?1 AND factor IN ('totp', 'recovery_code')
                    AND revoked_at IS NULL",
                &[Text(&user_id), Int(now)],
            )?;
            audit(tx, &event)?;
            enqueue_all(tx, &mails, now)?;
            Ok(true)
        })
        .await
    }

    /// Replaces the user's recovery codes with `hashes` and writes
    /// `event`; `false` (nothing written) without a second factor.
    pub async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: Vec<String>,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            if !lock_user(tx, &user_id)? || !has_second_factor(tx, &user_id)? {
                return Ok(false);
            }
            replace_codes(tx, &user_id, &hashes, now)?;
            audit(tx, &event)?;
            Ok(true)
        })
        .await
    }

    /// Uses the recovery code with this hash: `true` once per code, with
    /// `event` written in the same transaction.
    pub async fn use_recovery_code(
        &self,
        user_id: &str,
        code_hash: String,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE recovery_codes SET used_at = ?3
                  WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
                &[Text(&user_id), Text(&code_hash), Int(now)],
            )?;
            if n == 1 {
                audit(tx, &event)?;
            }
            Ok(n == 1)
        })
        .await
    }

    /// What the user has enrolled, for the factors overview.
    pub async fn factors(&self, user_id: &str) -> Result<FactorsRow, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            let totp_since = read_totp(tx, &user_id)?.and_then(|t| t.confirmed_at);
            let rows = tx.query(
                "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
                &[Text(&user_id)],
            )?;
            let recovery_remaining = match rows.first() {
                Some(r) => cell(r, 0)?.int()?,
                None => 0,
            };
            Ok(FactorsRow {
                totp_since,
                recovery_remaining,
            })
        })
        .await
    }
}
