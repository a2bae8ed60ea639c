//! `/v1/admin/*`: managing users and reading the audit log, for API keys
//! with scope `admin` and users with role `admin` (the [`Admin`] extractor).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::{Admin, JsonBody, Meta};
use crate::accounts::admin::{self, AdminUserView, AuditPage, NewUser, UserPage};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::AdminChange;

/// The query string as name/value pairs; unknown names are ignored.
pub(super) fn query_pairs(raw: Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::field("query", e.to_string()))
}

pub(super) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", summary = "List users",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(
        ("email" = Option<String>, Query, description = "Exact email, case-insensitive."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Page size (at most 200)."),
        ("after" = Option<String>, Query, description = "Cursor: the previous page's `next` (a user id).",
            pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"),
    ),
    responses(
        (status = 200, description = "A page of users.", body = UserPage),
        (status = 422, description = "`validation_failed`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list_users(
    State(state): State<AppState>,
    Admin(_actor): Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<UserPage>, ApiError> {
    let q = query_pairs(query)?;
    let page = admin::list_users(
        &state,
        param(&q, "email"),
        param(&q, "limit"),
        param(&q, "after"),
    )
    .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "grace@example.com", "role": "user", "email_confirmed": true }))]
pub struct CreateUserBody {
    #[schema(format = Email, min_length = 1)]
    pub email: String,
    #[serde(default)]
    pub password: Option<String>,
    /// 1 to 64 letters, digits, `_` or `-` (`accounts::admin::check_role`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub role: Option<String>,
    #[serde(default)]
    pub email_confirmed: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Value>,
}

#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", summary = "Create a user",
    security(("api_key" = []), ("bearer_jwt" = [])),
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "The user (admin view).", body = AdminUserView),
        (status = 409, description = "`email_taken`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create_user(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    JsonBody(body): JsonBody<CreateUserBody>,
) -> Result<(StatusCode, Json<AdminUserView>), ApiError> {
    let input = NewUser {
        email: body.email,
        password: body.password,
        role: body.role,
        email_confirmed: body.email_confirmed,
        metadata: body.metadata,
        app_metadata: body.app_metadata,
    };
    let user = admin::create_user(&state, &actor, input, &meta).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", summary = "One user",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "User id.")),
    responses(
        (status = 200, description = "The user (admin view).", body = AdminUserView),
        (status = 404, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get_user(
    State(state): State<AppState>,
    Admin(_actor): Admin,
    Path(id): Path<String>,
) -> Result<Json<AdminUserView>, ApiError> {
    Ok(Json(admin::get_user(&state, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "role": "admin", "disabled": false }))]
pub struct PatchUserBody {
    /// 1 to 64 letters, digits, `_` or `-` (`accounts::admin::check_role`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub role: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub email_confirmed: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Value>,
    /// At most 256 characters, no control characters; `null` clears it.
    #[serde(default, deserialize_with = "super::extract::explicit_null")]
    #[schema(value_type = Option<String>, max_length = 256, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub name: Option<Option<String>>,
    /// `en`, `fr`, `de` or `es`; `null` clears it.
    #[serde(default, deserialize_with = "super::extract::explicit_null")]
    #[schema(value_type = Option<String>, pattern = "^(en|fr|de|es)$", example = "de")]
    pub locale: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", summary = "Update a user",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "User id.")),
    request_body = PatchUserBody,
    responses(
        (status = 200, description = "The user (admin view).", body = AdminUserView),
        (status = 404, description = "`not_found`"),
        (status = 409, description = "`conflict`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn patch_user(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchUserBody>,
) -> Result<Json<AdminUserView>, ApiError> {
    let change = AdminChange {
        role: body.role,
        disabled: body.disabled,
        email_confirmed: body.email_confirmed,
        metadata: body.metadata,
        app_metadata: body.app_metadata,
        name: body.name,
        locale: body.locale,
    };
    Ok(Json(
        admin::update_user(&state, &actor, &id, change, &meta).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/admin/users/{id}", tag = "admin", summary = "Delete a user",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "User id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn delete_user(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin::delete_user(&state, &actor, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/users/{id}/logout", tag = "admin",
    summary = "End every session of a user",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "User id.")),
    responses(
        (status = 204, description = "Sessions ended."),
        (status = 404, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn logout_user(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin::logout_user(&state, &actor, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", summary = "Audit events",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(
        ("user_id" = Option<String>, Query, description = "Only this user's."),
        ("kind" = Option<String>, Query, description = "Only this kind."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Page size (at most 200)."),
        ("after" = Option<String>, Query, description = "Cursor: the previous page's `next`.",
            pattern = "^([1-9][0-9]{0,17})?$"),
    ),
    responses(
        (status = 200, description = "A page of events.", body = AuditPage),
        (status = 422, description = "`validation_failed`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn audit(
    State(state): State<AppState>,
    Admin(_actor): Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<AuditPage>, ApiError> {
    let q = query_pairs(query)?;
    let page = admin::audit(
        &state,
        param(&q, "user_id"),
        param(&q, "kind"),
        param(&q, "limit"),
        param(&q, "after"),
    )
    .await?;
    Ok(Json(page))
}
