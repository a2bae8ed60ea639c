//! What a user has enrolled besides a password (`Factors`, `backend.rs`).

use async_trait::async_trait;

use super::PgDb;
use crate::store::backend::Factors;
use crate::store::records::{FactorSummary, FACTOR_SUMMARY_SQL};
use crate::store::StoreError;

#[async_trait]
impl Factors for PgDb {
    async fn factor_summary(&self, user_id: &str) -> Result<FactorSummary, StoreError> {
        let id = user_id.to_owned();
        let sql = FACTOR_SUMMARY_SQL.replace("?1", "$1");
        self.call(move |conn| {
            let row = conn.query_one(sql.as_str(), &[&id])?;
            let count = |i: usize| -> Result<u32, StoreError> {
                Ok(u32::try_from(row.try_get::<_, i64>(i)?).unwrap_or(u32::MAX))
            };
            Ok(FactorSummary {
                totp: count(0)? > 0,
                passkeys: count(1)?,
                recovery_codes: count(2)?,
            })
        })
        .await
    }
}
