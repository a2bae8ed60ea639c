//! The webhook worker: sends queued deliveries, retries, gives up.
//!
//! A change queues its deliveries in its own transaction
//! (`store::webhooks`); requests never wait for a receiver. This worker,
//! started with the application's background work, loops:
//!
//! 1. claim due deliveries of enabled endpoints, [`BATCH`] at a time, with
//!    a lease (a second process, or a crash mid-send, never loses or
//!    doubles a claim for longer than the lease);
//! 2. send them concurrently: `POST` the Standard Webhooks payload
//!    `{"type", "timestamp", "data"}`, signed (`signature.rs`), to the
//!    endpoint's URL — only after the URL's host has been resolved and
//!    every address checked against the SSRF rule (`target.rs`), and
//!    connecting only to those checked addresses; redirects are not
//!    followed, `[hooks] timeout` bounds each attempt;
//! 3. a 2xx is delivered; anything else is tried again after an
//!    exponential back-off (5 s, ×4 each time, at most 10 h, ±20 %
//!    jitter), until `[hooks] give_up_after` has passed since the event:
//!    then the delivery is marked failed, with a `webhook.failed` audit
//!    event, a warning and `toktok_webhook_deliveries_total{outcome="failed"}`;
//! 4. record every outcome of the batch in one transaction, and go on at
//!    once while batches come back full, else sleep until woken or for
//!    [`IDLE`].
//!
//! Delivery is at least once: a crash after the receiver answered but
//! before the outcome is written sends the message again, with the same
//! `webhook-id`, once the lease has run out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::signature::{self, SigningSecret};
use super::target;
use crate::clock::{rfc3339, SharedClock};
use crate::metrics::Metrics;
use crate::store::webhooks::{Attempt, DueDelivery};
use crate::store::{AuditEvent, Store};

/// Deliveries claimed per pass.
pub const BATCH: usize = 128;
/// Rows deleted per sweeping transaction.
const SWEEP_BATCH: usize = 1000;
/// The longest the worker sleeps without being woken.
const IDLE: Duration = Duration::from_secs(1);
/// How far the paced worker may run behind its schedule and catch up.
const CATCH_UP: Duration = Duration::from_millis(100);
/// First retry delay; ×4 with each failure.
const BACKOFF_FIRST_SECS: i64 = 5;
/// Longest retry delay, before jitter.
const BACKOFF_MAX_SECS: i64 = 10 * 3600;
/// A checked address is trusted this long before the name is resolved
/// and checked again.
const VETTED_FOR: Duration = Duration::from_secs(60);
/// The most of a receiver's answer kept in the delivery log.
const ERROR_KEPT: usize = 200;

/// The metric counting delivery attempts by outcome (`delivered`,
/// `retry`, `failed`).
pub const METRIC: &str = "toktok_webhook_deliveries_total";
/// The gauge of deliveries waiting.
pub const QUEUE_DEPTH: &str = "toktok_webhook_queue_depth";
/// The audit kind of a delivery given up.
pub const AUDIT_FAILED: &str = "webhook.failed";

/// How the worker delivers (`[hooks]`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub timeout: Duration,
    pub give_up_after: Duration,
    pub allow_private_targets: bool,
    /// How long delivered and failed deliveries stay in the log.
    pub retention: Duration,
    /// Most deliveries started per second (0: no limit): the worker pauses
    /// between passes to keep under it.
    pub max_per_second: u32,
}

impl From<&crate::config::Config> for Settings {
    fn from(config: &crate::config::Config) -> Settings {
        let hooks = &config.hooks;
        Settings {
            timeout: hooks.timeout,
            give_up_after: hooks.give_up_after,
            allow_private_targets: hooks.allow_private_targets,
            retention: hooks.retention,
            max_per_second: hooks.max_per_second,
        }
    }
}

/// The handle to the webhook worker, in the application state. Cheap to
/// clone.
#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    metrics: Arc<Metrics>,
    clock: SharedClock,
    settings: Settings,
    wake: Notify,
    /// One pass at a time, the worker's or a [`Webhooks::deliver_due`] call's.
    pass: tokio::sync::Mutex<()>,
    /// A client per `scheme://host:port`, pinned to the addresses checked
    /// when it was made.
    clients: Mutex<HashMap<String, (Instant, reqwest::Client)>>,
}

