//! Challenge rows (`sqlite/challenges.rs`).
//!
//! A step serialises on its challenge across instances: a step by
//! `(namespace, action, id)` first takes a transaction-scoped advisory lock on that pair
//! (which also covers a row that does not exist yet, so two creations of one
//! pair queue up), and every step reads its row `FOR UPDATE`. N concurrent
//! verifications of one token, through any instances, give one success (E2).

use crate::store::backend::{Challenges, DecideStep, Erased};
use async_trait::async_trait;
use postgres::Row;

use super::conn::{Sql, Tx};
use super::users::storable;
use super::{audit, count, json_column, lock, try_xact_lock, PgDb};
use crate::store::records::{ChallengeRow, Namespace, RowChange, RowKey};
use crate::store::StoreError;

const COLUMNS: &str =
    "namespace, action, id, uid, secret, secret_hash, metadata, created_at, verified_at, \
     ttl, expires_at, throttle, throttle_until, attempts";

const LIVE: &str = "(expires_at IS NULL OR expires_at > $2)";

fn row_from(r: &Row) -> Result<ChallengeRow, StoreError> {
    let namespace: String = r.try_get(0)?;
    Ok(ChallengeRow {
        namespace: Namespace::parse(&namespace).ok_or_else(|| {
            StoreError::Internal(format!("unknown challenge namespace {namespace:?}"))
        })?,
        action: r.try_get(1)?,
        id: r.try_get(2)?,
        uid: r.try_get(3)?,
        settings: json_column(r.try_get(4)?)?,
        secret_hash: r.try_get(5)?,
        metadata: json_column(r.try_get(6)?)?,
        created_at: r.try_get(7)?,
        verified_at: r.try_get(8)?,
        ttl: r.try_get(9)?,
        expires_at: r.try_get(10)?,
        throttle: r.try_get(11)?,
        throttle_until: r.try_get(12)?,
        attempts: r.try_get(13)?,
    })
}

fn live_row(
    conn: &mut impl Sql,
    key: &RowKey,
    now: i64,
    for_update: bool,
) -> Result<Option<ChallengeRow>, StoreError> {
    let storable = match key {
        RowKey::Pair { action, id, .. } => storable(action) && storable(id),
        RowKey::Uid { uid, .. } => storable(uid),
    };
    if !storable {
        return Ok(None);
    }
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let row = match key {
        RowKey::Pair {
            namespace,
            action,
            id,
        } => {
            let sql = format!(
                "SELECT {COLUMNS} FROM challenges
                 WHERE action = $1 AND id = $3 AND namespace = $4 AND {LIVE}{lock}"
            );
            conn.query_opt(&sql, &[action, &now, id, &namespace.as_str()])?
        }
        RowKey::Uid { namespace, uid } => {
            let sql = format!(
                "SELECT {COLUMNS} FROM challenges
                 WHERE uid = $1 AND namespace = $3 AND {LIVE}{lock}"
            );
            conn.query_opt(&sql, &[uid, &now, &namespace.as_str()])?
        }
    };
    row.map(|r| row_from(&r)).transpose()
}

/// Puts `row` in place of any row with its (namespace, action, id): one
/// upsert, so one round trip rather than a DELETE and an INSERT.
fn insert_row(tx: &mut Tx<'_>, row: &ChallengeRow) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO challenges ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (namespace, action, id) DO UPDATE SET uid = EXCLUDED.uid,
                 secret = EXCLUDED.secret, secret_hash = EXCLUDED.secret_hash,
                 metadata = EXCLUDED.metadata, created_at = EXCLUDED.created_at,
                 verified_at = EXCLUDED.verified_at, ttl = EXCLUDED.ttl,
                 expires_at = EXCLUDED.expires_at, throttle = EXCLUDED.throttle,
                 throttle_until = EXCLUDED.throttle_until, attempts = EXCLUDED.attempts"
        ),
        &[
            &row.namespace.as_str(),
            &row.action,
            &row.id,
            &row.uid,
            &row.settings.to_string(),
            &row.secret_hash,
            &row.metadata.to_string(),
            &row.created_at,
            &row.verified_at,
            &row.ttl,
            &row.expires_at,
            &row.throttle,
            &row.throttle_until,
            &row.attempts,
        ],
    )?;
    Ok(())
}

