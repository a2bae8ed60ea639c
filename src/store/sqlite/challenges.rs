//! Challenge tokens (`crate::challenge`) and the keys of their AEAD.
//!
//! The rules live in the engine; this module only reads and writes rows. Any
//! read-decide-write sequence runs as one `Step` (`crate::challenge::row`)
//! inside `BEGIN IMMEDIATE`, so concurrent verifications of one challenge are
//! serialised by SQLite's write lock and exactly one of them can consume it
//! (docs/SECURITY.md E2). An expired row (`expires_at <= now`) is never returned,
//! whether or not the sweeper has deleted it yet (E3). Every query names
//! the row's namespace (`crate::challenge::Namespace`): a lookup in one
//! never finds a row of the other (TT-01).

use rusqlite::{named_params, params, Connection, OptionalExtension as _, Row, Transaction};

use async_trait::async_trait;

use super::{audit, json_column, Sqlite};
use crate::store::backend::{ChallengeKeys, Challenges, DecideStep, Erased};
use crate::store::records::{ChallengeRow, Namespace, RowChange, RowKey, Step};
use crate::store::StoreError;

const COLUMNS: &str =
    "namespace, action, id, uid, secret, secret_hash, metadata, created_at, verified_at, \
     ttl, expires_at, throttle, throttle_until, attempts";

/// Live rows only: an expired challenge is absent.
const LIVE: &str = "(expires_at IS NULL OR expires_at > :now)";

fn row_from(r: &Row<'_>) -> rusqlite::Result<ChallengeRow> {
    let namespace: String = r.get(0)?;
    Ok(ChallengeRow {
        namespace: Namespace::parse(&namespace).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown challenge namespace {namespace:?}").into(),
            )
        })?,
        action: r.get(1)?,
        id: r.get(2)?,
        uid: r.get(3)?,
        settings: json_column(r.get(4)?)?,
        secret_hash: r.get(5)?,
        metadata: json_column(r.get(6)?)?,
        created_at: r.get(7)?,
        verified_at: r.get(8)?,
        ttl: r.get(9)?,
        expires_at: r.get(10)?,
        throttle: r.get(11)?,
        throttle_until: r.get(12)?,
        attempts: r.get(13)?,
    })
}

fn live_row(conn: &Connection, key: &RowKey, now: i64) -> Result<Option<ChallengeRow>, StoreError> {
    let row = match key {
        RowKey::Pair {
            namespace,
            action,
            id,
        } => {
            let sql = format!(
                "SELECT {COLUMNS} FROM challenges
                 WHERE namespace = :ns AND action = :action AND id = :id AND {LIVE}"
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    named_params! {
                        ":ns": namespace.as_str(), ":action": action, ":id": id, ":now": now
                    },
                    row_from,
                )
                .optional()?
        }
        RowKey::Uid { namespace, uid } => {
            let sql = format!(
                "SELECT {COLUMNS} FROM challenges WHERE uid = :uid AND namespace = :ns AND {LIVE}"
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    named_params! { ":uid": uid, ":ns": namespace.as_str(), ":now": now },
                    row_from,
                )
                .optional()?
        }
    };
    Ok(row)
}

fn insert_row(tx: &Connection, row: &ChallengeRow) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM challenges WHERE namespace = ?1 AND action = ?2 AND id = ?3")?
        .execute(params![row.namespace.as_str(), row.action, row.id])?;
    tx.prepare_cached(&format!(
        "INSERT INTO challenges ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))?
    .execute(params![
        row.namespace.as_str(),
        row.action,
        row.id,
        row.uid,
        row.settings.to_string(),
        row.secret_hash,
        row.metadata.to_string(),
        row.created_at,
        row.verified_at,
        row.ttl,
        row.expires_at,
        row.throttle,
        row.throttle_until,
        row.attempts,
    ])?;
    Ok(())
}

fn apply(
    tx: &Connection,
    read: Option<&ChallengeRow>,
    change: RowChange,
) -> Result<(), StoreError> {
    match (change, read) {
        (RowChange::Keep, _) => Ok(()),
        (RowChange::Replace(row), _) => insert_row(tx, &row),
        (RowChange::Delete, Some(read)) => {
            tx.prepare_cached(
                "DELETE FROM challenges WHERE namespace = ?1 AND action = ?2 AND id = ?3",
            )?
            .execute(params![read.namespace.as_str(), read.action, read.id])?;
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
            tx.prepare_cached(
                "UPDATE challenges SET secret_hash = ?3, verified_at = ?4, attempts = ?5
                 WHERE action = ?1 AND id = ?2 AND namespace = ?6",
            )?
            .execute(params![
                read.action,
                read.id,
                secret_hash,
                verified_at,
                attempts,
                read.namespace.as_str()
            ])?;
            Ok(())
        }
        (RowChange::Delete | RowChange::Update { .. }, None) => Err(StoreError::Internal(
            "a challenge step changed a row it did not read".to_owned(),
        )),
    }
}

/// One read-decide-write on the live challenge found by `key`, run on an
/// open write transaction (`tx`): `decide` sees the row (or its absence)
/// and says what to change. The engine runs it through the store's
/// group commit (`crate::challenge::commit`), which wraps each job in
/// its own savepoint: the change and the audit event stand or fall
/// together, and a failure leaves the rest of the transaction untouched.
pub(super) fn step_on<R, F>(
    tx: &Transaction<'_>,
    key: &RowKey,
    now: i64,
    decide: F,
) -> Result<R, StoreError>
where
    F: FnOnce(Option<&ChallengeRow>) -> Step<R>,
{
    let read = live_row(tx, key, now)?;
    let step = decide(read.as_ref());
    apply(tx, read.as_ref(), step.change)?;
    if let Some(event) = &step.audit {
        audit::insert(tx, event)?;
    }
    Ok(step.out)
}

#[async_trait]
impl Challenges for Sqlite {
    async fn challenge(&self, key: RowKey, now: i64) -> Result<Option<ChallengeRow>, StoreError> {
        let db = &self.db;
        db.call(move |conn| live_row(conn, &key, now)).await
    }

    async fn challenge_step(
        &self,
        key: RowKey,
        now: i64,
        decide: DecideStep,
    ) -> Result<Erased, StoreError> {
        self.group_commit()
            .write(move |tx| step_on(tx, &key, now, decide))
            .await
    }

    async fn sweep_challenges(&self, now: i64, batch: usize) -> Result<usize, StoreError> {
        let db = &self.db;
        let limit = i64::try_from(batch).unwrap_or(i64::MAX);
        db.write(move |tx| {
            // The table is WITHOUT ROWID: select primary keys through the
            // partial index on expires_at, then delete those.
            let deleted = tx
                .prepare_cached(
                    "DELETE FROM challenges WHERE (namespace, action, id) IN (
                             SELECT namespace, action, id FROM challenges
                             WHERE expires_at <= ?1 LIMIT ?2)",
                )?
                .execute(params![now, limit])?;
            Ok(deleted)
        })
        .await
    }
}

#[async_trait]
impl ChallengeKeys for Sqlite {
    async fn challenge_keys_or_insert(
        &self,
        first: (String, Vec<u8>),
        now: i64,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            let mut keys = all_keys(tx)?;
            if keys.is_empty() {
                tx.execute(
                    "INSERT INTO challenge_keys (kid, key, created_at) VALUES (?1, ?2, ?3)",
                    params![first.0, first.1, now],
                )?;
                keys.push(first);
            }
            Ok(keys)
        })
        .await
    }
}

fn all_keys(conn: &Connection) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT kid, key FROM challenge_keys ORDER BY created_at, rowid")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
