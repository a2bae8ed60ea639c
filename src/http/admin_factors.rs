//! `DELETE /v1/admin/users/{id}/factors`: an administrator removes a
//! user's second factors (docs/API.md "Sign-in beyond passwords").

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::extract::{Admin, Meta};
use crate::accounts::factors_reset;
use crate::app::AppState;
use crate::error::ApiError;

#[utoipa::path(delete, path = "/v1/admin/users/{id}/factors", tag = "admin",
    summary = "Remove a user's second factors",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "User id.")),
    responses(
        (status = 204, description = "TOTP, passkeys and recovery codes removed; every session ended; notice mailed."),
        (status = 404, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reset_user_factors(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    factors_reset::reset_factors(&state, &actor, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
