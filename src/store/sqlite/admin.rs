//! What the admin API reads and changes: user listing, admin edits, forced
//! sign-out, deletion with everything that hangs off a user, and the audit
//! log's query and retention.
//!
//! Lists are keyset-paginated (by user id, a UUIDv7, and by audit row id),
//! so a page boundary never shifts when rows are inserted between fetches.

use crate::store::records::AuditRow;
use rusqlite::params;

use super::users::get_user;
use async_trait::async_trait;

use super::{json_column, Sqlite};
use crate::store::backend::Admin;
use crate::store::{StoreError, UserRecord};

#[async_trait]
impl Admin for Sqlite {
    async fn list_users(
        &self,
        email_key: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let db = &self.db;
        db.call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id FROM users
                     WHERE (?1 IS NULL OR email_key = ?1) AND (?2 IS NULL OR id > ?2)
                     ORDER BY id LIMIT ?3",
            )?;
            let ids = stmt
                .query_map(params![email_key, after, limit as i64], |r| {
                    r.get::<_, String>(0)
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut users = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(user) = get_user(conn, &id)? {
                    users.push(user);
                }
            }
            Ok(users)
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
        let db = &self.db;
        db.call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, at, kind, user_id, actor, ip, user_agent, detail
                     FROM audit_events
                     WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR kind = ?2)
                        AND (?3 IS NULL OR id < ?3)
                     ORDER BY id DESC LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![user_id, kind, before, limit as i64], |r| {
                Ok(AuditRow {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    user_id: r.get(3)?,
                    actor: r.get(4)?,
                    ip: r.get(5)?,
                    user_agent: r.get(6)?,
                    detail: json_column(r.get(7)?)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn sweep_audit(&self, cutoff: i64, batch: usize) -> Result<usize, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            let n = tx.execute(
                "DELETE FROM audit_events WHERE id IN
                        (SELECT id FROM audit_events WHERE at < ?1 ORDER BY id LIMIT ?2)",
                params![cutoff, batch as i64],
            )?;
            Ok(n)
        })
        .await
    }
}
