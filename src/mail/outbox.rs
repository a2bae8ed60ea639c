//! The outbox worker: sends queued mail, retries, gives up, and the
//! [`Mailer`] handle that wakes it.
//!
//! Requests never talk to a mail server. A flow queues its message in the
//! `outbox` table in the transaction of the change it reports
//! (`store::outbox::enqueue`), answers, and calls [`Mailer::notify`]. This
//! worker, started with the application's background work
//! ([`crate::App::run_background`], which [`crate::serve`] calls), then
//! loops:
//!
//! 1. claim due rows, a batch at a time, earliest due first (a lease, so a
//!    concurrent [`deliver_due`] or a second process never takes the same
//!    row);
//! 2. for each: mint the link's token with the challenge engine (action, id
//!    and metadata from the row's `LinkSpec`, ttl `email.link_ttl`, the
//!    default encrypted-uuid secret; for an email code, a number secret of
//!    `[email_code]` length and ttl, mailed both plain and as the link's
//!    token: `Engine::create_code_in`), build the link from
//!    `server.public_url` — never from a request's Host header (E4) — render
//!    the templates and hand the message to the transport;
//! 3. sent: delete the row (`toktok_mail_total{outcome="sent"}`); transient
//!    failure: try again after an exponential back-off (5 s, doubling, at
//!    most 1 h, ±20% jitter so a relay coming back is not hit by every
//!    message at once; `outcome="retry"`); permanent failure, or still
//!    undelivered `email.give_up_after` after it was queued: give up —
//!    the row is marked failed, a `mail.failed` audit event and a warning
//!    are written (`outcome="failed"`), and the row is swept a week later;
//! 4. sleep until notified, until the next row is due, or 30 s, whichever
//!    comes first.
//!
//! On the stop signal the worker finishes the message in hand, hands the
//! rest of its batch back, and returns; queued rows persist, so a restart
//! resumes the queue. An SMTP server that is down, slow or refusing only
//! delays this loop: requests never wait for it.
//!
//! **Delivery is at least once.** A crash after the relay accepted a
//! message but before its row is deleted sends it again after restart (once
//! the lease, 5 minutes, has run out). The resend mints a new token, which
//! replaces the challenge of the first, so only the newest link works — a
//! duplicate mail is confusing at worst, never a second valid link.
//!
//! The worker is handed what it needs at start ([`MailerParts`]: the store,
//! the challenge engine, the metrics, the clock), not the application
//! state: mail sits below the application, so the arrows point one way.

use std::sync::Arc;
use std::time::Duration;

use ring::rand::SecureRandom as _;
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};
use tracing::Instrument as _;

use super::templates::{duration_in, human_duration, Templates, Vars};
use super::transport::{Letter, SendError, Transport};
use super::{LinkPath, LinkSpec, OutgoingMail};
use crate::challenge::{ChallengeError, CreateParams, Created, Engine, Lookup, Namespace};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::i18n::{Catalogues, Locale};
use crate::metrics::Metrics;
use crate::store::{QueuedMail, Store};

/// Rows claimed per transaction.
const BATCH: usize = 32;
/// The longest the worker sleeps without being woken.
const IDLE: Duration = Duration::from_secs(30);
/// First retry delay; doubles with each failure.
const BACKOFF_FIRST_SECS: i64 = 5;
/// Longest retry delay, before jitter.
const BACKOFF_MAX_SECS: i64 = 3600;
/// Shortest lease on a claimed row. A row whose worker died mid-send comes
/// due again after this; it must outlast any one delivery.
const MIN_LEASE_SECS: i64 = 300;
/// How long given-up rows are kept for inspection.
const FAILED_KEPT_SECS: i64 = 7 * 86_400;

/// The metric counting delivery outcomes (`sent`, `retry`, `failed`).
pub const METRIC: &str = "toktok_mail_total";

/// The handle to the mail system, held in the application state as
/// `Option<Mailer>`: `None` when `email.mode = "off"`, and then no worker
/// runs. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

/// The templates and transport [`Mailer::check`] found usable.
pub struct Checked(Templates, Transport);