impl Webhooks {
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
        clock: SharedClock,
        settings: Settings,
    ) -> Self {
        metrics.add(METRIC, &[("outcome", "delivered")], 0);
        Webhooks {
            inner: Arc::new(Inner {
                store,
                metrics,
                clock,
                settings,
                wake: Notify::new(),
                pass: tokio::sync::Mutex::new(()),
                clients: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Deletes delivered and given-up deliveries older than the retention
    /// (the sweeper calls this), a batch at a time.
    pub async fn sweep(&self) {
        let inner = &self.inner;
        let retention = i64::try_from(inner.settings.retention.as_secs()).unwrap_or(i64::MAX);
        let cutoff = inner.clock.now().saturating_sub(retention);
        loop {
            match inner.store.sweep_deliveries(cutoff, SWEEP_BATCH).await {
                Ok(n) => {
                    inner.metrics.count_swept("webhooks", n);
                    if n < SWEEP_BATCH {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery sweep failed");
                    return;
                }
            }
        }
    }

    /// `[hooks] allow_private_targets`: what endpoint URLs are checked
    /// against when made or changed.
    pub fn allow_private_targets(&self) -> bool {
        self.inner.settings.allow_private_targets
    }

    /// Wakes the worker (a test event was queued).
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// The worker loop, until `stop` says so.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        // When the next pass may start: each pass moves it on by its share
        // of `max_per_second`. It may fall behind the clock by CATCH_UP at
        // most (tokio's timer wakes up to a millisecond late, which must not
        // slow every pass), so idle time is not saved up for a burst.
        let mut next_pass = tokio::time::Instant::now();
        loop {
            let now = tokio::time::Instant::now();
            next_pass = next_pass.max(now.checked_sub(CATCH_UP).unwrap_or(now));
            let (full, sent) = match self.deliver_due().await {
                Ok(n) => (n == BATCH, n),
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery pass failed");
                    (false, 0)
                }
            };
            if *stop.borrow() {
                return;
            }
            next_pass += spacing(sent, self.inner.settings.max_per_second);
            if next_pass > tokio::time::Instant::now() {
                tokio::select! {
                    () = tokio::time::sleep_until(next_pass) => {}
                    _ = stop.changed() => return,
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(IDLE) => {}
                () = self.inner.wake.notified() => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// One pass: claims due deliveries, sends them, records the outcomes.
    /// Returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, crate::store::StoreError> {
        let inner = &self.inner;
        let _pass = inner.pass.lock().await;
        let now = inner.clock.now();
        if !inner.store.delivery_due(now).await? {
            return Ok(0);
        }
        let lease = i64::try_from(inner.settings.timeout.as_secs()).unwrap_or(3600) * 2 + 60;
        let due = inner
            .store
            .claim_deliveries(now, now + lease, BATCH)
            .await?;
        let claimed = due.len();
        if claimed == 0 {
            return Ok(0);
        }
        let mut sends = JoinSet::new();
        for d in due {
            let this = self.clone();
            sends.spawn(async move { this.attempt(d).await });
        }
        // Outcomes are recorded as they come, those ready together in one
        // write: a slow receiver does not hold back the record of the fast
        // ones (nor widen what a crash sends twice).
        while let Some(done) = sends.join_next().await {
            let mut outcomes = Vec::new();
            let mut take = |done: Result<Attempt, tokio::task::JoinError>| match done {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => tracing::warn!(error = %e, "a webhook send ended abnormally"),
            };
            take(done);
            while let Some(done) = sends.try_join_next() {
                take(done);
            }
            for o in &outcomes {
                let outcome = match o {
                    Attempt::Delivered { .. } => "delivered",
                    Attempt::Retry { .. } => "retry",
                    Attempt::Failed { .. } => "failed",
                };
                inner.metrics.incr(METRIC, &[("outcome", outcome)]);
            }
            inner
                .store
                .finish_deliveries(outcomes, inner.clock.now())
                .await?;
        }
        Ok(claimed)
    }

    /// Sends one delivery and says what became of it.
    async fn attempt(&self, d: DueDelivery) -> Attempt {
        let (status, error) = match self.send(&d).await {
            Ok(status) if (200..300).contains(&status) => {
                return Attempt::Delivered {
                    id: d.id,
                    status: i64::from(status),
                }
            }
            Ok(status) if (300..400).contains(&status) => (
                Some(i64::from(status)),
                format!("answered {status}; redirects are not followed"),
            ),
            Ok(status) => (Some(i64::from(status)), format!("answered {status}")),
            Err(e) => (None, e),
        };
        let now = self.inner.clock.now();
        let next = now + backoff(d.attempts);
        let give_up =
            i64::try_from(self.inner.settings.give_up_after.as_secs()).unwrap_or(i64::MAX);
        if next.saturating_sub(d.at) > give_up {
            tracing::warn!(
                webhook_id = %d.webhook_id, delivery = %d.id, error = %error,
                "webhook delivery given up"
            );
            let event = AuditEvent {
                at: now,
                kind: AUDIT_FAILED,
                user_id: None,
                actor: None,
                ip: None,
                user_agent: None,
                detail: json!({
                    "webhook_id": d.webhook_id,
                    "delivery_id": d.id,
                    "type": d.event_type,
                    "attempts": d.attempts + 1,
                    "error": error,
                }),
            };
            return Attempt::Failed {
                id: d.id,
                status,
                error,
                event,
            };
        }
        Attempt::Retry {
            id: d.id,
            next,
            status,
            error,
        }
    }

    /// Posts one message; the status, or why there is none.
    async fn send(&self, d: &DueDelivery) -> Result<u16, String> {
        let secret = SigningSecret::parse(&d.secret).map_err(|e| e.to_string())?;
        let client = self.client_for(&d.url).await?;
        let data: Value = serde_json::from_str(&d.data).unwrap_or(Value::Null);
        let body = json!({
            "type": d.event_type,
            "timestamp": rfc3339(d.at),
            "data": data,
        })
        .to_string();
        let now = self.inner.clock.now();
        let answer = signature::post(&client, &d.url, &secret, &d.id, now, body)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = answer.status().as_u16();
        if !(200..300).contains(&status) {
            // Keep the start of the answer for the delivery log.
            let text = answer.text().await.unwrap_or_default();
            if !text.is_empty() {
                let mut end = text.len().min(ERROR_KEPT);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                return Err(format!("answered {status}: {}", &text[..end]));
            }
        }
        Ok(status)
    }

    /// A client that connects only to the checked addresses of `url`'s
    /// host, made once a minute per host.
    async fn client_for(&self, url: &str) -> Result<reqwest::Client, String> {
        let t = target::parse_target(url).map_err(|e| e.to_string())?;
        let key = t.origin();
        if let Ok(clients) = self.inner.clients.lock() {
            if let Some((made, client)) = clients.get(&key) {
                if made.elapsed() < VETTED_FOR {
                    return Ok(client.clone());
                }
            }
        }
        let settings = &self.inner.settings;
        let addrs: Vec<SocketAddr> = target::vet(&t, settings.allow_private_targets)
            .await
            .map_err(|e| e.to_string())?;
        let client = target::client_for(&t, &addrs, settings.timeout).map_err(|e| e.to_string())?;
        if let Ok(mut clients) = self.inner.clients.lock() {
            clients.retain(|_, (made, _)| made.elapsed() < VETTED_FOR);
            clients.insert(key, (Instant::now(), client.clone()));
        }
        Ok(client)
    }
}

/// A short reason for a failed request, for the delivery log.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        format!("request failed: {e}")
    }
}

/// The delay before attempt `attempts + 2`: 5 s × 4^attempts, at most
/// 10 h, ±20 %.
fn backoff(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(0, 12)).unwrap_or(12);
    let base = BACKOFF_FIRST_SECS
        .saturating_mul(4i64.saturating_pow(exp))
        .min(BACKOFF_MAX_SECS);
    let mut byte = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte);
    // -20 % … +20 %
    let jitter = base * (i64::from(byte[0]) - 128) / 640;
    (base + jitter).max(1)
}

/// The share of a second that `sent` deliveries take at `max_per_second`
/// (issue 25): passes start that far apart at least. Deliveries are work
/// the API's requests share the cores with: a burst of events (an import's
/// webhooks, a mass sign-out) is spread out instead of taking the machine
/// from the sign-ins for as long as it drains. 0 means no limit.
fn spacing(sent: usize, max_per_second: u32) -> Duration {
    if max_per_second == 0 || sent == 0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(sent as f64 / f64::from(max_per_second))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{backoff, spacing};

    #[test]
    fn passes_are_spaced_to_the_limit() {
        // 128 deliveries at 2,000 a second take 64 ms.
        assert_eq!(spacing(128, 2000), Duration::from_millis(64));
        // Nothing sent, or no limit: no spacing.
        assert_eq!(spacing(0, 2000), Duration::ZERO);
        assert_eq!(spacing(128, 0), Duration::ZERO);
        // The least limit spaces single deliveries a second apart.
        assert_eq!(spacing(1, 1), Duration::from_secs(1));
    }

    #[test]
    fn backoff_grows_by_four_with_jitter_and_stops_at_ten_hours() {
        for (attempts, base) in [
            (0, 5),
            (1, 20),
            (2, 80),
            (3, 320),
            (9, 36_000),
            (40, 36_000),
        ] {
            for _ in 0..50 {
                let d = backoff(attempts);
                assert!(d >= base * 8 / 10 && d <= base * 12 / 10, "{attempts}: {d}");
            }
        }
    }
}
