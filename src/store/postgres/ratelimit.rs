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
            // One statement finds or makes the row and locks it: a
            // placeholder (units -1: "never seen") if missing, so first
            // requests racing through several instances queue on one row.
            // Not an INSERT … DO NOTHING and then a SELECT … FOR UPDATE: a
            // sweep could delete the row between the two (no row, an error).
            let row = tx.query_one(
                "INSERT INTO rate_limits (bucket, client, units, at) VALUES ($1, $2, -1, 0)
                 ON CONFLICT (bucket, client) DO UPDATE SET units = rate_limits.units
                 RETURNING units, at",
                &[&bucket, &client],
            )?;
            let (units, at): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            let ((units, at), out) = decide((units >= 0).then_some((units, at)));
            tx.execute(
                // `at` never goes back: an instance whose clock is behind
                // would otherwise hand the next one, ahead, a refill for
                // the difference (the skew, again and again).
                "UPDATE rate_limits SET units = $3, at = GREATEST(at, $4)
                 WHERE bucket = $1 AND client = $2",
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
