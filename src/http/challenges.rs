//! `/v1/challenges*`: the challenge engine offered to trusted services
//! (API key with scope `challenges`). The handlers only translate; the rules
//! live in `crate::challenge`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{ChallengeService, JsonBody, Meta};
use crate::app::AppState;
use crate::challenge::{AuditContext, CreateParams, LookupParams};
use crate::error::ApiError;

#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    _service: ChallengeService,
    JsonBody(params): JsonBody<CreateParams>,
) -> Result<Response, ApiError> {
    let created = state.challenges.create(params).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn verify(
    State(state): State<AppState>,
    ChallengeService(key): ChallengeService,
    Meta(meta): Meta,
    JsonBody(params): JsonBody<LookupParams>,
) -> Result<Response, ApiError> {
    let lookup = params.lookup().map_err(ApiError::Validation)?;
    let audit = AuditContext {
        actor: Some(format!("api_key:{}", key.id)),
        ip: meta.ip.map(|ip| ip.to_string()),
        user_agent: meta.user_agent,
    };
    let record = state
        .challenges
        .verify(lookup, params.verify_options(), Some(audit))
        .await?;
    Ok(Json(record).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn info(
    State(state): State<AppState>,
    _service: ChallengeService,
    JsonBody(params): JsonBody<LookupParams>,
) -> Result<Response, ApiError> {
    let lookup = params.lookup().map_err(ApiError::Validation)?;
    Ok(Json(state.challenges.info(lookup).await?).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn regenerate(
    State(state): State<AppState>,
    _service: ChallengeService,
    JsonBody(params): JsonBody<LookupParams>,
) -> Result<Response, ApiError> {
    let lookup = params.lookup().map_err(ApiError::Validation)?;
    Ok(Json(state.challenges.regenerate(lookup).await?).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn remove(
    State(state): State<AppState>,
    _service: ChallengeService,
    JsonBody(params): JsonBody<LookupParams>,
) -> Result<StatusCode, ApiError> {
    let lookup = params.lookup().map_err(ApiError::Validation)?;
    state.challenges.remove(lookup).await?;
    Ok(StatusCode::NO_CONTENT)
}
