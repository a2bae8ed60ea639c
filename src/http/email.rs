//! The email-link routes: confirm-email, resend, password forgot/reset, and
//! the email-change request. A GET on a link shows a page or redirects and
//! never consumes the token (E5); only a POST does.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Anonymous, Auth, BodyKind, JsonBody, JsonOrForm, Meta, Sealed};
use super::openapi::Jwe;
use super::pages;
use crate::accounts::{email, UserView};
use crate::app::AppState;
use crate::error::ApiError;

/// The one body of every 202 that must not tell whether an address has an
/// account (L1).
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(value_type = String, example = "accepted")]
    status: &'static str,
    #[schema(value_type = String)]
    detail: &'static str,
}

fn accepted() -> Response {
    let body = Accepted {
        status: "accepted",
        detail: "if the address belongs to an account, an email is on its way",
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// The `token` of a link's query string. Other parameters (a mail client's
/// tracking tags) are ignored, and a mangled query string reads as no
/// token: the page then says the link cannot be used, instead of a bare 400.
fn link_token(query: Option<String>) -> String {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    pairs
        .into_iter()
        .find(|(name, _)| name == "token")
        .map(|(_, token)| token)
        .unwrap_or_default()
}

/// 303 to `{url}#token=…`: the fragment never reaches a server or a log.
fn redirect_with_token(url: &str, token: &str) -> Response {
    let encoded: String = serde_urlencoded::to_string([("token", token)]).unwrap_or_default();
    let location = format!("{url}#{encoded}");
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(get, path = "/v1/auth/confirm-email", tag = "email",
    summary = "Email confirmation link (never consumes the token)",
    params(("token" = Option<String>, Query, description = "The link token.")),
    responses(
        (status = 200, description = "A page whose button POSTs the token.",
            content_type = "text/html", body = String),
        (status = 303, description = "Redirect to `email.confirm_redirect_url#token=…`."),
        (status = 404, description = "`feature_disabled`"),
    ))]
pub async fn confirm_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    email::require_email(&state)?;
    let token = link_token(query);
    let target = &state.config.email.confirm_redirect_url;
    Ok(if target.is_empty() {
        let lang = pages::lang(&state, &headers, None, None);
        pages::confirm_form(&state.config.branding, &lang, &token)
    } else {
        redirect_with_token(target, &token)
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "token": "the token of the link" }))]
pub struct TokenBody {
    #[schema(min_length = 1)]
    pub token: String,
}

#[utoipa::path(post, path = "/v1/auth/confirm-email", tag = "email",
    summary = "Confirm a sign-up or an email change",
    request_body(content(
        (TokenBody = "application/json"),
        (TokenBody = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The user (JSON), or a result page when the form was posted.",
            content((UserView = "application/json"), (String = "text/html"))),
        (status = 404, description = "`not_found`, `feature_disabled`"),
        (status = 409, description = "`email_taken`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn confirm(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    JsonOrForm(body, kind): JsonOrForm<TokenBody>,
) -> Result<Response, ApiError> {
    let result = email::confirm_email(&state, &body.token, &meta).await;
    let lang = pages::lang(&state, &headers, None, None);
    Ok(match (result, kind) {
        (Ok(user), BodyKind::Json) => Json(user).into_response(),
        (Ok(_), BodyKind::Form) => pages::message(
            &state.config.branding,
            &lang,
            StatusCode::OK,
            "confirm-done-title",
            "confirm-done-text",
        ),
        (Err(e), BodyKind::Json) => return Err(e),
        (Err(e), BodyKind::Form) => {
            let (status, _, _) = e.parts();
            pages::message_text(
                &state.config.branding,
                &lang,
                status,
                "link-refused-title",
                &pages::error_text(&lang, &e),
            )
        }
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "ada@example.com" }))]
pub struct EmailBody {
    #[schema(format = Email, min_length = 1)]
    pub email: String,
}

#[utoipa::path(post, path = "/v1/auth/confirm-email/resend", tag = "email",
    summary = "Resend the confirmation link (A)",
    security((), ("bearer_jwt" = [])),
    request_body = EmailBody,
    responses(
        (status = 202, description = "Accepted (always).", body = Accepted),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn resend(
    State(state): State<AppState>,
    Meta(meta): Meta,
    _anonymous: Anonymous,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<Response, ApiError> {
    email::resend_confirmation(&state, &body.email, &meta).await?;
    Ok(accepted())
}

#[utoipa::path(post, path = "/v1/auth/password/forgot", tag = "email",
    summary = "Send a password-reset link (A)(E)",
    security((), ("bearer_jwt" = [])),
    request_body(content((EmailBody = "application/json"), (Jwe = "application/jose"))),
    responses(
        (status = 202, description = "Accepted (always).", body = Accepted),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn forgot(
    State(state): State<AppState>,
    Meta(meta): Meta,
    _anonymous: Anonymous,
    Sealed(body): Sealed<EmailBody>,
) -> Result<Response, ApiError> {
    email::forgot_password(&state, &body.email, &meta).await?;
    Ok(accepted())
}

#[utoipa::path(get, path = "/v1/auth/password/reset", tag = "email",
    summary = "Password-reset link (never consumes the token)",
    params(("token" = Option<String>, Query, description = "The link token.")),
    responses(
        (status = 200, description = "A new-password form.", content_type = "text/html", body = String),
        (status = 303, description = "Redirect to `email.reset_redirect_url#token=…`."),
        (status = 404, description = "`feature_disabled`"),
    ))]
pub async fn reset_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    email::require_email(&state)?;
    let token = link_token(query);
    let target = &state.config.email.reset_redirect_url;
    let p = &state.config.password;
    Ok(if target.is_empty() {
        pages::reset_form(
            &state.config.branding,
            &pages::lang(&state, &headers, None, None),
            &token,
            p.min_length,
            p.max_length,
            None,
        )
    } else {
        redirect_with_token(target, &token)
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "token": "the token of the link", "password": "a new and longer passphrase" }))]
pub struct ResetBody {
    #[schema(min_length = 1)]
    pub token: String,
    pub password: String,
}

