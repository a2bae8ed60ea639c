//! The OpenID Connect provider's token side over HTTP (issue 19,
//! docs/oidc.md "Tokens"): `POST /oauth/token`, `GET`/`POST
//! /oauth/userinfo`, `POST /oauth/revoke`, `POST /oauth/introspect`. The
//! rules are in `crate::oidc::{token, client_auth, resource}`; this file
//! reads form bodies and headers and writes answers.
//!
//! Errors here are OAuth's, not toktok's problem+json: `{"error",
//! "error_description"}` (RFC 6749 §5.2), `WWW-Authenticate: Basic` on a
//! 401 when Basic was tried, `WWW-Authenticate: Bearer error=…` at
//! userinfo (RFC 6750 §3). A fault of ours is the usual 500. Every answer
//! has `Cache-Control: no-store` (the `/v1` router layer sets it; these
//! handlers set it too, so the rule does not hang on where they are
//! mounted).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::extract::Meta;
use crate::app::AppState;
use crate::error::ApiError;
use crate::oidc::client_auth::{self, Presented};
use crate::oidc::resource::{self, UserinfoError};
use crate::oidc::token::{self, Form, OAuthError, TokenAnswer};

/// The largest form body read: token requests are a few hundred bytes.
const MAX_FORM: usize = 16 * 1024;

/// An OAuth error body (RFC 6749 §5.2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`;
    /// at userinfo `invalid_token` or `insufficient_scope`.
    pub error: String,
    pub error_description: String,
}

/// `POST /oauth/token` parameters (form-encoded; which ones depend on
/// `grant_type`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // describes the form for the OpenAPI document only
pub struct TokenForm {
    /// `authorization_code`, `refresh_token` or `client_credentials`.
    pub grant_type: String,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// `client_secret_post` and `none`; with `client_secret_basic` the
    /// credentials go in `Authorization: Basic`.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// `POST /oauth/revoke` and `/oauth/introspect` parameters.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // describes the form for the OpenAPI document only
pub struct TokenQueryForm {
    pub token: String,
    /// `access_token` or `refresh_token`; a hint only.
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(e: OAuthError) -> Response {
    let status = match &e {
        OAuthError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
        OAuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let basic = matches!(e, OAuthError::InvalidClient { basic: true });
    if let OAuthError::Internal(fault) = e {
        return no_store(fault.into_response());
    }
    let body = Json(json!({ "error": e.code(), "error_description": e.description() }));
    let mut response = (status, body).into_response();
    if basic {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"toktok\""),
        );
    }
    no_store(response)
}

/// 404 `feature_disabled` unless `[oidc] enabled`.
fn require_oidc(state: &AppState) -> Result<(), ApiError> {
    if state.config.oidc.enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

/// The form of a request: `application/x-www-form-urlencoded`, bounded.
fn read_form(headers: &HeaderMap, body: &Bytes) -> Result<Form, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    if body.len() > MAX_FORM {
        return Err(OAuthError::InvalidRequest("the body is too large"));
    }
    Form::parse(body)
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

#[utoipa::path(post, path = "/oauth/token", tag = "oidc",
    security((), ("client_secret_basic" = [])),
    summary = "Token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3)",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens.", body = TokenAnswer),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn token(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(off) = require_oidc(&state) {
        return off.into_response();
    }
    let form = match read_form(&headers, &body) {
        Ok(form) => form,
        Err(e) => return oauth_error(e),
    };
    match token::token(&state, authorization(&headers), &form, &meta).await {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(e) => oauth_error(e),
    }
}

fn bearer_error(status: StatusCode, code: &'static str, description: &'static str) -> Response {
    let challenge = format!("Bearer realm=\"toktok\", error=\"{code}\"");
    let mut response = (
        status,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    no_store(response)
}

/// The bearer token of a userinfo request: the `Authorization` header, or
/// on POST the `access_token` form field (RFC 6750 §2.1, §2.2), not both.
fn userinfo_token(headers: &HeaderMap, body: Option<&Bytes>) -> Option<String> {
    let from_header = authorization(headers).and_then(|h| {
        let (scheme, token) = h.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned())
    });
    let from_form = body
        .filter(|b| !b.is_empty())
        .and_then(|b| read_form(headers, b).ok())
        .and_then(|f| f.get("access_token").map(str::to_owned));
    match (from_header, from_form) {
        (Some(token), None) | (None, Some(token)) => Some(token),
        _ => None,
    }
}

