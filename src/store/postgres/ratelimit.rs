//! The shared per-IP rate-limit buckets (`rate_limits`, PostgreSQL only;
//! the rules are in `crate::ratelimit`).

use super::conn::Sql as _;
use super::{count, lock, try_xact_lock, PgDb};
use crate::store::StoreError;

impl PgDb {
    /// Reads the bucket (`bucket`, `client`) locked, hands its `(units,
    /// updated_at)` (`None`: no row) to `decide`, and stores what it
    /// returns, all in one transaction: concurrent requests through any
    /// instance take tokens one after another.
    pub async fn rate_limit_take<T, F>(
        &self,
        bucket: &'static str,
        client: String,
        decide: F,
    ) -> Result<T, StoreError>
    where
        F: FnOnce(Option<(i64, i64)>) -> ((i64, i64), T) + Send + 'static,
        T: Send + 'static,
    {
        self.write(move |tx| {
            // A first request may race other instances' first requests: a
            // placeholder row (units -1: "never seen") is made if missing,
            // so there is always a row to lock and they queue on it.
            tx.execute(
                "INSERT INTO rate_limits (bucket, client, units, at) VALUES ($1, $2, -1, 0)
                 ON CONFLICT (bucket, client) DO NOTHING",
                &[&bucket, &client],
            )?;
            let row = tx.query_one(
                "SELECT units, at FROM rate_limits WHERE bucket = $1 AND client = $2
                 FOR UPDATE",
                &[&bucket, &client],
            )?;
            let (units, at): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            let ((units, at), out) = decide((units >= 0).then_some((units, at)));
            tx.execute(
                "UPDATE rate_limits SET units = $3, at = $4 WHERE bucket = $1 AND client = $2",
                &[&bucket, &client, &units, &at],
            )?;
            Ok(out)
        })
        .await
    }

    /// Deletes buckets that are full again by `now` (they behave as absent).
    pub async fn sweep_rate_limits(
        &self,
        now: i64,
        refill: i64,
        capacity: i64,
    ) -> Result<usize, StoreError> {
        self.write(move |tx| {
            if !try_xact_lock(tx, lock::SWEEP)? {
                return Ok(0);
            }
            Ok(count(tx.execute(
                "DELETE FROM rate_limits
                 WHERE units + GREATEST($1 - at, 0) * $2 >= $3",
                &[&now, &refill, &capacity],
            )?))
        })
        .await
    }
}
