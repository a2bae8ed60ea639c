//! The account rules: register, sign in, refresh, sign out, profile,
//! password and sessions.
//!
//! HTTP handlers parse requests and call these functions; everything that is
//! a rule of an auth server (enumeration-safe answers, lockout, rotation and
//! reuse detection, which sessions end when) lives here, once. One file per
//! flow: `register`, `login` (with the lockout), `refresh`, `profile`,
//! `sessions`, [`email`] (links and address changes), [`admin`],
//! [`anonymous`], and [`tokens`] (what every sign-in hands out); the flows'
//! entry points are re-exported here. This file holds what they
//! share: who is asking ([`RequestMeta`]), who is signed in
//! ([`Authenticated`], [`authenticate`]), the user object ([`UserView`]) and
//! the field checks.

pub mod admin;
pub mod admin_console;
pub mod anonymous;
pub mod assurance;
pub mod claims;
pub mod email;
pub mod email_code;
pub mod factors;
pub mod factors_reset;
pub mod identities;
pub mod import;
mod login;
pub mod mfa;
pub mod oauth_clients;
pub mod passkeys;
mod profile;
pub mod reauth;
pub mod recovery;
pub mod refresh;
mod register;
mod sessions;
pub mod signin;
pub mod tokens;
pub mod totp;
pub mod webhooks;

use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::jwt::{TokenKind, Validation, FIRST_PARTY_CLIENT_ID};
use crate::clock::rfc3339;
use crate::domain::email::Email;
use crate::domain::locale::Locale;
use crate::domain::metadata::Metadata;
use crate::domain::name::Name;
use crate::error::{ApiError, FieldError};
use crate::ratelimit::Bucket;
use crate::store::{AuditEvent, SessionRecord, UserRecord};

pub use login::{login, verify_current_password, KNOWN_CLIENT_SECS};
pub use profile::{change_password, confirm_identity, delete_account, update_profile};
pub use refresh::refresh;
use register::new_user_record;
pub use register::{create_user, register, Registered, Registration};
pub use sessions::{end_other_sessions, end_session, logout, logout_all, sessions, SessionView};
pub use tokens::TokenResponse;

/// Clock skew allowed on token times (J2 caps it at 60 s).
pub(crate) const LEEWAY_SECS: i64 = 30;

/// Who is asking: for audit events, rate limits and the sessions list.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The language the request asked for: its `Accept-Language`, or on a
    /// hosted page the page's language (which follows `ui_locales` too);
    /// `None` when it named none toktok speaks. Mail the request causes is
    /// in it unless the recipient chose their own (`email::mail_locale`).
    pub locale: Option<Locale>,
}

impl RequestMeta {
    /// This request as a page that negotiated `locale` for it (from
    /// `ui_locales` too, or the default) sees it: mail it causes is in the
    /// page's language.
    pub fn in_language(self, locale: Locale) -> RequestMeta {
        RequestMeta {
            locale: Some(locale),
            ..self
        }
    }

    /// An audit event of this request's client.
    pub(crate) fn event(
        &self,
        at: i64,
        kind: &'static str,
        user_id: Option<&str>,
        detail: Value,
    ) -> AuditEvent {
        AuditEvent {
            at,
            kind,
            user_id: user_id.map(str::to_owned),
            actor: None,
            ip: self.ip.map(|ip| ip.to_string()),
            user_agent: self.user_agent.clone(),
            detail,
        }
    }

    async fn limit(&self, state: &AppState, bucket: Bucket) -> Result<(), ApiError> {
        match self.ip {
            Some(ip) => state
                .limiter
                .take(bucket, ip)
                .await
                .map_err(ApiError::RateLimited),
            None => Ok(()),
        }
    }
}

/// The user object of docs/API.md.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = User)]
pub struct UserView {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = Email)]
    pub email: String,
    pub email_confirmed: bool,
    #[schema(required = true)]
    pub name: Option<String>,
    pub role: String,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// The user's own language for pages and mails (`en`, `fr`, `de`,
    /// `es`); `null` lets each request choose (docs/languages.md).
    #[schema(required = true, example = "fr")]
    pub locale: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            email_confirmed: u.email_confirmed_at.is_some(),
            name: u.name.clone(),
            role: u.role.clone(),
            metadata: u.metadata.clone(),
            locale: u.locale.clone(),
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

