//! `/v1/auth/*`: register, login, refresh, logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{Anonymous, Auth, JsonBody, Meta, Sealed};
use crate::accounts::{self, Registered, Registration};
use crate::app::AppState;
use crate::error::ApiError;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

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
    Ok(match accounts::register(&state, input, &meta).await? {
        Registered::SignedIn(tokens) => (StatusCode::CREATED, Json(tokens)).into_response(),
        Registered::ConfirmationSent(user) => (
            StatusCode::CREATED,
            Json(json!({ "user": user, "confirmation_sent": true })),
        )
            .into_response(),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The current refresh token (`rt_…`; a JWT one issued before v1.1 is
    /// still read until it expires).
    pub refresh_token: String,
}

#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Response, ApiError> {
    let tokens = accounts::refresh(&state, &body.refresh_token, &meta).await?;
    Ok(Json(tokens).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
) -> Result<StatusCode, ApiError> {
    accounts::logout(&state, &who, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all)]
pub async fn logout_all(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
) -> Result<StatusCode, ApiError> {
    accounts::logout_all(&state, &who, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all)]
pub async fn anonymous(
    State(state): State<AppState>,
    Meta(meta): Meta,
) -> Result<Response, ApiError> {
    let token = accounts::anonymous::issue(&state, &meta).await?;
    Ok(Json(token).into_response())
}

pub async fn public_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let rsa = state.rsa.as_ref().ok_or(ApiError::FeatureDisabled)?;
    Ok(Json(rsa.public_key()).into_response())
}
