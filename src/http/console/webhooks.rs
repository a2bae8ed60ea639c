//! Webhooks (docs/webhooks.md): the endpoints and a form for a new one
//! (its secret shown once, on the answer), and one endpoint's page — its
//! settings, its delivery log, and its actions: send a test event, pause or
//! resume, rotate the secret and delete (both confirmed), send a finished
//! delivery again. The rules and audit events are the admin API's
//! (`accounts::webhooks`).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::users::{param, query};
use super::{
    confirm_page, enter, enter_form, errors_value, failed, field_errors, notice, render, Confirm,
    Console, Fields, View,
};
use crate::accounts::webhooks::{self, NewWebhook, Patch, WebhookView};
use crate::app::AppState;
use crate::domain::webhook::EVENTS;
use crate::http::extract::Meta;
use crate::http::hosted::{see_other, PageForm};

/// Deliveries the endpoint page shows (the API pages through all).
const LOG_PAGE: &str = "50";

/// What the new-endpoint form shows again after a refusal.
#[derive(Default)]
struct Posted {
    url: String,
    description: String,
    events: Vec<String>,
    errors: Vec<(String, String)>,
}

async fn list_page(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    posted: Option<Posted>,
    message: Option<String>,
) -> Response {
    let lang = &console.lang;
    let hooks = match webhooks::list(state).await {
        Ok(list) => list.webhooks,
        Err(e) => return failed(state, console, &e),
    };
    let posted = posted.unwrap_or_else(|| Posted {
        events: EVENTS.iter().map(|e| (*e).to_owned()).collect(),
        ..Posted::default()
    });
    let status = if posted.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let error = (!posted.errors.is_empty()).then(|| lang.text("admin-error-form", &[]));
    let ctx = context! {
        hooks => hooks.iter().map(hook_value).collect::<Vec<_>>(),
        all_events => EVENTS.to_vec(),
        form => context! {
            url => posted.url,
            description => posted.description,
            events => posted.events,
        },
        errors => errors_value(&posted.errors),
        allow_private => state.config.hooks.allow_private_targets,
    };
    let view = View::new(
        "/admin/webhooks",
        "admin_webhooks.html",
        lang.text("admin-hooks-title", &[]),
        ctx,
    )
    .status(status)
    .notice(message)
    .error(error);
    render(state, headers, console, view)
}

fn hook_value(w: &WebhookView) -> minijinja::Value {
    context! {
        id => &w.id,
        url => &w.url,
        description => &w.description,
        events => w.events.join(", "),
        enabled => w.enabled,
        created_at => &w.created_at,
    }
}

/// `GET /admin/webhooks`.
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
    let message = notice(&console.lang, Some(param(&pairs, "notice")));
    list_page(&state, &headers, &console, None, message).await
}

/// The secret page, after a new endpoint or a rotation.
fn secret_page(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    hook: &WebhookView,
    secret: &str,
) -> Response {
    let lang = &console.lang;
    let ctx = context! {
        secret => secret,
        secret_label => lang.text("admin-hooks-secret-label", &[]),
        once_text => lang.text("admin-hooks-secret-once", &[]),
        text => lang.text("admin-hooks-secret-text", &[("url", hook.url.as_str().into())]),
        back => format!("/admin/webhooks/{}", hook.id),
    };
    let title = lang.text("admin-hooks-secret-title", &[]);
    let view = View::new("/admin/webhooks", "admin_secret.html", title, ctx);
    render(state, headers, console, view)
}

/// `POST /admin/webhooks`: `url`, `description`, one `event` per ticked box.
pub(super) async fn create(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let form = Fields(form);
    let console = match enter_form(&state, &headers, &form).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let description = form.get("description").trim().to_owned();
    let input = NewWebhook {
        url: form.get("url").trim().to_owned(),
        events: form.all("event"),
        description: (!description.is_empty()).then(|| description.clone()),
        enabled: None,
    };
    let posted_events = input.events.clone();
    let url = input.url.clone();
    match webhooks::create(&state, &console.actor, input, &meta).await {
        Ok(made) => secret_page(&state, &headers, &console, &made.webhook, &made.secret),
        Err(e) => {
            let Some(errors) = field_errors(&console.lang, &e) else {
                return failed(&state, &console, &e);
            };
            let posted = Posted {
                url,
                description,
                events: posted_events,
                errors,
            };
            list_page(&state, &headers, &console, Some(posted), None).await
        }
    }
}

