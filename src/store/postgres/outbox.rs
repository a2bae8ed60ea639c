//! The mail outbox (`sqlite/outbox.rs`).
//!
//! Claiming reads due rows `FOR UPDATE SKIP LOCKED` and leases them in the
//! same transaction: two instances' workers never take the same message, and
//! neither waits for the other's claim.

use crate::store::backend::Outbox;
use async_trait::async_trait;
use postgres::Row;

use super::conn::Sql;
use super::{count, lock, try_xact_lock, PgDb};
use crate::store::records::parse_mail;
use crate::store::{QueuedMail, StoreError};

fn queued_from_row(row: &Row) -> Result<QueuedMail, StoreError> {
    let kind: String = row.try_get(1)?;
    let recipient: String = row.try_get(2)?;
    let user_id: Option<String> = row.try_get(3)?;
    let link: Option<String> = row.try_get(4)?;
    let vars: String = row.try_get(5)?;
    let mail = parse_mail(&kind, recipient, user_id.clone(), link, &vars);
    Ok(QueuedMail {
        id: row.try_get(0)?,
        created_at: row.try_get(6)?,
        attempts: row.try_get(7)?,
        user_id,
        kind,
        mail,
        last_error: row.try_get(8)?,
    })
}

#[async_trait]
impl Outbox for PgDb {
    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(move |tx| {
            let claimed = tx
                .query(
                    "SELECT id, kind, recipient, user_id, link, vars, created_at, attempts,
                            last_error
                     FROM outbox
                     WHERE failed_at IS NULL AND next_attempt_at <= $1
                     ORDER BY next_attempt_at, id
                     LIMIT $2
                     FOR UPDATE SKIP LOCKED",
                    &[&now, &limit],
                )?
                .iter()
                .map(queued_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let ids: Vec<&str> = claimed.iter().map(|m| m.id.as_str()).collect();
            tx.execute(
                "UPDATE outbox SET next_attempt_at = $2 WHERE id = ANY($1)",
                &[&ids, &lease_until],
            )?;
            Ok(claimed)
        })
        .await
    }

    async fn release_mail(&self, ids: Vec<String>, now: i64) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            tx.execute(
                "UPDATE outbox SET next_attempt_at = $2 WHERE id = ANY($1) AND failed_at IS NULL",
                &[&ids, &now],
            )?;
            Ok(())
        })
        .await
    }

    async fn mail_sent(&self, id: String) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute("DELETE FROM outbox WHERE id = $1", &[&id])?;
            Ok(())
        })
        .await
    }

    async fn mail_queued(&self, id: String) -> Result<bool, StoreError> {
        self.call(move |conn| {
            Ok(conn
                .query_opt("SELECT 1 FROM outbox WHERE id = $1", &[&id])?
                .is_some())
        })
        .await
    }

    async fn sweep_failed_mail(&self, failed_before: i64) -> Result<usize, StoreError> {
        self.write(move |tx| {
            if !try_xact_lock(tx, lock::SWEEP)? {
                return Ok(0);
            }
            Ok(count(tx.execute(
                "DELETE FROM outbox WHERE failed_at IS NOT NULL AND failed_at < $1",
                &[&failed_before],
            )?))
        })
        .await
    }

    async fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        self.call(|conn| {
            Ok(conn
                .query_one(
                    "SELECT MIN(next_attempt_at) FROM outbox WHERE failed_at IS NULL",
                    &[],
                )?
                .try_get(0)?)
        })
        .await
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        self.call(|conn| {
            Ok(conn
                .query_one("SELECT count(*) FROM outbox WHERE failed_at IS NULL", &[])?
                .try_get(0)?)
        })
        .await
    }

    #[cfg(any(test, feature = "testing"))]
    async fn outbox_rows(&self) -> Result<Vec<crate::store::OutboxRow>, StoreError> {
        self.call(|conn| {
            conn.query(
                "SELECT id, kind, recipient, user_id, created_at, attempts, next_attempt_at,
                        last_error, failed_at
                 FROM outbox ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(crate::store::OutboxRow {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    recipient: r.try_get(2)?,
                    user_id: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    attempts: r.try_get(5)?,
                    next_attempt_at: r.try_get(6)?,
                    last_error: r.try_get(7)?,
                    failed_at: r.try_get(8)?,
                })
            })
            .collect()
        })
        .await
    }
}
