//! Sign-in by email code: request a code, verify it (or its link), and the
//! link's landing page. A GET on the link shows a page whose button POSTs
//! the token; it never consumes it (E5: mail scanners pre-fetch links).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::email::Accepted;
use super::extract::{Anonymous, BodyKind, JsonBody, JsonOrForm, Meta};
use super::pages;
use crate::accounts::email_code::{self, Proof};
use crate::accounts::signin::SignInAnswer;
use crate::app::AppState;
use crate::error::{ApiError, FieldError};

/// The one body of every answer to a code request: it tells nothing about
/// the address (L1).
const ACCEPTED: &str =
    r#"{"status":"accepted","detail":"if the address can sign in, a code is on its way"}"#;

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        ACCEPTED,
    )
        .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "ada@example.com", "create_user": true }))]
pub struct EmailCodeBody {
    #[schema(format = Email, min_length = 1)]
    pub email: String,
    /// Sign up an address without an account when the code is verified
    /// (only while registration is open). Default `false`.
    #[serde(default)]
    pub create_user: Option<bool>,
}

#[utoipa::path(post, path = "/v1/auth/email-code", tag = "accounts",
    summary = "Mail a sign-in code and link (A)",
    security((), ("bearer_jwt" = [])),
    request_body = EmailCodeBody,
    responses(
        (status = 202, description = "Accepted (always, one body).", body = Accepted),
        (status = 404, description = "`feature_disabled`"),
        (status = 429, description = "`rate_limited`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn request(
    State(state): State<AppState>,
    Meta(meta): Meta,
    _anonymous: Anonymous,
    JsonBody(body): JsonBody<EmailCodeBody>,
) -> Result<Response, ApiError> {
    let create_user = body.create_user.unwrap_or(false);
    email_code::request_code(&state, &body.email, create_user, &meta).await?;
    Ok(accepted())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "ada@example.com", "code": "123456" }))]
pub struct VerifyCodeBody {
    /// With `code`: the address the code was sent to.
    #[schema(format = Email)]
    pub email: Option<String>,
    /// The code of the mail.
    pub code: Option<String>,
    /// Instead of `email` and `code`: the token of the mailed link.
    pub token: Option<String>,
}

/// The OpenAPI shape of [`VerifyCodeBody`]: the code with its address, or
/// the link's token, never both.
#[allow(dead_code)] // documents the body; the handler reads the flat struct
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(example = json!({ "email": "ada@example.com", "code": "123456" }))]
pub enum VerifyProofBody {
    Code(VerifyByCode),
    Link(VerifyByLink),
}

/// A code and the address it was sent to.
#[allow(dead_code)] // documents the body; the handler reads the flat struct
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyByCode {
    #[schema(format = Email)]
    pub email: String,
    pub code: String,
}

/// The token of the mailed link.
#[allow(dead_code)] // documents the body; the handler reads the flat struct
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyByLink {
    pub token: String,
}

impl VerifyCodeBody {
    fn proof(self) -> Result<Proof, ApiError> {
        match (self.email, self.code, self.token) {
            (Some(email), Some(code), None) => Ok(Proof::Code { email, code }),
            (None, None, Some(token)) => Ok(Proof::Token(token)),
            (email, code, token) => {
                let message = "give either email and code, or token";
                let mut errors = Vec::new();
                if token.is_some() {
                    errors.push(FieldError::new("token", message));
                }
                if email.is_none() && token.is_none() {
                    errors.push(FieldError::new("email", "is required"));
                }
                if code.is_none() && token.is_none() {
                    errors.push(FieldError::new("code", "is required"));
                }
                Err(ApiError::Validation(errors))
            }
        }
    }
}

#[utoipa::path(post, path = "/v1/auth/email-code/verify", tag = "accounts",
    summary = "Sign in with an email code or its link",
    request_body(content(
        (VerifyProofBody = "application/json"),
        (VerifyProofBody = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Token response (`amr` `[\"otp\"]`), or `mfa_required` \
            as for login; a result page when the form was posted.",
            content((SignInAnswer = "application/json"), (String = "text/html"))),
        (status = 400, description = "`invalid_token`: unknown address, wrong, expired or used code"),
        (status = 404, description = "`feature_disabled`"),
        (status = 429, description = "`rate_limited`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn verify(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    JsonOrForm(body, kind): JsonOrForm<VerifyCodeBody>,
) -> Result<Response, ApiError> {
    let lang = pages::lang(&state, &headers, None, None);
    let result = match body.proof() {
        Ok(proof) => email_code::verify(&state, proof, &meta).await,
        Err(e) => Err(e),
    };
    Ok(match (result, kind) {
        (Ok(answer), BodyKind::Json) => Json(answer).into_response(),
        (Ok(SignInAnswer::Tokens(_)), BodyKind::Form) => pages::message(
            &state.config.branding,
            &lang,
            StatusCode::OK,
            "email-code-link-done-title",
            "email-code-link-done-text",
        ),
        (Ok(SignInAnswer::MfaRequired(_)), BodyKind::Form) => pages::message(
            &state.config.branding,
            &lang,
            StatusCode::OK,
            "email-code-link-mfa-title",
            "email-code-link-mfa-text",
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

#[utoipa::path(get, path = "/v1/auth/email-code/verify", tag = "accounts",
    summary = "Email-code link (never consumes the token)",
    params(("token" = Option<String>, Query, description = "The link token.")),
    responses(
        (status = 200, description = "A page whose button POSTs the token.",
            content_type = "text/html", body = String),
        (status = 404, description = "`feature_disabled`"),
    ))]
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    email_code::require_enabled(&state)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let token = pairs
        .into_iter()
        .find(|(name, _)| name == "token")
        .map(|(_, token)| token)
        .unwrap_or_default();
    let lang = pages::lang(&state, &headers, None, None);
    Ok(pages::email_code_form(
        &state.config.branding,
        &lang,
        &token,
    ))
}