/// `GET /admin/webhooks/{id}`: the endpoint, its actions, its log.
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
    let lang = &console.lang;
    let hook = match webhooks::get(&state, &id).await {
        Ok(h) => h,
        Err(e) => return failed(&state, &console, &e),
    };
    let log = match webhooks::deliveries(&state, &id, Some(LOG_PAGE), None).await {
        Ok(log) => log.deliveries,
        Err(e) => return failed(&state, &console, &e),
    };
    let deliveries: Vec<_> = log
        .iter()
        .map(|d| {
            context! {
                id => &d.id,
                event_type => &d.event_type,
                status => d.status,
                status_text => lang.text(&format!("admin-hooks-status-{}", d.status), &[]),
                attempts => d.attempts,
                created_at => &d.created_at,
                next_attempt_at => &d.next_attempt_at,
                last_status => d.last_status,
                last_error => &d.last_error,
                finished => d.status != "pending",
            }
        })
        .collect();
    let pairs = query(raw);
    let message = notice(lang, Some(param(&pairs, "notice")));
    let ctx = context! {
        hook => hook_value(&hook),
        deliveries,
        more => log.len().to_string() == LOG_PAGE,
    };
    let view = View::new(
        "/admin/webhooks",
        "admin_webhook.html",
        lang.text("admin-hooks-endpoint-title", &[]),
        ctx,
    )
    .notice(message);
    render(&state, &headers, &console, view)
}

/// `POST /admin/webhooks/{id}/{action}`: `test`, `pause`, `resume`,
/// `rotate` and `delete` (the last two after their confirmation page).
pub(super) async fn act(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let form = Fields(form);
    let console = match enter_form(&state, &headers, &form).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let back = |notice: &str| see_other(&format!("/admin/webhooks/{id}?notice={notice}"));
    let toggle = |enabled| Patch {
        enabled: Some(enabled),
        ..Patch::default()
    };
    let actor = &console.actor;
    let result = match action.as_str() {
        "test" => webhooks::send_test(&state, &id)
            .await
            .map(|_| back("hook-test-queued")),
        "pause" => webhooks::update(&state, actor, &id, toggle(false), &meta)
            .await
            .map(|_| back("hook-paused")),
        "resume" => webhooks::update(&state, actor, &id, toggle(true), &meta)
            .await
            .map(|_| back("hook-resumed")),
        "rotate" => {
            let patch = Patch {
                rotate_secret: true,
                ..Patch::default()
            };
            match webhooks::update(&state, actor, &id, patch, &meta).await {
                Ok((hook, Some(secret))) => {
                    return secret_page(&state, &headers, &console, &hook, &secret)
                }
                Ok((_, None)) => Err(crate::error::ApiError::Internal(
                    "a rotation gave no secret".into(),
                )),
                Err(e) => Err(e),
            }
        }
        "delete" => webhooks::delete(&state, actor, &id, &meta)
            .await
            .map(|()| see_other("/admin/webhooks?notice=hook-deleted")),
        _ => Err(crate::error::ApiError::NotFound),
    };
    result.unwrap_or_else(|e| failed(&state, &console, &e))
}

/// `GET /admin/webhooks/{id}/{rotate|delete}`: the confirmation.
pub(super) async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let hook = match webhooks::get(&state, &id).await {
        Ok(h) => h,
        Err(e) => return failed(&state, &console, &e),
    };
    let (title, text) = match action.as_str() {
        "rotate" => ("admin-hooks-rotate-title", "admin-hooks-rotate-text"),
        "delete" => ("admin-hooks-delete-title", "admin-hooks-delete-text"),
        _ => return failed(&state, &console, &crate::error::ApiError::NotFound),
    };
    let lang = &console.lang;
    let post = format!("/admin/webhooks/{}/{action}", hook.id);
    let cancel = format!("/admin/webhooks/{}", hook.id);
    let c = Confirm {
        area: "/admin/webhooks",
        title: lang.text(title, &[]),
        text: lang.text(text, &[("url", hook.url.as_str().into())]),
        action: &post,
        cancel: &cancel,
        danger: true,
    };
    confirm_page(&state, &headers, &console, c)
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}/retry`.
pub(super) async fn retry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, delivery)): Path<(String, String)>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let form = Fields(form);
    let console = match enter_form(&state, &headers, &form).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    match webhooks::retry(&state, &id, &delivery).await {
        Ok(()) => see_other(&format!("/admin/webhooks/{id}?notice=hook-retried")),
        Err(e) => failed(&state, &console, &e),
    }
}
