//! Webhook endpoints, as admins manage them (docs/API.md "Hooks",
//! docs/webhooks.md): what an endpoint may be, its secret, the delivery
//! log, and the test event. The admin API and the admin console both call
//! these functions.
//!
//! An endpoint's URL is an absolute `http(s)` URL whose host is not, and
//! does not resolve to, a loopback, private, link-local or otherwise
//! internal address (`hooks::target`), unless `[hooks]
//! allow_private_targets = true`; the worker checks again at each
//! delivery, so a name that changes where it points cannot reach inside.
//! The secret is 32 random bytes as `whsec_…`, shown when the endpoint is
//! made (and when rotated), and stored as is: every delivery is signed
//! with it.

use serde::Serialize;
use serde_json::json;

use super::admin::{admin_event, parse_limit};
use super::RequestMeta;
use crate::app::AppState;
use crate::clock::rfc3339;
use crate::domain::webhook::EVENTS;
use crate::error::{ApiError, FieldError};
use crate::hooks::signature::SigningSecret;
use crate::hooks::target;
use crate::store::webhooks::{DeliveryRecord, WebhookChange, WebhookRecord};

/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 200;
/// Most endpoints toktok keeps (each event fans out to every subscriber).
pub const MAX_WEBHOOKS: usize = 50;

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    /// False: nothing is queued for it, and what was queued waits.
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// An endpoint with its signing secret, shown when it is made or rotated.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it
    /// (Standard Webhooks). Shown this once.
    pub secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// One delivery of the log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` header: the same on every attempt.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (given up).
    pub status: &'static str,
    pub attempts: i64,
    /// When the event happened (the payload's `timestamp`).
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    pub failed_at: Option<String>,
    /// The payload's `data`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `after` for the next (older) page; absent on the last.
    pub next: Option<String>,
}

/// What `POST …/test` queued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// The delivery's id (`webhook-id`); follow it in the delivery log.
    pub id: String,
}

/// A new endpoint, as asked.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

pub fn view(w: WebhookRecord) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url,
        description: w.description,
        events: w.events,
        enabled: w.enabled,
        created_at: rfc3339(w.created_at),
        updated_at: rfc3339(w.updated_at),
    }
}

fn delivery_view(d: DeliveryRecord) -> DeliveryView {
    let status = if d.delivered_at.is_some() {
        "delivered"
    } else if d.failed_at.is_some() {
        "failed"
    } else {
        "pending"
    };
    DeliveryView {
        id: d.id,
        event_type: d.event_type,
        status,
        attempts: d.attempts,
        created_at: rfc3339(d.at),
        next_attempt_at: d.next_attempt_at.map(rfc3339),
        last_attempt_at: d.last_attempt_at.map(rfc3339),
        last_status: d.last_status,
        last_error: d.last_error,
        delivered_at: d.delivered_at.map(rfc3339),
        failed_at: d.failed_at.map(rfc3339),
        data: d.data,
    }
}

/// Checks the URL (syntax, then where its host points).
async fn check_url(state: &AppState, url: &str, errors: &mut Vec<FieldError>) {
    match target::parse_target(url) {
        Err(e) => errors.push(FieldError::new("url", e.to_string())),
        Ok(t) => {
            let allow = state.webhooks.allow_private_targets();
            if let Err(e) = target::vet(&t, allow).await {
                errors.push(FieldError::new("url", e.to_string()));
            }
        }
    }
}

pub(crate) fn check_events(events: &[String], errors: &mut Vec<FieldError>) {
    if events.is_empty() {
        errors.push(FieldError::new("events", "must list at least one event"));
    }
    for (i, e) in events.iter().enumerate() {
        if !EVENTS.contains(&e.as_str()) {
            errors.push(FieldError::new(
                format!("events[{i}]"),
                format!("must be one of {}", EVENTS.join(", ")),
            ));
        } else if events[..i].contains(e) {
            errors.push(FieldError::new(format!("events[{i}]"), "is listed twice"));
        }
    }
}

pub(crate) fn check_description(d: Option<&str>, errors: &mut Vec<FieldError>) {
    if let Some(d) = d {
        if d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION} characters, none a control character"),
            ));
        }
    }
}

fn done(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn new_secret() -> Result<SigningSecret, ApiError> {
    SigningSecret::generate()
        .map_err(|_| ApiError::Internal("the OS random number generator failed".into()))
}

pub async fn create(
    state: &AppState,
    actor: &str,
    input: NewWebhook,
    meta: &RequestMeta,
) -> Result<WebhookWithSecret, ApiError> {
    let mut errors = Vec::new();
    check_url(state, &input.url, &mut errors).await;
    check_events(&input.events, &mut errors);
    check_description(input.description.as_deref(), &mut errors);
    done(errors)?;
    if state.store.list_webhooks().await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::field(
            "url",
            format!("toktok keeps at most {MAX_WEBHOOKS} endpoints; delete one first"),
        ));
    }
    let now = state.now();
    let hook = WebhookRecord {
        id: uuid::Uuid::now_v7().to_string(),
        url: input.url,
        description: input.description,
        events: input.events,
        enabled: input.enabled.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    let secret = new_secret()?;
    let event = admin_event(
        meta,
        actor,
        now,
        "webhook.created",
        None,
        json!({ "webhook_id": hook.id, "url": hook.url, "events": hook.events }),
    );
    state
        .store
        .create_webhook(hook.clone(), secret.expose().to_owned(), event)
        .await?;
    Ok(WebhookWithSecret {
        webhook: view(hook),
        secret: secret.expose().to_owned(),
    })
}

