//! Signing keys, RSA keys and server secrets (`sqlite/keys.rs`,
//! `sqlite/rsa_keys.rs`).
//!
//! Whatever is generated at first start is inserted under the advisory lock
//! [`lock::KEYS`] after re-reading: two instances starting together end up
//! with one key, which both use, so any instance verifies any token.

use super::conn::{Sql, Tx};
use super::{lock, xact_lock, PgDb};
use crate::store::backend::{ChallengeKeys, RsaKeys, SigningKeys};
use crate::store::{KeyRow, RsaKeyRow, StoreError};
use async_trait::async_trait;

fn signing_keys(tx: &mut impl Sql, alg: &str) -> Result<Vec<KeyRow>, StoreError> {
    tx.query(
        "SELECT kid, alg, private_der, public_jwk, created_at, retired_at
         FROM signing_keys WHERE alg = $1 ORDER BY created_at DESC, seq DESC",
        &[&alg],
    )?
    .iter()
    .map(|r| {
        Ok(KeyRow {
            kid: r.try_get(0)?,
            alg: r.try_get(1)?,
            private_der: r.try_get(2)?,
            public_jwk: r.try_get(3)?,
            created_at: r.try_get(4)?,
            retired_at: r.try_get(5)?,
        })
    })
    .collect()
}

fn insert_signing_key(tx: &mut Tx<'_>, key: &KeyRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &key.kid,
            &key.alg,
            &key.private_der,
            &key.public_jwk,
            &key.created_at,
        ],
    )?;
    Ok(())
}

fn insert_rsa(tx: &mut Tx<'_>, key: &RsaKeyRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO rsa_keys (kid, private_der, created_at, retired_at) VALUES ($1, $2, $3, $4)",
        &[&key.kid, &key.private_der, &key.created_at, &key.retired_at],
    )?;
    Ok(())
}

#[async_trait]
impl SigningKeys for PgDb {
    async fn signing_keys(&self, alg: &str) -> Result<Vec<KeyRow>, StoreError> {
        let alg = alg.to_owned();
        self.call(move |conn| signing_keys(conn, &alg)).await
    }

    async fn insert_signing_key(&self, key: KeyRow) -> Result<(), StoreError> {
        self.write(move |tx| insert_signing_key(tx, &key)).await
    }

    async fn insert_first_signing_key(&self, key: KeyRow) -> Result<bool, StoreError> {
        self.write(move |tx| {
            xact_lock(tx, lock::KEYS)?;
            if !signing_keys(tx, &key.alg)?.is_empty() {
                return Ok(false);
            }
            insert_signing_key(tx, &key)?;
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
        let alg = alg.to_owned();
        self.write(move |tx| {
            tx.execute(
                "UPDATE signing_keys SET retired_at = $3
                 WHERE alg = $1 AND kid = ANY($2) AND retired_at IS NULL",
                &[&alg, &retire, &now],
            )?;
            tx.execute(
                "DELETE FROM signing_keys
                 WHERE alg = $1 AND kid = ANY($2) AND retired_at IS NOT NULL",
                &[&alg, &forget],
            )?;
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
        self.write(move |tx| {
            xact_lock(tx, lock::KEYS)?;
            if let Some(row) =
                tx.query_opt("SELECT value FROM server_secrets WHERE name = $1", &[&name])?
            {
                return Ok(row.try_get(0)?);
            }
            let value = generate();
            tx.execute(
                "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)",
                &[&name, &value, &now],
            )?;
            Ok(value)
        })
        .await
    }
}

#[async_trait]
impl RsaKeys for PgDb {
    async fn rsa_keys(&self) -> Result<Vec<RsaKeyRow>, StoreError> {
        self.call(|conn| {
            conn.query(
                "SELECT kid, private_der, created_at, retired_at FROM rsa_keys
                 ORDER BY retired_at IS NOT NULL, created_at DESC, seq DESC",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(RsaKeyRow {
                    kid: r.try_get(0)?,
                    private_der: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                    retired_at: r.try_get(3)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn insert_first_rsa_key(&self, key: RsaKeyRow) -> Result<bool, StoreError> {
        self.write(move |tx| {
            xact_lock(tx, lock::KEYS)?;
            let current: i64 = tx
                .query_one(
                    "SELECT count(*) FROM rsa_keys WHERE retired_at IS NULL",
                    &[],
                )?
                .try_get(0)?;
            if current > 0 {
                return Ok(false);
            }
            insert_rsa(tx, &key)?;
            Ok(true)
        })
        .await
    }

    async fn rotate_rsa_key(&self, key: RsaKeyRow, now: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            insert_rsa(tx, &key)?;
            tx.execute(
                "UPDATE rsa_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL",
                &[&key.kid, &now],
            )?;
            Ok(())
        })
        .await
    }

    async fn retire_rsa_keys(
        &self,
        retire: Vec<String>,
        forget: Vec<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE rsa_keys SET retired_at = $2 WHERE kid = ANY($1) AND retired_at IS NULL",
                &[&retire, &now],
            )?;
            tx.execute(
                "DELETE FROM rsa_keys WHERE kid = ANY($1) AND retired_at IS NOT NULL",
                &[&forget],
            )?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl ChallengeKeys for PgDb {
    async fn challenge_keys_or_insert(
        &self,
        first: (String, Vec<u8>),
        now: i64,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.write(move |tx| {
            xact_lock(tx, lock::KEYS)?;
            let mut keys = challenge_keys(tx)?;
            if keys.is_empty() {
                tx.execute(
                    "INSERT INTO challenge_keys (kid, key, created_at) VALUES ($1, $2, $3)",
                    &[&first.0, &first.1, &now],
                )?;
                keys.push(first);
            }
            Ok(keys)
        })
        .await
    }
}

fn challenge_keys(tx: &mut Tx<'_>) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    tx.query(
        "SELECT kid, key FROM challenge_keys ORDER BY created_at, seq",
        &[],
    )?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}
