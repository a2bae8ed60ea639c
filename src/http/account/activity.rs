//! `/account/activity`: the user's own security log — their events from
//! the audit table, newest first, twenty a page, each kind said as a
//! phrase in the page's language.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{context, Value};
use serde::Deserialize;

use super::{render, visit, when, Section, View};
use crate::accounts::admin;
use crate::app::AppState;
use crate::http::hosted::error_page;
use crate::http::pages::Lang;

/// Events a page shows.
const PAGE: &str = "20";

/// The audit kinds with a phrase of their own (`account-event-<kind>`,
/// dots and underscores as dashes); any other shows as its kind.
const KINDS: &[&str] = &[
    "user.registered",
    "user.confirmed",
    "user.updated",
    "user.disabled",
    "login.succeeded",
    "login.failed",
    "login.locked",
    "login.passkey",
    "login.email_code",
    "login.provider",
    "logout",
    "refresh.reused",
    "session.ended",
    "sessions.ended_all",
    "password.changed",
    "password.reset_requested",
    "password.reset",
    "email.change_requested",
    "email.changed",
    "mfa.challenged",
    "mfa.succeeded",
    "mfa.failed",
    "totp.enabled",
    "totp.disabled",
    "recovery_codes.generated",
    "recovery_code.used",
    "passkey.added",
    "passkey.removed",
    "factors.reset",
    "reauthenticated",
    "identity.linked",
    "identity.unlinked",
    "oauth.consent_granted",
    "oauth.consent_revoked",
    "oauth.authorized",
    "oauth.token_issued",
];

/// The phrase for an audit `kind` in `lang`.
pub fn phrase(lang: &Lang, kind: &str) -> String {
    if KINDS.contains(&kind) {
        let key = format!("account-event-{}", kind.replace(['.', '_'], "-"));
        lang.text(&key, &[])
    } else {
        kind.to_owned()
    }
}

/// `?after=`: the `next` of the page before.
#[derive(Debug, Deserialize)]
pub struct AfterQuery {
    #[serde(default)]
    pub after: Option<String>,
}

/// `GET /account/activity`: `admin::audit` for this user alone (what
/// `GET /v1/admin/audit?user_id=` reads).
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let listed = admin::audit(
        &state,
        Some(&v.who.user.id),
        None,
        Some(PAGE),
        q.after.as_deref(),
    )
    .await;
    let page = match listed {
        Ok(page) => page,
        Err(e) => return error_page(&state, &v.lang, &e),
    };
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|e| {
            context! {
                at => when(&e.at),
                what => phrase(&v.lang, &e.kind),
                kind => &e.kind,
                ip => &e.ip,
                user_agent => &e.user_agent,
                by_admin => e.actor.is_some(),
            }
        })
        .collect();
    let ctx = context! {
        events,
        next => page.next.map(|n| format!("/account/activity?after={n}")),
        first => q.after.as_deref().is_some_and(|a| !a.is_empty()).then_some("/account/activity"),
    };
    let view = View::new(
        Section::Activity,
        "account_activity.html",
        "account-activity-title",
    )
    .ctx(ctx);
    render(&state, &headers, &v, view)
}
