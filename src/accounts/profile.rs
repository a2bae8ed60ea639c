//! Changes a signed-in user makes to their own account: profile,
//! password, delete. The sensitive ones check the current password first
//! ([`super::verify_current_password`], counted like a login); an account
//! without a password (signed up by passkey or email code) proves a recent
//! sign-in instead ([`confirm_identity`]). Either way, a user with a second
//! factor needs a session at `aal` 2
//! ([`super::assurance::require_factor_if_enrolled`]), checked before the
//! password so that a stolen `aal` 1 session cannot test guesses.

use serde_json::json;

use super::assurance::{require_factor_if_enrolled, require_recent};
use super::{
    collect, email, parse_locale, parse_metadata, parse_name, verify_current_password,
    Authenticated, RequestMeta, UserView,
};
use crate::app::AppState;
use crate::domain::email::Email;
use crate::domain::metadata::Metadata;
use crate::domain::name::Name;
use crate::error::ApiError;
use crate::mail::MailKind;
use crate::store::ProfileChange;

pub async fn update_profile(
    state: &AppState,
    who: &Authenticated,
    change: ProfileChange,
    meta: &RequestMeta,
) -> Result<UserView, ApiError> {
    let ProfileChange {
        name,
        metadata,
        locale,
    } = change;
    let mut errors = Vec::new();
    let name = name.map(|name| parse_name(name, &mut errors));
    let metadata = parse_metadata("metadata", metadata, &mut errors);
    let locale = parse_locale(locale, &mut errors);
    collect(errors)?;
    let change = ProfileChange {
        name: name.map(|name| name.map(Name::into_inner)),
        metadata: metadata.map(Metadata::into_value),
        locale,
    };
    let fields: Vec<&str> = [
        change.name.is_some().then_some("name"),
        change.metadata.is_some().then_some("metadata"),
        change.locale.is_some().then_some("locale"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let now = state.now();
    let event = meta.event(
        now,
        "user.updated",
        Some(&who.user.id),
        json!({ "fields": fields }),
    );
    let user = state
        .store
        .update_profile(&who.user.id, change, now, event)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(UserView::from(&user))
}

/// Checks that the signed-in user is who they say before a sensitive
/// change (email change, account delete): their current `password` when
/// the account has one (403 `wrong_password`, counted like a login; 422
/// when it is missing), from a session at `aal` 2 when the user has a
/// second factor (403 `reauthentication_required`, before the password is
/// looked at); without a password, a recent sign-in, as the (R) endpoints
/// ask (which includes that `aal` 2). The order is `change_password`'s.
pub async fn confirm_identity(
    state: &AppState,
    who: &Authenticated,
    password: Option<String>,
    field: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    match password {
        Some(password) => {
            require_factor_if_enrolled(state, who).await?;
            verify_current_password(state, who, password, meta).await
        }
        None if who.user.password_hash.is_some() => Err(ApiError::field(field, "is required")),
        None => require_recent(state, who).await,
    }
}

/// `POST /v1/users/me/password`: with `current`, a change checked against
/// the current password; without, the first password of an account that
/// has none, under recent authentication (R).
pub async fn change_password(
    state: &AppState,
    who: &Authenticated,
    current: Option<String>,
    new: String,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    match &current {
        None if who.user.password_hash.is_some() => {
            return Err(ApiError::field("current_password", "is required"));
        }
        None => require_recent(state, who).await?,
        Some(_) => require_factor_if_enrolled(state, who).await?,
    }
    let email = Email::parse(&who.user.email).ok();
    state.policy.check(&new, email.as_ref())?;
    if let Some(current) = current {
        verify_current_password(state, who, current, meta).await?;
    }
    let phc = state.hasher.hash(new).await?;
    let now = state.now();
    let event = meta.event(now, "password.changed", Some(&who.user.id), json!({}));
    let mails = email::if_email_on(
        state,
        email::notice(MailKind::PasswordChangedNotice, &who.user, json!({}), meta),
    );
    state
        .store
        .set_password(
            &who.user.id,
            phc,
            Some(who.session.id.clone()),
            now,
            event,
            mails,
        )
        .await?;
    email::mail_queued(state);
    Ok(())
}

pub async fn delete_account(
    state: &AppState,
    who: &Authenticated,
    password: Option<String>,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    confirm_identity(state, who, password, "password", meta).await?;
    let now = state.now();
    let event = meta.event(
        now,
        "user.deleted",
        Some(&who.user.id),
        json!({ "by": "self" }),
    );
    state.store.delete_user(&who.user.id, event).await?;
    Ok(())
}
