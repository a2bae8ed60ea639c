//! Creating accounts: self-service registration (enumeration-safe, L1),
//! and the operator's `toktok user create`.

use serde_json::{json, Value};

use super::login::{sign_in, Assurance};
use super::{
    admin, collect, email, parse_email, parse_metadata, parse_name, RequestMeta, TokenResponse,
    UserView,
};
use crate::app::AppState;
use crate::domain::email::Email;
use crate::domain::metadata::Metadata;
use crate::domain::name::Name;
use crate::error::{ApiError, FieldError};
use crate::mail::MailKind;
use crate::ratelimit::Bucket;
use crate::store::{StoreError, UserRecord};

/// What register answers.
#[derive(Debug)]
pub enum Registered {
    SignedIn(Box<TokenResponse>),
    ConfirmationSent(UserView),
}

pub struct Registration {
    /// The anonymous visitor this account grows from, if any.
    pub anonymous_id: Option<String>,
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    pub metadata: Option<Value>,
}
/// `POST /v1/auth/register`. With confirmation on, a taken address answers
/// like a new one (L1), and both answer no sooner than
/// [`email::ANSWER_FLOOR`] (TT-05): the new account's insert costs a
/// little more than the taken path's notice, a tenth of a millisecond
/// the timing test measured (`timing::a_registration_takes_as_long_for_a_taken_address`).
/// Without confirmation a taken address is 409 `email_taken` anyway.
pub async fn register(
    state: &AppState,
    input: Registration,
    meta: &RequestMeta,
) -> Result<Registered, ApiError> {
    if state.config.email.confirmation_required {
        let started = tokio::time::Instant::now();
        return email::at_floor(state, started, register_inner(state, input, meta)).await;
    }
    Ok(register_inner(state, input, meta).await?.0)
}

/// The registration, and whether it queued mail (the caller wakes the
/// mail worker).
async fn register_inner(
    state: &AppState,
    input: Registration,
    meta: &RequestMeta,
) -> Result<(Registered, bool), ApiError> {
    if !state.config.accounts.registration_open {
        return Err(ApiError::RegistrationClosed);
    }
    meta.limit(state, Bucket::Register).await?;
    let mut errors = Vec::new();
    let email = match Email::parse(&input.email) {
        Ok(email) => Some(email),
        Err(e) => {
            errors.push(FieldError::new("email", e.to_string()));
            None
        }
    };
    let name = parse_name(input.name, &mut errors);
    let metadata = parse_metadata("metadata", input.metadata, &mut errors);
    collect(errors)?;
    let Some(email) = email else {
        return Err(ApiError::field("email", "is required"));
    };
    state.policy.check(&input.password, Some(&email))?;

    let confirmation = state.config.email.confirmation_required;
    let key = email.normalized();
    let existing = state.store.user_by_email_key(&key).await?;
    // Hash before answering either way, so "taken" costs what "new" costs.
    let phc = state.hasher.hash(input.password).await?;
    let now = state.now();
    let mut user = new_user_record(&email, "user", Some(phc), None, now);
    user.name = name.map(Name::into_inner);
    user.metadata = metadata.unwrap_or_else(Metadata::empty).into_value();
    if let Some(anonymous_id) = input.anonymous_id {
        user.app_metadata = json!({ "anonymous_id": anonymous_id });
    }
    if let Some(owner) = existing {
        if !confirmation {
            return Err(ApiError::EmailTaken);
        }
        return taken_quietly(state, &owner, &user, meta).await;
    }
    let event = meta.event(now, "user.registered", Some(&user.id), json!({}));
    let mails = if confirmation {
        vec![email::confirm_account_mail(&user, meta)]
    } else {
        Vec::new()
    };
    let inserted = state
        .store
        .insert_user(user.clone(), key.clone(), event, mails)
        .await;
    match inserted {
        Ok(()) => {}
        // Another registration of the address committed since the read
        // above: with confirmation on, answer as for any taken address.
        Err(StoreError::Conflict("email")) if confirmation => {
            let Some(owner) = state.store.user_by_email_key(&key).await? else {
                return Ok((Registered::ConfirmationSent(UserView::from(&user)), false));
            };
            return taken_quietly(state, &owner, &user, meta).await;
        }
        Err(e) => return Err(e.into()),
    }
    if confirmation {
        return Ok((Registered::ConfirmationSent(UserView::from(&user)), true));
    }
    let tokens = sign_in(
        state,
        &user,
        key,
        None,
        meta,
        "login.succeeded",
        Assurance::password(),
    )
    .await?;
    Ok((Registered::SignedIn(Box::new(tokens)), false))
}

/// L1: a registration of `owner`'s address gets the same answer as a new
/// one (the user object of an account that is never stored); the owner is
/// told by mail instead. True when the notice was queued.
async fn taken_quietly(
    state: &AppState,
    owner: &UserRecord,
    unsaved: &UserRecord,
    meta: &RequestMeta,
) -> Result<(Registered, bool), ApiError> {
    let mail = email::notice(MailKind::RegistrationAttempt, owner, json!({}), meta);
    let queued = email::queue_throttled(state, mail, None).await?;
    Ok((
        Registered::ConfirmationSent(UserView::from(unsaved)),
        queued,
    ))
}

/// A user record as a new account starts: no name, empty metadata.
pub(super) fn new_user_record(
    email: &Email,
    role: &str,
    password_hash: Option<String>,
    email_confirmed_at: Option<i64>,
    now: i64,
) -> UserRecord {
    UserRecord {
        id: uuid::Uuid::now_v7().to_string(),
        email: email.as_str().to_owned(),
        email_confirmed_at,
        name: None,
        role: role.to_owned(),
        metadata: json!({}),
        app_metadata: json!({}),
        password_hash,
        disabled: false,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        locale: None,
    }
}
/// Creates a user from the command line (`toktok user create`).
pub async fn create_user(
    state: &AppState,
    email: &str,
    role: &str,
    password: Option<String>,
) -> Result<UserView, ApiError> {
    let email = parse_email("email", email)?;
    admin::check_role(role).map_err(|e| ApiError::Validation(vec![e]))?;
    let phc = match password {
        Some(password) => {
            state.policy.check(&password, Some(&email))?;
            Some(state.hasher.hash(password).await?)
        }
        None => None,
    };
    let now = state.now();
    // Created by the operator: the address is taken as confirmed.
    let user = new_user_record(&email, role, phc, Some(now), now);
    let mut event = RequestMeta::default().event(
        now,
        "user.registered",
        Some(&user.id),
        json!({ "role": role }),
    );
    event.actor = Some("cli".into());
    let view = UserView::from(&user);
    state
        .store
        .insert_user(user, email.normalized(), event, Vec::new())
        .await?;
    Ok(view)
}