async fn userinfo_answer(state: &AppState, token: Option<String>) -> Response {
    if let Err(off) = require_oidc(state) {
        return off.into_response();
    }
    let Some(token) = token else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "an access token is required (Authorization: Bearer)",
        );
    };
    match resource::userinfo(state, &token).await {
        Ok(claims) => no_store(Json(Value::Object(claims)).into_response()),
        Err(UserinfoError::InvalidToken) => bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is invalid, expired or revoked",
        ),
        Err(UserinfoError::InsufficientScope) => bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token lacks the openid scope",
        ),
        Err(UserinfoError::Internal(e)) => oauth_error(e),
    }
}

#[utoipa::path(get, path = "/oauth/userinfo", tag = "oidc",
    summary = "UserInfo endpoint (OIDC Core §5.3)",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "`sub` and the claims of the token's scopes.", body = Object),
        (status = 401, description = "`invalid_token`", body = OAuthErrorBody),
        (status = 403, description = "`insufficient_scope`", body = OAuthErrorBody),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = userinfo_token(&headers, None);
    userinfo_answer(&state, token).await
}

#[utoipa::path(post, path = "/oauth/userinfo", tag = "oidc",
    summary = "UserInfo endpoint (OIDC Core §5.3), token in the header or the form",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "`sub` and the claims of the token's scopes.", body = Object),
        (status = 401, description = "`invalid_token`", body = OAuthErrorBody),
        (status = 403, description = "`insufficient_scope`", body = OAuthErrorBody),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = userinfo_token(&headers, Some(&body));
    userinfo_answer(&state, token).await
}

/// The client and the `token` parameter of a revocation or introspection.
async fn client_and_token(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    public_ok: bool,
) -> Result<(crate::store::OAuthClientRow, Option<String>), OAuthError> {
    let form = read_form(headers, body)?;
    let presented = Presented::read(authorization(headers), &form);
    let client = client_auth::authenticate(state, &presented, public_ok).await?;
    Ok((client, form.get("token").map(str::to_owned)))
}

#[utoipa::path(post, path = "/oauth/revoke", tag = "oidc",
    security((), ("client_secret_basic" = [])),
    summary = "Token revocation (RFC 7009)",
    request_body(content = TokenQueryForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke: the same answer."),
        (status = 400, description = "`invalid_request`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(off) = require_oidc(&state) {
        return off.into_response();
    }
    let (client, token) = match client_and_token(&state, &headers, &body, true).await {
        Ok(found) => found,
        Err(e) => return oauth_error(e),
    };
    let Some(token) = token else {
        return oauth_error(OAuthError::InvalidRequest("token is missing"));
    };
    match resource::revoke(&state, &client, &token, &meta).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => oauth_error(e),
    }
}

#[utoipa::path(post, path = "/oauth/introspect", tag = "oidc",
    security((), ("client_secret_basic" = [])),
    summary = "Token introspection (RFC 7662), for confidential clients",
    request_body(content = TokenQueryForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "`{\"active\":false}`, or the token's `active`, `scope`, `client_id`, `sub`, `exp`, `iat`, `iss`, `aud`, `token_type`, `sid`.", body = Object),
        (status = 400, description = "`invalid_request`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(off) = require_oidc(&state) {
        return off.into_response();
    }
    let (client, token) = match client_and_token(&state, &headers, &body, false).await {
        Ok(found) => found,
        Err(e) => return oauth_error(e),
    };
    let Some(token) = token else {
        return oauth_error(OAuthError::InvalidRequest("token is missing"));
    };
    match resource::introspect(&state, &client, &token).await {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(e) => oauth_error(e),
    }
}
