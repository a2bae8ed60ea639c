//! The mail outbox: messages waiting to be sent (table `outbox`).
//!
//! A flow that sends mail queues it (`flows::enqueue`) inside the
//! transaction of the change the mail reports, so the mail exists exactly
//! when the change does.
//! The worker (`crate::mail::outbox`) then claims due rows, and after each
//! attempt deletes the row (sent), pushes it back (transient failure) or
//! marks it failed (given up, audited as `mail.failed`). Failed rows stay a
//! week for inspection, then [`Store::sweep_failed_mail`] deletes them.
//!
//! Claiming is a lease: the claimed rows' `next_attempt_at` moves to the
//! lease's end in the claiming transaction, so two workers (or a worker and
//! a test calling `deliver_due`) never take the same row, and a row whose
//! worker died mid-send comes due again when the lease runs out. No row
//! holds a secret: links are minted at send time, and `last_error` carries
//! transport errors only, which never include the message body.

use crate::store::records::{parse_mail, QueuedMail};
use rusqlite::{params, Row};

use async_trait::async_trait;

use super::Sqlite;
use crate::store::backend::Outbox;
use crate::store::StoreError;

fn queued_from_row(row: &Row<'_>) -> rusqlite::Result<QueuedMail> {
    let kind: String = row.get(1)?;
    let recipient: String = row.get(2)?;
    let user_id: Option<String> = row.get(3)?;
    let link: Option<String> = row.get(4)?;
    let vars: String = row.get(5)?;
    let mail = parse_mail(&kind, recipient, user_id.clone(), link, &vars);
    Ok(QueuedMail {
        id: row.get(0)?,
        created_at: row.get(6)?,
        attempts: row.get(7)?,
        user_id,
        kind,
        mail,
        last_error: row.get(8)?,
    })
}

