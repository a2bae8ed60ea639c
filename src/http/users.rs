//! `/v1/users/me*`: the signed-in user's own account and sessions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{Auth, JsonBody, Meta, Sealed};
use super::openapi::Jwe;
use crate::accounts::{self, SessionView, UserView};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::ProfileChange;

#[utoipa::path(get, path = "/v1/users/me", tag = "users", summary = "The current user",
    security(("bearer_jwt" = [])),
    responses((status = 200, description = "The user.", body = UserView)))]
#[tracing::instrument(skip_all)]
pub async fn me(Auth(who): Auth) -> Json<UserView> {
    Json(UserView::from(&who.user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Ada", "metadata": { "theme": "dark" }, "locale": "fr" }))]
pub struct PatchMeBody {
    /// At most 256 characters, no control characters; `null` clears it.
    #[serde(default, deserialize_with = "super::extract::explicit_null")]
    #[schema(value_type = Option<String>, max_length = 256, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub name: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// The user's language for pages and mails: `en`, `fr`, `de` or `es`;
    /// `null` clears it (each request then chooses).
    #[serde(default, deserialize_with = "super::extract::explicit_null")]
    #[schema(value_type = Option<String>, pattern = "^(en|fr|de|es)$", example = "fr")]
    pub locale: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/v1/users/me", tag = "users", summary = "Update name, metadata and locale",
    security(("bearer_jwt" = [])),
    request_body = PatchMeBody,
    responses((status = 200, description = "The user.", body = UserView)))]
#[tracing::instrument(skip_all)]
pub async fn patch_me(
    State(state): State<AppState>,
    Auth(who): Auth,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<PatchMeBody>,
) -> Result<Json<UserView>, ApiError> {
    let change = ProfileChange {
        name: body.name,
        metadata: body.metadata,
        locale: body.locale,
    };
    Ok(Json(
        accounts::update_profile(&state, &who, change, &meta).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "current_password": "correct horse battery staple",
                           "new_password": "a new and longer passphrase" }))]
pub struct ChangePasswordBody {
    /// Required when the account has a password. An account without one
    /// (signed up by passkey or email code) leaves it out and sets its
    /// first password under recent authentication (R).
    #[serde(default)]
    pub current_password: Option<String>,
    pub new_password: String,
}

#[utoipa::path(post, path = "/v1/users/me/password", tag = "users", summary = "Change the password (E)",
    security(("bearer_jwt" = [])),
    request_body(content((ChangePasswordBody = "application/json"), (Jwe = "application/jose"))),
    responses(
        (status = 204, description = "Password changed; other sessions ended."),
        (status = 403, description = "`wrong_password`; `reauthentication_required` (a session at `aal` 1 of a user with a second factor; no password yet, (R))"),
    ))]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "password": "correct horse battery staple" }))]
pub struct DeleteMeBody {
    /// Required when the account has a password; an account without one
    /// leaves it out and needs a recent sign-in instead.
    #[serde(default)]
    pub password: Option<String>,
}

#[utoipa::path(delete, path = "/v1/users/me", tag = "users", summary = "Delete the account (E)",
    security(("bearer_jwt" = [])),
    request_body(content((DeleteMeBody = "application/json"), (Jwe = "application/jose"))),
    responses(
        (status = 204, description = "Account deleted."),
        (status = 403, description = "`wrong_password`; `reauthentication_required` (a session at `aal` 1 of a user with a second factor; no password, stale sign-in)"),
    ))]
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

/// The answer of `GET /v1/users/me/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

#[utoipa::path(get, path = "/v1/users/me/sessions", tag = "users", summary = "Active sessions",
    security(("bearer_jwt" = [])),
    responses((status = 200, description = "Sessions.", body = SessionList)))]
#[tracing::instrument(skip_all)]
pub async fn sessions(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = accounts::sessions(&state, &who).await?;
    Ok(Json(SessionList { sessions }))
}

#[utoipa::path(delete, path = "/v1/users/me/sessions/{id}", tag = "users",
    summary = "End one of the user's sessions",
    security(("bearer_jwt" = [])),
    params(("id" = String, Path, description = "Session id.")),
    responses(
        (status = 204, description = "Session ended."),
        (status = 404, description = "`not_found`"),
    ))]
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
