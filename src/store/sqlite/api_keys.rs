//! Service API keys as stored: the `api_keys` table (schema migration 2).
//!
//! The table holds a key's SHA-256, never the key itself (see
//! `crate::auth::api_keys` for the format and why a fast hash is right), its
//! scopes as a JSON array of names, and three times. Revoking sets
//! `revoked_at` rather than deleting the row, so `api-key list` still shows
//! what a key was and when it stopped working.
//!
//! Every authenticated request looks its key up here. Recording the use on
//! each request would turn every read into a write and queue a busy service
//! behind SQLite's single writer, so `last_used_at` moves at most once a
//! minute per key ([`TOUCH_EVERY`]): precise enough to answer "is this key
//! still in use?", cheap enough to ignore.

use crate::store::records::{touch_due, ApiKeyRecord, TOUCH_EVERY};
use rusqlite::{params, OptionalExtension as _, Row};

use async_trait::async_trait;

use super::Sqlite;
use crate::domain::scope::Scope;
use crate::store::backend::ApiKeys;
use crate::store::StoreError;

const API_KEY_COLUMNS: &str = "id, name, scopes, created_at, last_used_at, revoked_at";

fn api_key_from_row(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let scopes: String = row.get(2)?;
    let scopes: Vec<Scope> = serde_json::from_str(&scopes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        scopes,
        created_at: row.get(3)?,
        last_used_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}

#[async_trait]
impl ApiKeys for Sqlite {
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let db = &self.db;
        db.call(|conn| {
            let sql =
                format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC");
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map([], api_key_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn api_key_by_hash(
        &self,
        key_hash: &str,
        now: i64,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let key_hash = key_hash.to_owned();
        self.db
            .call(move |conn| {
                let sql = format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys
                     WHERE key_hash = ?1 AND revoked_at IS NULL"
                );
                // Cached: this runs on every challenge and admin request
                // with a key that misses the cache.
                let Some(mut record) = conn
                    .prepare_cached(&sql)?
                    .query_row([&key_hash], api_key_from_row)
                    .optional()?
                else {
                    return Ok(None);
                };
                if touch_due(&record, now) {
                    // One statement, so autocommit makes it atomic; its WHERE
                    // repeats the staleness test, so of many concurrent
                    // requests only the first writes, and a key revoked
                    // since the read is left alone.
                    let n = conn.execute(
                        "UPDATE api_keys SET last_used_at = ?2
                         WHERE id = ?1 AND revoked_at IS NULL
                           AND (last_used_at IS NULL OR last_used_at < ?3)",
                        params![record.id, now, now - TOUCH_EVERY],
                    )?;
                    if n > 0 {
                        record.last_used_at = Some(now);
                    }
                }
                Ok(Some(record))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;
    use crate::store::{AuditEvent, Store};

    fn event(kind: &'static str, at: i64) -> AuditEvent {
        AuditEvent {
            at,
            kind,
            user_id: None,
            actor: Some("test".into()),
            ip: None,
            user_agent: None,
            detail: serde_json::json!({}),
        }
    }

    fn record(id: &str, created_at: i64, scopes: Vec<Scope>) -> ApiKeyRecord {
        ApiKeyRecord {
            id: id.into(),
            name: format!("key {id}"),
            scopes,
            created_at,
            last_used_at: None,
            revoked_at: None,
        }
    }

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        (dir, Store::new(db))
    }

    async fn last_used(store: &Store, id: &str) -> Option<i64> {
        let keys = store.list_api_keys().await.unwrap();
        keys.into_iter().find(|k| k.id == id).unwrap().last_used_at
    }

    #[tokio::test]
    async fn keys_round_trip_and_list_newest_first_with_revoked_ones() {
        let (_dir, store) = store().await;
        let a = record("a", 100, vec![Scope::Challenges]);
        let b = record("b", 200, vec![Scope::Challenges, Scope::Admin]);
        for (r, h) in [(a.clone(), "ha"), (b.clone(), "hb")] {
            let ev = event("api_key.created", r.created_at);
            store.insert_api_key(r, h.into(), ev).await.unwrap();
        }
        assert_eq!(store.list_api_keys().await.unwrap(), vec![b.clone(), a]);
        let ev = event("api_key.revoked", 300);
        assert!(store.revoke_api_key("b", 300, ev.clone()).await.unwrap());
        assert!(!store.revoke_api_key("b", 301, ev.clone()).await.unwrap());
        assert!(!store.revoke_api_key("nope", 301, ev).await.unwrap());
        let keys = store.list_api_keys().await.unwrap();
        assert_eq!(keys[0].revoked_at, Some(300));
        assert!(!keys[0].is_live() && keys[1].is_live());
        assert_eq!(store.api_key_by_hash("hb", 400).await.unwrap(), None);
        assert_eq!(store.api_key_by_hash("zz", 400).await.unwrap(), None);
        let found = store.api_key_by_hash("ha", 400).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), found.last_used_at), ("a", Some(400)));
    }

    #[tokio::test]
    async fn use_is_recorded_at_most_once_a_minute() {
        let (_dir, store) = store().await;
        let r = record("k", 100, vec![Scope::Admin]);
        store
            .insert_api_key(r, "h".into(), event("api_key.created", 100))
            .await
            .unwrap();
        assert_eq!(last_used(&store, "k").await, None);
        store.api_key_by_hash("h", 1000).await.unwrap().unwrap();
        assert_eq!(last_used(&store, "k").await, Some(1000));
        let again = store
            .api_key_by_hash("h", 1000 + TOUCH_EVERY)
            .await
            .unwrap();
        assert_eq!(again.unwrap().last_used_at, Some(1000));
        assert_eq!(last_used(&store, "k").await, Some(1000));
        store
            .api_key_by_hash("h", 1001 + TOUCH_EVERY)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last_used(&store, "k").await, Some(1001 + TOUCH_EVERY));
    }

    #[tokio::test]
    async fn audit_events_are_written_with_the_change() {
        let (_dir, store) = store().await;
        let r = record("k", 100, vec![Scope::Admin]);
        store
            .insert_api_key(r, "h".into(), event("api_key.created", 100))
            .await
            .unwrap();
        store
            .revoke_api_key("k", 200, event("api_key.revoked", 200))
            .await
            .unwrap();
        store
            .revoke_api_key("k", 201, event("api_key.revoked", 201))
            .await
            .unwrap();
        let kinds: Vec<String> = store
            .db()
            .call(|c| {
                let mut stmt = c.prepare("SELECT kind FROM audit_events ORDER BY id")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(kinds, ["api_key.created", "api_key.revoked"]);
    }

    /// Key "k" (hash "h"), looked up twice at 1000: the first look records
    /// the use (a write, which retires what it read), the second caches it.
    async fn cached_key(store: &Store) {
        let r = record("k", 100, vec![Scope::Challenges]);
        store
            .insert_api_key(r, "h".into(), event("api_key.created", 100))
            .await
            .unwrap();
        store.api_key_by_hash("h", 1000).await.unwrap().unwrap();
        store.api_key_by_hash("h", 1000).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_revoke_through_the_store_is_seen_by_the_very_next_lookup() {
        let (_dir, store) = store().await;
        // Cached; the third look is a cache hit...
        cached_key(&store).await;
        let generation = store.db().generation();
        assert!(store.api_keys.get("h", generation, 1000).is_some());
        store.api_key_by_hash("h", 1000).await.unwrap().unwrap();
        assert_eq!(store.db().generation(), generation, "a hit writes nothing");
        // ...until the revoke, which moves the generation on before it returns.
        let ev = event("api_key.revoked", 1000);
        assert!(store.revoke_api_key("k", 1000, ev).await.unwrap());
        assert!(store.db().generation() > generation);
        assert_eq!(store.api_key_by_hash("h", 1000).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_revoke_by_another_process_is_seen_from_the_next_second() {
        let (dir, store) = store().await;
        cached_key(&store).await;
        // `toktok api-key revoke`: its own Db on the same file.
        let cli = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
        let ev = event("api_key.revoked", 1000);
        assert!(cli.revoke_api_key("k", 1000, ev).await.unwrap());
        // The documented bound: served from the cache for the rest of the
        // second it was read in, refused from the next one on.
        assert!(store.api_key_by_hash("h", 1000).await.unwrap().is_some());
        assert_eq!(store.api_key_by_hash("h", 1001).await.unwrap(), None);
    }

    #[tokio::test]
    async fn unknown_keys_are_not_cached() {
        let (_dir, store) = store().await;
        for i in 0..10 {
            let hash = format!("unknown {i}");
            assert_eq!(store.api_key_by_hash(&hash, 1000).await.unwrap(), None);
        }
        assert_eq!(store.api_keys.len(), 0);
    }
}