#[async_trait]
impl Outbox for Sqlite {
    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let db = &self.db;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        db.write(move |tx| {
            let claimed = {
                let mut stmt = tx.prepare(
                    "SELECT id, kind, recipient, user_id, link, vars, created_at, attempts,
                                last_error
                         FROM outbox
                         WHERE failed_at IS NULL AND next_attempt_at <= ?1
                         ORDER BY next_attempt_at, id
                         LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now, limit], queued_from_row)?;
                rows.collect::<Result<Vec<_>, _>>()?
            };
            let mut lease = tx.prepare("UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1")?;
            for mail in &claimed {
                lease.execute(params![mail.id, lease_until])?;
            }
            Ok(claimed)
        })
        .await
    }

    async fn release_mail(&self, ids: Vec<String>, now: i64) -> Result<(), StoreError> {
        let db = &self.db;
        if ids.is_empty() {
            return Ok(());
        }
        db.write(move |tx| {
            let mut stmt = tx.prepare(
                "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND failed_at IS NULL",
            )?;
            for id in &ids {
                stmt.execute(params![id, now])?;
            }
            Ok(())
        })
        .await
    }

    async fn mail_sent(&self, id: String) -> Result<(), StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    async fn mail_queued(&self, id: String) -> Result<bool, StoreError> {
        let db = &self.db;
        db.call(move |conn| {
            let n: i64 =
                conn.query_row("SELECT count(*) FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            Ok(n > 0)
        })
        .await
    }

    async fn sweep_failed_mail(&self, failed_before: i64) -> Result<usize, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            Ok(tx.execute(
                "DELETE FROM outbox WHERE failed_at IS NOT NULL AND failed_at < ?1",
                [failed_before],
            )?)
        })
        .await
    }

    async fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        let db = &self.db;
        db.call(|conn| {
            Ok(conn.query_row(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE failed_at IS NULL",
                [],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        self.db
            .call(|conn| {
                Ok(conn.query_row(
                    "SELECT count(*) FROM outbox WHERE failed_at IS NULL",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .await
    }

    #[cfg(any(test, feature = "testing"))]
    async fn outbox_rows(&self) -> Result<Vec<crate::store::OutboxRow>, StoreError> {
        let db = &self.db;
        db.call(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, kind, recipient, user_id, created_at, attempts, next_attempt_at,
                            last_error, failed_at
                     FROM outbox ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(crate::store::OutboxRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    recipient: r.get(2)?,
                    user_id: r.get(3)?,
                    created_at: r.get(4)?,
                    attempts: r.get(5)?,
                    next_attempt_at: r.get(6)?,
                    last_error: r.get(7)?,
                    failed_at: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::mail::{LinkPath, ACTION_RESET};
    use crate::domain::mail::{LinkSpec, MailKind, OutgoingMail};
    use crate::store::records::MAX_ERROR_CHARS;
    use crate::store::Db;
    use crate::store::Store;
    use serde_json::json;
    use serde_json::Value;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        (dir, Store::new(db))
    }

    fn reset_mail(to: &str) -> OutgoingMail {
        OutgoingMail {
            kind: MailKind::ResetPassword,
            to: to.to_owned(),
            user_id: None,
            link: Some(LinkSpec {
                action: ACTION_RESET.to_owned(),
                id: "user-1".to_owned(),
                path: LinkPath::ResetPassword,
                metadata: json!({"k": 1}),
            }),
            vars: json!({}),
            // Kept in the row's vars: the round trip below holds it.
            locale: Some(crate::domain::locale::Locale::Fr),
        }
    }

    #[tokio::test]
    async fn enqueue_claim_round_trips_and_leases() {
        let (_dir, store) = store();
        store
            .enqueue_mail(reset_mail("a@x.test"), 100)
            .await
            .unwrap();
        store
            .enqueue_mail(reset_mail("b@x.test"), 100)
            .await
            .unwrap();
        assert!(store.claim_mail(99, 400, 10).await.unwrap().is_empty());
        let claimed = store.claim_mail(100, 400, 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert_eq!(claimed[0].mail.as_ref().unwrap(), &reset_mail("a@x.test"));
        assert_eq!(claimed[1].mail.as_ref().unwrap().to, "b@x.test");
        assert_eq!(claimed[0].attempts, 0);
        // Leased: nobody else gets them until the lease ends.
        assert!(store.claim_mail(399, 700, 10).await.unwrap().is_empty());
        assert_eq!(store.claim_mail(400, 700, 1).await.unwrap().len(), 1);
        assert_eq!(store.next_mail_due().await.unwrap(), Some(400));
    }

    #[tokio::test]
    async fn sent_reschedule_give_up_and_sweep() {
        let (_dir, store) = store();
        for to in ["a@x.test", "b@x.test", "c@x.test"] {
            store.enqueue_mail(reset_mail(to), 10).await.unwrap();
        }
        let claimed = store.claim_mail(10, 100, 10).await.unwrap();
        store.mail_sent(claimed[0].id.clone()).await.unwrap();
        store
            .reschedule_mail(claimed[1].id.clone(), 15, "451 try later".into())
            .await
            .unwrap();
        let attempts = store
            .give_up_mail(claimed[2].clone(), 11, true, "550 no such user".into())
            .await
            .unwrap();
        assert_eq!(attempts, 1);

        let rows = store.outbox_rows().await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].recipient, "b@x.test");
        assert_eq!((rows[0].attempts, rows[0].next_attempt_at), (1, 15));
        assert_eq!(rows[0].last_error.as_deref(), Some("451 try later"));
        assert_eq!(rows[1].failed_at, Some(11));
        // A failed row is never claimed again.
        let again = store.claim_mail(1000, 2000, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1);
        assert_eq!(again[0].last_error.as_deref(), Some("451 try later"));

        let kinds: Vec<(String, String)> = store
            .db()
            .call(|c| {
                let mut s = c.prepare("SELECT kind, detail FROM audit_events")?;
                let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(kinds.len(), 1);
        assert_eq!(kinds[0].0, "mail.failed");
        let detail: Value = serde_json::from_str(&kinds[0].1).unwrap();
        assert_eq!(
            detail,
            json!({"kind": "reset_password", "attempts": 1, "error": "550 no such user"})
        );

        assert_eq!(store.sweep_failed_mail(11).await.unwrap(), 0);
        assert_eq!(store.sweep_failed_mail(12).await.unwrap(), 1);
        assert_eq!(store.outbox_rows().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn release_hands_rows_back_and_errors_are_clipped() {
        let (_dir, store) = store();
        store
            .enqueue_mail(reset_mail("a@x.test"), 10)
            .await
            .unwrap();
        let claimed = store.claim_mail(10, 500, 10).await.unwrap();
        store
            .release_mail(vec![claimed[0].id.clone()], 20)
            .await
            .unwrap();
        let again = store.claim_mail(20, 500, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        store
            .reschedule_mail(again[0].id.clone(), 30, "e".repeat(5000))
            .await
            .unwrap();
        let rows = store.outbox_rows().await.unwrap();
        assert_eq!(rows[0].last_error.as_ref().unwrap().len(), MAX_ERROR_CHARS);
    }

    #[tokio::test]
    async fn queued_mail_goes_with_its_user() {
        let (_dir, store) = store();
        store
            .db()
            .write(|tx| {
                tx.execute(
                    "INSERT INTO users (id, email, email_key, created_at, updated_at)
                     VALUES ('u1', 'a@x.test', 'a@x.test', 1, 1)",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let mut mail = reset_mail("a@x.test");
        mail.user_id = Some("u1".to_owned());
        store.enqueue_mail(mail, 1).await.unwrap();
        store.enqueue_mail(reset_mail("b@x.test"), 1).await.unwrap();
        store
            .db()
            .write(|tx| {
                tx.execute("DELETE FROM users WHERE id = 'u1'", [])?;
                Ok(())
            })
            .await
            .unwrap();
        let rows = store.outbox_rows().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].recipient, "b@x.test");
    }

    #[tokio::test]
    async fn a_damaged_row_is_claimed_with_its_reason() {
        let (_dir, store) = store();
        store
            .db()
            .write(|tx| {
                tx.execute(
                    "INSERT INTO outbox (id, kind, recipient, created_at, next_attempt_at)
                     VALUES ('x', 'fax_message', 'a@x.test', 1, 1)",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let claimed = store.claim_mail(1, 2, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert!(claimed[0]
            .mail
            .as_ref()
            .unwrap_err()
            .contains("fax_message"));
        assert_eq!(claimed[0].kind, "fax_message");
    }
}
