//! `/v1/challenges*`: the challenge engine offered to trusted services
//! (API key with scope `challenges`). The handlers only translate; the rules
//! live in `crate::challenge`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{ChallengeService, JsonBody, Meta};
use super::openapi::{
    ChallengeCreate, ChallengeRegenerateBody, ChallengeRemoveBody, ChallengeSelector,
    ChallengeVerify,
};
use crate::app::AppState;
use crate::challenge::{AuditContext, CreateParams, Created, LookupParams, Record, Regenerated};
use crate::error::ApiError;

#[utoipa::path(post, path = "/v1/challenges", tag = "challenges", summary = "Create a challenge",
    security(("api_key" = [])),
    request_body = ChallengeCreate,
    responses((status = 201, description = "Created.", body = Created)))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    _service: ChallengeService,
    JsonBody(params): JsonBody<CreateParams>,
) -> Result<Response, ApiError> {
    let created = state.challenges.create(params).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(post, path = "/v1/challenges/verify", tag = "challenges",
    summary = "Verify a challenge's secret",
    security(("api_key" = [])),
    request_body = ChallengeVerify,
    responses(
        (status = 200, description = "The challenge record.", body = Record),
        (status = 404, description = "`challenge_not_found`"),
    ))]
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

#[utoipa::path(post, path = "/v1/challenges/info", tag = "challenges",
    summary = "A challenge's record (never the secret)",
    security(("api_key" = [])),
    request_body = ChallengeSelector,
    responses(
        (status = 200, description = "The challenge record.", body = Record),
        (status = 404, description = "`challenge_not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn info(
    State(state): State<AppState>,
    _service: ChallengeService,
    JsonBody(params): JsonBody<LookupParams>,
) -> Result<Response, ApiError> {
    let lookup = params.lookup().map_err(ApiError::Validation)?;
    Ok(Json(state.challenges.info(lookup).await?).into_response())
}

#[utoipa::path(post, path = "/v1/challenges/regenerate", tag = "challenges",
    summary = "Issue a new secret of the same kind",
    security(("api_key" = [])),
    request_body = ChallengeRegenerateBody,
    responses(
        (status = 200, description = "The new secret.", body = Regenerated),
        (status = 404, description = "`challenge_not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn regenerate(
    State(state): State<AppState>,
    _service: ChallengeService,
    JsonBody(params): JsonBody<LookupParams>,
) -> Result<Response, ApiError> {
    let lookup = params.lookup().map_err(ApiError::Validation)?;
    Ok(Json(state.challenges.regenerate(lookup).await?).into_response())
}

#[utoipa::path(post, path = "/v1/challenges/remove", tag = "challenges", summary = "Remove a challenge",
    security(("api_key" = [])),
    request_body = ChallengeRemoveBody,
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "`challenge_not_found`"),
    ))]
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
