//! Passwordless sign-in with a code sent by email (docs/API.md "Sign-in
//! beyond passwords", `POST /v1/auth/email-code` and its `verify`).
//!
//! A request queues one mail to the address; the mail worker mints, when it
//! sends, one challenge in the Toktok namespace, keyed by (`toktok:email-code`,
//! the address's key), whose secret is a `[email_code] length`-digit code:
//! handed out plain (the code in the mail) and sealed (the link's token).
//! Either verifies the one row, so the first use ends both; wrong codes
//! burn it after `challenges.max_attempts` (E8); concurrent verifications
//! give exactly one success (E2); the row lives `[email_code] ttl`.
//!
//! The request is enumeration-safe like "password forgotten" (L1, TT-05):
//! one answer whatever the address, the same durable write (the address's
//! mail slot, one mail of a kind per address a minute) whether a mail goes
//! or not, and no answer before `email::ANSWER_FLOOR`. A mail goes to an
//! enabled account's address, or, with `create_user` while registration is
//! open, to an address without an account; never otherwise.
//!
//! Verifying proves the address: an unconfirmed account becomes confirmed,
//! and with `create_user` an address without an account gets a new,
//! confirmed account without a password. A disabled account never signs in,
//! whenever it was disabled. A code can be guessed, so verifying one takes
//! a sign-in attempt of the password lockout (L3) first: a wrong code is a
//! failed sign-in, a locked account answers 429 `rate_limited` to a code
//! from a client that is not known, and a success clears the counts. The
//! link's token cannot be guessed and, like a reset link, works for a
//! locked account. Each code also dies after `max_attempts` wrong guesses,
//! and an address gets at most one code a minute.

use serde_json::{json, Value};

use super::email::{self, LinkTokenError};
use super::login::{Assurance, Attempt};
use super::signin::{finish, SignInAnswer};
use super::{new_user_record, parse_email, RequestMeta};
use crate::app::AppState;
use crate::challenge::{Control, Lookup, Namespace, VerifyOptions};
use crate::domain::email::Email;
use crate::error::ApiError;
use crate::mail::{LinkPath, LinkSpec, MailKind, OutgoingMail};
use crate::ratelimit::Bucket;
use crate::store::{StoreError, UserRecord};

/// The challenge action of email codes (the Toktok namespace).
pub const ACTION_EMAIL_CODE: &str = "toktok:email-code";

/// The audit kind of a sign-in by email code.
pub const AUDIT_KIND: &str = "login.email_code";

/// How a client proves it received the mail.
#[derive(Debug)]
pub enum Proof {
    /// The code, with the address it was sent to.
    Code { email: String, code: String },
    /// The token of the mailed link.
    Token(String),
}