/// What the worker works with besides its configuration, handed over by
/// the application at start.
#[derive(Clone)]
pub struct MailerParts {
    /// The outbox rows live here.
    pub store: Store,
    /// Mints each link's token at send time.
    pub challenges: Engine,
    /// `toktok_mail_total` and the sweeper's count.
    pub metrics: Arc<Metrics>,
    /// Due times, back-off and give-up decisions ask this clock.
    pub clock: SharedClock,
    /// The words of `{{expires_in}}` in each language (`mail.ftl`).
    pub catalogues: Arc<Catalogues>,
}

struct Inner {
    store: Store,
    challenges: Engine,
    metrics: Arc<Metrics>,
    clock: SharedClock,
    transport: Transport,
    templates: Templates,
    catalogues: Arc<Catalogues>,
    /// `[branding] default_locale`: the language of a mail that has none.
    default_locale: Locale,
    /// Wakes the worker when mail was queued.
    wake: Notify,
    /// One pass at a time, whether the worker's or a [`deliver_due`] call's.
    pass: tokio::sync::Mutex<()>,
    /// `server.public_url`, the base of every link (E4).
    public_url: String,
    app_name: String,
    link_ttl_secs: u64,
    /// `[email_code]` ttl (seconds) and length.
    code: (u64, usize),
    give_up_after_secs: i64,
    lease_secs: i64,
    /// The longest one delivery may take (`smtp.timeout` twice: the relay,
    /// plus minting the link); a claimed row is started only while its
    /// lease has this much left ([`may_start`]).
    delivery_secs: i64,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Loads the templates (overrides included) and prepares the transport
    /// `email.mode` names; `None` when mail is off (the templates are still
    /// checked, so a bad `email.templates_dir` is found before mail is
    /// turned on). Connects to nothing; fails only on configuration that can
    /// never work (a bad template, an unusable `email.from`).
    pub fn new(config: &Config, parts: MailerParts) -> anyhow::Result<Option<Mailer>> {
        let Some(Checked(templates, transport)) = Mailer::check(config)? else {
            return Ok(None);
        };
        let timeout = i64::try_from(config.smtp.timeout.as_secs()).unwrap_or(i64::MAX);
        Ok(Some(Mailer {
            inner: Arc::new(Inner {
                store: parts.store,
                challenges: parts.challenges,
                metrics: parts.metrics,
                clock: parts.clock,
                transport,
                templates,
                catalogues: parts.catalogues,
                default_locale: config.branding.default_locale,
                wake: Notify::new(),
                pass: tokio::sync::Mutex::new(()),
                public_url: config.server.public_url.clone(),
                app_name: config.email.app_name.clone(),
                link_ttl_secs: config.email.link_ttl.as_secs(),
                code: (config.email_code.ttl.as_secs(), config.email_code.length),
                give_up_after_secs: i64::try_from(config.email.give_up_after.as_secs())
                    .unwrap_or(i64::MAX),
                lease_secs: MIN_LEASE_SECS.max(timeout.saturating_mul(3)),
                delivery_secs: timeout.saturating_mul(2),
            }),
        }))
    }

    /// What [`Mailer::new`] checks, without building a worker (`toktok
    /// check`): the templates, and the transport when mail is on (`None`
    /// when it is off).
    pub fn check(config: &Config) -> anyhow::Result<Option<Checked>> {
        let templates = Templates::load(&config.email.templates_dir)?;
        Ok(Transport::from_config(config)?.map(|transport| Checked(templates, transport)))
    }

    /// Wakes the worker: call after committing a transaction that queued
    /// mail. Cheap; several calls before the worker wakes count as one.
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// The worker loop (module doc); returns once `stop` turns true, after
    /// finishing the message in hand. Started with the application's
    /// background work.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let state = &*self.inner;
        tracing::debug!("mail worker started");
        loop {
            if *stop.borrow() {
                break;
            }
            pass(state, Some(&stop)).await;
            if *stop.borrow() {
                break;
            }
            let wait = state.idle_wait().await;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = state.wake.notified() => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
        tracing::debug!("mail worker stopped");
    }
}

impl Inner {
    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Until the next row is due, between 1 s (no spinning on a clock that
    /// does not move) and [`IDLE`].
    async fn idle_wait(&self) -> Duration {
        match self.store.next_mail_due().await {
            Ok(Some(due)) => {
                let secs = due
                    .saturating_sub(self.now())
                    .clamp(1, IDLE.as_secs() as i64);
                Duration::from_secs(secs.unsigned_abs())
            }
            Ok(None) => IDLE,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker cannot read the outbox");
                IDLE
            }
        }
    }
}

