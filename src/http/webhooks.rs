//! Webhook endpoints (`/v1/admin/webhooks*`, for admins like every
//! `/v1/admin` route): manage them, read each one's delivery log, send a
//! test event. The rules are `accounts::webhooks`; docs/webhooks.md says
//! what is delivered and how.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::{param, query_pairs};
use super::extract::{Admin, JsonBody, Meta};
use crate::accounts::webhooks::{
    self, DeliveryList, NewWebhook, Patch, TestQueued, WebhookList, WebhookView, WebhookWithSecret,
};
use crate::app::AppState;
use crate::error::ApiError;

/// An event an endpoint can subscribe to (`crate::domain::webhook::EVENTS`).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(
    pattern = "^(user\\.created|user\\.updated|user\\.deleted|user\\.email_changed|user\\.disabled|session\\.created|session\\.revoked|password\\.changed|factors\\.changed)$",
    example = "session.revoked"
)]
pub struct EventName(String);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://api.example.com/toktok-events",
    "events": ["user.created", "user.deleted", "session.revoked"],
    "description": "Billing service"
}))]
pub struct CreateWebhookBody {
    /// An absolute `http` or `https` URL whose host is not (and does not
    /// resolve to) a loopback, private or link-local address, unless
    /// `[hooks] allow_private_targets`.
    #[schema(
        min_length = 1,
        max_length = 2048,
        example = "https://api.example.com/toktok-events"
    )]
    pub url: String,
    #[schema(min_items = 1)]
    pub events: Vec<EventName>,
    /// At most 200 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub description: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[utoipa::path(post, path = "/v1/admin/webhooks", tag = "admin",
    summary = "Register a webhook endpoint",
    security(("api_key" = []), ("bearer_jwt" = [])),
    request_body = CreateWebhookBody,
    responses(
        (status = 201, body = WebhookWithSecret,
            description = "The endpoint and its signing `secret` (`whsec_…`), shown this once.",
            example = json!({
                "id": "0193a5c4-7d2e-7b61-9a0c-2f4e8d1b3c5a",
                "url": "https://api.example.com/toktok-events",
                "description": "Billing service",
                "events": ["user.created", "user.deleted", "session.revoked"],
                "enabled": true,
                "created_at": "2026-12-05T10:00:00Z",
                "updated_at": "2026-12-05T10:00:00Z",
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwZGFmZWVkZmFjZTE="
            })),
        (status = 422, description = "`validation_failed`: `url` (not http(s), or a \
            loopback, private or link-local target), `events[i]`, `description`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    JsonBody(body): JsonBody<CreateWebhookBody>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), ApiError> {
    let input = NewWebhook {
        url: body.url,
        events: body.events.into_iter().map(|e| e.0).collect(),
        description: body.description,
        enabled: body.enabled,
    };
    let hook = webhooks::create(&state, &actor, input, &meta).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "admin",
    summary = "List webhook endpoints",
    security(("api_key" = []), ("bearer_jwt" = [])),
    responses(
        (status = 200, body = WebhookList, description = "Every endpoint, oldest first \
            (never a secret)."),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    Admin(_actor): Admin,
) -> Result<Json<WebhookList>, ApiError> {
    Ok(Json(webhooks::list(&state).await?))
}

#[utoipa::path(get, path = "/v1/admin/webhooks/{id}", tag = "admin",
    summary = "One webhook endpoint",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The endpoint id.")),
    responses(
        (status = 200, body = WebhookView, description = "The endpoint (never its secret)."),
        (status = 404, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    Admin(_actor): Admin,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    Ok(Json(webhooks::get(&state, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "events": ["session.revoked"], "enabled": true }))]
pub struct PatchWebhookBody {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// Replaces the list.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub events: Option<Vec<EventName>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "super::extract::explicit_null")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub description: Option<Option<String>>,
    /// False pauses the endpoint: nothing new is queued for it, and what
    /// was queued waits until it is enabled again.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// True makes a new signing secret (returned as `secret`); the old one
    /// stops at once.
    #[serde(default)]
    pub rotate_secret: Option<bool>,
}

/// The endpoint after a change; `secret` only when it was rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatchedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[utoipa::path(patch, path = "/v1/admin/webhooks/{id}", tag = "admin",
    summary = "Change a webhook endpoint",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The endpoint id.")),
    request_body = PatchWebhookBody,
    responses(
        (status = 200, body = PatchedWebhook, description = "The changed endpoint, with \
            its new `secret` when `rotate_secret` was true."),
        (status = 404, description = "`not_found`"),
        (status = 422, description = "`validation_failed`, naming each bad field"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn patch(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchWebhookBody>,
) -> Result<Json<PatchedWebhook>, ApiError> {
    let patch = Patch {
        url: body.url,
        description: body.description,
        events: body.events.map(|l| l.into_iter().map(|e| e.0).collect()),
        enabled: body.enabled,
        rotate_secret: body.rotate_secret.unwrap_or(false),
    };
    let (webhook, secret) = webhooks::update(&state, &actor, &id, patch, &meta).await?;
    Ok(Json(PatchedWebhook { webhook, secret }))
}

#[utoipa::path(delete, path = "/v1/admin/webhooks/{id}", tag = "admin",
    summary = "Delete a webhook endpoint",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The endpoint id.")),
    responses(
        (status = 204, description = "Deleted, with its queued deliveries and its log."),
        (status = 404, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn delete(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Admin(actor): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&state, &actor, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "admin",
    summary = "A webhook endpoint's delivery log",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(
        ("id" = String, Path, description = "The endpoint id."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Page size (at most 200)."),
        ("after" = Option<String>, Query, description = "Cursor: the previous page's `next`.",
            pattern = "^([0-9]{1,19}\\.msg_[A-Za-z0-9_]{1,36})?$"),
    ),
    responses(
        (status = 200, body = DeliveryList, description = "Deliveries, newest first: \
            pending (with the next try), delivered, or failed (given up), each with its \
            attempts and the receiver's last status or error."),
        (status = 404, description = "`not_found`"),
        (status = 422, description = "`validation_failed`: `limit`, `after`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn deliveries(
    State(state): State<AppState>,
    Admin(_actor): Admin,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<DeliveryList>, ApiError> {
    let q = query_pairs(query)?;
    Ok(Json(
        webhooks::deliveries(&state, &id, param(&q, "limit"), param(&q, "after")).await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/test", tag = "admin",
    summary = "Send a test event to a webhook endpoint",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The endpoint id.")),
    responses(
        (status = 202, body = TestQueued, description = "A `webhook.test` delivery is \
            queued for this endpoint only (even if paused it is sent once enabled); \
            follow it in the delivery log."),
        (status = 404, description = "`not_found`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn test(
    State(state): State<AppState>,
    Admin(_actor): Admin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TestQueued>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(webhooks::send_test(&state, &id).await?),
    ))
}

#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/deliveries/{delivery}/retry", tag = "admin",
    summary = "Send a delivery again",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(
        ("id" = String, Path, description = "The endpoint id."),
        ("delivery" = String, Path, description = "The delivery id (`msg_…`, its `webhook-id`)."),
    ),
    responses(
        (status = 202, description = "The delivery is queued again now, with a fresh \
            give-up window; the receiver sees the same `webhook-id`."),
        (status = 404, description = "`not_found`: no such endpoint, or no finished (delivered or given-up) \
            delivery with this id on it"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn retry(
    State(state): State<AppState>,
    Admin(_actor): Admin,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    webhooks::retry(&state, &id, &delivery).await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_event_pattern_lists_every_event() {
        for e in crate::domain::webhook::EVENTS {
            let escaped = e.replace('.', "\\\\.");
            assert!(include_str!("webhooks.rs").contains(&escaped), "{e}");
        }
    }
}
