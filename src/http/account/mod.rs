//! The account center (issue 21; docs/account-center.md): server-rendered
//! pages under `/account` where a person signed in on `/login` manages
//! their own account — profile, email, password, passkeys, TOTP, recovery
//! codes, sessions, connected providers, apps, and their security log.
//!
//! These pages are another face of the JSON API, not a second set of
//! rules: every form checks its CSRF token (`browser::csrf_ok`), then calls
//! the same `accounts` function the `/v1/users/me*` handler calls, with
//! the same reauthentication (`assurance::require_recent` where the handler
//! applies it), rate limits and audit. A success answers 303 back to the
//! page with `?done=<what>`; a refusal renders the page again with the
//! message beside its field and the status the API would answer. A GET
//! never changes anything: a destructive action has a confirmation page
//! (GET) whose form posts it. Without a browser session every GET goes to
//! `/login` (303).
//!
//! One file per area: `profile` (overview, email, password), `security`
//! (TOTP, recovery codes, reauthentication), `passkeys`, `sessions`,
//! `connections` (providers and apps), `activity` (the security log).

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{context, Value};

use super::browser;
use super::hosted::{csrf_refused, error_page, see_other, with_csrf};
use super::listed::Listed;
use super::pages::{self, Lang};
use crate::accounts::Authenticated;
use crate::app::AppState;
use crate::error::ApiError;

mod activity;
mod connections;
mod passkeys;
mod profile;
mod security;
mod sessions;

/// The account center's routes (registered by `crate::router`).
pub fn router() -> Listed {
    Listed::default()
        .route("/account", get(profile::page))
        .route("/account/profile", post(profile::save_profile))
        .route("/account/email", post(profile::change_email))
        .route("/account/password", post(profile::change_password))
        .route("/account/reauth", post(security::reauth))
        .route("/account/security", get(security::page))
        .route("/account/totp", post(security::totp_begin))
        .route("/account/totp/confirm", post(security::totp_confirm))
        .route(
            "/account/totp/remove",
            get(security::totp_remove_page).post(security::totp_remove),
        )
        .route("/account/recovery-codes", post(security::recovery_codes))
        .route(
            "/account/passkeys/new",
            get(passkeys::new_page).post(passkeys::register),
        )
        .route("/account/passkeys/{id}/rename", post(passkeys::rename))
        .route(
            "/account/passkeys/{id}/remove",
            get(passkeys::remove_page).post(passkeys::remove),
        )
        .route("/account/sessions", get(sessions::page))
        .route(
            "/account/sessions/{id}/end",
            get(sessions::end_page).post(sessions::end),
        )
        .route(
            "/account/sessions/end-others",
            get(sessions::end_others_page).post(sessions::end_others),
        )
        .route("/account/connections", get(connections::page))
        .route(
            "/account/identities/{id}/unlink",
            get(connections::unlink_page).post(connections::unlink),
        )
        .route("/account/providers/{id}/link", post(connections::link))
        .route(
            "/account/providers/linked",
            get(connections::linked_page).post(connections::linked),
        )
        .route(
            "/account/apps/{client_id}/revoke",
            get(connections::revoke_page).post(connections::revoke),
        )
        .route("/account/activity", get(activity::page))
}

/// The sections of the account center, in the order of its top bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Security,
    Sessions,
    Connections,
    Activity,
}

impl Section {
    const ALL: [Section; 5] = [
        Section::Overview,
        Section::Security,
        Section::Sessions,
        Section::Connections,
        Section::Activity,
    ];

    fn href(self) -> &'static str {
        match self {
            Section::Overview => "/account",
            Section::Security => "/account/security",
            Section::Sessions => "/account/sessions",
            Section::Connections => "/account/connections",
            Section::Activity => "/account/activity",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Section::Overview => "account-nav-overview",
            Section::Security => "account-nav-security",
            Section::Sessions => "account-nav-sessions",
            Section::Connections => "account-nav-connections",
            Section::Activity => "account-nav-activity",
        }
    }

    /// The section a `next` path names, if it is one of the pages (so a
    /// redirect after a form is only ever to one of them).
    fn from_path(path: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.href() == path)
    }
}

/// The signed-in person of a page and the page's language.
pub struct Visit {
    pub who: Authenticated,
    pub lang: Lang,
}

/// The language of a page for `who`: their own `locale` first, then the
/// browser's (`pages::lang`).
fn lang_for(state: &AppState, headers: &HeaderMap, who: Option<&Authenticated>) -> Lang {
    let user_locale = who.and_then(|w| w.user.locale.as_deref());
    pages::lang(state, headers, user_locale, None)
}