#[cfg(any(test, feature = "testing"))]
/// One pass of the worker, without sleeping: sends every message due now
/// and returns how many were sent; `mailer` is whatever holds the
/// application's `Option<Mailer>` (the application state does). For tests,
/// which run the outbox by hand with the test clock. Does nothing (0) when
/// mail is off.
pub async fn deliver_due(mailer: &impl AsRef<Option<Mailer>>) -> usize {
    match mailer.as_ref() {
        Some(mailer) => pass(&mailer.inner, None).await,
        None => 0,
    }
}

/// Deletes rows given up more than a week ago, and address slots that ran
/// out, as of `now`; run by the sweeper, whether mail is on or off.
pub async fn sweep(store: &Store, metrics: &Metrics, now: i64) {
    match store
        .sweep_failed_mail(now.saturating_sub(FAILED_KEPT_SECS))
        .await
    {
        Ok(n) if n > 0 => {
            tracing::info!(deleted = n, "swept failed mail");
            metrics.count_swept("mail", n);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "failed-mail sweep failed"),
    }
    match store.sweep_mail_slots(now).await {
        Ok(n) if n > 0 => metrics.count_swept("mail", n),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "mail-slot sweep failed"),
    }
}

async fn pass(state: &Inner, stop: Option<&watch::Receiver<bool>>) -> usize {
    let stopping = || stop.is_some_and(|s| *s.borrow());
    let _one_pass = state.pass.lock().await;
    let mut sent = 0;
    loop {
        if stopping() {
            break;
        }
        let now = state.now();
        let claimed = match state
            .store
            .claim_mail(now, now.saturating_add(state.lease_secs), BATCH)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker cannot claim queued mail");
                break;
            }
        };
        let lease_end = now.saturating_add(state.lease_secs);
        let mut more = claimed.len() == BATCH;
        let mut rows = claimed.into_iter();
        while let Some(row) = rows.next() {
            let stop = stopping();
            if stop || !may_start(state.now(), lease_end, state.delivery_secs) {
                let ids: Vec<String> = std::iter::once(row.id).chain(rows.map(|r| r.id)).collect();
                if let Err(e) = state.store.release_mail(ids, state.now()).await {
                    // They come due again when their lease ends.
                    tracing::warn!(error = %e, "cannot hand back claimed mail");
                }
                if stop {
                    return sent;
                }
                // A slow relay used up the lease: claim what is left afresh.
                more = true;
                break;
            }
            if deliver_one(state, row).await {
                sent += 1;
            }
        }
        if !more {
            break;
        }
    }
    sent
}

/// Whether a row claimed until `lease_end` may still be started at `now`:
/// only while the lease outlasts one whole delivery. Otherwise, behind a
/// slow relay, the lease could run out mid-batch, another instance claim
/// the row, and both send it.
fn may_start(now: i64, lease_end: i64, delivery_secs: i64) -> bool {
    now.saturating_add(delivery_secs) <= lease_end
}

/// Attempts one claimed row and records the outcome. True when sent.
async fn deliver_one(state: &Inner, row: QueuedMail) -> bool {
    let span = tracing::info_span!("mail", id = %row.id, kind = %row.kind);
    deliver_one_in_span(state, row).instrument(span).await
}

