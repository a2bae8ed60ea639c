//! Webhook endpoints and their deliveries (schema migration 15), written
//! once for both backends over [`Tx`].
//!
//! A change queues its events here, in its own transaction: [`on_audit`]
//! runs inside `flows::audit`, which every change calls, and looks up the
//! endpoints subscribed to the event (`webhook_subscriptions`, usually no
//! row: one indexed read). The session events are queued by the schema's
//! triggers. The worker (`crate::hooks::deliver`) claims due rows with a
//! lease ([`Store::claim_deliveries`]; `SKIP LOCKED` on PostgreSQL), sends
//! them, and records each outcome ([`Store::finish_deliveries`]).

use serde_json::{json, Value};

use super::flows::{audit, Arg, Cell, Tx};
use super::{AuditEvent, Store, StoreError, UserRecord};
use crate::domain::webhook::{change_of, event_for_audit, FACTORS_CHANGED, PASSWORD_CHANGED};

use Arg::{Int, OptInt, OptText, Text};

/// A webhook endpoint as stored (the secret apart: [`Store::claim_deliveries`]
/// reads it for signing, nothing else does).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A change to an endpoint (`PATCH`): each `Some` replaces the field.
#[derive(Debug, Clone, Default)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    /// A new `whsec_…` secret (rotation).
    pub secret: Option<String>,
}

/// One row of an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub data: Value,
    pub at: i64,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub failed_at: Option<i64>,
}

/// A claimed delivery: the message and where and how to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
    pub event_type: String,
    pub data: String,
    pub at: i64,
    pub attempts: i64,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum Attempt {
    Delivered {
        id: String,
        status: i64,
    },
    /// Try again at `next`; `status` when the receiver answered.
    Retry {
        id: String,
        next: i64,
        status: Option<i64>,
        error: String,
    },
    /// Given up: the row is marked failed and `event` audited.
    Failed {
        id: String,
        status: Option<i64>,
        error: String,
        event: AuditEvent,
    },
}

/// Queues the webhook event `e` reports, if it is one and any endpoint
/// subscribes (called by `flows::audit`, in the change's transaction).
pub(crate) fn on_audit(tx: &mut dyn Tx, e: &AuditEvent) -> Result<(), StoreError> {
    let Some(event) = event_for_audit(e.kind) else {
        return Ok(());
    };
    let endpoints = subscribers(tx, event)?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let user_id = e.user_id.as_deref().unwrap_or_default();
    let mut data = json!({ "user_id": user_id });
    if event == FACTORS_CHANGED || event == PASSWORD_CHANGED {
        data["change"] = json!(change_of(e.kind));
    } else if let Some(user) = tx.get_user(user_id)? {
        data["user"] = user_json(&user);
    }
    if let Some(actor) = &e.actor {
        data["actor"] = json!(actor);
    }
    let data = data.to_string();
    for webhook_id in &endpoints {
        insert_delivery(tx, webhook_id, event, &data, e.at)?;
    }
    Ok(())
}

fn subscribers(tx: &mut dyn Tx, event: &str) -> Result<Vec<String>, StoreError> {
    tx.query(
        "SELECT webhook_id FROM webhook_subscriptions WHERE event = ?1",
        &[Text(event)],
    )?
    .iter()
    .map(|r| cell(r, 0)?.text())
    .collect()
}

fn insert_delivery(
    tx: &mut dyn Tx,
    webhook_id: &str,
    event: &str,
    data: &str,
    at: i64,
) -> Result<String, StoreError> {
    let id = crate::domain::webhook::message_id();
    tx.execute_cached(
        "INSERT INTO webhook_deliveries (id, webhook_id, type, data, at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        &[
            Text(&id),
            Text(webhook_id),
            Text(event),
            Text(data),
            Int(at),
        ],
    )?;
    Ok(id)
}

/// The user as a webhook payload shows it: what the admin API shows,
/// never the password hash.
fn user_json(u: &UserRecord) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "email_confirmed": u.email_confirmed_at.is_some(),
        "name": u.name,
        "role": u.role,
        "metadata": u.metadata,
        "app_metadata": u.app_metadata,
        "locale": u.locale,
        "disabled": u.disabled,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    })
}