/// A signed-in user on one of toktok's own routes: the access token was
/// valid and its session is still live.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserRecord,
    pub session: SessionRecord,
}
fn parse_email(field: &str, raw: &str) -> Result<Email, ApiError> {
    Email::parse(raw).map_err(|e| ApiError::field(field, e.to_string()))
}

/// The `name` of a request, parsed into a [`Name`]; a refusal is
/// collected into `errors` under `name`.
fn parse_name(raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<Name> {
    match raw.map(Name::parse).transpose() {
        Ok(name) => name,
        Err(e) => {
            errors.push(FieldError::new("name", e.to_string()));
            None
        }
    }
}

/// A user-supplied document (`metadata`, `app_metadata`), parsed into a
/// [`Metadata`]; a refusal is collected into `errors` under `field`.
fn parse_metadata(
    field: &str,
    raw: Option<Value>,
    errors: &mut Vec<FieldError>,
) -> Option<Metadata> {
    match raw.map(Metadata::parse).transpose() {
        Ok(metadata) => metadata,
        Err(e) => {
            errors.push(FieldError::new(field, e.to_string()));
            None
        }
    }
}

/// The `locale` of a PATCH: `Some(None)` clears it, `Some(Some(tag))`
/// sets one of the languages toktok speaks, exactly as
/// [`Locale::as_str`] spells it; anything else is collected into `errors`.
fn parse_locale(
    raw: Option<Option<String>>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    match raw {
        Some(Some(tag)) => match Locale::ALL.into_iter().find(|l| l.as_str() == tag) {
            Some(locale) => Some(Some(locale.as_str().to_owned())),
            None => {
                let known: Vec<&str> = Locale::ALL.iter().map(|l| l.as_str()).collect();
                errors.push(FieldError::new(
                    "locale",
                    format!("must be one of {} (or null)", known.join(", ")),
                ));
                None
            }
        },
        other => other,
    }
}

#[cfg(feature = "fuzzing")]
/// The `name` check alone, as [`parse_name`] makes it (`crate::fuzzing`).
pub(crate) fn check_name(name: &Option<String>) -> Result<(), FieldError> {
    let mut errors = Vec::new();
    parse_name(name.clone(), &mut errors);
    errors.pop().map_or(Ok(()), Err)
}

#[cfg(feature = "fuzzing")]
/// The document check alone, as [`parse_metadata`] makes it
/// (`crate::fuzzing`).
pub(crate) fn check_metadata(field: &str, metadata: &Value) -> Result<(), FieldError> {
    let mut errors = Vec::new();
    parse_metadata(field, Some(metadata.clone()), &mut errors);
    errors.pop().map_or(Ok(()), Err)
}

fn collect(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}
fn validation(state: &AppState, kind: TokenKind) -> Validation {
    Validation {
        issuer: state.config.jwt.issuer.clone(),
        audience: state.config.jwt.audience.clone(),
        leeway: LEEWAY_SECS,
        kind,
    }
}

/// Checks an access token and that its session is still live (J5).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Authenticated, ApiError> {
    let now = state.now();
    let claims = state
        .keys()
        .verify(token, &validation(state, TokenKind::Access), now)?;
    // An OAuth client's access token is for resource servers and
    // `/oauth/userinfo`, not for toktok's own API (changing a password,
    // ending sessions). Pre-1.1 tokens carry no `client_id`.
    if claims
        .client_id
        .as_deref()
        .is_some_and(|client| client != FIRST_PARTY_CLIENT_ID)
    {
        return Err(ApiError::InvalidToken);
    }
    let sid = claims.sid.as_deref().ok_or(ApiError::InvalidToken)?;
    let (session, user) = state
        .store
        .live_session(sid, now)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if session.user_id != claims.sub || session.client_id.is_some() {
        return Err(ApiError::InvalidToken);
    }
    Ok(Authenticated { user, session })
}