async fn deliver_one_in_span(state: &Inner, row: QueuedMail) -> bool {
    let now = state.now();
    let mail = match &row.mail {
        Ok(mail) => mail.clone(),
        Err(reason) => {
            let reason = reason.clone();
            give_up(state, row, now, false, reason).await;
            return false;
        }
    };
    let deadline = row.created_at.saturating_add(state.give_up_after_secs);
    if now > deadline {
        let last = row
            .last_error
            .clone()
            .unwrap_or_else(|| "never attempted".to_owned());
        let error = format!(
            "not delivered within {}; last error: {last}",
            human_duration(Duration::from_secs(state.give_up_after_secs.unsigned_abs()))
        );
        give_up(state, row, now, false, error).await;
        return false;
    }
    let result = attempt(state, &row.id, &mail).await;
    let now = state.now();
    match result {
        Ok(Attempt::Withdrawn) => {
            tracing::info!("mail withdrawn: its user was deleted before it was sent");
            false
        }
        Ok(Attempt::Sent) => {
            state.metrics.incr(METRIC, &[("outcome", "sent")]);
            tracing::info!(attempts = row.attempts + 1, "mail sent");
            if let Err(e) = state.store.mail_sent(row.id.clone()).await {
                // It will be sent again when its lease ends (at least once).
                tracing::warn!(error = %e, "mail sent but its outbox row could not be deleted");
            }
            true
        }
        Err(SendError::Transient(error)) if now < deadline => {
            let failures = row.attempts + 1;
            let next = now
                .saturating_add(backoff(failures, jitter()))
                .min(deadline);
            state.metrics.incr(METRIC, &[("outcome", "retry")]);
            tracing::warn!(
                attempts = failures,
                retry_in_secs = next - now,
                %error,
                "mail not sent; will retry"
            );
            if let Err(e) = state.store.reschedule_mail(row.id, next, error).await {
                tracing::warn!(error = %e, "cannot reschedule mail");
            }
            false
        }
        Err(SendError::Transient(error) | SendError::Permanent(error)) => {
            give_up(state, row, now, true, error).await;
            false
        }
    }
}

/// What became of a message in hand.
enum Attempt {
    Sent,
    /// Its row went away (its user was deleted) before it was sent: nothing
    /// was sent and the link minted for it is removed again.
    Withdrawn,
}

/// Mints the link (if any), renders and sends.
async fn attempt(state: &Inner, id: &str, mail: &OutgoingMail) -> Result<Attempt, SendError> {
    let (link, code) = match &mail.link {
        Some(spec) => {
            let (link, code) = mint_link(state, spec).await?;
            (Some(link), code)
        }
        None => (None, String::new()),
    };
    // Deleting a user deletes their queued mail and link challenges in one
    // transaction. If that happened after this row was claimed, the link
    // just minted would outlive them (until its TTL): take it back. A
    // delete after this check removes the link itself.
    if link.is_some() && matches!(state.store.mail_queued(id.to_owned()).await, Ok(false)) {
        withdraw_link(state, mail).await;
        return Ok(Attempt::Withdrawn);
    }
    let new_email = mail
        .vars
        .get("new_email")
        .and_then(Value::as_str)
        .unwrap_or("");
    let locale = mail.locale.unwrap_or(state.default_locale);
    let ttl = if code.is_empty() {
        state.link_ttl_secs
    } else {
        state.code.0
    };
    let expires_in = duration_in(&state.catalogues, locale, Duration::from_secs(ttl));
    let rendered = state.templates.render(
        mail.kind,
        locale,
        &Vars {
            app_name: &state.app_name,
            link: link.as_deref().unwrap_or(""),
            expires_in: &expires_in,
            email: &mail.to,
            new_email,
            code: &code,
        },
    );
    let letter = Letter {
        id: id.to_owned(),
        kind: mail.kind,
        to: mail.to.clone(),
        rendered,
        locale,
        link,
    };
    state.transport.send(&letter, state.now()).await?;
    Ok(Attempt::Sent)
}

/// Removes the challenge behind `mail`'s link, if it has one.
async fn withdraw_link(state: &Inner, mail: &OutgoingMail) {
    let Some(spec) = &mail.link else { return };
    let pair = Lookup::Pair {
        action: spec.action.clone(),
        id: spec.id.clone(),
    };
    match state.challenges.remove_in(Namespace::Toktok, pair).await {
        Ok(()) | Err(ChallengeError::NotFound) => {}
        Err(e) => tracing::warn!(error = %e, "cannot remove the link of withdrawn mail"),
    }
}

