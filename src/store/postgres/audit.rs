//! The audit log (`super::super::audit`).

use super::conn::{Sql, Tx};
use super::PgDb;
use crate::store::backend::Audit;
use crate::store::{AuditEvent, StoreError};
use async_trait::async_trait;

pub(super) fn insert(tx: &mut Tx<'_>, e: &AuditEvent) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit_events (at, kind, user_id, actor, ip, user_agent, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &e.at,
            &e.kind,
            &e.user_id,
            &e.actor,
            &e.ip,
            &e.user_agent,
            &e.detail.to_string(),
        ],
    )?;
    crate::store::sqlite::audit::trace(e);
    Ok(())
}

#[async_trait]
impl Audit for PgDb {
    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.write(move |tx| insert(tx, &event)).await
    }

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
