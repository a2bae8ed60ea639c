//! The admin console, `/admin` (issue 21; docs/admin-console.md): pages for
//! the person who runs toktok — users, the audit log, API keys, OAuth
//! clients, webhooks, providers, the mail queue and the settings.
//!
//! **Who may enter** is decided here, once, by [`enter`]: a browser session
//! (the cookie of the hosted `/login`, `http::browser`) of a user whose
//! stored role is `admin`, and whose session is not restricted to enrolling
//! a second factor (`accounts::assurance::enrolment_only`: the rule the
//! `Admin` extractor applies to admin access tokens, so with the default
//! `mfa.required_roles = ["admin"]` an admin needs `aal` 2). A bearer token
//! or API key is never read: pages are for people.
//!
//! **Every action** is a form POST that passes [`enter_form`] (the gate,
//! then the CSRF token) and calls the same `accounts` function the admin
//! JSON API calls, so the same rules and audit events apply, with the
//! admin (`user:<id>`) as the actor. Success is a 303 to a page with a
//! notice; a refusal is the form again with the error beside its field.
//! Destructive actions are confirmed first: a GET on an action's address
//! is its confirmation page, whose form POSTs to the same address.
//!
//! One file per area: `users` (list, detail, edit) and `user_actions`,
//! `audit`, `keys`, `clients`, `webhooks`, `system` (providers, mail,
//! settings), and `settings` (the redacted view of the configuration).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{context, Value};

use super::browser;
use super::hosted::{csrf_refused, error_page, see_other, with_csrf};
use super::listed::Listed;
use super::pages::{self, Lang};
use crate::accounts::{assurance, Authenticated};
use crate::app::AppState;
use crate::error::ApiError;

mod audit;
mod clients;
mod keys;
mod settings;
mod system;
mod user_actions;
mod users;
mod webhooks;

/// The console's routes (plain pages: not in the OpenAPI document).
pub fn routes() -> Listed {
    use user_actions as ua;
    Listed::default()
        .route("/admin", get(users::index))
        .route("/admin/users", get(users::list))
        .route("/admin/users/{id}", get(users::detail).post(ua::edit))
        .route(
            "/admin/users/{id}/disable",
            get(ua::confirm).post(ua::disable),
        )
        .route(
            "/admin/users/{id}/enable",
            get(ua::confirm).post(ua::enable),
        )
        .route(
            "/admin/users/{id}/delete",
            get(ua::confirm).post(ua::delete),
        )
        .route(
            "/admin/users/{id}/logout",
            get(ua::confirm).post(ua::logout),
        )
        .route(
            "/admin/users/{id}/factors",
            get(ua::confirm).post(ua::factors),
        )
        .route(
            "/admin/users/{id}/reset-link",
            get(ua::confirm).post(ua::reset_link),
        )
        .route("/admin/audit", get(audit::page))
        .route("/admin/api-keys", get(keys::list).post(keys::create))
        .route(
            "/admin/api-keys/{id}/revoke",
            get(keys::confirm_revoke).post(keys::revoke),
        )
        .route(
            "/admin/oauth-clients",
            get(clients::list).post(clients::create),
        )
        .route(
            "/admin/oauth-clients/{id}",
            get(clients::edit_page).post(clients::edit),
        )
        .route(
            "/admin/oauth-clients/{id}/secret",
            get(clients::confirm_rotate).post(clients::rotate),
        )
        .route(
            "/admin/oauth-clients/{id}/delete",
            get(clients::confirm_delete).post(clients::delete),
        )
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", get(webhooks::detail))
        .route(
            "/admin/webhooks/{id}/{action}",
            get(webhooks::confirm).post(webhooks::act),
        )
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/retry",
            post(webhooks::retry),
        )
        .route("/admin/providers", get(system::providers))
        .route("/admin/mail", get(system::mail))
        .route("/admin/mail/{id}/retry", post(system::retry))
        .route("/admin/settings", get(system::settings))
}

/// A signed-in administrator on a console page.
pub(super) struct Console {
    pub who: Authenticated,
    pub lang: Lang,
    /// The audit events' actor: `user:<id>`.
    pub actor: String,
}

