//! The operator's read-outs: the configured sign-in providers, the mail
//! queue (with a retry for a message given up on), and the effective
//! settings with their secrets redacted (`settings`).

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{context, Value};

use super::users::{param, query};
use super::{enter, enter_form, failed, notice, render, settings, to_value, Fields, View};
use crate::accounts::admin_console;
use crate::app::AppState;
use crate::clock::rfc3339;
use crate::http::extract::Meta;
use crate::http::hosted::{see_other, PageForm};
use crate::store::OutboxRow;

/// `GET /admin/providers`: each `[[providers]]` entry (never its secret).
pub(super) async fn providers(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let list: Vec<Value> = state
        .config
        .providers
        .iter()
        .map(|p| {
            context! {
                id => &p.id,
                kind => if p.apple.is_some() { "apple" } else { p.kind.as_str() },
                name => &p.name,
                enabled => p.enabled,
                issuer => &p.issuer,
                client_id => &p.client_id,
                scopes => p.scopes.join(" "),
                callback => crate::accounts::identities::callback_url(&state, &p.id),
            }
        })
        .collect();
    let lang = &console.lang;
    let view = View::new(
        "/admin/providers",
        "admin_providers.html",
        lang.text("admin-providers-title", &[]),
        context! { providers => list },
    );
    render(&state, &headers, &console, view)
}

fn mail_value(row: &OutboxRow) -> Value {
    context! {
        id => &row.id,
        kind => &row.kind,
        recipient => &row.recipient,
        attempts => row.attempts,
        last_error => &row.last_error,
        created_at => rfc3339(row.created_at),
        next_attempt_at => rfc3339(row.next_attempt_at),
        failed_at => row.failed_at.map(rfc3339),
    }
}

/// `GET /admin/mail`: messages waiting and messages given up on.
pub(super) async fn mail(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let (pending, failed_rows) = match admin_console::outbox(&state).await {
        Ok(rows) => rows,
        Err(e) => return failed(&state, &console, &e),
    };
    let lang = &console.lang;
    let pairs = query(raw);
    let ctx = context! {
        pending => pending.iter().map(mail_value).collect::<Vec<_>>(),
        failed => failed_rows.iter().map(mail_value).collect::<Vec<_>>(),
        limit => admin_console::OUTBOX_PAGE,
    };
    let view = View::new(
        "/admin/mail",
        "admin_mail.html",
        lang.text("admin-mail-title", &[]),
        ctx,
    )
    .notice(notice(lang, Some(param(&pairs, "notice"))));
    render(&state, &headers, &console, view)
}

/// `POST /admin/mail/{id}/retry`: a failed message is queued again.
pub(super) async fn retry(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let form = Fields(form);
    let console = match enter_form(&state, &headers, &form).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    match admin_console::retry_mail(&state, &console.actor, &id, &meta).await {
        Ok(()) => see_other("/admin/mail?notice=mail-retried"),
        Err(e) => failed(&state, &console, &e),
    }
}

/// `GET /admin/settings`: the effective configuration, read-only.
pub(super) async fn settings(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let sections = settings::sections(&state.config);
    let lang = &console.lang;
    let view = View::new(
        "/admin/settings",
        "admin_settings.html",
        lang.text("admin-settings-title", &[]),
        context! { sections => to_value(&sections) },
    );
    render(&state, &headers, &console, view)
}
