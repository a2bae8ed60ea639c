//! Recent authentication (docs/API.md "Sign-in beyond passwords",
//! "Assurance"): the endpoints marked (R) need a session signed in within
//! `mfa.reauth_window`, at `aal` 2 when the user has a second factor.

use super::Authenticated;
use crate::app::AppState;
use crate::error::ApiError;

/// Refuses (403 `reauthentication_required`) a session too old or too weak
/// for an (R) endpoint.
pub async fn require_recent(state: &AppState, who: &Authenticated) -> Result<(), ApiError> {
    let window = i64::try_from(state.config.mfa.reauth_window.as_secs()).unwrap_or(i64::MAX);
    if who.session.auth_time < state.now().saturating_sub(window) {
        return Err(ApiError::ReauthenticationRequired);
    }
    if who.session.aal >= 2 {
        return Ok(());
    }
    let factors = state.store.factor_summary(&who.user.id).await?;
    if factors.has_second_factor() {
        return Err(ApiError::ReauthenticationRequired);
    }
    Ok(())
}
