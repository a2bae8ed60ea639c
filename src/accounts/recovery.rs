//! Recovery codes — built by the `mfa` branch of issue 18. Until then,
//! only the interface other flows call exists.

use crate::app::AppState;
use crate::error::ApiError;

/// Uses one of the user's recovery codes: `Ok(true)` once per code.
pub async fn redeem(state: &AppState, user_id: &str, code: &str) -> Result<bool, ApiError> {
    let _ = (state, user_id, code);
    Ok(false)
}