#[utoipa::path(post, path = "/v1/auth/password/reset", tag = "email",
    summary = "Set a new password with a reset token (E)",
    request_body(content(
        (ResetBody = "application/json"),
        (Jwe = "application/jose"),
        (ResetBody = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 204, description = "Password changed; all sessions ended."),
        (status = 200, description = "A result page when the form was posted.",
            content_type = "text/html", body = String),
        (status = 404, description = "`not_found`, `feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reset(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    JsonOrForm(body, kind): JsonOrForm<ResetBody, true>,
) -> Result<Response, ApiError> {
    let result = email::reset_password(&state, &body.token, body.password, &meta).await;
    let p = &state.config.password;
    let lang = pages::lang(&state, &headers, None, None);
    let brand = &state.config.branding;
    Ok(match (result, kind) {
        (Ok(()), BodyKind::Json) => StatusCode::NO_CONTENT.into_response(),
        (Ok(()), BodyKind::Form) => pages::message(
            brand,
            &lang,
            StatusCode::OK,
            "reset-done-title",
            "reset-done-text",
        ),
        (Err(e), BodyKind::Json) => return Err(e),
        (Err(e @ ApiError::WeakPassword(_)), BodyKind::Form) => {
            let error = pages::error_text(&lang, &e);
            pages::reset_form(
                brand,
                &lang,
                &body.token,
                p.min_length,
                p.max_length,
                Some(&error),
            )
        }
        (Err(e), BodyKind::Form) => {
            let (status, _, _) = e.parts();
            let text = pages::error_text(&lang, &e);
            pages::message_text(brand, &lang, status, "link-refused-title", &text)
        }
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "new_email": "ada@example.org", "password": "correct horse battery staple" }))]
pub struct ChangeEmailBody {
    #[schema(format = Email, min_length = 1)]
    pub new_email: String,
    /// The current password; an account without one leaves it out and
    /// needs a recent sign-in instead (403 `reauthentication_required`).
    #[serde(default)]
    pub password: Option<String>,
}

#[utoipa::path(post, path = "/v1/users/me/email", tag = "users",
    summary = "Request an email change (E)",
    security(("bearer_jwt" = [])),
    request_body(content((ChangeEmailBody = "application/json"), (Jwe = "application/jose"))),
    responses(
        (status = 202, description = "Confirmation link sent to the new address.", body = Accepted),
        (status = 403, description = "`wrong_password`; `reauthentication_required` (a session at `aal` 1 of a user with a second factor; no password, stale sign-in)"),
        (status = 404, description = "`feature_disabled`"),
        (status = 409, description = "`email_taken`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn change_email(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    Sealed(body): Sealed<ChangeEmailBody>,
) -> Result<Response, ApiError> {
    email::request_email_change(&state, &who, &body.new_email, body.password, &meta).await?;
    Ok(accepted())
}
