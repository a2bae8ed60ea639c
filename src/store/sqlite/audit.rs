//! The audit log: append-only security events (SECURITY.md L4).
//!
//! Events are written in the same transaction as the change they describe,
//! so the log never claims what did not happen nor misses what did.

use rusqlite::Transaction;
use serde_json::Value;

use async_trait::async_trait;

use super::Sqlite;
use crate::store::backend::Audit;
use crate::store::flows;
use crate::store::StoreError;

/// One security event. `detail` is small JSON and never holds a secret.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub at: i64,
    pub kind: &'static str,
    pub user_id: Option<String>,
    /// Who acted, when not the user themself (an admin, an API key).
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Value,
}

/// Appends `e` in the caller's transaction (`flows::audit`).
pub(super) fn insert(tx: &Transaction<'_>, e: &AuditEvent) -> Result<(), StoreError> {
    let mut tx = tx;
    flows::audit(&mut tx, e)
}

/// The tracing target of audit events. JSON logs write their `detail` as
/// an object (`crate::telemetry`), and every line carries the spans it
/// happened in, the request's `request_id` among them.
pub const AUDIT_TARGET: &str = "toktok::audit";

/// The tracing half of an audit event (both backends).
pub(crate) fn trace(e: &AuditEvent) {
    tracing::info!(
        target: AUDIT_TARGET,
        kind = e.kind,
        user_id = e.user_id.as_deref(),
        actor = e.actor.as_deref(),
        ip = e.ip.as_deref(),
        detail = %e.detail,
        "audit"
    );
}

#[async_trait]
impl Audit for Sqlite {
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
