//! Recent authentication (docs/API.md "Sign-in beyond passwords",
//! "Assurance"): the endpoints marked (R) need a session signed in within
//! `mfa.reauth_window`, at `aal` 2 when the user has a second factor.

use super::Authenticated;
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::UserRecord;

/// Refuses (403 `reauthentication_required`) a session too old or too weak
/// for an (R) endpoint.
pub async fn require_recent(state: &AppState, who: &Authenticated) -> Result<(), ApiError> {
    let window = i64::try_from(state.config.mfa.reauth_window.as_secs()).unwrap_or(i64::MAX);
    if who.session.auth_time < state.now().saturating_sub(window) {
        return Err(ApiError::ReauthenticationRequired);
    }
    require_factor_if_enrolled(state, who).await
}

/// Refuses (403 `reauthentication_required`) a session at `aal` 1 of a
/// user who has a second factor. The changes that can take an account
/// over — password, email, deletion — ask for it even with the current
/// password: such a session predates the factor (signing in asks for it),
/// and a stolen one plus a known password must not be enough. GoTrue
/// does the same (supabase/auth#1766). Reauthenticating with the factor
/// raises the session to `aal` 2.
pub async fn require_factor_if_enrolled(
    state: &AppState,
    who: &Authenticated,
) -> Result<(), ApiError> {
    if who.session.aal >= 2 {
        return Ok(());
    }
    let factors = state.store.factor_summary(&who.user.id).await?;
    if factors.has_second_factor() {
        return Err(ApiError::ReauthenticationRequired);
    }
    Ok(())
}

/// Whether `user` must sign in with a second factor: `mfa.required`, or
/// a role listed in `mfa.required_roles`.
pub fn second_factor_required(state: &AppState, user: &UserRecord) -> bool {
    let mfa = &state.config.mfa;
    mfa.required || mfa.required_roles.contains(&user.role)
}

/// Whether `who`'s session may only enrol a second factor (and look at
/// the user, sign out, reauthenticate): a user who must have a second
/// factor, in a session below `aal` 2. Until the user has one, that is
/// every session they get; once they have one, signing in asks for it and
/// reauthenticating with it raises this session.
///
/// Decided from the stored user and session (read with the token check,
/// usually from the session cache) and the config: no store query, so
/// every authenticated request can ask.
pub fn enrolment_only(state: &AppState, who: &Authenticated) -> bool {
    who.session.aal < 2 && second_factor_required(state, &who.user)
}
