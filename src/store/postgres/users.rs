//! Users, login failures and queued account mail (`sqlite/users.rs`).

use crate::store::backend::Users;
use async_trait::async_trait;
use postgres::Row;

use super::conn::{Sql, Tx};
use super::{audit, count, json_column, PgDb};
use crate::domain::mail::OutgoingMail;
use crate::store::flows::{self, drops_notices, NOTICE_WITH_LINK};
use crate::store::{AuditEvent, MailSlot, StoreError, UserRecord};

pub(super) const USER_COLUMNS: &str = "id, email, email_confirmed_at, name, role, metadata, \
     app_metadata, password_hash, disabled, created_at, updated_at, last_login_at, locale";

pub(super) fn user_from_row(row: &Row) -> Result<UserRecord, StoreError> {
    user_from_row_at(row, 0)
}

/// The user whose [`USER_COLUMNS`] start at column `at` of `row`.
pub(super) fn user_from_row_at(row: &Row, at: usize) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: row.try_get(at)?,
        email: row.try_get(at + 1)?,
        email_confirmed_at: row.try_get(at + 2)?,
        name: row.try_get(at + 3)?,
        role: row.try_get(at + 4)?,
        metadata: json_column(row.try_get(at + 5)?)?,
        app_metadata: json_column(row.try_get(at + 6)?)?,
        password_hash: row.try_get(at + 7)?,
        disabled: row.try_get(at + 8)?,
        created_at: row.try_get(at + 9)?,
        updated_at: row.try_get(at + 10)?,
        last_login_at: row.try_get(at + 11)?,
        locale: row.try_get(at + 12)?,
    })
}

pub(super) use crate::store::flows::storable;

pub(super) fn get_user(conn: &mut impl Sql, id: &str) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    conn.query_opt(&sql, &[&id])?
        .map(|r| user_from_row(&r))
        .transpose()
}

/// Ends a user's pending email links of `actions` (TT-02; see
/// `super::super::users::end_links`). Each challenge is deleted under the
/// advisory lock its steps take (`super::challenges`), so a step running
/// at the same time sees it either whole or gone.
pub(super) fn end_links(
    tx: &mut Tx<'_>,
    user_id: &str,
    actions: &[&str],
) -> Result<(), StoreError> {
    let drop_notices = drops_notices(actions);
    for action in actions {
        tx.execute(
            "SELECT pg_advisory_xact_lock(
                 hashtextextended('toktok' || chr(10) || $1 || chr(10) || $2, 0))",
            &[action, &user_id],
        )?;
        tx.execute(
            "DELETE FROM challenges WHERE namespace = 'toktok' AND action = $1 AND id = $2",
            &[action, &user_id],
        )?;
        tx.execute(
            "DELETE FROM outbox WHERE user_id = $1 AND failed_at IS NULL
                 AND link IS NOT NULL AND (link::jsonb ->> 'action') = $2
                 AND (kind <> $3 OR $4)",
            &[&user_id, action, &NOTICE_WITH_LINK, &drop_notices],
        )?;
    }
    Ok(())
}

pub(super) fn revoke_sessions(
    tx: &mut Tx<'_>,
    user_id: &str,
    except: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(count(tx.execute(
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $4
         WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2::text",
        &[&user_id, &except, &now, &reason],
    )?))
}

#[async_trait]
impl Users for PgDb {
    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        if !storable(id) {
            return Ok(None);
        }
        let id = id.to_owned();
        self.call(move |conn| get_user(conn, &id)).await
    }

    async fn user_by_email_key(&self, key: &str) -> Result<Option<UserRecord>, StoreError> {
        if !storable(key) {
            return Ok(None);
        }
        let key = key.to_owned();
        self.call(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = $1");
            conn.query_opt(&sql, &[&key])?
                .map(|r| user_from_row(&r))
                .transpose()
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
        self.write(move |tx| {
            // Take each slot only if it is free: one conditional upsert
            // each, so two instances cannot both queue the mail. A taken
            // one undoes the slots claimed before it.
            tx.batch_execute("SAVEPOINT mail_slots")?;
            for slot in &slots {
                let claimed = match slot {
                    MailSlot::User { user_id, kind } => tx.query_opt(
                        "INSERT INTO mail_slots (user_id, kind, until) VALUES ($1, $2, $3)
                         ON CONFLICT (user_id, kind) DO UPDATE SET until = excluded.until
                         WHERE mail_slots.until <= $4
                         RETURNING until",
                        &[user_id, &kind.as_str(), &until, &now],
                    )?,
                    MailSlot::Address { hash, kind } => tx.query_opt(
                        "INSERT INTO mail_address_slots (address_hash, kind, until)
                         VALUES ($1, $2, $3)
                         ON CONFLICT (address_hash, kind) DO UPDATE SET until = excluded.until
                         WHERE mail_address_slots.until <= $4
                         RETURNING until",
                        &[hash, &kind.as_str(), &until, &now],
                    )?,
                };
                if claimed.is_none() {
                    tx.batch_execute("ROLLBACK TO SAVEPOINT mail_slots")?;
                    return Ok(false);
                }
            }
            flows::queue_mail(tx, &mails, now, event.as_ref())?;
            Ok(true)
        })
        .await
    }

    #[cfg(any(test, feature = "testing"))]
    async fn email_key_report(&self) -> Result<crate::domain::email::Rekey, StoreError> {
        self.call(|conn| {
            let rows = conn
                .query("SELECT id, email, email_key FROM users", &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<Result<Vec<(String, String, String)>, StoreError>>()?;
            Ok(crate::domain::email::plan_rekey(&rows))
        })
        .await
    }

    async fn sweep_mail_slots(&self, now: i64) -> Result<usize, StoreError> {
        self.write(move |tx| {
            Ok(count(tx.execute(
                "DELETE FROM mail_address_slots WHERE until <= $1",
                &[&now],
            )?))
        })
        .await
    }

    #[cfg(any(test, feature = "testing"))]
    async fn login_failures(&self, email_key: &str) -> Result<Option<(u32, i64)>, StoreError> {
        if !storable(email_key) {
            return Ok(None);
        }
        let key = email_key.to_owned();
        self.call(move |conn| {
            let Some(row) = conn.query_opt(
                "SELECT failures, last_failed_at FROM login_failures WHERE email_key = $1",
                &[&key],
            )?
            else {
                return Ok(None);
            };
            let failures: i64 = row.try_get(0)?;
            Ok(Some((
                u32::try_from(failures).unwrap_or(u32::MAX),
                row.try_get(1)?,
            )))
        })
        .await
    }

    async fn record_login_failure(
        &self,
        email_key: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<u32, StoreError> {
        let key = email_key.to_owned();
        self.write(move |tx| {
            // One atomic upsert: failures counted through any instance add
            // up. The time never goes back: an instance whose clock is
            // behind must not shorten a lockout another one started.
            let failures: i64 = tx
                .query_one(
                    "INSERT INTO login_failures (email_key, failures, last_failed_at)
                     VALUES ($1, 1, $2)
                     ON CONFLICT (email_key) DO UPDATE
                        SET failures = login_failures.failures + 1,
                            last_failed_at = GREATEST(login_failures.last_failed_at, $2)
                     RETURNING failures",
                    &[&key, &now],
                )?
                .try_get(0)?;
            audit::insert(tx, &event)?;
            Ok(u32::try_from(failures).unwrap_or(u32::MAX))
        })
        .await
    }
}
