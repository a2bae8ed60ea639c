//! Users brought in by an import (docs/import.md), written once for both
//! backends over [`Tx`].
//!
//! An import arrives in batches; each batch is one transaction with its
//! `users.imported` audit event, so a batch is either all in or not at all
//! and a user is never half written. Each user is inserted only if its
//! address (and its id, when the file gives one) is free, so running the
//! same file again, after a crash or an interruption, adds only what is
//! missing.

use super::flows::{audit, insert_user_row, Arg, Tx};
use super::{AuditEvent, Store, StoreError, UserRecord};

use Arg::Text;

/// One user to import, with its uniqueness key (the lower-cased address).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub user: UserRecord,
    pub email_key: String,
}

/// What became of one [`ImportRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Inserted (or, in a dry run, would be).
    Created,
    /// An account with this address exists; nothing written.
    Exists,
    /// Another account has the id the file asked for; nothing written.
    IdTaken,
}

impl Store {
    /// Inserts each row whose address and id are free, and `event` (its
    /// detail gains `"created"`: how many were), in one transaction.
    /// Outcomes are in the rows' order.
    pub async fn import_users(
        &self,
        rows: Vec<ImportRow>,
        event: AuditEvent,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        self.write(move |tx| import(tx, &rows, event)).await
    }

    /// What [`Store::import_users`] would answer, without writing.
    pub async fn import_dry_run(
        &self,
        rows: Vec<ImportRow>,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        self.read(move |tx| {
            rows.iter()
                .map(|row| match taken(tx, row)? {
                    Some(outcome) => Ok(outcome),
                    None => Ok(ImportOutcome::Created),
                })
                .collect()
        })
        .await
    }
}

fn import(
    tx: &mut dyn Tx,
    rows: &[ImportRow],
    mut event: AuditEvent,
) -> Result<Vec<ImportOutcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut created = 0u64;
    for row in rows {
        let inserted = insert_user_row(tx, &row.user, &row.email_key, " ON CONFLICT DO NOTHING")?;
        if inserted == 1 {
            created += 1;
            outcomes.push(ImportOutcome::Created);
        } else {
            outcomes.push(taken(tx, row)?.unwrap_or(ImportOutcome::IdTaken));
        }
    }
    if let Some(detail) = event.detail.as_object_mut() {
        detail.insert("created".to_owned(), created.into());
    }
    audit(tx, &event)?;
    Ok(outcomes)
}

/// Why `row` cannot be inserted, if it cannot.
fn taken(tx: &mut dyn Tx, row: &ImportRow) -> Result<Option<ImportOutcome>, StoreError> {
    let by_address = tx.query(
        "SELECT 1 FROM users WHERE email_key = ?1",
        &[Text(&row.email_key)],
    )?;
    if !by_address.is_empty() {
        return Ok(Some(ImportOutcome::Exists));
    }
    let by_id = tx.query("SELECT 1 FROM users WHERE id = ?1", &[Text(&row.user.id)])?;
    Ok((!by_id.is_empty()).then_some(ImportOutcome::IdTaken))
}
