//! Failed sign-in counters by account and by (account, client), and the
//! clients an account signed in from before (docs/SECURITY.md L3, TT-09).
//!
//! The rules (who waits how long) live in `crate::accounts`; this module
//! only counts, under one transaction per attempt so concurrent guesses,
//! through any instance, each see the ones before them. The per-account
//! count is `login_failures`; the per-client one `login_failures_by_client`;
//! the known clients `sign_in_clients`, keyed by an HMAC of (email key,
//! client) so the table does not list where users come from.

use crate::store::records::{LoginClient, MAX_KNOWN_CLIENTS};
use rusqlite::{params, OptionalExtension as _, Transaction};

use async_trait::async_trait;

use super::Sqlite;
use crate::store::backend::{LockRuleBox, Lockout};
use crate::store::StoreError;

fn counted(
    tx: &Transaction<'_>,
    sql: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<Option<(u32, i64)>> {
    tx.query_row(sql, p, |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

#[async_trait]
impl Lockout for Sqlite {
    async fn take_login_attempt(
        &self,
        email_key: &str,
        client: Option<LoginClient>,
        now: i64,
        known_since: i64,
        locked: LockRuleBox,
    ) -> Result<Result<u32, u64>, StoreError> {
        let db = &self.db;
        let key = email_key.to_owned();
        db.write(move |tx| {
            let account = counted(
                tx,
                "SELECT failures, last_failed_at FROM login_failures WHERE email_key = ?1",
                [&key],
            )?;
            if let Some(client) = &client {
                let pair = counted(
                    tx,
                    "SELECT failures, last_failed_at FROM login_failures_by_client
                     WHERE email_key = ?1 AND client = ?2",
                    [&key, &client.key],
                )?;
                if let Some(wait) = pair.and_then(|(f, last)| locked(f, last)) {
                    return Ok(Err(wait));
                }
            }
            if let Some(wait) = account.and_then(|(f, last)| locked(f, last)) {
                let known = match &client {
                    Some(client) => tx
                        .query_row(
                            "SELECT 1 FROM sign_in_clients
                             WHERE client_hash = ?1 AND last_seen_at >= ?2",
                            params![client.hash, known_since],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_some(),
                    None => false,
                };
                if !known {
                    return Ok(Err(wait));
                }
            }
            let failures = tx.query_row(
                "INSERT INTO login_failures (email_key, failures, last_failed_at)
                     VALUES (?1, 1, ?2)
                     ON CONFLICT (email_key) DO UPDATE
                        SET failures = failures + 1, last_failed_at = max(last_failed_at, ?2)
                     RETURNING failures",
                params![key, now],
                |r| r.get(0),
            )?;
            if let Some(client) = &client {
                tx.execute(
                    "INSERT INTO login_failures_by_client (email_key, client, failures, last_failed_at)
                         VALUES (?1, ?2, 1, ?3)
                         ON CONFLICT (email_key, client) DO UPDATE
                            SET failures = failures + 1, last_failed_at = max(last_failed_at, ?3)",
                    params![key, client.key, now],
                )?;
            }
            Ok(Ok(failures))
        })
        .await
    }

    async fn login_succeeded(
        &self,
        email_key: &str,
        client: Option<LoginClient>,
        user_id: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let db = &self.db;
        let key = email_key.to_owned();
        let user_id = user_id.map(str::to_owned);
        db.write(move |tx| {
            tx.execute("DELETE FROM login_failures WHERE email_key = ?1", [&key])?;
            let Some(client) = client else {
                return Ok(());
            };
            tx.execute(
                "DELETE FROM login_failures_by_client WHERE email_key = ?1 AND client = ?2",
                [&key, &client.key],
            )?;
            if let Some(user_id) = user_id {
                tx.execute(
                    "INSERT INTO sign_in_clients (client_hash, user_id, last_seen_at)
                         VALUES (?1, ?2, ?3)
                         ON CONFLICT (client_hash) DO UPDATE
                            SET user_id = ?2, last_seen_at = max(last_seen_at, ?3)",
                    params![client.hash, user_id, now],
                )?;
                tx.execute(
                    "DELETE FROM sign_in_clients WHERE user_id = ?1 AND client_hash NOT IN
                         (SELECT client_hash FROM sign_in_clients WHERE user_id = ?1
                          ORDER BY last_seen_at DESC, client_hash LIMIT ?2)",
                    params![user_id, MAX_KNOWN_CLIENTS],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn sweep_lockout(&self, idle_before: i64, known_since: i64) -> Result<usize, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            let a = tx.execute(
                "DELETE FROM login_failures_by_client WHERE last_failed_at < ?1",
                [idle_before],
            )?;
            let b = tx.execute(
                "DELETE FROM sign_in_clients WHERE last_seen_at < ?1",
                [known_since],
            )?;
            Ok(a + b)
        })
        .await
    }
}
