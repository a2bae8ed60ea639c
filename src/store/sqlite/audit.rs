//! The audit log: append-only security events (docs/SECURITY.md L4).
//!
//! Events are written in the same transaction as the change they describe,
//! so the log never claims what did not happen nor misses what did.

use crate::store::records::AuditEvent;
use rusqlite::Transaction;

use async_trait::async_trait;

use super::Sqlite;
use crate::store::backend::Audit;
use crate::store::flows;
use crate::store::StoreError;

/// Appends `e` in the caller's transaction (`flows::audit`).
pub(super) fn insert(tx: &Transaction<'_>, e: &AuditEvent) -> Result<(), StoreError> {
    let mut tx = tx;
    flows::audit(&mut tx, e)
}

#[async_trait]
impl Audit for Sqlite {
    #[cfg(any(test, feature = "testing"))]
    async fn audit_kinds(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let db = &self.db;
        let user_id = user_id.to_owned();
        db.call(move |conn| {
            let mut stmt =
                conn.prepare("SELECT kind FROM audit_events WHERE user_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([user_id], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
    }
}
