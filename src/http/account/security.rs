//! `/account/security`: TOTP (enrol with a QR code, remove), recovery
//! codes, the passkeys list (`super::passkeys` holds their actions), and
//! reauthentication for the (R) actions.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{context, Value};
use qrcode::render::svg;
use qrcode::QrCode;
use serde::{Deserialize, Serialize};

use super::profile::DoneQuery;
use super::{
    confirm_page, done, done_notice, posted, reauth_ctx, recent, render, visit, when, Confirm,
    Section, View, Visit,
};
use crate::accounts::assurance::require_recent;
use crate::accounts::reauth::{self, Proof};
use crate::accounts::{factors, recovery, totp};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::extract::Meta;
use crate::http::hosted::{error_page, see_other, PageForm};
use crate::oidc::sealed;

/// The purpose of a sealed pending enrolment (its secret and URI, carried
/// by the confirmation form so that a wrong code can show the QR again).
const PENDING: &str = "toktok account totp";

/// The security page, with `view`'s notice or errors.
pub async fn security_page(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    view: View,
) -> Response {
    let list = match factors::factors(state, &v.who).await {
        Ok(list) => list,
        Err(e) => return error_page(state, &v.lang, &e),
    };
    let reauth = match recent(state, &v.who).await {
        Ok(true) => None,
        Ok(false) => match reauth_ctx(state, &v.who, Section::Security).await {
            Ok(ctx) => Some(ctx),
            Err(e) => return error_page(state, &v.lang, &e),
        },
        Err(e) => return error_page(state, &v.lang, &e),
    };
    let passkeys: Vec<Value> = list
        .passkeys
        .iter()
        .map(|p| {
            context! {
                id => &p.id,
                name => &p.name,
                created => when(&p.created_at),
                last_used => p.last_used_at.as_deref().map(when),
                backed_up => p.backed_up,
            }
        })
        .collect();
    let ctx = context! {
        totp_on => state.config.totp.enabled,
        passkeys_on => state.webauthn.is_some(),
        totp_since => list.totp.as_ref().map(|t| when(&t.created_at)),
        passkeys,
        remaining => list.recovery_codes.remaining,
        second_factor => list.totp.is_some() || !list.passkeys.is_empty(),
        reauth,
        ..view.ctx.clone()
    };
    render(state, headers, v, view.ctx(ctx))
}

fn view() -> View {
    View::new(
        Section::Security,
        "account_security.html",
        "account-security-title",
    )
}

/// `GET /account/security`.
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
    security_page(&state, &headers, &v, view).await
}

/// The security page again after `e` (a server fault's page).
pub async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    e: &ApiError,
    field: Option<&'static str>,
) -> Response {
    if e.parts().0.is_server_error() {
        return error_page(state, &v.lang, e);
    }
    let view = view().failed(&v.lang, e, field);
    security_page(state, headers, v, view).await
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The secret of an enrolment, drawn as an inline SVG QR code (no
/// script, nothing loaded): dark modules on white, scaled by the page.
fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration; label the drawing for screen readers.
    let start = image.find("<svg")?;
    Some(image[start..].replacen(
        "<svg ",
        "<svg role=\"img\" aria-labelledby=\"qr-label\" ",
        1,
    ))
}

/// A pending enrolment, as the confirmation form carries it.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    secret: String,
    uri: String,
}

fn totp_page(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    pending: &Pending,
    error: Option<&ApiError>,
) -> Response {
    let Some(svg) = qr_svg(&pending.uri) else {
        let e = ApiError::Internal("the TOTP URI does not fit a QR code".to_owned());
        return error_page(state, &v.lang, &e);
    };
    // Groups of four for reading aloud and typing.
    let grouped = pending
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let ctx = context! {
        // Made here from digits and the fixed colours: no user data in it.
        qr => Value::from_safe_string(svg),
        secret => grouped,
        pending => sealed::seal(&state.pages_key, PENDING, pending),
    };
    let mut view = View::new(Section::Security, "account_totp.html", "account-totp-title").ctx(ctx);
    if let Some(e) = error {
        view = view.failed(&v.lang, e, Some("code"));
    }
    render(state, headers, v, view)
}

/// `POST /account/totp` (R): `totp::begin`, what `POST /v1/users/me/totp`
/// calls; the page with the QR code, the secret as text, and the form for
/// a first code.
pub async fn totp_begin(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let begun = match require_recent(&state, &v.who).await {
        Ok(()) => totp::begin(&state, &v.who).await,
        Err(e) => Err(e),
    };
    match begun {
        Ok(enrolment) => {
            let pending = Pending {
                secret: enrolment.secret,
                uri: enrolment.otpauth_uri,
            };
            totp_page(&state, &headers, &v, &pending, None)
        }
        Err(e) => refused(&state, &headers, &v, &e, None).await,
    }
}

