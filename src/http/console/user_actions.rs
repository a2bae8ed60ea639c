//! What an administrator does to a user from the user's page: edit (role,
//! name, metadata, app_metadata, email_confirmed), disable and enable,
//! delete, end every session, reset the second factors, mail a
//! password-reset link. Each calls the function the admin API calls
//! (`accounts::admin`, `accounts::factors_reset`) or, for the reset link,
//! `accounts::admin_console`; a GET on an action's address is its
//! confirmation page.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use super::users::{user_page, EditForm};
use super::{confirm_page, enter, enter_form, failed, field_errors, Confirm, Console, Fields};
use crate::accounts::{admin, admin_console, factors_reset, RequestMeta};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::extract::Meta;
use crate::http::hosted::{see_other, PageForm};
use crate::http::pages;
use crate::store::AdminChange;

/// The actions with a confirmation page: (last path segment, catalogue key
/// stem, red button).
const ACTIONS: &[(&str, &str, bool)] = &[
    ("disable", "admin-confirm-disable", true),
    ("enable", "admin-confirm-enable", false),
    ("delete", "admin-confirm-delete", true),
    ("logout", "admin-confirm-logout", true),
    ("factors", "admin-confirm-factors", true),
    ("reset-link", "admin-confirm-reset-link", false),
];

/// `GET /admin/users/{id}/<action>`: the confirmation of the action.
pub(super) async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let user = match admin::get_user(&state, &id).await {
        Ok(user) => user,
        Err(e) => return failed(&state, &console, &e),
    };
    let last = uri.path().rsplit('/').next().unwrap_or("");
    let Some((action, stem, danger)) = ACTIONS.iter().find(|(a, _, _)| *a == last) else {
        return failed(&state, &console, &ApiError::NotFound);
    };
    let lang = &console.lang;
    let email = [("email", user.user.email.as_str().into())];
    let back = format!("/admin/users/{}", user.user.id);
    let action_path = format!("{back}/{action}");
    let c = Confirm {
        area: "/admin/users",
        title: lang.text(&format!("{stem}-title"), &email),
        text: lang.text(&format!("{stem}-text"), &email),
        action: &action_path,
        cancel: &back,
        danger: *danger,
    };
    confirm_page(&state, &headers, &console, c)
}

/// 303 to the user's page with `notice`.
fn done(id: &str, notice: &str) -> Response {
    see_other(&format!("/admin/users/{id}?notice={notice}"))
}

/// The user's page again with `e` above it (an action's refusal), or the
/// error page when the user is gone.
async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    id: &str,
    e: &ApiError,
) -> Response {
    let (status, _, _) = e.parts();
    if status.is_server_error() || matches!(e, ApiError::NotFound) {
        return failed(state, console, e);
    }
    let user = match admin::get_user(state, id).await {
        Ok(user) => user,
        Err(e) => return failed(state, console, &e),
    };
    let mut form = EditForm::of(&user);
    form.error = Some(pages::error_text(&console.lang, e));
    user_page(state, headers, console, &user, form, None, status).await
}