pub async fn list(state: &AppState) -> Result<WebhookList, ApiError> {
    let webhooks = state.store.list_webhooks().await?;
    Ok(WebhookList {
        webhooks: webhooks.into_iter().map(view).collect(),
    })
}

pub async fn get(state: &AppState, id: &str) -> Result<WebhookView, ApiError> {
    state
        .store
        .webhook(id)
        .await?
        .map(view)
        .ok_or(ApiError::NotFound)
}

/// A change as asked; `rotate_secret` makes a new secret (then returned).
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub rotate_secret: bool,
}

/// Applies `patch`; the endpoint, with its new secret when rotated.
pub async fn update(
    state: &AppState,
    actor: &str,
    id: &str,
    patch: Patch,
    meta: &RequestMeta,
) -> Result<(WebhookView, Option<String>), ApiError> {
    let mut errors = Vec::new();
    if let Some(url) = &patch.url {
        check_url(state, url, &mut errors).await;
    }
    if let Some(events) = &patch.events {
        check_events(events, &mut errors);
    }
    if let Some(d) = &patch.description {
        check_description(d.as_deref(), &mut errors);
    }
    done(errors)?;
    let secret = if patch.rotate_secret {
        Some(new_secret()?.expose().to_owned())
    } else {
        None
    };
    let mut fields = Vec::new();
    for (set, name) in [
        (patch.url.is_some(), "url"),
        (patch.description.is_some(), "description"),
        (patch.events.is_some(), "events"),
        (patch.enabled.is_some(), "enabled"),
        (patch.rotate_secret, "secret"),
    ] {
        if set {
            fields.push(name);
        }
    }
    let now = state.now();
    let event = admin_event(
        meta,
        actor,
        now,
        "webhook.updated",
        None,
        json!({ "webhook_id": id, "fields": fields }),
    );
    let change = WebhookChange {
        url: patch.url,
        description: patch.description,
        events: patch.events,
        enabled: patch.enabled,
        secret: secret.clone(),
    };
    let hook = state
        .store
        .update_webhook(id, change, now, event)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((view(hook), secret))
}

pub async fn delete(
    state: &AppState,
    actor: &str,
    id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = admin_event(
        meta,
        actor,
        now,
        "webhook.deleted",
        None,
        json!({ "webhook_id": id }),
    );
    if state.store.delete_webhook(id, event).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The delivery log, newest first; `after` is a `next` of this list.
pub async fn deliveries(
    state: &AppState,
    id: &str,
    limit: Option<&str>,
    after: Option<&str>,
) -> Result<DeliveryList, ApiError> {
    let limit = parse_limit(limit)?;
    let before = match after {
        None | Some("") => None,
        Some(text) => Some(
            parse_cursor(text)
                .ok_or_else(|| ApiError::field("after", "must be a `next` value of this list"))?,
        ),
    };
    if state.store.webhook(id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let mut rows = state
        .store
        .webhook_deliveries(id, limit + 1, before)
        .await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| format!("{}.{}", r.at, r.id))
    } else {
        None
    };
    Ok(DeliveryList {
        deliveries: rows.into_iter().map(delivery_view).collect(),
        next,
    })
}

fn parse_cursor(text: &str) -> Option<(i64, String)> {
    let (at, id) = text.split_once('.')?;
    let at = at.parse::<i64>().ok()?;
    let ok = id.starts_with("msg_")
        && id.len() <= 40
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| (at, id.to_owned()))
}

/// Queues a `webhook.test` delivery to endpoint `id` and wakes the worker.
pub async fn send_test(state: &AppState, id: &str) -> Result<TestQueued, ApiError> {
    let now = state.now();
    let data = json!({ "webhook_id": id, "message": "A test event from toktok." });
    let msg = state
        .store
        .queue_test_delivery(id, data, now)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.webhooks.notify();
    Ok(TestQueued { id: msg })
}

/// Sends a finished (delivered or given-up) delivery again.
pub async fn retry(state: &AppState, id: &str, delivery: &str) -> Result<(), ApiError> {
    if state
        .store
        .retry_delivery(id, delivery, state.now())
        .await?
    {
        state.webhooks.notify();
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_must_be_known_and_listed_once() {
        let mut errors = Vec::new();
        check_events(
            &["user.created".into(), "nope".into(), "user.created".into()],
            &mut errors,
        );
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["events[1]", "events[2]"]);
        let mut errors = Vec::new();
        check_events(&[], &mut errors);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn cursors_are_read_strictly() {
        assert_eq!(parse_cursor("12.msg_ab12"), Some((12, "msg_ab12".into())));
        for bad in ["", "12", "x.msg_a", "12.abc", "12.msg_'or'", "12.msg_a.b"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
