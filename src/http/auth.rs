//! `/v1/auth/*`: register, login, refresh, logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{Anonymous, Auth, JsonBody, Meta, Sealed};
use super::openapi::{Jwe, PublicKey};
use crate::accounts::anonymous::AnonymousToken;
use crate::accounts::signin::SignInAnswer;
use crate::accounts::tokens::TokenResponse;
use crate::accounts::{self, Registered, Registration, UserView};
use crate::app::AppState;
use crate::error::ApiError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "ada@example.com", "password": "correct horse battery staple" }))]
pub struct RegisterBody {
    #[schema(format = Email, min_length = 1)]
    pub email: String,
    pub password: String,
    /// At most 256 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 256, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// The answer of a registration: signed in, or a confirmation link sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RegisterAnswer {
    SignedIn(Box<TokenResponse>),
    ConfirmationSent(Box<ConfirmationSent>),
}

/// A registration that waits for the address to be confirmed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationSent {
    pub confirmation_sent: bool,
    pub user: UserView,
}

#[utoipa::path(post, path = "/v1/auth/register", tag = "accounts", summary = "Register (A)(E)",
    security((), ("bearer_jwt" = [])),
    request_body(content((RegisterBody = "application/json"), (Jwe = "application/jose"))),
    responses(
        (status = 201, body = RegisterAnswer,
            description = "Token response, or `confirmation_sent` when confirmation is required."),
        (status = 409, description = "`email_taken` (only when confirmation is off)"),
        (status = 422, description = "weak or invalid"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn register(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Anonymous(anonymous_id): Anonymous,
    Sealed(body): Sealed<RegisterBody>,
) -> Result<Response, ApiError> {
    let input = Registration {
        anonymous_id,
        email: body.email,
        password: body.password,
        name: body.name,
        metadata: body.metadata,
    };
    let answer = match accounts::register(&state, input, &meta).await? {
        Registered::SignedIn(tokens) => RegisterAnswer::SignedIn(tokens),
        Registered::ConfirmationSent(user) => {
            RegisterAnswer::ConfirmationSent(Box::new(ConfirmationSent {
                confirmation_sent: true,
                user,
            }))
        }
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "ada@example.com", "password": "correct horse battery staple" }))]
pub struct LoginBody {
    #[schema(format = Email, min_length = 1)]
    pub email: String,
    pub password: String,
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "accounts", summary = "Log in (A)(E)",
    security((), ("bearer_jwt" = [])),
    request_body(content((LoginBody = "application/json"), (Jwe = "application/jose"))),
    responses((status = 200, body = SignInAnswer, description = "Token response; or, when the \
        user has a second factor, `{mfa_required, mfa_token, factors, expires_in}` and no \
        session yet: finish at `POST /v1/auth/mfa`.")))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    Meta(meta): Meta,
    _anonymous: Anonymous,
    Sealed(body): Sealed<LoginBody>,
) -> Result<Response, ApiError> {
    let tokens = accounts::login(&state, &body.email, body.password, &meta).await?;
    Ok(Json(tokens).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "refresh_token": "rt_…" }))]
pub struct RefreshBody {
    /// The current refresh token (`rt_…`; a JWT one issued before v1.1 is
    /// still read until it expires).
    #[schema(min_length = 1)]
    pub refresh_token: String,
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "accounts", summary = "Rotate a refresh token",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "Token response.", body = TokenResponse),
        (status = 401, description = "`invalid_token`, `token_expired`, `token_reused`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Response, ApiError> {
    let tokens = accounts::refresh(&state, &body.refresh_token, &meta).await?;
    Ok(Json(tokens).into_response())
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "accounts", summary = "End this session",
    security(("bearer_jwt" = [])),
    responses((status = 204, description = "Session ended.")))]
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
) -> Result<StatusCode, ApiError> {
    accounts::logout(&state, &who, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/auth/logout-all", tag = "accounts",
    summary = "End every session of the user",
    security(("bearer_jwt" = [])),
    responses((status = 204, description = "Sessions ended.")))]
#[tracing::instrument(skip_all)]
pub async fn logout_all(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
) -> Result<StatusCode, ApiError> {
    accounts::logout_all(&state, &who, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/auth/anonymous", tag = "discovery",
    summary = "Issue an anonymous token",
    responses(
        (status = 200, description = "Anonymous token.", body = AnonymousToken),
        (status = 404, description = "`feature_disabled`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn anonymous(
    State(state): State<AppState>,
    Meta(meta): Meta,
) -> Result<Response, ApiError> {
    let token = accounts::anonymous::issue(&state, &meta).await?;
    Ok(Json(token).into_response())
}

#[utoipa::path(get, path = "/v1/auth/public-key", tag = "discovery",
    summary = "RSA key for encrypted (application/jose) bodies",
    responses(
        (status = 200, description = "The RSA public key.", body = PublicKey),
        (status = 404, description = "`feature_disabled`"),
    ))]
pub async fn public_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let rsa = state.rsa.as_ref().ok_or(ApiError::FeatureDisabled)?;
    Ok(Json(rsa.public_key()).into_response())
}
