//! Admin reads and changes (`sqlite/admin.rs`).

use super::conn::Sql as _;
use super::users::{storable, user_from_row, USER_COLUMNS};
use super::{count, json_column, lock, try_xact_lock, PgDb};
use crate::store::backend::Admin;
use crate::store::{AuditRow, StoreError, UserRecord};
use async_trait::async_trait;

#[async_trait]
impl Admin for PgDb {
    async fn list_users(
        &self,
        email_key: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        if !email_key.iter().chain(&after).all(|k| storable(k)) {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users
                 WHERE ($1::text IS NULL OR email_key = $1) AND ($2::text IS NULL OR id > $2)
                 ORDER BY id LIMIT $3"
            );
            conn.query(&sql, &[&email_key, &after, &limit])?
                .iter()
                .map(user_from_row)
                .collect()
        })
        .await
    }

    async fn audit_page(
        &self,
        user_id: Option<String>,
        kind: Option<String>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRow>, StoreError> {
        if !user_id.iter().chain(&kind).all(|k| storable(k)) {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(move |conn| {
            conn.query(
                "SELECT id, at, kind, user_id, actor, ip, user_agent, detail
                 FROM audit_events
                 WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR kind = $2)
                    AND ($3::bigint IS NULL OR id < $3)
                 ORDER BY id DESC LIMIT $4",
                &[&user_id, &kind, &before, &limit],
            )?
            .iter()
            .map(|r| {
                Ok(AuditRow {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    user_id: r.try_get(3)?,
                    actor: r.try_get(4)?,
                    ip: r.try_get(5)?,
                    user_agent: r.try_get(6)?,
                    detail: json_column(r.try_get(7)?)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn sweep_audit(&self, cutoff: i64, batch: usize) -> Result<usize, StoreError> {
        let batch = i64::try_from(batch).unwrap_or(i64::MAX);
        self.write(move |tx| {
            if !try_xact_lock(tx, lock::SWEEP)? {
                return Ok(0);
            }
            let n = tx.execute(
                "DELETE FROM audit_events WHERE id IN
                    (SELECT id FROM audit_events WHERE at < $1 ORDER BY id LIMIT $2)",
                &[&cutoff, &batch],
            )?;
            Ok(count(n))
        })
        .await
    }
}
