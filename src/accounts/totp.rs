//! TOTP second factor (RFC 6238) — built by the `mfa` branch of issue 18.
//! Until then, only the interface other flows call exists.

use crate::app::AppState;
use crate::error::ApiError;

/// Checks `code` against the user's confirmed TOTP secret and, when it
/// matches, marks its time step used (a code never verifies twice).
/// `Ok(false)`: wrong code, replayed code, or no confirmed secret.
pub async fn verify_code(state: &AppState, user_id: &str, code: &str) -> Result<bool, ApiError> {
    let _ = (state, user_id, code);
    Ok(false)
}
