//! Service API keys (`sqlite/api_keys.rs`).

use crate::store::backend::ApiKeys;
use async_trait::async_trait;
use postgres::Row;

use super::conn::Sql as _;
use super::users::storable;
use super::PgDb;
use crate::store::records::{touch_due, TOUCH_EVERY};
use crate::store::{ApiKeyRecord, StoreError};

const API_KEY_COLUMNS: &str = "id, name, scopes, created_at, last_used_at, revoked_at";

fn api_key_from_row(row: &Row) -> Result<ApiKeyRecord, StoreError> {
    let scopes: String = row.try_get(2)?;
    let scopes = serde_json::from_str(&scopes)
        .map_err(|e| StoreError::Internal(format!("damaged scopes column: {e}")))?;
    Ok(ApiKeyRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        scopes,
        created_at: row.try_get(3)?,
        last_used_at: row.try_get(4)?,
        revoked_at: row.try_get(5)?,
    })
}

#[async_trait]
impl ApiKeys for PgDb {
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.call(|conn| {
            let sql =
                format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC");
            conn.query(&sql, &[])?
                .iter()
                .map(api_key_from_row)
                .collect()
        })
        .await
    }

    async fn api_key_by_hash(
        &self,
        key_hash: &str,
        now: i64,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        if !storable(key_hash) {
            return Ok(None);
        }
        let key_hash = key_hash.to_owned();
        self.call(move |conn| {
            let sql = format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys
                 WHERE key_hash = $1 AND revoked_at IS NULL"
            );
            let Some(row) = conn.query_opt(&sql, &[&key_hash])? else {
                return Ok(None);
            };
            let mut record = api_key_from_row(&row)?;
            if touch_due(&record, now) {
                // One conditional statement (autocommit), as on SQLite.
                let n = conn.execute(
                    "UPDATE api_keys SET last_used_at = $2
                     WHERE id = $1 AND revoked_at IS NULL
                       AND (last_used_at IS NULL OR last_used_at < $3)",
                    &[&record.id, &now, &(now - TOUCH_EVERY)],
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