/// The gate of every console page (module docs): the administrator, or
/// the answer for anyone else — 303 to `/login` without a session, a 403
/// page for a user who is not an admin, and a 403 page pointing to the
/// account center for an admin who still needs a second factor.
pub(super) async fn enter(state: &AppState, headers: &HeaderMap) -> Result<Console, Response> {
    let who = match browser::session(state, headers).await {
        Ok(Some(who)) => who,
        Ok(None) => return Err(see_other("/login")),
        Err(e) => {
            let lang = pages::lang(state, headers, None, None);
            return Err(error_page(state, &lang, &e));
        }
    };
    // The administrator's own language first (docs/languages.md).
    let lang = pages::lang(state, headers, who.user.locale.as_deref(), None);
    // The stored role (read with the session): a demotion counts at once.
    if who.user.role != "admin" {
        return Err(denied(state, &lang, "admin-denied-text", false));
    }
    if assurance::enrolment_only(state, &who) {
        return Err(denied(state, &lang, "admin-denied-mfa-text", true));
    }
    let actor = format!("user:{}", who.user.id);
    Ok(Console { who, lang, actor })
}

/// [`enter`] for a posted form: then its CSRF token must be this
/// browser's (403 page otherwise).
pub(super) async fn enter_form(
    state: &AppState,
    headers: &HeaderMap,
    form: &Fields,
) -> Result<Console, Response> {
    let console = enter(state, headers).await?;
    if !browser::csrf_ok(state, headers, form.get("csrf")) {
        return Err(csrf_refused(state, &console.lang));
    }
    Ok(console)
}

fn denied(state: &AppState, lang: &Lang, text_key: &str, mfa: bool) -> Response {
    let text = lang.text(text_key, &[]);
    pages::render(
        &state.config.branding,
        lang,
        StatusCode::FORBIDDEN,
        "admin_denied.html",
        &lang.text("admin-denied-title", &[]),
        context! { text, mfa },
    )
}

/// A posted form's fields, in order; a name may repeat (checkboxes). Every
/// console form is read this way, so a missing field is an empty value
/// (and a missing CSRF token a 403), never a 400 from the parser.
pub(super) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// The console areas, in the order of the top bar: (path, catalogue key).
const AREAS: &[(&str, &str)] = &[
    ("/admin/users", "admin-nav-users"),
    ("/admin/audit", "admin-nav-audit"),
    ("/admin/api-keys", "admin-nav-keys"),
    ("/admin/oauth-clients", "admin-nav-clients"),
    ("/admin/webhooks", "admin-nav-hooks"),
    ("/admin/providers", "admin-nav-providers"),
    ("/admin/mail", "admin-nav-mail"),
    ("/admin/settings", "admin-nav-settings"),
];

/// The notices a redirect may ask a page to show (`?notice=`), by name: a
/// page never shows text from its address.
const NOTICES: &[&str] = &[
    "updated",
    "unchanged",
    "disabled",
    "enabled",
    "deleted",
    "logged-out",
    "factors-reset",
    "reset-link-sent",
    "reset-link-throttled",
    "key-revoked",
    "client-updated",
    "client-deleted",
    "mail-retried",
    "hook-test-queued",
    "hook-paused",
    "hook-resumed",
    "hook-deleted",
    "hook-retried",
];

/// The text of notice `name`, if it is one of [`NOTICES`].
pub(super) fn notice(lang: &Lang, name: Option<&str>) -> Option<String> {
    let name = name.filter(|n| NOTICES.contains(n))?;
    Some(lang.text(&format!("admin-notice-{name}"), &[]))
}

/// One console page to render.
pub(super) struct View {
    /// The path of the top-bar area it belongs to.
    pub area: &'static str,
    pub template: &'static str,
    pub title: String,
    pub status: StatusCode,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub ctx: Value,
}

impl View {
    pub fn new(area: &'static str, template: &'static str, title: String, ctx: Value) -> Self {
        View {
            area,
            template,
            title,
            status: StatusCode::OK,
            notice: None,
            error: None,
            ctx,
        }
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    pub fn error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }
}

/// Renders `view` in the console frame, with the top bar, the signed-in
/// admin, and a CSRF token (`csrf`) for its forms.
pub(super) fn render(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    view: View,
) -> Response {
    let lang = &console.lang;
    let csrf = match browser::csrf(state, headers) {
        Ok(csrf) => csrf,
        Err(e) => return error_page(state, lang, &e),
    };
    let nav: Vec<Value> = AREAS
        .iter()
        .map(|(href, key)| {
            context! { href => *href, label => lang.text(key, &[]), current => *href == view.area }
        })
        .chain(std::iter::once(context! {
            href => "/logout", label => lang.text("admin-nav-sign-out", &[]), current => false,
        }))
        .collect();
    let ctx = context! {
        nav,
        nav_label => lang.text("admin-nav-label", &[]),
        who => console.who.user.email.as_str(),
        notice => view.notice,
        error => view.error,
        csrf => &csrf.token,
        ..view.ctx
    };
    let response = pages::render(
        &state.config.branding,
        lang,
        view.status,
        view.template,
        &view.title,
        ctx,
    );
    with_csrf(response, csrf)
}