/// The first-code form.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub csrf: String,
    pub code: String,
    #[serde(default)]
    pub pending: String,
}

/// `POST /account/totp/confirm` (R): `totp::confirm`; the recovery codes,
/// shown this once.
pub async fn totp_confirm(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<ConfirmForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let confirmed = match require_recent(&state, &v.who).await {
        Ok(()) => totp::confirm(&state, &v.who, &form.code, &meta).await,
        Err(e) => Err(e),
    };
    match confirmed {
        Ok(codes) => codes_page(&state, &headers, &v, codes.recovery_codes, true),
        Err(e @ ApiError::Validation(_)) => {
            match sealed::open::<Pending>(&state.pages_key, PENDING, &form.pending) {
                Some(pending) => totp_page(&state, &headers, &v, &pending, Some(&e)),
                None => refused(&state, &headers, &v, &e, None).await,
            }
        }
        Err(e) => refused(&state, &headers, &v, &e, None).await,
    }
}

fn codes_page(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    codes: Vec<String>,
    totp_on: bool,
) -> Response {
    let ctx = context! { codes, totp_on };
    let view = View::new(
        Section::Security,
        "account_codes.html",
        "account-codes-title",
    )
    .ctx(ctx);
    render(state, headers, v, view)
}

/// `GET /account/totp/remove`: the confirmation.
pub async fn totp_remove_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let c = Confirm {
        section: Section::Security,
        title_key: "account-totp-remove-title",
        text: v.lang.text("account-totp-remove-text", &[]),
        action: "/account/totp/remove".to_owned(),
        button_key: "account-totp-remove-button",
        back: "/account/security",
    };
    confirm_page(&state, &headers, &v, c)
}

/// `POST /account/totp/remove` (R): `totp::disable`, what `DELETE
/// /v1/users/me/totp` calls.
pub async fn totp_remove(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = super::not_enrolment_only(&state, &v) {
        return *r;
    }
    let removed = match require_recent(&state, &v.who).await {
        Ok(()) => totp::disable(&state, &v.who, &meta).await,
        Err(e) => Err(e),
    };
    match removed {
        Ok(()) => done(Section::Security, "totp-removed"),
        Err(e) => refused(&state, &headers, &v, &e, None).await,
    }
}

/// `POST /account/recovery-codes` (R): `recovery::regenerate`, what `POST
/// /v1/users/me/recovery-codes` calls; the new set, shown this once.
pub async fn recovery_codes(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = super::not_enrolment_only(&state, &v) {
        return *r;
    }
    let made = match require_recent(&state, &v.who).await {
        Ok(()) => recovery::regenerate(&state, &v.who, &meta).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(codes) => codes_page(&state, &headers, &v, codes.recovery_codes, false),
        Err(e) => refused(&state, &headers, &v, &e, None).await,
    }
}

/// The reauthentication box's form.
#[derive(Debug, Deserialize)]
pub struct ReauthForm {
    #[serde(default)]
    pub csrf: String,
    /// The page to go back to (one of the sections, else the overview).
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub password: String,
    /// A TOTP code (six digits) or a recovery code.
    #[serde(default)]
    pub code: String,
}

/// `POST /account/reauth`: `reauth::reauthenticate`, what `POST
/// /v1/auth/reauthenticate` calls: the browser's session gets a fresh
/// `auth_time` (and `aal` 2 with a code); back to the page it came from.
pub async fn reauth(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<ReauthForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let next = Section::from_path(&form.next).unwrap_or(Section::Overview);
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let proof = if !form.password.is_empty() {
        Proof::Password(form.password)
    } else if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Proof::Totp(code)
    } else if !code.is_empty() {
        Proof::RecoveryCode(form.code.trim().to_owned())
    } else {
        Proof::Password(String::new())
    };
    match reauth::reauthenticate(&state, &v.who, proof, &meta).await {
        Ok(_) => see_other(&format!("{}?done=reauth", next.href())),
        Err(e) if e.parts().0.is_server_error() => error_page(&state, &v.lang, &e),
        Err(e) => {
            let ctx = match reauth_ctx(&state, &v.who, next).await {
                Ok(ctx) => ctx,
                Err(e) => return error_page(&state, &v.lang, &e),
            };
            let mut view = View::new(next, "account_reauth.html", "account-reauth-title")
                .ctx(context! { reauth => ctx });
            view = view.failed(&v.lang, &e, Some("reauth"));
            if view.status == StatusCode::OK {
                view.status = StatusCode::FORBIDDEN;
            }
            render(&state, &headers, &v, view)
        }
    }
}
