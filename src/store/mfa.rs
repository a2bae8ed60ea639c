//! The MFA step of a sign-in (`mfa_flows`, schema migration 10): a first
//! factor passed and a second is owed. The flows are written once for both
//! backends over [`Tx`]; the rules (what a wrong code costs, when a flow
//! dies) are `crate::accounts::mfa`'s.

use super::flows::{audit, Arg, Cell, Tx};
use super::records::{amr_from_text, amr_to_text};
use super::{AuditEvent, Store, StoreError};

use Arg::{Int, OptText, Text};

/// Wrong second factors after which an MFA flow dies.
pub const MFA_MAX_FAILURES: i64 = 5;

/// An MFA flow as stored (its token only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaFlow {
    pub token_hash: String,
    pub user_id: String,
    pub email_key: String,
    /// The first factor's RFC 8176 methods.
    pub amr: Vec<String>,
    /// The password hash the first factor was checked against (`None` for
    /// a first factor that is not a password, or a passwordless user).
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub failures: i64,
}

fn flow(cells: &[Cell]) -> Result<MfaFlow, StoreError> {
    let cell = |i: usize| {
        cells
            .get(i)
            .ok_or_else(|| StoreError::Internal("an mfa_flows row is short".to_owned()))
    };
    Ok(MfaFlow {
        token_hash: cell(0)?.text()?,
        user_id: cell(1)?.text()?,
        email_key: cell(2)?.text()?,
        amr: amr_from_text(&cell(3)?.text()?),
        password_hash: cell(4)?.opt_text()?,
        created_at: cell(5)?.int()?,
        expires_at: cell(6)?.int()?,
        failures: cell(7)?.int()?,
    })
}

/// The live flow with `token_hash`.
fn live(tx: &mut dyn Tx, token_hash: &str, now: i64) -> Result<Option<MfaFlow>, StoreError> {
    let rows = tx.query(
        "SELECT token_hash, user_id, email_key, amr, password_hash, created_at, expires_at,
                failures
             FROM mfa_flows WHERE token_hash = ?1 AND expires_at > ?2 AND failures < ?3",
        &[Text(token_hash), Int(now), Int(MFA_MAX_FAILURES)],
    )?;
    rows.first().map(|r| flow(r)).transpose()
}

impl Store {
    /// Starts an MFA flow (and drops expired ones), with its
    /// `mfa.challenged` event.
    pub async fn start_mfa_flow(&self, f: MfaFlow, event: AuditEvent) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM mfa_flows WHERE expires_at <= ?1",
                &[Int(f.created_at)],
            )?;
            tx.execute(
                "INSERT INTO mfa_flows (token_hash, user_id, email_key, amr, password_hash,
                        created_at, expires_at, failures)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                &[
                    Text(&f.token_hash),
                    Text(&f.user_id),
                    Text(&f.email_key),
                    Text(&amr_to_text(&f.amr)),
                    OptText(f.password_hash.as_deref()),
                    Int(f.created_at),
                    Int(f.expires_at),
                ],
            )?;
            audit(tx, &event)
        })
        .await
    }

    /// The live flow with `token_hash`: not expired, not used, fewer than
    /// [`MFA_MAX_FAILURES`] wrong codes.
    pub async fn mfa_flow(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<MfaFlow>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| live(tx, &token_hash, now)).await
    }

    /// Ends a flow whose second factor was right: `true` for the one caller
    /// that ended it (of any number at once), which may then sign in.
    pub async fn finish_mfa_flow(&self, token_hash: &str, now: i64) -> Result<bool, StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            if live(tx, &token_hash, now)?.is_none() {
                return Ok(false);
            }
            let n = tx.execute(
                "DELETE FROM mfa_flows WHERE token_hash = ?1",
                &[Text(&token_hash)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// Counts a wrong second factor against a flow, with its `mfa.failed`
    /// event; the fifth kills it.
    pub async fn fail_mfa_flow(
        &self,
        token_hash: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            tx.execute(
                "UPDATE mfa_flows SET failures = failures + 1 WHERE token_hash = ?1",
                &[Text(&token_hash)],
            )?;
            tx.execute(
                "DELETE FROM mfa_flows WHERE token_hash = ?1 AND failures >= ?2",
                &[Text(&token_hash), Int(MFA_MAX_FAILURES)],
            )?;
            audit(tx, &event)
        })
        .await
    }

    /// Drops a flow that can no longer succeed (its user changed).
    pub async fn drop_mfa_flow(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM mfa_flows WHERE token_hash = ?1",
                &[Text(&token_hash)],
            )?;
            Ok(())
        })
        .await
    }
}
