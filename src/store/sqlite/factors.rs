//! What a user has enrolled besides a password (`Factors`, `backend.rs`).

use async_trait::async_trait;

use super::Sqlite;
use crate::store::backend::Factors;
use crate::store::records::{FactorSummary, FACTOR_SUMMARY_SQL};
use crate::store::StoreError;

#[async_trait]
impl Factors for Sqlite {
    async fn factor_summary(&self, user_id: &str) -> Result<FactorSummary, StoreError> {
        let id = user_id.to_owned();
        self.db
            .call(move |conn| {
                Ok(conn.query_row(FACTOR_SUMMARY_SQL, [&id], |r| {
                    Ok(FactorSummary {
                        totp: r.get::<_, i64>(0)? > 0,
                        passkeys: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(u32::MAX),
                        recovery_codes: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                    })
                })?)
            })
            .await
    }
}