fn cell(r: &[Cell], i: usize) -> Result<&Cell, StoreError> {
    r.get(i)
        .ok_or_else(|| StoreError::Internal("a webhook row is short".to_owned()))
}

const WEBHOOK_COLUMNS: &str = "id, url, description, events, enabled, created_at, updated_at";

fn webhook_row(r: &[Cell]) -> Result<WebhookRecord, StoreError> {
    let events: Vec<String> = serde_json::from_str(&cell(r, 3)?.text()?)
        .map_err(|e| StoreError::Internal(format!("a webhook's events: {e}")))?;
    Ok(WebhookRecord {
        id: cell(r, 0)?.text()?,
        url: cell(r, 1)?.text()?,
        description: cell(r, 2)?.opt_text()?,
        events,
        enabled: cell(r, 4)?.int()? != 0,
        created_at: cell(r, 5)?.int()?,
        updated_at: cell(r, 6)?.int()?,
    })
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, type, data, at, attempts, next_attempt_at,
        last_attempt_at, last_status, last_error, delivered_at, failed_at";

fn delivery_row(r: &[Cell]) -> Result<DeliveryRecord, StoreError> {
    let delivered_at = cell(r, 10)?.opt_int()?;
    let failed_at = cell(r, 11)?.opt_int()?;
    let pending = delivered_at.is_none() && failed_at.is_none();
    Ok(DeliveryRecord {
        id: cell(r, 0)?.text()?,
        webhook_id: cell(r, 1)?.text()?,
        event_type: cell(r, 2)?.text()?,
        data: serde_json::from_str(&cell(r, 3)?.text()?).unwrap_or(Value::Null),
        at: cell(r, 4)?.int()?,
        attempts: cell(r, 5)?.int()?,
        next_attempt_at: pending.then_some(cell(r, 6)?.int()?),
        last_attempt_at: cell(r, 7)?.opt_int()?,
        last_status: cell(r, 8)?.opt_int()?,
        last_error: cell(r, 9)?.opt_text()?,
        delivered_at,
        failed_at,
    })
}

/// Rewrites an endpoint's rows in `webhook_subscriptions`: its events when
/// enabled, none when not.
fn subscribe(
    tx: &mut dyn Tx,
    id: &str,
    events: &[String],
    enabled: bool,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM webhook_subscriptions WHERE webhook_id = ?1",
        &[Text(id)],
    )?;
    if enabled {
        for event in events {
            tx.execute(
                "INSERT INTO webhook_subscriptions (event, webhook_id) VALUES (?1, ?2)",
                &[Text(event), Text(id)],
            )?;
        }
    }
    Ok(())
}

fn get_webhook(tx: &mut dyn Tx, id: &str) -> Result<Option<WebhookRecord>, StoreError> {
    let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1");
    tx.query(&sql, &[Text(id)])?
        .first()
        .map(|r| webhook_row(r))
        .transpose()
}

