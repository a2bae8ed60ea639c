//! What the admin console reads and changes beyond the admin API: the
//! mail outbox as operators see it (pending and failed rows) and the retry
//! of a failed message. Written once for both backends over [`Tx`].

use super::flows::{audit, Arg, Cell};
use super::{AuditEvent, OutboxRow, Store, StoreError};

use Arg::{Int, Text};

fn outbox_row(r: &[Cell]) -> Result<OutboxRow, StoreError> {
    let at = |i: usize| {
        r.get(i)
            .ok_or_else(|| StoreError::Internal("an outbox row is short".to_owned()))
    };
    Ok(OutboxRow {
        id: at(0)?.text()?,
        kind: at(1)?.text()?,
        recipient: at(2)?.text()?,
        user_id: at(3)?.opt_text()?,
        created_at: at(4)?.int()?,
        attempts: at(5)?.int()?,
        next_attempt_at: at(6)?.int()?,
        last_error: at(7)?.opt_text()?,
        failed_at: at(8)?.opt_int()?,
    })
}

impl Store {
    /// Up to `limit` outbox rows, queued (`failed` false: earliest due
    /// first) or given up (`failed` true: latest failure first).
    pub async fn outbox_list(
        &self,
        failed: bool,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |tx| {
            let sql = if failed {
                "SELECT id, kind, recipient, user_id, created_at, attempts, next_attempt_at,
                        last_error, failed_at
                   FROM outbox WHERE failed_at IS NOT NULL
                  ORDER BY failed_at DESC, id LIMIT ?1"
            } else {
                "SELECT id, kind, recipient, user_id, created_at, attempts, next_attempt_at,
                        last_error, failed_at
                   FROM outbox WHERE failed_at IS NULL
                  ORDER BY next_attempt_at, id LIMIT ?1"
            };
            tx.query(sql, &[Int(limit)])?
                .iter()
                .map(|r| outbox_row(r))
                .collect()
        })
        .await
    }

    /// Puts failed message `id` back in the queue, due at `now`, with a
    /// fresh delivery window (its `created_at` becomes `now`, which the
    /// worker's give-up deadline counts from); `event` is written with it.
    /// False when no failed row has this id (sent, swept, or not failed).
    pub async fn retry_mail(
        &self,
        id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE outbox SET failed_at = NULL, next_attempt_at = ?2, created_at = ?2
                  WHERE id = ?1 AND failed_at IS NOT NULL",
                &[Text(&id), Int(now)],
            )?;
            if n == 1 {
                audit(tx, &event)?;
            }
            Ok(n == 1)
        })
        .await
    }
}