fn apply(
    tx: &mut Tx<'_>,
    read: Option<&ChallengeRow>,
    change: RowChange,
) -> Result<(), StoreError> {
    match (change, read) {
        (RowChange::Keep, _) => Ok(()),
        (RowChange::Replace(row), _) => insert_row(tx, &row),
        (RowChange::Delete, Some(read)) => {
            tx.execute(
                "DELETE FROM challenges WHERE action = $1 AND id = $2 AND namespace = $3",
                &[&read.action, &read.id, &read.namespace.as_str()],
            )?;
            Ok(())
        }
        (
            RowChange::Update {
                secret_hash,
                verified_at,
                attempts,
            },
            Some(read),
        ) => {
            tx.execute(
                "UPDATE challenges SET secret_hash = $3, verified_at = $4, attempts = $5
                 WHERE action = $1 AND id = $2 AND namespace = $6",
                &[
                    &read.action,
                    &read.id,
                    &secret_hash,
                    &verified_at,
                    &attempts,
                    &read.namespace.as_str(),
                ],
            )?;
            Ok(())
        }
        (RowChange::Delete | RowChange::Update { .. }, None) => Err(StoreError::Internal(
            "a challenge step changed a row it did not read".to_owned(),
        )),
    }
}

#[async_trait]
impl Challenges for PgDb {
    async fn challenge(&self, key: RowKey, now: i64) -> Result<Option<ChallengeRow>, StoreError> {
        self.call(move |conn| live_row(conn, &key, now, false))
            .await
    }

    /// One read-decide-write on the challenge found by `key`, in its own
    /// transaction (see the module docs for how it is serialised).
    async fn challenge_step(
        &self,
        key: RowKey,
        now: i64,
        decide: DecideStep,
    ) -> Result<Erased, StoreError> {
        self.write(move |tx| {
            // (A pair that cannot be stored has no row to guard, and
            // `live_row` finds none.)
            let guarded = match &key {
                RowKey::Pair {
                    namespace,
                    action,
                    id,
                } if storable(action) && storable(id) => Some((namespace.as_str(), action, id)),
                _ => None,
            };
            if let Some((namespace, action, id)) = guarded {
                tx.execute(
                    "SELECT pg_advisory_xact_lock(
                         hashtextextended($3 || chr(10) || $1 || chr(10) || $2, 0))",
                    &[action, id, &namespace],
                )?;
            }
            let read = live_row(tx, &key, now, true)?;
            let step = decide(read.as_ref());
            apply(tx, read.as_ref(), step.change)?;
            if let Some(event) = &step.audit {
                audit::insert(tx, event)?;
            }
            Ok(step.out)
        })
        .await
    }

    async fn sweep_challenges(&self, now: i64, batch: usize) -> Result<usize, StoreError> {
        let limit = i64::try_from(batch).unwrap_or(i64::MAX);
        self.write(move |tx| {
            if !try_xact_lock(tx, lock::SWEEP)? {
                return Ok(0);
            }
            // `expires_at <= $1` twice: the sub-select picks rows from the
            // statement's snapshot, and only a condition on the deleted row
            // itself is checked again when a row was locked by a writer that
            // then committed. Without it, a challenge created in place of
            // an expired one while the sweep waited was deleted.
            Ok(count(tx.execute(
                "DELETE FROM challenges WHERE (namespace, action, id) IN (
                     SELECT namespace, action, id FROM challenges
                     WHERE expires_at <= $1 LIMIT $2)
                   AND expires_at <= $1",
                &[&now, &limit],
            )?))
        })
        .await
    }
}
