//! Signing keys and other server-held secrets.

use rusqlite::{params, OptionalExtension as _};

use super::Backend;
use super::{Store, StoreError};

/// A signing key row.
#[derive(Clone)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub private_der: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Every key of `alg`, newest first.
    pub async fn signing_keys(&self, alg: &str) -> Result<Vec<KeyRow>, StoreError> {
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => return pg.signing_keys(alg).await,
        };
        let alg = alg.to_owned();
        db.call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT kid, alg, private_der, public_jwk, created_at, retired_at
                     FROM signing_keys WHERE alg = ?1 ORDER BY created_at DESC, rowid DESC",
            )?;
            let rows = stmt.query_map([alg], |r| {
                Ok(KeyRow {
                    kid: r.get(0)?,
                    alg: r.get(1)?,
                    private_der: r.get(2)?,
                    public_jwk: r.get(3)?,
                    created_at: r.get(4)?,
                    retired_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Adds a key; it becomes the signing key at the next (re)load.
    pub async fn insert_signing_key(&self, key: KeyRow) -> Result<(), StoreError> {
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => return pg.insert_signing_key(key).await,
        };
        db.write(move |tx| {
            tx.execute(
                "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    key.kid,
                    key.alg,
                    key.private_der,
                    key.public_jwk,
                    key.created_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Inserts `key` only if `key.alg` has no key yet (first start); false
    /// if one exists, which the caller then uses. Atomic, so two processes
    /// starting together end up with one key.
    pub async fn insert_first_signing_key(&self, key: KeyRow) -> Result<bool, StoreError> {
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => return pg.insert_first_signing_key(key).await,
        };
        db.write(move |tx| {
            let existing: i64 = tx.query_row(
                "SELECT count(*) FROM signing_keys WHERE alg = ?1",
                [&key.alg],
                |r| r.get(0),
            )?;
            if existing > 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    key.kid,
                    key.alg,
                    key.private_der,
                    key.public_jwk,
                    key.created_at
                ],
            )?;
            Ok(true)
        })
        .await
    }

    /// Marks the keys `retire` of `alg` as retired at `now` (those not yet
    /// retired) and deletes the retired keys `forget`. Which keys is decided
    /// by `crate::auth::rotation`: never one newer than the signing key
    /// (published, not used yet), never the signing key itself.
    pub async fn retire_signing_keys(
        &self,
        alg: &str,
        retire: Vec<String>,
        forget: Vec<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => return pg.retire_signing_keys(alg, retire, forget, now).await,
        };
        let alg = alg.to_owned();
        db.write(move |tx| {
            for kid in &retire {
                tx.execute(
                    "UPDATE signing_keys SET retired_at = ?3
                         WHERE alg = ?1 AND kid = ?2 AND retired_at IS NULL",
                    params![alg, kid, now],
                )?;
            }
            for kid in &forget {
                tx.execute(
                    "DELETE FROM signing_keys
                         WHERE alg = ?1 AND kid = ?2 AND retired_at IS NOT NULL",
                    params![alg, kid],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// The named secret, created with `generate` on first use.
    pub async fn server_secret(
        &self,
        name: &'static str,
        now: i64,
        generate: fn() -> Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => return pg.server_secret(name, now, generate).await,
        };
        db.write(move |tx| {
            let existing: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT value FROM server_secrets WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(value) = existing {
                return Ok(value);
            }
            let value = generate();
            tx.execute(
                "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3)",
                params![name, value, now],
            )?;
            Ok(value)
        })
        .await
    }
}
