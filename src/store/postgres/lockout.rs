//! Failed sign-in counters by account and by client, and known clients
//! (`sqlite/lockout.rs`).

use super::conn::Sql;
use super::{count, PgDb};
use crate::store::backend::{LockRuleBox, Lockout};
use crate::store::records::{LoginClient, MAX_KNOWN_CLIENTS};
use crate::store::StoreError;
use async_trait::async_trait;

fn failures(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl Lockout for PgDb {
    async fn take_login_attempt(
        &self,
        email_key: &str,
        client: Option<LoginClient>,
        now: i64,
        known_since: i64,
        locked: LockRuleBox,
    ) -> Result<Result<u32, u64>, StoreError> {
        let key = email_key.to_owned();
        self.write(move |tx| {
            // Find or make each row and lock it in one statement (a
            // placeholder with no failures if missing), so that first
            // attempts too queue on it, through any instance. The account's
            // row is always locked first: no two attempts wait on each
            // other in opposite orders.
            let row = tx.query_one(
                "INSERT INTO login_failures (email_key, failures, last_failed_at)
                 VALUES ($1, 0, $2)
                 ON CONFLICT (email_key) DO UPDATE SET failures = login_failures.failures
                 RETURNING failures, last_failed_at",
                &[&key, &now],
            )?;
            let account = (failures(row.try_get(0)?), row.try_get::<_, i64>(1)?);
            if let Some(client) = &client {
                let row = tx.query_one(
                    "INSERT INTO login_failures_by_client (email_key, client, failures, last_failed_at)
                     VALUES ($1, $2, 0, $3)
                     ON CONFLICT (email_key, client)
                        DO UPDATE SET failures = login_failures_by_client.failures
                     RETURNING failures, last_failed_at",
                    &[&key, &client.key, &now],
                )?;
                if let Some(wait) = locked(failures(row.try_get(0)?), row.try_get(1)?) {
                    return Ok(Err(wait));
                }
            }
            if let Some(wait) = locked(account.0, account.1) {
                let known = match &client {
                    Some(client) => tx
                        .query_opt(
                            "SELECT 1 FROM sign_in_clients
                             WHERE client_hash = $1 AND last_seen_at >= $2",
                            &[&client.hash, &known_since],
                        )?
                        .is_some(),
                    None => false,
                };
                if !known {
                    return Ok(Err(wait));
                }
            }
            // The time never goes back: an instance whose clock is behind
            // must not shorten a lockout another one started.
            let n: i64 = tx
                .query_one(
                    "UPDATE login_failures SET failures = failures + 1,
                        last_failed_at = GREATEST(last_failed_at, $2)
                     WHERE email_key = $1
                     RETURNING failures",
                    &[&key, &now],
                )?
                .try_get(0)?;
            if let Some(client) = &client {
                tx.execute(
                    "UPDATE login_failures_by_client SET failures = failures + 1,
                        last_failed_at = GREATEST(last_failed_at, $3)
                     WHERE email_key = $1 AND client = $2",
                    &[&key, &client.key, &now],
                )?;
            }
            Ok(Ok(failures(n)))
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
        let key = email_key.to_owned();
        let user_id = user_id.map(str::to_owned);
        self.write(move |tx| {
            tx.execute("DELETE FROM login_failures WHERE email_key = $1", &[&key])?;
            let Some(client) = client else {
                return Ok(());
            };
            tx.execute(
                "DELETE FROM login_failures_by_client WHERE email_key = $1 AND client = $2",
                &[&key, &client.key],
            )?;
            if let Some(user_id) = user_id {
                tx.execute(
                    "INSERT INTO sign_in_clients (client_hash, user_id, last_seen_at)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (client_hash) DO UPDATE
                        SET user_id = $2,
                            last_seen_at = GREATEST(sign_in_clients.last_seen_at, $3)",
                    &[&client.hash, &user_id, &now],
                )?;
                tx.execute(
                    "DELETE FROM sign_in_clients WHERE user_id = $1 AND client_hash NOT IN
                         (SELECT client_hash FROM sign_in_clients WHERE user_id = $1
                          ORDER BY last_seen_at DESC, client_hash LIMIT $2)",
                    &[&user_id, &MAX_KNOWN_CLIENTS],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn sweep_lockout(&self, idle_before: i64, known_since: i64) -> Result<usize, StoreError> {
        self.write(move |tx| {
            let a = tx.execute(
                "DELETE FROM login_failures_by_client WHERE last_failed_at < $1",
                &[&idle_before],
            )?;
            let b = tx.execute(
                "DELETE FROM sign_in_clients WHERE last_seen_at < $1",
                &[&known_since],
            )?;
            Ok(count(a) + count(b))
        })
        .await
    }
}
