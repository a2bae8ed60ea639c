//! The users of the console: the list with its search (`GET /admin/users`,
//! the admin API's `GET /v1/admin/users`: an exact, case-insensitive email,
//! or an id; pages by the `after` cursor) and one user's page (`GET
//! /admin/users/{id}`: the user, the edit form, sessions, factors, linked
//! identities, the audit trail and the actions).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::{enter, errors_value, failed, notice, render, to_value, Console, View};
use crate::accounts::admin::{self, AdminUserView, UserPage};
use crate::accounts::admin_console;
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::hosted::see_other;

/// How many events of a user's audit trail the user's page shows.
const TRAIL: &str = "20";

/// The query string's pairs (an unreadable one is no pairs).
pub(super) fn query(raw: Option<String>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default()
}

/// The value of `name` in `pairs`, or "".
pub(super) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `GET /admin`: the console opens on the users.
pub(super) async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match enter(&state, &headers).await {
        Ok(_) => see_other("/admin/users"),
        Err(page) => page,
    }
}

/// Finds users: nothing typed lists everyone; an id finds that user; else
/// the text is an email address, matched as the admin API matches it.
async fn search(state: &AppState, q: &str, after: &str) -> Result<UserPage, ApiError> {
    let after = Some(after).filter(|a| !a.is_empty());
    if q.is_empty() {
        return admin::list_users(state, None, None, after).await;
    }
    if uuid::Uuid::parse_str(q).is_ok() && !q.contains('@') {
        return match admin::get_user(state, q).await {
            Ok(user) => Ok(UserPage {
                users: vec![user],
                next: None,
            }),
            Err(ApiError::NotFound) => Ok(UserPage {
                users: Vec::new(),
                next: None,
            }),
            Err(e) => Err(e),
        };
    }
    admin::list_users(state, Some(q), None, after).await
}

/// `GET /admin/users?q=&after=`.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let pairs = query(raw);
    let q = param(&pairs, "q").trim();
    let lang = &console.lang;
    let (page, error, status) = match search(&state, q, param(&pairs, "after")).await {
        Ok(page) => (page, None, StatusCode::OK),
        Err(e @ ApiError::Validation(_)) => (
            UserPage {
                users: Vec::new(),
                next: None,
            },
            Some(lang.text("admin-users-bad-cursor", &[])),
            e.parts().0,
        ),
        Err(e) => return failed(&state, &console, &e),
    };
    let next = page
        .next
        .as_ref()
        .map(|n| format!("/admin/users?{}", pairs_query(&[("q", q), ("after", n)])));
    let ctx = context! {
        q,
        users => to_value(&page.users),
        next,
        searched => !q.is_empty(),
    };
    let view = View::new(
        "/admin/users",
        "admin_users.html",
        lang.text("admin-users-title", &[]),
        ctx,
    )
    .status(status)
    .error(error)
    .notice(notice(lang, Some(param(&pairs, "notice"))));
    render(&state, &headers, &console, view)
}

/// A query string of `pairs`, empty values left out.
pub(super) fn pairs_query(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// What the edit form shows: the values to put in it (as stored, or as
/// posted after a refusal) and the errors beside its fields.
#[derive(Default)]
pub(super) struct EditForm {
    pub role: String,
    pub name: String,
    pub metadata: String,
    pub app_metadata: String,
    pub email_confirmed: bool,
    pub errors: Vec<(String, String)>,
    /// A refusal of an action that is not about one field.
    pub error: Option<String>,
}

impl EditForm {
    /// The form for `user` as stored.
    pub fn of(user: &AdminUserView) -> EditForm {
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
        EditForm {
            role: user.user.role.clone(),
            name: user.user.name.clone().unwrap_or_default(),
            metadata: pretty(&user.user.metadata),
            app_metadata: pretty(&user.app_metadata),
            email_confirmed: user.user.email_confirmed,
            errors: Vec::new(),
            error: None,
        }
    }
}

/// `GET /admin/users/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let pairs = query(raw);
    let user = match admin::get_user(&state, &id).await {
        Ok(user) => user,
        Err(e) => return failed(&state, &console, &e),
    };
    let form = EditForm::of(&user);
    let message = notice(&console.lang, Some(param(&pairs, "notice")));
    user_page(
        &state,
        &headers,
        &console,
        &user,
        form,
        message,
        StatusCode::OK,
    )
    .await
}

/// The user's page with `form` in its edit form.
pub(super) async fn user_page(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    user: &AdminUserView,
    form: EditForm,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = &console.lang;
    let record = match state.store.user_by_id(&user.user.id).await {
        Ok(Some(record)) => record,
        Ok(None) => return failed(state, console, &ApiError::NotFound),
        Err(e) => return failed(state, console, &e.into()),
    };
    let detail = match admin_console::user_detail(state, &record).await {
        Ok(detail) => detail,
        Err(e) => return failed(state, console, &e),
    };
    let trail = match admin::audit(state, Some(&user.user.id), None, Some(TRAIL), None).await {
        Ok(page) => page,
        Err(e) => return failed(state, console, &e),
    };
    let error = form
        .error
        .clone()
        .or_else(|| (!form.errors.is_empty()).then(|| lang.text("admin-error-form", &[])));
    let ctx = context! {
        u => to_value(user),
        form => context! {
            role => form.role,
            name => form.name,
            metadata => form.metadata,
            app_metadata => form.app_metadata,
            email_confirmed => form.email_confirmed,
        },
        errors => errors_value(&form.errors),
        sessions => to_value(&detail.sessions),
        totp_since => detail.totp_since,
        passkeys => to_value(&detail.passkeys),
        recovery_remaining => detail.recovery_remaining,
        identities => to_value(&detail.identities),
        events => super::events_value(&trail.events),
        more_events => trail.next.is_some(),
        is_self => user.user.id == console.who.user.id,
    };
    let title = lang.text(
        "admin-user-title",
        &[("email", user.user.email.as_str().into())],
    );
    let view = View::new("/admin/users", "admin_user.html", title, ctx)
        .status(status)
        .notice(message)
        .error(error);
    render(state, headers, console, view)
}
