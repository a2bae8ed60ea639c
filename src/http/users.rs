//! `/v1/users/me*`: the signed-in user's own account and sessions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{Auth, JsonBody, Meta, Sealed};
use crate::accounts::{self, UserView};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::ProfileChange;

#[tracing::instrument(skip_all)]
pub async fn me(Auth(who): Auth) -> Json<UserView> {
    Json(UserView::from(&who.user))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMeBody {
    #[serde(default, deserialize_with = "super::extract::explicit_null")]
    pub name: Option<Option<String>>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

#[tracing::instrument(skip_all)]
pub async fn patch_me(
    State(state): State<AppState>,
    Auth(who): Auth,
    JsonBody(body): JsonBody<PatchMeBody>,
) -> Result<Json<UserView>, ApiError> {
    let change = ProfileChange {
        name: body.name,
        metadata: body.metadata,
    };
    Ok(Json(accounts::update_profile(&state, &who, change).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
}

#[tracing::instrument(skip_all)]
pub async fn change_password(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    Sealed(body): Sealed<ChangePasswordBody>,
) -> Result<StatusCode, ApiError> {
    accounts::change_password(
        &state,
        &who,
        body.current_password,
        body.new_password,
        &meta,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMeBody {
    pub password: String,
}

#[tracing::instrument(skip_all)]
pub async fn delete_me(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    Sealed(body): Sealed<DeleteMeBody>,
) -> Result<StatusCode, ApiError> {
    accounts::delete_account(&state, &who, body.password, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all)]
pub async fn sessions(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Value>, ApiError> {
    let sessions = accounts::sessions(&state, &who).await?;
    Ok(Json(json!({ "sessions": sessions })))
}

#[tracing::instrument(skip_all)]
pub async fn end_session(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    accounts::end_session(&state, &who, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