/// The browser's session, or the answer to give instead: 303 to `/login`
/// without one, an error page when the store fails.
pub async fn visit(state: &AppState, headers: &HeaderMap) -> Result<Visit, Box<Response>> {
    match browser::session(state, headers).await {
        Ok(Some(who)) => {
            let lang = lang_for(state, headers, Some(&who));
            Ok(Visit { who, lang })
        }
        Ok(None) => Err(Box::new(see_other("/login"))),
        Err(e) => {
            let lang = lang_for(state, headers, None);
            Err(Box::new(error_page(state, &lang, &e)))
        }
    }
}

/// A posted form's CSRF token, then the browser session: the 403 page, the
/// 303 to `/login`, or the visit. The token is checked first, so a forged
/// post learns nothing about the session.
pub async fn posted(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Visit, Box<Response>> {
    if !browser::csrf_ok(state, headers, csrf) {
        let lang = lang_for(state, headers, None);
        return Err(Box::new(csrf_refused(state, &lang)));
    }
    visit(state, headers).await
}

/// [`posted`] for an action that a session which may only enrol a second
/// factor cannot take: both checks, in that order.
pub async fn acting(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Visit, Box<Response>> {
    let v = posted(state, headers, csrf).await?;
    not_enrolment_only(state, &v)?;
    Ok(v)
}

/// Refuses (403 page) an action a session that may only enrol a second
/// factor cannot take (`accounts::assurance::enrolment_only`, as the JSON
/// API's `Auth` does).
pub fn not_enrolment_only(state: &AppState, v: &Visit) -> Result<(), Box<Response>> {
    if crate::accounts::assurance::enrolment_only(state, &v.who) {
        return Err(Box::new(error_page(
            state,
            &v.lang,
            &ApiError::SecondFactorRequired,
        )));
    }
    Ok(())
}

/// What one rendering of an account page needs besides the visit.
pub struct View {
    pub section: Section,
    pub template: &'static str,
    pub title_key: &'static str,
    pub status: StatusCode,
    pub ctx: Value,
    /// Messages beside fields, by field name.
    pub errors: BTreeMap<&'static str, String>,
    /// A message above the page.
    pub error: Option<String>,
    pub notice: Option<String>,
    pub script: Option<&'static str>,
}

impl View {
    pub fn new(section: Section, template: &'static str, title_key: &'static str) -> View {
        View {
            section,
            template,
            title_key,
            status: StatusCode::OK,
            ctx: context! {},
            errors: BTreeMap::new(),
            error: None,
            notice: None,
            script: None,
        }
    }

    pub fn ctx(mut self, ctx: Value) -> View {
        self.ctx = ctx;
        self
    }

    /// The page again after `e`, with its message beside `field` (or above
    /// the page when `field` is `None` or the error names no field).
    pub fn failed(mut self, lang: &Lang, e: &ApiError, field: Option<&'static str>) -> View {
        self.status = e.parts().0;
        let text = error_text(lang, e);
        match field {
            Some(field) if !matches!(e, ApiError::RateLimited(_) | ApiError::Throttled(_)) => {
                self.errors.insert(field, text);
            }
            _ => self.error = Some(text),
        }
        self
    }
}

/// Every field name a form of the account center may show an error
/// beside; each is in the template's `errors` (empty when fine), so a
/// template can test any of them.
const FIELDS: &[&str] = &[
    "name",
    "locale",
    "new_email",
    "email_password",
    "current_password",
    "new_password",
    "reauth",
    "code",
    "passkey_name",
    "passkey",
];

/// A refusal in words for a person, in the page's language: the hosted
/// pages' sentence, made precise where the account center knows more.
pub fn error_text(lang: &Lang, e: &ApiError) -> String {
    match e {
        ApiError::ReauthenticationRequired => lang.text("account-error-reauth", &[]),
        ApiError::SecondFactorRequired => lang.text("account-error-enrol-first", &[]),
        ApiError::WrongPassword => lang.text("account-error-wrong-password", &[]),
        ApiError::InvalidCredentials => lang.text("account-error-wrong-code", &[]),
        ApiError::NotFound => lang.text("account-error-not-found", &[]),
        ApiError::Conflict(_) => lang.text("account-error-conflict", &[]),
        ApiError::Validation(fields) => {
            let field = fields.first().map(|f| f.field.as_str()).unwrap_or("");
            let key = match field {
                "name" => "account-invalid-name",
                "locale" => "account-invalid-locale",
                "new_email" | "email" => "account-invalid-email",
                "code" => "account-invalid-code",
                "current_password" | "password" => "account-invalid-password",
                "redirect_to" => "account-invalid-redirect",
                _ => return pages::error_text(lang, e),
            };
            lang.text(key, &[])
        }
        other => pages::error_text(lang, other),
    }
}

/// Renders an account page for the visit: the top bar, the signed-in
/// person, the CSRF token, the notice of `?done=`, and the view's own
/// context; with the protective headers of every page.
pub fn render(state: &AppState, headers: &HeaderMap, v: &Visit, view: View) -> Response {
    let lang = &v.lang;
    let csrf = match browser::csrf(state, headers) {
        Ok(csrf) => csrf,
        Err(e) => return error_page(state, lang, &e),
    };
    let mut nav: Vec<Value> = Section::ALL
        .iter()
        .map(|s| {
            context! {
                href => s.href(),
                label => lang.text(s.key(), &[]),
                current => *s == view.section,
            }
        })
        .collect();
    if v.who.user.role == "admin" {
        nav.push(context! {
            href => "/admin",
            label => lang.text("account-nav-admin", &[]),
            current => false,
        });
    }
    let mut errors: BTreeMap<&str, String> = FIELDS.iter().map(|f| (*f, String::new())).collect();
    errors.extend(view.errors);
    let who = v
        .who
        .user
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| v.who.user.email.clone());
    let ctx = context! {
        nav,
        nav_label => lang.text("account-nav-label", &[]),
        who,
        notice => view.notice,
        error => view.error,
        errors,
        csrf => &csrf.token,
        enrolment_only => crate::accounts::assurance::enrolment_only(state, &v.who),
        ..view.ctx
    };
    let title = lang.text(view.title_key, &[]);
    let response = pages::render_with_script(
        &state.config.branding,
        lang,
        view.status,
        view.template,
        &title,
        ctx,
        view.script,
    );
    with_csrf(response, csrf)
}

/// The notice for `?done=<what>`: only the account center's own outcomes
/// (anything else shows nothing).
pub fn done_notice(lang: &Lang, done: Option<&str>) -> Option<String> {
    const DONE: &[&str] = &[
        "profile",
        "email",
        "password",
        "reauth",
        "totp",
        "totp-removed",
        "passkey",
        "passkey-renamed",
        "passkey-removed",
        "session-ended",
        "sessions-ended",
        "unlinked",
        "linked",
        "revoked",
    ];
    let done = done?;
    DONE.contains(&done)
        .then(|| lang.text(&format!("account-done-{done}"), &[]))
}

/// 303 back to `section` with `?done=<what>`.
pub fn done(section: Section, what: &str) -> Response {
    see_other(&format!("{}?done={what}", section.href()))
}

/// A date and time for a person: `2026-12-04 15:00 UTC` (from RFC 3339).
pub fn when(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(minutes) => format!("{} UTC", minutes.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

/// A unix time for a person, like [`when`].
pub fn when_unix(unix: i64) -> String {
    when(&crate::clock::rfc3339(unix))
}

/// The generic confirmation page of a destructive action: its question,
/// what it is about, and a form posting `action`.
pub struct Confirm<'a> {
    pub section: Section,
    pub title_key: &'static str,
    pub text: String,
    pub action: String,
    pub button_key: &'static str,
    pub back: &'a str,
}

/// Renders a [`Confirm`] page.
pub fn confirm_page(state: &AppState, headers: &HeaderMap, v: &Visit, c: Confirm<'_>) -> Response {
    let lang = &v.lang;
    let ctx = context! {
        text => c.text,
        action => c.action,
        button => lang.text(c.button_key, &[]),
        back => c.back,
    };
    let view = View::new(c.section, "account_confirm.html", c.title_key).ctx(ctx);
    render(state, headers, v, view)
}

/// Whether the session meets the (R) rule now (`require_recent`), for the
/// pages that show the reauthentication box before it is needed.
pub async fn recent(state: &AppState, who: &Authenticated) -> Result<bool, ApiError> {
    match crate::accounts::assurance::require_recent(state, who).await {
        Ok(()) => Ok(true),
        Err(ApiError::ReauthenticationRequired) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What the reauthentication box asks for: a code when the user has a
/// second factor (a password alone never raises the session to `aal` 2),
/// else the password, else (no password, no second factor) signing in
/// again.
pub async fn reauth_ctx(
    state: &AppState,
    who: &Authenticated,
    next: Section,
) -> Result<Value, ApiError> {
    let factors = state.store.factor_summary(&who.user.id).await?;
    let ask = if factors.totp || factors.recovery_codes > 0 {
        "code"
    } else if factors.has_second_factor() {
        "again"
    } else if who.user.password_hash.is_some() {
        "password"
    } else {
        "again"
    };
    Ok(context! { ask, next => next.href() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_reads_as_minutes_in_utc() {
        assert_eq!(when("2026-12-04T15:00:59Z"), "2026-12-04 15:00 UTC");
        assert_eq!(when("odd"), "odd");
    }

    #[test]
    fn a_next_path_is_one_of_the_sections() {
        assert_eq!(
            Section::from_path("/account/security"),
            Some(Section::Security)
        );
        assert_eq!(Section::from_path("https://evil.example/"), None);
        assert_eq!(Section::from_path("//evil.example"), None);
    }
}
