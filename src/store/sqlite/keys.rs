//! Signing keys and other server-held secrets.

use crate::store::records::KeyRow;
use rusqlite::{params, OptionalExtension as _};

use async_trait::async_trait;

use super::Sqlite;
use crate::store::backend::SigningKeys;
use crate::store::StoreError;

#[async_trait]
impl SigningKeys for Sqlite {
    async fn signing_keys(&self, alg: &str) -> Result<Vec<KeyRow>, StoreError> {
        let db = &self.db;
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

    async fn insert_signing_key(&self, key: KeyRow) -> Result<(), StoreError> {
        let db = &self.db;
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

    async fn insert_first_signing_key(&self, key: KeyRow) -> Result<bool, StoreError> {
        let db = &self.db;
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

    async fn retire_signing_keys(
        &self,
        alg: &str,
        retire: Vec<String>,
        forget: Vec<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        let db = &self.db;
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

    async fn server_secret(
        &self,
        name: &'static str,
        now: i64,
        generate: fn() -> Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        let db = &self.db;
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