/// A confirmation page: `text` (in the page's language) and a form that
/// POSTs to `action`, with a red button when `danger`; `cancel` goes back.
pub(super) struct Confirm<'a> {
    pub area: &'static str,
    pub title: String,
    pub text: String,
    pub action: &'a str,
    pub cancel: &'a str,
    pub danger: bool,
}

pub(super) fn confirm_page(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    c: Confirm<'_>,
) -> Response {
    let ctx = context! {
        text => c.text,
        action => c.action,
        cancel => c.cancel,
        danger => c.danger,
        button => c.title.clone(),
    };
    let view = View::new(c.area, "admin_confirm.html", c.title, ctx);
    render(state, headers, console, view)
}

/// The page of a refusal that is not about one field (an unknown id, a
/// server fault): the error page in the console's language.
pub(super) fn failed(state: &AppState, console: &Console, e: &ApiError) -> Response {
    error_page(state, &console.lang, e)
}

/// Field errors of a refusal, by form field: the `field` of each
/// `FieldError` up to its first `[` or `.` (`redirect_uris[1]` belongs to
/// `redirect_uris`), with the rule's own words. `None` when the refusal is
/// not about fields.
pub(super) fn field_errors(lang: &Lang, e: &ApiError) -> Option<Vec<(String, String)>> {
    let ApiError::Validation(errors) = e else {
        return None;
    };
    Some(
        errors
            .iter()
            .map(|f| {
                let field = f.field.split(['[', '.']).next().unwrap_or(&f.field);
                let text = lang.text(
                    "admin-error-field",
                    &[("reason", f.message.as_str().into())],
                );
                (field.to_owned(), text)
            })
            .collect(),
    )
}

/// `value` (anything serde can write) as a template value: minijinja is
/// built without its serde feature, so through `serde_json::Value`.
pub(super) fn to_value<T: serde::Serialize>(value: &T) -> Value {
    json_value(&serde_json::to_value(value).unwrap_or(serde_json::Value::Null))
}

fn json_value(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => Value::from(n.as_f64().unwrap_or_default()),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => items.iter().map(json_value).collect(),
        J::Object(map) => Value::from_pairs(map.iter().map(|(k, v)| (k.as_str(), json_value(v)))),
    }
}

/// Audit events as the event table shows them: `detail` as compact JSON.
pub(super) fn events_value(events: &[crate::accounts::admin::AuditView]) -> Value {
    events
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or(serde_json::Value::Null);
            v["detail"] = serde_json::Value::String(e.detail.to_string());
            json_value(&v)
        })
        .collect()
}

/// `errors` as a template value: a map from field to message.
/// Every field a console form may have an error beside: the templates
/// test each (`{% if errors.role %}`), and strict templates refuse a
/// missing key.
const FORM_FIELDS: &[&str] = &[
    "role",
    "name",
    "metadata",
    "app_metadata",
    "email_confirmed",
    "scopes",
    "type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "audience",
    "skip_consent",
    "id_token_signed_response_alg",
    "url",
    "events",
    "description",
];

pub(super) fn errors_value(errors: &[(String, String)]) -> Value {
    let mut map = std::collections::BTreeMap::new();
    for field in FORM_FIELDS {
        map.insert((*field).to_owned(), String::new());
    }
    for (field, text) in errors {
        let slot = map.entry(field.clone()).or_default();
        if slot.is_empty() {
            slot.clone_from(text);
        }
    }
    to_value(&map)
}

#[cfg(test)]
mod tests {
    use crate::i18n::Locale;

    /// Every `admin-…` key the console's Rust files name is in the
    /// catalogues (the templates' keys are checked by `pages::tests`).
    #[test]
    fn every_key_the_console_names_exists() {
        let english = crate::i18n::builtin_arguments(Locale::En).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/console");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for piece in source.split('"').skip(1).step_by(2) {
                let key_like = piece.starts_with("admin-")
                    && piece
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit());
                if key_like && !piece.ends_with('-') {
                    seen += 1;
                    // A stem names its `-title` and `-text` (confirmations).
                    let stem = english.contains_key(&format!("{piece}-title"))
                        && english.contains_key(&format!("{piece}-text"));
                    let known = english.contains_key(piece) || stem;
                    assert!(known, "{piece} is not in the catalogues");
                }
            }
        }
        for notice in super::NOTICES {
            let key = format!("admin-notice-{notice}");
            assert!(english.contains_key(&key), "{key}");
        }
        assert!(seen > 20, "{seen}");
    }
}