/// Creates the link's challenge, replacing any earlier one of its (action,
/// id), and returns `{public_url}{path}?token={token}`. The token is
/// base64url, safe in a query string as it is. An email-code link comes
/// with its code (otherwise the code is empty).
async fn mint_link(state: &Inner, spec: &LinkSpec) -> Result<(String, String), SendError> {
    let (secret, code) = if spec.path == LinkPath::EmailCode {
        let (ttl, length) = state.code;
        let minted = state
            .challenges
            .create_code_in(
                Namespace::Toktok,
                &spec.action,
                &spec.id,
                ttl,
                length,
                spec.metadata.clone(),
            )
            .await;
        match minted {
            Ok(c) => (Ok(Some(c.token)), c.code),
            Err(e) => (Err(e), String::new()),
        }
    } else {
        let created = mint_token(state, spec).await;
        (created.map(|c| c.secret), String::new())
    };
    let token = match secret {
        Ok(secret) => secret
            .ok_or_else(|| SendError::Permanent("the link's challenge has no secret".to_owned()))?,
        Err(ChallengeError::Invalid(fields)) => {
            let why: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            return Err(SendError::Permanent(format!(
                "the link cannot be made: {}",
                why.join("; ")
            )));
        }
        Err(e) => {
            return Err(SendError::Transient(format!(
                "the link cannot be made now: {e}"
            )))
        }
    };
    let link = format!("{}{}?token={token}", state.public_url, spec.path.as_str());
    Ok((link, code))
}

/// Creates a link's challenge with the default encrypted-uuid secret.
async fn mint_token(state: &Inner, spec: &LinkSpec) -> Result<Created, ChallengeError> {
    let mut params = CreateParams::new(&spec.action, &spec.id);
    params.ttl = Some(json!(state.link_ttl_secs));
    if !spec.metadata.is_null() {
        params.metadata = Some(spec.metadata.clone());
    }
    state.challenges.create_in(Namespace::Toktok, params).await
}

/// Marks a row failed, audits and counts it.
async fn give_up(state: &Inner, row: QueuedMail, now: i64, attempted: bool, error: String) {
    match state
        .store
        .give_up_mail(row, now, attempted, error.clone())
        .await
    {
        Ok(attempts) => {
            state.metrics.incr(METRIC, &[("outcome", "failed")]);
            tracing::warn!(attempts, %error, "mail given up");
        }
        Err(e) => tracing::warn!(error = %e, "cannot record a given-up mail"),
    }
}

/// Seconds to wait after the `failures`-th failed attempt: 5 s doubling
/// (5, 10, 20, …), at most 1 h, then scaled by `1 + 0.2 × jitter` with
/// `jitter` in [-1, 1]. At least 1 s.
pub fn backoff(failures: i64, jitter: f64) -> i64 {
    let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let base = BACKOFF_FIRST_SECS
        .saturating_mul(1_i64 << doublings)
        .min(BACKOFF_MAX_SECS);
    let scaled = base as f64 * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0));
    (scaled.round() as i64).max(1)
}

/// A uniform value in [-1, 1] from the OS generator; 0 if it fails (the
/// jitter only spreads load, nothing depends on it being random).
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_starts_no_row_its_lease_cannot_cover() {
        // Defaults: smtp.timeout 10 s, lease 300 s, one delivery at most 20 s.
        let (claimed, lease, delivery) = (1000, 300, 20);
        assert!(may_start(claimed, claimed + lease, delivery));
        assert!(may_start(claimed + 280, claimed + lease, delivery));
        // 32 deliveries of 10 s each are past the lease: the rest goes back.
        assert!(!may_start(claimed + 281, claimed + lease, delivery));
        // The lease (at least 3 timeouts) always covers a first row.
        let timeout = 600;
        assert!(may_start(0, MIN_LEASE_SECS.max(3 * timeout), 2 * timeout));
    }

    #[test]
    fn backoff_doubles_from_five_seconds_to_an_hour() {
        let plain: Vec<i64> = (1..=12).map(|n| backoff(n, 0.0)).collect();
        assert_eq!(
            plain,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(0, 0.0), 5, "no failure yet counts as the first");
        assert_eq!(backoff(1_000_000, 0.0), 3600, "no overflow");
    }

    #[test]
    fn jitter_is_twenty_percent_either_way() {
        assert_eq!(backoff(1, -1.0), 4);
        assert_eq!(backoff(1, 1.0), 6);
        assert_eq!(backoff(20, -1.0), 2880);
        assert_eq!(backoff(20, 1.0), 4320);
        assert_eq!(backoff(20, 7.0), 4320, "clamped");
        for _ in 0..1000 {
            let j = jitter();
            assert!((-1.0..=1.0).contains(&j), "{j}");
            let b = backoff(3, j);
            assert!((16..=24).contains(&b), "{b}");
        }
        // Not constant.
        let spread: std::collections::HashSet<i64> =
            (0..200).map(|_| backoff(11, jitter())).collect();
        assert!(spread.len() > 10);
    }
}
