//! `/account`: the overview — profile (name), the email address and its
//! change, the password (change, or set a first one).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{context, Value};
use serde::Deserialize;

use super::{acting, done, done_notice, render, visit, Section, View, Visit};
use crate::accounts::{self, assurance};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::extract::Meta;
use crate::http::hosted::{error_page, PageForm};
use crate::store::ProfileChange;

/// `?done=`: the outcome of the form just posted.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// What the overview's forms show again after a refusal.
#[derive(Default)]
struct Echo<'a> {
    name: Option<&'a str>,
    locale: Option<&'a str>,
    new_email: &'a str,
}

async fn overview(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    view: View,
    echo: Echo<'_>,
) -> Response {
    let user = &v.who.user;
    let policy = &state.config.password;
    let has_password = user.password_hash.is_some();
    // The email, password and delete forms' rule (accounts::profile): a
    // session at aal 2 beside a second factor; without a password, a
    // recent sign-in too. The box is shown before it is needed.
    let needed = if has_password {
        assurance::require_factor_if_enrolled(state, &v.who).await
    } else {
        assurance::require_recent(state, &v.who).await
    };
    let reauth = match needed {
        Ok(()) => None,
        Err(ApiError::ReauthenticationRequired) => {
            match super::reauth_ctx(state, &v.who, Section::Overview).await {
                Ok(ctx) => Some(ctx),
                Err(e) => return error_page(state, &v.lang, &e),
            }
        }
        Err(e) => return error_page(state, &v.lang, &e),
    };
    let chosen = echo
        .locale
        .map(str::to_owned)
        .or_else(|| user.locale.clone())
        .unwrap_or_default();
    // Each language by its own name; "" is the browser's choice.
    let locales: Vec<Value> = [
        ("en", "English"),
        ("fr", "Français"),
        ("de", "Deutsch"),
        ("es", "Español"),
    ]
    .into_iter()
    .map(|(tag, label)| context! { tag, label, selected => chosen == tag })
    .collect();
    let ctx = context! {
        locales,
        locale_default => chosen.is_empty(),
        name => echo.name.map(str::to_owned).or_else(|| user.name.clone()).unwrap_or_default(),
        email => &user.email,
        confirmed => user.email_confirmed_at.map(super::when_unix),
        new_email => echo.new_email,
        mail_on => accounts::email::require_email(state).is_ok(),
        has_password,
        min => policy.min_length,
        max => policy.max_length,
        reauth,
        ..view.ctx.clone()
    };
    render(state, headers, v, view.ctx(ctx))
}

fn view() -> View {
    View::new(
        Section::Overview,
        "account_overview.html",
        "account-overview-title",
    )
}

/// `GET /account`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut view = view();
    view.notice = done_notice(&v.lang, q.done.as_deref());
    overview(&state, &headers, &v, view, Echo::default()).await
}

/// The profile form.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    /// A language tag, or empty for the browser's own choice.
    #[serde(default)]
    pub locale: String,
}

/// `POST /account/profile`: the name and the language, through
/// `accounts::update_profile` (what `PATCH /v1/users/me` calls); an empty
/// name or language clears it.
pub async fn save_profile(
    State(state): State<AppState>,
    headers: HeaderMap,
    Meta(meta): Meta,
    PageForm(form): PageForm<ProfileForm>,
) -> Response {
    let v = match acting(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let name = form.name.trim();
    let change = ProfileChange {
        name: Some((!name.is_empty()).then(|| name.to_owned())),
        metadata: None,
        locale: Some((!form.locale.is_empty()).then(|| form.locale.clone())),
    };
    match accounts::update_profile(&state, &v.who, change, &meta).await {
        Ok(_) => done(Section::Overview, "profile"),
        Err(e) => {
            let field = match &e {
                ApiError::Validation(f) if f.iter().all(|f| f.field == "locale") => "locale",
                _ => "name",
            };
            failed(
                &state,
                &headers,
                &v,
                &e,
                field,
                Echo {
                    name: Some(&form.name),
                    locale: Some(&form.locale),
                    ..Echo::default()
                },
            )
            .await
        }
    }
}

/// The page again after `e`, beside `field`; a server fault's page.
async fn failed(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    e: &ApiError,
    field: &'static str,
    echo: Echo<'_>,
) -> Response {
    if e.parts().0.is_server_error() {
        return error_page(state, &v.lang, e);
    }
    let field = match e {
        ApiError::ReauthenticationRequired | ApiError::FeatureDisabled => None,
        _ => Some(field),
    };
    let view = view().failed(&v.lang, e, field);
    overview(state, headers, v, view, echo).await
}

/// The email-change form.
#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    pub csrf: String,
    pub new_email: String,
    /// The current password (absent for an account without one).
    #[serde(default)]
    pub password: Option<String>,
}

/// `POST /account/email`: `accounts::email::request_email_change`, what
/// `POST /v1/users/me/email` calls; the address changes when the link
/// sent to it is followed.
pub async fn change_email(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<EmailForm>,
) -> Response {
    let v = match acting(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let password = form.password.filter(|p| !p.is_empty());
    let result =
        accounts::email::request_email_change(&state, &v.who, &form.new_email, password, &meta)
            .await;
    match result {
        Ok(()) => done(Section::Overview, "email"),
        Err(e) => {
            let field = match &e {
                ApiError::WrongPassword => "email_password",
                ApiError::Validation(f) if f.iter().any(|f| f.field == "password") => {
                    "email_password"
                }
                _ => "new_email",
            };
            let echo = Echo {
                new_email: &form.new_email,
                ..Echo::default()
            };
            failed(&state, &headers, &v, &e, field, echo).await
        }
    }
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub csrf: String,
    /// Absent when the account has no password yet.
    #[serde(default)]
    pub current_password: Option<String>,
    pub new_password: String,
}

/// `POST /account/password`: `accounts::change_password`, what `POST
/// /v1/users/me/password` calls: a change checked against the current
/// password, or a first password under recent authentication; the
/// user's other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<PasswordForm>,
) -> Response {
    let v = match acting(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let current = form.current_password.filter(|p| !p.is_empty());
    match accounts::change_password(&state, &v.who, current, form.new_password, &meta).await {
        Ok(()) => done(Section::Overview, "password"),
        Err(e) => {
            let field = match &e {
                ApiError::WrongPassword => "current_password",
                ApiError::Validation(f) if f.iter().any(|f| f.field == "current_password") => {
                    "current_password"
                }
                _ => "new_password",
            };
            failed(&state, &headers, &v, &e, field, Echo::default()).await
        }
    }
}
