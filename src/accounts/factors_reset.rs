//! An administrator's reset of a user's second factors (`DELETE
//! /v1/admin/users/{id}/factors`): for a user who lost their authenticator.
//! TOTP, passkeys and recovery codes go, every session of the user ends
//! (none may keep an `aal` its factors no longer back), a notice is mailed
//! and `factors.reset` audited, all in one transaction.

use serde_json::json;

use super::{email, RequestMeta};
use crate::app::AppState;
use crate::error::ApiError;
use crate::mail::MailKind;

/// Resets user `id`'s second factors on behalf of `actor` (`api_key:<id>`
/// or `user:<id>`); 404 `not_found` for an unknown user.
pub async fn reset_factors(
    state: &AppState,
    actor: &str,
    id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let now = state.now();
    // Its detail (what was removed) is written by the store, in the
    // transaction that removes it.
    let mut event = meta.event(now, "factors.reset", Some(&user.id), json!({}));
    event.actor = Some(actor.to_owned());
    let mails = email::if_email_on(
        state,
        email::notice(MailKind::FactorsResetNotice, &user, json!({}), meta),
    );
    state
        .store
        .reset_factors(&user.id, now, event, mails)
        .await?
        .ok_or(ApiError::NotFound)?;
    email::mail_queued(state);
    Ok(())
}
