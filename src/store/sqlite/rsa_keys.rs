//! The RSA keys that decrypt JWE request bodies (table `rsa_keys`,
//! migration 4; docs/SECURITY.md O3).
//!
//! Only storage lives here: which key is current and how long a retired one
//! is kept are decided by `crate::auth::jwe`. The private key is stored as
//! PKCS#8 DER, like the JWT signing keys, in the owner-only database file, so
//! every restart and every worker sharing the file decrypts with the same key.

use crate::store::records::RsaKeyRow;
use rusqlite::params;

use async_trait::async_trait;

use super::Sqlite;
use crate::store::backend::RsaKeys;
use crate::store::StoreError;

#[async_trait]
impl RsaKeys for Sqlite {
    async fn rsa_keys(&self) -> Result<Vec<RsaKeyRow>, StoreError> {
        let db = &self.db;
        db.call(|conn| {
            let mut stmt = conn.prepare(
                "SELECT kid, private_der, created_at, retired_at FROM rsa_keys
                     ORDER BY retired_at IS NOT NULL, created_at DESC, rowid DESC",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(RsaKeyRow {
                    kid: r.get(0)?,
                    private_der: r.get(1)?,
                    created_at: r.get(2)?,
                    retired_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn insert_first_rsa_key(&self, key: RsaKeyRow) -> Result<bool, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            let current: i64 = tx.query_row(
                "SELECT count(*) FROM rsa_keys WHERE retired_at IS NULL",
                [],
                |r| r.get(0),
            )?;
            if current > 0 {
                return Ok(false);
            }
            insert(tx, &key)?;
            Ok(true)
        })
        .await
    }

    async fn rotate_rsa_key(&self, key: RsaKeyRow, now: i64) -> Result<(), StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            insert(tx, &key)?;
            tx.execute(
                "UPDATE rsa_keys SET retired_at = ?2 WHERE kid <> ?1 AND retired_at IS NULL",
                params![key.kid, now],
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
        let db = &self.db;
        db.write(move |tx| {
            for kid in &retire {
                tx.execute(
                    "UPDATE rsa_keys SET retired_at = ?2 WHERE kid = ?1 AND retired_at IS NULL",
                    params![kid, now],
                )?;
            }
            for kid in &forget {
                tx.execute(
                    "DELETE FROM rsa_keys WHERE kid = ?1 AND retired_at IS NOT NULL",
                    [kid],
                )?;
            }
            Ok(())
        })
        .await
    }
}

fn insert(tx: &rusqlite::Transaction<'_>, key: &RsaKeyRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO rsa_keys (kid, private_der, created_at, retired_at) VALUES (?1, ?2, ?3, ?4)",
        params![key.kid, key.private_der, key.created_at, key.retired_at],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;
    use crate::store::Store;

    fn row(kid: &str, created_at: i64) -> RsaKeyRow {
        RsaKeyRow {
            kid: kid.to_owned(),
            private_der: vec![1, 2, 3],
            created_at,
            retired_at: None,
        }
    }

    #[tokio::test]
    async fn first_key_is_stored_once_then_rotation_retires_and_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
        assert!(store.rsa_keys().await.unwrap().is_empty());
        assert!(store.insert_first_rsa_key(row("a", 10)).await.unwrap());
        assert!(!store.insert_first_rsa_key(row("b", 11)).await.unwrap());
        let keys = store.rsa_keys().await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid, "a");
        assert_eq!(keys[0].private_der, vec![1, 2, 3]);

        store.rotate_rsa_key(row("c", 20), 20).await.unwrap();
        let keys = store.rsa_keys().await.unwrap();
        let kids: Vec<_> = keys
            .iter()
            .map(|k| (k.kid.as_str(), k.retired_at))
            .collect();
        assert_eq!(kids, [("c", None), ("a", Some(20))]);

        // Retiring is idempotent and keeps the first retirement time; the
        // current key is never deleted.
        let kids = |k: &[&str]| k.iter().map(|&k| k.to_owned()).collect::<Vec<_>>();
        store
            .retire_rsa_keys(kids(&["a"]), kids(&["c"]), 30)
            .await
            .unwrap();
        assert_eq!(store.rsa_keys().await.unwrap()[1].retired_at, Some(20));
        assert_eq!(store.rsa_keys().await.unwrap().len(), 2);
        // Past the grace period the retired key is gone.
        store
            .retire_rsa_keys(vec![], kids(&["a"]), 40)
            .await
            .unwrap();
        let keys = store.rsa_keys().await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid, "c");
    }

    #[tokio::test]
    async fn the_unretired_key_comes_first_whatever_the_clock_said() {
        // A key rotated in with an older timestamp (clock moved back) is
        // still the current one: unretired rows sort first.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
        store.insert_first_rsa_key(row("a", 100)).await.unwrap();
        store.rotate_rsa_key(row("b", 50), 50).await.unwrap();
        assert_eq!(store.rsa_keys().await.unwrap()[0].kid, "b");
    }
}