/// Parses a JSON textarea: empty is `{}`; text that is not JSON is an
/// error beside the field (that it must be an object is the account
/// rules' check, made by `admin::update_user`).
fn json_field(
    console: &Console,
    field: &str,
    text: &str,
    errors: &mut Vec<(String, String)>,
) -> Option<Value> {
    if text.trim().is_empty() {
        return Some(Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => Some(value),
        Err(e) => {
            let reason = e.to_string();
            let text = console
                .lang
                .text("admin-error-json", &[("reason", reason.as_str().into())]);
            errors.push((field.to_owned(), text));
            None
        }
    }
}

/// `POST /admin/users/{id}`: the edit form; only what changed is sent.
pub(super) async fn edit(
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
    let user = match admin::get_user(&state, &id).await {
        Ok(user) => user,
        Err(e) => return failed(&state, &console, &e),
    };
    let mut posted = EditForm {
        role: form.get("role").trim().to_owned(),
        name: form.get("name").trim().to_owned(),
        metadata: form.get("metadata").to_owned(),
        app_metadata: form.get("app_metadata").to_owned(),
        email_confirmed: form.checked("email_confirmed"),
        ..EditForm::default()
    };
    let mut errors = Vec::new();
    let metadata = json_field(&console, "metadata", &posted.metadata, &mut errors);
    let app_metadata = json_field(&console, "app_metadata", &posted.app_metadata, &mut errors);
    if !errors.is_empty() {
        posted.errors = errors;
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return user_page(&state, &headers, &console, &user, posted, None, status).await;
    }
    let stored = EditForm::of(&user);
    let name =
        (posted.name != stored.name).then(|| Some(posted.name.clone()).filter(|n| !n.is_empty()));
    let change = AdminChange {
        role: Some(posted.role.clone()).filter(|r| *r != user.user.role),
        disabled: None,
        email_confirmed: Some(posted.email_confirmed).filter(|c| *c != stored.email_confirmed),
        metadata: metadata.filter(|m| *m != user.user.metadata),
        app_metadata: app_metadata.filter(|m| *m != user.app_metadata),
        name,
        // The user's own language is theirs to choose (their account page).
        locale: None,
    };
    let unchanged = change.role.is_none()
        && change.email_confirmed.is_none()
        && change.metadata.is_none()
        && change.app_metadata.is_none()
        && change.name.is_none();
    if unchanged {
        return done(&user.user.id, "unchanged");
    }
    match admin::update_user(&state, &console.actor, &id, change, &meta).await {
        Ok(_) => done(&id, "updated"),
        Err(e) => match field_errors(&console.lang, &e) {
            Some(errors) => {
                posted.errors = errors;
                let (status, _, _) = e.parts();
                user_page(&state, &headers, &console, &user, posted, None, status).await
            }
            None => refused(&state, &headers, &console, &id, &e).await,
        },
    }
}

/// One action: the gate and the CSRF token, then `run`; 303 with
/// `notice` when it passes, the user's page with the refusal otherwise.
async fn act<F, Fut>(
    state: AppState,
    headers: HeaderMap,
    id: String,
    form: Vec<(String, String)>,
    run: F,
) -> Response
where
    F: FnOnce(AppState, String, String) -> Fut,
    Fut: std::future::Future<Output = Result<&'static str, ApiError>>,
{
    let form = Fields(form);
    let console = match enter_form(&state, &headers, &form).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    match run(state.clone(), console.actor.clone(), id.clone()).await {
        Ok("deleted") => see_other("/admin/users?notice=deleted"),
        Ok(notice) => done(&id, notice),
        Err(e) => refused(&state, &headers, &console, &id, &e).await,
    }
}

/// Sets the user's `disabled` flag (the admin API's PATCH `disabled`).
async fn set_disabled(
    state: &AppState,
    actor: &str,
    id: &str,
    disabled: bool,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let change = AdminChange {
        disabled: Some(disabled),
        ..AdminChange::default()
    };
    admin::update_user(state, actor, id, change, meta)
        .await
        .map(drop)
}

/// `POST /admin/users/{id}/disable`.
pub(super) async fn disable(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    act(state, headers, id, form, |state, actor, id| async move {
        set_disabled(&state, &actor, &id, true, &meta).await?;
        Ok("disabled")
    })
    .await
}

/// `POST /admin/users/{id}/enable`.
pub(super) async fn enable(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    act(state, headers, id, form, |state, actor, id| async move {
        set_disabled(&state, &actor, &id, false, &meta).await?;
        Ok("enabled")
    })
    .await
}

/// `POST /admin/users/{id}/delete`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    act(state, headers, id, form, |state, actor, id| async move {
        admin::delete_user(&state, &actor, &id, &meta).await?;
        Ok("deleted")
    })
    .await
}

/// `POST /admin/users/{id}/logout`: every session of the user ends.
pub(super) async fn logout(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    act(state, headers, id, form, |state, actor, id| async move {
        admin::logout_user(&state, &actor, &id, &meta).await?;
        Ok("logged-out")
    })
    .await
}

/// `POST /admin/users/{id}/factors`: TOTP, passkeys and recovery codes go.
pub(super) async fn factors(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    act(state, headers, id, form, |state, actor, id| async move {
        factors_reset::reset_factors(&state, &actor, &id, &meta).await?;
        Ok("factors-reset")
    })
    .await
}

/// `POST /admin/users/{id}/reset-link`: a password-reset link is mailed.
pub(super) async fn reset_link(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    act(state, headers, id, form, |state, actor, id| async move {
        let queued = admin_console::send_reset_link(&state, &actor, &id, &meta).await?;
        Ok(if queued {
            "reset-link-sent"
        } else {
            "reset-link-throttled"
        })
    })
    .await
}
