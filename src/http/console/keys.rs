//! API keys: the list (never a key), a new key (shown once, on the answer
//! to its form), and revoking one (confirmed). The rules are those of
//! `toktok api-key` (`auth::api_keys::new_key`), the audit events too.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::users::{param, query};
use super::{
    confirm_page, enter, enter_form, errors_value, failed, field_errors, notice, render, Confirm,
    Console, Fields, View,
};
use crate::accounts::admin_console;
use crate::app::AppState;
use crate::auth::api_keys::Scope;
use crate::clock::rfc3339;
use crate::http::extract::Meta;
use crate::http::hosted::{see_other, PageForm};
use crate::store::ApiKeyRecord;

/// A key as the list shows it.
fn key_value(k: &ApiKeyRecord) -> minijinja::Value {
    let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
    context! {
        id => &k.id,
        name => &k.name,
        scopes => scopes.join(", "),
        created_at => rfc3339(k.created_at),
        last_used_at => k.last_used_at.map(rfc3339),
        revoked_at => k.revoked_at.map(rfc3339),
    }
}

/// What the new-key form shows again after a refusal.
struct Posted {
    name: String,
    scopes: Vec<String>,
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
    let keys = match state.store.list_api_keys().await {
        Ok(keys) => keys,
        Err(e) => return failed(state, console, &e.into()),
    };
    let keys: Vec<_> = keys.iter().rev().map(key_value).collect();
    let (name, scopes, errors) = match &posted {
        Some(p) => (p.name.clone(), p.scopes.clone(), p.errors.clone()),
        None => (String::new(), Vec::new(), Vec::new()),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let error = (!errors.is_empty()).then(|| lang.text("admin-error-form", &[]));
    let ctx = context! {
        keys,
        all_scopes => all,
        form => context! { name, scopes },
        errors => errors_value(&errors),
    };
    let view = View::new(
        "/admin/api-keys",
        "admin_keys.html",
        lang.text("admin-keys-title", &[]),
        ctx,
    )
    .status(status)
    .notice(message)
    .error(error);
    render(state, headers, console, view)
}

/// `GET /admin/api-keys`.
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

/// `POST /admin/api-keys`: `name` and one `scope` per ticked box; the
/// answer shows the new key, once.
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
    let lang = &console.lang;
    let name = form.get("name").to_owned();
    let ticked = form.all("scope");
    let mut scopes = Vec::new();
    let mut errors = Vec::new();
    for raw in &ticked {
        match raw.parse::<Scope>() {
            Ok(scope) => scopes.push(scope),
            Err(e) => errors.push((
                "scopes".to_owned(),
                lang.text("admin-error-field", &[("reason", e.to_string().into())]),
            )),
        }
    }
    let result = if errors.is_empty() {
        admin_console::create_api_key(&state, &console.actor, &name, scopes, &meta).await
    } else {
        Err(crate::error::ApiError::field("scopes", ""))
    };
    match result {
        Ok((key, record)) => {
            let ctx = context! {
                secret => key,
                secret_label => lang.text("admin-keys-key-label", &[]),
                text => lang.text("admin-keys-created-text", &[("name", record.name.as_str().into())]),
                back => "/admin/api-keys",
            };
            let title = lang.text("admin-keys-created-title", &[]);
            let view = View::new("/admin/api-keys", "admin_secret.html", title, ctx);
            render(&state, &headers, &console, view)
        }
        Err(e) => {
            if errors.is_empty() {
                match field_errors(lang, &e) {
                    Some(found) => errors = found,
                    None => return failed(&state, &console, &e),
                }
            }
            let posted = Posted {
                name,
                scopes: ticked,
                errors,
            };
            list_page(&state, &headers, &console, Some(posted), None).await
        }
    }
}

/// `GET /admin/api-keys/{id}/revoke`: the confirmation.
pub(super) async fn confirm_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let keys = match state.store.list_api_keys().await {
        Ok(keys) => keys,
        Err(e) => return failed(&state, &console, &e.into()),
    };
    let Some(key) = keys.iter().find(|k| k.id == id && k.revoked_at.is_none()) else {
        return failed(&state, &console, &crate::error::ApiError::NotFound);
    };
    let lang = &console.lang;
    let action = format!("/admin/api-keys/{}/revoke", key.id);
    let c = Confirm {
        area: "/admin/api-keys",
        title: lang.text("admin-keys-revoke-title", &[]),
        text: lang.text(
            "admin-keys-revoke-text",
            &[("name", key.name.as_str().into())],
        ),
        action: &action,
        cancel: "/admin/api-keys",
        danger: true,
    };
    confirm_page(&state, &headers, &console, c)
}

/// `POST /admin/api-keys/{id}/revoke`.
pub(super) async fn revoke(
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
    match admin_console::revoke_api_key(&state, &console.actor, &id, &meta).await {
        Ok(()) => see_other("/admin/api-keys?notice=key-revoked"),
        Err(e) => failed(&state, &console, &e),
    }
}