/// 404 `feature_disabled` unless `[email_code] enabled` (and mail is on).
pub fn require_enabled(state: &AppState) -> Result<(), ApiError> {
    email::require_email(state)?;
    if state.config.email_code.enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

/// The assurance of an email code: `["otp"]`, `aal` 1.
pub fn assurance() -> Assurance {
    Assurance {
        amr: vec!["otp".to_owned()],
        aal: 1,
        factor: None,
    }
}

/// `POST /v1/auth/email-code`: the same answer, after the same durable
/// write, whatever the address (see the module docs).
pub async fn request_code(
    state: &AppState,
    email: &str,
    create_user: bool,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let started = tokio::time::Instant::now();
    let work = async {
        let queued = request(state, email, create_user, meta).await?;
        Ok(((), queued))
    };
    email::at_floor(state, started, work).await
}

/// True when mail was queued.
async fn request(
    state: &AppState,
    email: &str,
    create_user: bool,
    meta: &RequestMeta,
) -> Result<bool, ApiError> {
    require_enabled(state)?;
    meta.limit(state, Bucket::PasswordForgot).await?;
    let email = parse_email("email", email)?;
    let key = email.normalized();
    let user = state.store.user_by_email_key(&key).await?;
    let metadata = match &user {
        Some(user) if !user.disabled => Some(json!({ "user_id": user.id })),
        Some(_) => None,
        None if create_user && state.config.accounts.registration_open => {
            Some(json!({ "create_user": true, "email": email.as_str() }))
        }
        None => None,
    };
    // Every path claims the address's slot only, in one transaction; the
    // mail, when there is one, is queued in it.
    let mails = match metadata {
        Some(metadata) => vec![OutgoingMail {
            kind: MailKind::EmailCode,
            to: user
                .as_ref()
                .map_or(email.as_str(), |u| u.email.as_str())
                .to_owned(),
            user_id: user.as_ref().map(|u| u.id.clone()),
            link: Some(LinkSpec {
                action: ACTION_EMAIL_CODE.to_owned(),
                id: key.clone(),
                path: LinkPath::EmailCode,
                metadata,
            }),
            vars: json!({}),
            locale: email::mail_locale(user.as_ref(), meta),
        }],
        None => Vec::new(),
    };
    email::queue_per_address(state, mails, MailKind::EmailCode, &key, None, None).await
}

/// `POST /v1/auth/email-code/verify`: consumes the code (or its link) and
/// signs in; every refusal is 400 `invalid_token`.
pub async fn verify(
    state: &AppState,
    proof: Proof,
    meta: &RequestMeta,
) -> Result<SignInAnswer, ApiError> {
    require_enabled(state)?;
    meta.limit(state, Bucket::Login).await?;
    let (lookup, attempt) = match proof {
        Proof::Code { email, code } => {
            let key = parse_email("email", &email)?.normalized();
            // A code can be guessed: take a sign-in attempt first (429 while
            // the account's lockout runs for this client), as a password does.
            let attempt = Attempt::take(state, &key, meta).await?;
            let lookup = Lookup::Secret {
                action: ACTION_EMAIL_CODE.to_owned(),
                id: key,
                secret: code,
            };
            (lookup, Some(attempt))
        }
        Proof::Token(token) => (Lookup::Token(token), None),
    };
    let outcome = verified(state, lookup, meta).await;
    if let Some(attempt) = &attempt {
        // Anything but a refusal (a storage error, an overload) is no
        // guess: the attempt is given back. A refusal stays counted. A
        // right code with a second factor owed gives it back too, clearing
        // nothing (as a password does, `login.rs`).
        let give_back = match &outcome {
            Ok(SignInAnswer::Tokens(_)) => false,
            Ok(SignInAnswer::MfaRequired(_)) => true,
            Err(e) => !matches!(e, ApiError::InvalidLinkToken),
        };
        if give_back {
            attempt.give_back(state).await;
        }
    }
    outcome
}

/// Verifies the code or token, then signs in (or up).
async fn verified(
    state: &AppState,
    lookup: Lookup,
    meta: &RequestMeta,
) -> Result<SignInAnswer, ApiError> {
    let options = VerifyOptions {
        erase: true,
        log: false,
        control: Some(Control {
            id: None,
            action: Some(ACTION_EMAIL_CODE.to_owned()),
        }),
    };
    let record = state
        .challenges
        .verify_in(Namespace::Toktok, lookup, options, None)
        .await
        .map_err(|e| ApiError::from(LinkTokenError(e)))?;
    let key = record.id;
    let user = match state.store.user_by_email_key(&key).await? {
        Some(user) => signing_in(state, user, &record.metadata, meta).await?,
        None => sign_up(state, &key, &record.metadata, meta).await?,
    };
    finish(state, &user, key, None, meta, AUDIT_KIND, assurance()).await
}

/// The account at the address, if it may sign in with this code: enabled,
/// and the account the code was sent for (not one made since). Confirms
/// the address.
async fn signing_in(
    state: &AppState,
    user: UserRecord,
    metadata: &Value,
    meta: &RequestMeta,
) -> Result<UserRecord, ApiError> {
    let sent_for = metadata.get("user_id").and_then(Value::as_str);
    if user.disabled || sent_for.is_some_and(|id| id != user.id) {
        return Err(ApiError::InvalidLinkToken);
    }
    if user.email_confirmed_at.is_some() {
        return Ok(user);
    }
    let now = state.now();
    let event = meta.event(now, "user.confirmed", Some(&user.id), json!({}));
    state
        .store
        .confirm_email(&user.id, now, event)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(ApiError::InvalidLinkToken)
}

/// A new confirmed account without a password, when the code was asked for
/// with `create_user` and registration is still open.
async fn sign_up(
    state: &AppState,
    key: &str,
    metadata: &Value,
    meta: &RequestMeta,
) -> Result<UserRecord, ApiError> {
    let wanted = metadata.get("create_user").and_then(Value::as_bool) == Some(true);
    let email = metadata
        .get("email")
        .and_then(Value::as_str)
        .and_then(|s| Email::parse(s).ok())
        .filter(|e| e.normalized() == key);
    let (true, Some(email), true) = (wanted, email, state.config.accounts.registration_open) else {
        return Err(ApiError::InvalidLinkToken);
    };
    let now = state.now();
    let user = new_user_record(&email, "user", None, Some(now), now);
    let event = meta.event(
        now,
        "user.registered",
        Some(&user.id),
        json!({ "via": "email_code" }),
    );
    match state
        .store
        .insert_user(user.clone(), key.to_owned(), event, Vec::new())
        .await
    {
        Ok(()) => Ok(user),
        // Registered by other means since the code was mailed: the code
        // was not sent for that account.
        Err(StoreError::Conflict(_)) => Err(ApiError::InvalidLinkToken),
        Err(e) => Err(e.into()),
    }
}