impl Store {
    /// Stores a new endpoint with its signing secret, and `event`.
    pub async fn create_webhook(
        &self,
        hook: WebhookRecord,
        secret: String,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            let events = serde_json::to_string(&hook.events)
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            tx.execute(
                "INSERT INTO webhooks (id, url, description, secret, events, enabled,
                        created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                &[
                    Text(&hook.id),
                    Text(&hook.url),
                    OptText(hook.description.as_deref()),
                    Text(&secret),
                    Text(&events),
                    Int(i64::from(hook.enabled)),
                    Int(hook.created_at),
                ],
            )?;
            subscribe(tx, &hook.id, &hook.events, hook.enabled)?;
            audit(tx, &event)
        })
        .await
    }

    /// Every endpoint, oldest first.
    pub async fn list_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        self.read(move |tx| {
            let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id");
            tx.query(&sql, &[])?
                .iter()
                .map(|r| webhook_row(r))
                .collect()
        })
        .await
    }

    /// One endpoint.
    pub async fn webhook(&self, id: &str) -> Result<Option<WebhookRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |tx| get_webhook(tx, &id)).await
    }

    /// Applies `change` and writes `event`; `None` when there is no such
    /// endpoint.
    pub async fn update_webhook(
        &self,
        id: &str,
        change: WebhookChange,
        now: i64,
        event: AuditEvent,
    ) -> Result<Option<WebhookRecord>, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| {
            let Some(mut hook) = get_webhook(tx, &id)? else {
                return Ok(None);
            };
            if let Some(url) = change.url {
                hook.url = url;
            }
            if let Some(description) = change.description {
                hook.description = description;
            }
            if let Some(events) = change.events {
                hook.events = events;
            }
            if let Some(enabled) = change.enabled {
                hook.enabled = enabled;
            }
            hook.updated_at = now;
            let events = serde_json::to_string(&hook.events)
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            tx.execute(
                "UPDATE webhooks SET url = ?2, description = ?3, events = ?4, enabled = ?5,
                        updated_at = ?6 WHERE id = ?1",
                &[
                    Text(&id),
                    Text(&hook.url),
                    OptText(hook.description.as_deref()),
                    Text(&events),
                    Int(i64::from(hook.enabled)),
                    Int(now),
                ],
            )?;
            if let Some(secret) = &change.secret {
                tx.execute(
                    "UPDATE webhooks SET secret = ?2 WHERE id = ?1",
                    &[Text(&id), Text(secret)],
                )?;
            }
            subscribe(tx, &id, &hook.events, hook.enabled)?;
            audit(tx, &event)?;
            Ok(Some(hook))
        })
        .await
    }

    /// Deletes an endpoint and its deliveries (cascade); false when absent.
    pub async fn delete_webhook(&self, id: &str, event: AuditEvent) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| {
            let n = tx.execute("DELETE FROM webhooks WHERE id = ?1", &[Text(&id)])?;
            if n > 0 {
                audit(tx, &event)?;
            }
            Ok(n > 0)
        })
        .await
    }

    /// Queues a `webhook.test` message for endpoint `id` only; its id, or
    /// `None` when there is no such endpoint.
    pub async fn queue_test_delivery(
        &self,
        id: &str,
        data: Value,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| {
            if get_webhook(tx, &id)?.is_none() {
                return Ok(None);
            }
            let msg = insert_delivery(
                tx,
                &id,
                crate::domain::webhook::TEST,
                &data.to_string(),
                now,
            )?;
            Ok(Some(msg))
        })
        .await
    }

    /// An endpoint's deliveries, newest first, `limit` of them from before
    /// the cursor `(at, id)`.
    pub async fn webhook_deliveries(
        &self,
        webhook_id: &str,
        limit: usize,
        before: Option<(i64, String)>,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let webhook_id = webhook_id.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |tx| {
            let (at, id) = before.unwrap_or((i64::MAX, String::new()));
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                  WHERE webhook_id = ?1 AND (?4 = '' OR at < ?2 OR (at = ?2 AND id < ?4))
                  ORDER BY at DESC, id DESC LIMIT ?3"
            );
            tx.query(&sql, &[Text(&webhook_id), Int(at), Int(limit), Text(&id)])?
                .iter()
                .map(|r| delivery_row(r))
                .collect()
        })
        .await
    }

    /// Claims up to `limit` due deliveries of enabled endpoints, leasing
    /// them until `lease_until` (a worker that dies mid-send leaves them to
    /// come due again then).
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(move |tx| {
            let sql = format!(
                "SELECT d.id, d.webhook_id, w.url, w.secret, d.type, d.data, d.at, d.attempts
                   FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                  WHERE d.delivered_at IS NULL AND d.failed_at IS NULL
                    AND d.next_attempt_at <= ?1 AND w.enabled = 1
                  ORDER BY d.next_attempt_at, d.id LIMIT ?2{}",
                if tx.skip_locked().is_empty() {
                    ""
                } else {
                    " FOR UPDATE OF d SKIP LOCKED"
                }
            );
            let due = tx
                .query(&sql, &[Int(now), Int(limit)])?
                .iter()
                .map(|r| {
                    Ok(DueDelivery {
                        id: cell(r, 0)?.text()?,
                        webhook_id: cell(r, 1)?.text()?,
                        url: cell(r, 2)?.text()?,
                        secret: cell(r, 3)?.text()?,
                        event_type: cell(r, 4)?.text()?,
                        data: cell(r, 5)?.text()?,
                        at: cell(r, 6)?.int()?,
                        attempts: cell(r, 7)?.int()?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for d in &due {
                tx.execute_cached(
                    "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1",
                    &[Text(&d.id), Int(lease_until)],
                )?;
            }
            Ok(due)
        })
        .await
    }

    /// Records the outcome of each attempt, in one transaction.
    pub async fn finish_deliveries(
        &self,
        attempts: Vec<Attempt>,
        now: i64,
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            for a in &attempts {
                match a {
                    Attempt::Delivered { id, status } => tx.execute_cached(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1,
                                last_attempt_at = ?2, last_status = ?3, last_error = NULL,
                                delivered_at = ?2
                          WHERE id = ?1",
                        &[Text(id), Int(now), Int(*status)],
                    )?,
                    Attempt::Retry {
                        id,
                        next,
                        status,
                        error,
                    } => tx.execute_cached(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1,
                                last_attempt_at = ?2, last_status = ?3, last_error = ?4,
                                next_attempt_at = ?5
                          WHERE id = ?1",
                        &[Text(id), Int(now), OptInt(*status), Text(error), Int(*next)],
                    )?,
                    Attempt::Failed {
                        id,
                        status,
                        error,
                        event,
                    } => {
                        let n = tx.execute_cached(
                            "UPDATE webhook_deliveries SET attempts = attempts + 1,
                                    last_attempt_at = ?2, last_status = ?3, last_error = ?4,
                                    failed_at = ?2
                              WHERE id = ?1",
                            &[Text(id), Int(now), OptInt(*status), Text(error)],
                        )?;
                        audit(tx, event)?;
                        n
                    }
                };
            }
            Ok(())
        })
        .await
    }

    /// Puts a finished (delivered or given-up) delivery back in the queue,
    /// due at `now`; false when no finished delivery has this id.
    pub async fn retry_delivery(
        &self,
        webhook_id: &str,
        id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (webhook_id, id) = (webhook_id.to_owned(), id.to_owned());
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE webhook_deliveries
                    SET failed_at = NULL, delivered_at = NULL, next_attempt_at = ?3, at = ?3
                  WHERE id = ?1 AND webhook_id = ?2
                    AND (failed_at IS NOT NULL OR delivered_at IS NOT NULL)",
                &[Text(&id), Text(&webhook_id), Int(now)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// Deletes delivered and given-up deliveries older than `cutoff`, at
    /// most `batch` of them.
    pub async fn sweep_deliveries(&self, cutoff: i64, batch: usize) -> Result<usize, StoreError> {
        let batch = i64::try_from(batch).unwrap_or(i64::MAX);
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM webhook_deliveries WHERE id IN (
                    SELECT id FROM webhook_deliveries
                     WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL) AND at < ?1
                     LIMIT ?2)",
                &[Int(cutoff), Int(batch)],
            )
        })
        .await
    }

    /// Whether any delivery of an enabled endpoint is due at `now`: a read
    /// on the pool, so an idle worker does not take the writer.
    pub async fn delivery_due(&self, now: i64) -> Result<bool, StoreError> {
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT 1 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                  WHERE d.delivered_at IS NULL AND d.failed_at IS NULL
                    AND d.next_attempt_at <= ?1 AND w.enabled = 1
                  LIMIT 1",
                &[Int(now)],
            )?;
            Ok(!rows.is_empty())
        })
        .await
    }

    /// Deliveries waiting (due or leased), for the queue-depth gauge.
    pub async fn webhook_queue_depth(&self) -> Result<i64, StoreError> {
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT count(*) FROM webhook_deliveries
                  WHERE delivered_at IS NULL AND failed_at IS NULL",
                &[],
            )?;
            rows.first().map(|r| cell(r, 0)?.int()).unwrap_or(Ok(0))
        })
        .await
    }
}
