//! The passkeys of `/account/security`: add one (the WebAuthn ceremony, the
//! one page of the account center that needs JavaScript), rename, remove.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::security::refused;
use super::{
    confirm_page, done, not_enrolment_only, posted, render, visit, Confirm, Section, View, Visit,
};
use crate::accounts::assurance::require_recent;
use crate::accounts::passkeys::{self, manage};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::extract::Meta;
use crate::http::hosted::{error_page, PageForm};

/// The page's one script: asks the authenticator for a new passkey and
/// posts its answer (allowed by the CSP by its hash).
const PASSKEY_JS: &str = include_str!("passkey.js");

/// The add-a-passkey page: fresh registration options (R) for its script,
/// or the security page with why not.
async fn new_form(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    name: &str,
    error: Option<&ApiError>,
) -> Response {
    let options = match require_recent(state, &v.who).await {
        Ok(()) => manage::register_options(state, &v.who).await,
        Err(e) => Err(e),
    };
    let options = match options {
        Ok(options) => options,
        Err(e) => return refused(state, headers, v, &e, None).await,
    };
    let lang = &v.lang;
    let ctx = context! {
        options => serde_json::to_string(&options.options).unwrap_or_default(),
        passkey_flow => options.flow_id,
        name,
        unsupported => lang.text("account-passkey-unsupported", &[]),
        cancelled => lang.text("account-passkey-cancelled", &[]),
        checking => lang.text("account-passkey-checking", &[]),
        failed => lang.text("account-passkey-failed", &[]),
    };
    let mut view = View::new(
        Section::Security,
        "account_passkey.html",
        "account-passkey-title",
    )
    .ctx(ctx);
    view.script = Some(PASSKEY_JS);
    if let Some(e) = error {
        let field = match e {
            ApiError::Validation(f) if f.iter().any(|f| f.field == "name") => "passkey_name",
            _ => "passkey",
        };
        view = view.failed(lang, e, Some(field));
    }
    render(state, headers, v, view)
}

/// `GET /account/passkeys/new`.
pub async fn new_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(e) = passkeys::relying_party(&state) {
        return error_page(&state, &v.lang, &e);
    }
    new_form(&state, &headers, &v, "", None).await
}

/// The add-a-passkey form, filled by its script.
#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub csrf: String,
    pub passkey_flow: String,
    /// `PublicKeyCredential.toJSON()` of the new credential.
    #[serde(default)]
    pub credential: String,
    #[serde(default)]
    pub name: String,
}

/// `POST /account/passkeys/new` (R): `manage::register`, what `POST
/// /v1/users/me/passkeys` calls.
pub async fn register(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<RegisterForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let name = form.name.trim();
    let name = (!name.is_empty()).then(|| name.to_owned());
    let result = match (
        require_recent(&state, &v.who).await,
        serde_json::from_str(&form.credential),
    ) {
        (Err(e), _) => Err(e),
        (Ok(()), Ok(credential)) => {
            manage::register(&state, &v.who, &form.passkey_flow, credential, name, &meta).await
        }
        (Ok(()), Err(_)) => Err(ApiError::field("credential", "is not a passkey's answer")),
    };
    match result {
        Ok(_) => done(Section::Security, "passkey"),
        Err(e) if e.parts().0.is_server_error() => error_page(&state, &v.lang, &e),
        Err(e @ (ApiError::ReauthenticationRequired | ApiError::FeatureDisabled)) => {
            refused(&state, &headers, &v, &e, None).await
        }
        Err(e) => new_form(&state, &headers, &v, &form.name, Some(&e)).await,
    }
}

/// The rename form (one per passkey on the security page).
#[derive(Debug, Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    pub csrf: String,
    pub name: String,
}

/// `POST /account/passkeys/{id}/rename`: `manage::rename`, what `PATCH
/// /v1/users/me/passkeys/{id}` calls (another user's id: 404).
pub async fn rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<RenameForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = not_enrolment_only(&state, &v) {
        return *r;
    }
    match manage::rename(&state, &v.who, &id, &form.name).await {
        Ok(_) => done(Section::Security, "passkey-renamed"),
        Err(e) => refused(&state, &headers, &v, &e, Some("passkey_name")).await,
    }
}

/// `GET /account/passkeys/{id}/remove`: the confirmation, naming the
/// passkey (404 page when it is not the user's).
pub async fn remove_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let list = match manage::list(&state, &v.who.user.id).await {
        Ok(list) => list,
        Err(e) => return error_page(&state, &v.lang, &e),
    };
    let Some(passkey) = list.iter().find(|p| p.id == id) else {
        return error_page(&state, &v.lang, &ApiError::NotFound);
    };
    let c = Confirm {
        section: Section::Security,
        title_key: "account-passkey-remove-title",
        text: v.lang.text(
            "account-passkey-remove-text",
            &[("name", passkey.name.as_str().into())],
        ),
        action: format!("/account/passkeys/{}/remove", passkey.id),
        button_key: "account-passkey-remove-button",
        back: "/account/security",
    };
    confirm_page(&state, &headers, &v, c)
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /account/passkeys/{id}/remove` (R): `manage::remove`, what
/// `DELETE /v1/users/me/passkeys/{id}` calls (never the last way in).
pub async fn remove(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = not_enrolment_only(&state, &v) {
        return *r;
    }
    let removed = match require_recent(&state, &v.who).await {
        Ok(()) => manage::remove(&state, &v.who, &id, &meta).await,
        Err(e) => Err(e),
    };
    match removed {
        Ok(()) => done(Section::Security, "passkey-removed"),
        Err(e) => refused(&state, &headers, &v, &e, None).await,
    }
}
