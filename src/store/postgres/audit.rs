//! The audit log (`sqlite/audit.rs`).

#[cfg(any(test, feature = "testing"))]
use super::conn::Sql;
use super::conn::Tx;
use super::PgDb;
use crate::store::backend::Audit;
use crate::store::flows;
use crate::store::{AuditEvent, StoreError};
use async_trait::async_trait;

/// Appends `e` in the caller's transaction (`flows::audit`).
pub(super) fn insert(tx: &mut Tx<'_>, e: &AuditEvent) -> Result<(), StoreError> {
    flows::audit(tx, e)
}

#[async_trait]
impl Audit for PgDb {
    #[cfg(any(test, feature = "testing"))]
    async fn audit_kinds(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let user_id = user_id.to_owned();
        self.call(move |conn| {
            conn.query(
                "SELECT kind FROM audit_events WHERE user_id = $1 ORDER BY id",
                &[&user_id],
            )?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
        })
        .await
    }
}
