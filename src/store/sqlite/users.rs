//! Users and their failed-login counters.

use crate::store::records::{MailSlot, UserRecord};
use rusqlite::{params, OptionalExtension as _, Row, Transaction};

use async_trait::async_trait;

use super::{audit, json_column, Sqlite};
use crate::domain::mail::OutgoingMail;
use crate::store::backend::Users;
use crate::store::flows::{self, drops_notices, NOTICE_WITH_LINK};
use crate::store::{AuditEvent, StoreError};

/// Whether `slot` is held past `now`.
fn slot_taken(tx: &Transaction<'_>, slot: &MailSlot, now: i64) -> Result<bool, StoreError> {
    let until: Option<i64> = match slot {
        MailSlot::User { user_id, kind } => tx
            .prepare_cached("SELECT until FROM mail_slots WHERE user_id = ?1 AND kind = ?2")?
            .query_row(params![user_id, kind.as_str()], |r| r.get(0))
            .optional()?,
        MailSlot::Address { hash, kind } => tx
            .prepare_cached(
                "SELECT until FROM mail_address_slots WHERE address_hash = ?1 AND kind = ?2",
            )?
            .query_row(params![hash, kind.as_str()], |r| r.get(0))
            .optional()?,
    };
    Ok(until.is_some_and(|until| until > now))
}

fn claim_slot(tx: &Transaction<'_>, slot: &MailSlot, until: i64) -> Result<(), StoreError> {
    match slot {
        MailSlot::User { user_id, kind } => tx
            .prepare_cached(
                "INSERT INTO mail_slots (user_id, kind, until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id, kind) DO UPDATE SET until = excluded.until",
            )?
            .execute(params![user_id, kind.as_str(), until])?,
        MailSlot::Address { hash, kind } => tx
            .prepare_cached(
                "INSERT INTO mail_address_slots (address_hash, kind, until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (address_hash, kind) DO UPDATE SET until = excluded.until",
            )?
            .execute(params![hash, kind.as_str(), until])?,
    };
    Ok(())
}

const USER_COLUMNS: &str = "id, email, email_confirmed_at, name, role, metadata, app_metadata, \
     password_hash, disabled, created_at, updated_at, last_login_at, locale";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row.get(0)?,
        email: row.get(1)?,
        email_confirmed_at: row.get(2)?,
        name: row.get(3)?,
        role: row.get(4)?,
        metadata: json_column(row.get(5)?)?,
        app_metadata: json_column(row.get(6)?)?,
        password_hash: row.get(7)?,
        disabled: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
        last_login_at: row.get(11)?,
        locale: row.get(12)?,
    })
}

pub(super) fn get_user(
    conn: &rusqlite::Connection,
    id: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    // Cached: on every refresh and every token check that misses the cache.
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt.query_row([id], user_from_row).optional()?)
}

/// Ends every live session of a user (optionally all but one).
pub(super) fn revoke_sessions(
    tx: &Transaction<'_>,
    user_id: &str,
    except: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(tx.execute(
        "UPDATE sessions SET revoked_at = ?3, revoked_reason = ?4
         WHERE user_id = ?1 AND revoked_at IS NULL AND id IS NOT ?2",
        params![user_id, except, now, reason],
    )?)
}

/// Ends a user's pending email links of `actions` (TT-02), in the caller's
/// transaction: their challenges, and queued mail that would mint one (a
/// mail being sent now loses its link, see `crate::mail::outbox`), except
/// a password-changed notice that [`drops_notices`] keeps.
pub(super) fn end_links(
    tx: &Transaction<'_>,
    user_id: &str,
    actions: &[&str],
) -> Result<(), StoreError> {
    let drop_notices = drops_notices(actions);
    for action in actions {
        tx.prepare_cached(
            "DELETE FROM challenges WHERE namespace = 'toktok' AND action = ?1 AND id = ?2",
        )?
        .execute(params![action, user_id])?;
        tx.prepare_cached(
            "DELETE FROM outbox WHERE user_id = ?1 AND failed_at IS NULL
                 AND link IS NOT NULL AND json_extract(link, '$.action') = ?2
                 AND (kind <> ?3 OR ?4)",
        )?
        .execute(params![user_id, action, NOTICE_WITH_LINK, drop_notices])?;
    }
    Ok(())
}

#[async_trait]
impl Users for Sqlite {
    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let db = &self.db;
        let id = id.to_owned();
        db.call(move |conn| get_user(conn, &id)).await
    }

    async fn user_by_email_key(&self, key: &str) -> Result<Option<UserRecord>, StoreError> {
        let db = &self.db;
        let key = key.to_owned();
        db.call(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = ?1");
            Ok(conn.query_row(&sql, [key], user_from_row).optional()?)
        })
        .await
    }

    async fn queue_mail_slotted(
        &self,
        mails: Vec<OutgoingMail>,
        slots: Vec<MailSlot>,
        now: i64,
        until: i64,
        event: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            for slot in &slots {
                if slot_taken(tx, slot, now)? {
                    return Ok(false);
                }
            }
            for slot in &slots {
                claim_slot(tx, slot, until)?;
            }
            flows::queue_mail(&mut { tx }, &mails, now, event.as_ref())?;
            Ok(true)
        })
        .await
    }

    #[cfg(any(test, feature = "testing"))]
    async fn email_key_report(&self) -> Result<crate::domain::email::Rekey, StoreError> {
        let db = &self.db;
        db.call(|conn| {
            let rows: Vec<(String, String, String)> = conn
                .prepare("SELECT id, email, email_key FROM users")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok(crate::domain::email::plan_rekey(&rows))
        })
        .await
    }

    async fn sweep_mail_slots(&self, now: i64) -> Result<usize, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            Ok(tx.execute("DELETE FROM mail_address_slots WHERE until <= ?1", [now])?)
        })
        .await
    }

    #[cfg(any(test, feature = "testing"))]
    async fn login_failures(&self, email_key: &str) -> Result<Option<(u32, i64)>, StoreError> {
        let db = &self.db;
        let key = email_key.to_owned();
        db.call(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT failures, last_failed_at FROM login_failures WHERE email_key = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })
        .await
    }

    async fn record_login_failure(
        &self,
        email_key: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<u32, StoreError> {
        let db = &self.db;
        let key = email_key.to_owned();
        db.write(move |tx| {
            let failures = tx.query_row(
                "INSERT INTO login_failures (email_key, failures, last_failed_at)
                     VALUES (?1, 1, ?2)
                     ON CONFLICT (email_key) DO UPDATE
                        SET failures = failures + 1, last_failed_at = ?2
                     RETURNING failures",
                params![key, now],
                |r| r.get(0),
            )?;
            audit::insert(tx, &event)?;
            Ok(failures)
        })
        .await
    }
}
