//! The work a running toktok does besides answering requests, owned by
//! [`crate::App`] and started by [`crate::App::run_background`]:
//!
//! - the mail outbox worker (`mail::outbox`);
//! - the sweeper: expired challenges, ended sessions, stale counters, old
//!   audit events and given-up mail, every `challenges.sweep_interval`;
//! - the key reloader: signing and RSA keys reread every `jwt.key_reload`,
//!   so a key rotated anywhere reaches every instance before it is used;
//! - the gauge sampler behind the queue gauges of `/metrics`.
//!
//! Every task watches one stop signal; [`Background::stop`] raises it and
//! waits for all of them (the mail worker finishes the message in hand).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::metrics;

/// The running background tasks of one [`crate::App`]. Dropping it stops
/// them without waiting; [`Background::stop`] stops them and waits.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts every background task on the current tokio runtime.
    pub(crate) fn start(state: &AppState) -> Background {
        let (stop, stopped) = watch::channel(false);
        let metrics = state.metrics.clone();
        let watch = |name, make| {
            let stopped = stopped.clone();
            tokio::spawn(supervise(
                name,
                metrics.clone(),
                stopped,
                make,
                RESTART_AFTER,
            ))
        };
        let (s, rx) = (state.clone(), stopped.clone());
        let mut tasks = vec![watch(
            "sweeper",
            task(move || sweep_loop(s.clone(), rx.clone())),
        )];
        let (s, rx) = (state.clone(), stopped.clone());
        tasks.push(watch(
            "gauges",
            task(move || gauge_loop(s.clone(), rx.clone())),
        ));
        let (s, rx) = (state.clone(), stopped.clone());
        tasks.push(watch(
            "keys",
            task(move || key_reload_loop(s.clone(), rx.clone())),
        ));
        let (hooks, rx) = (state.webhooks.clone(), stopped.clone());
        tasks.push(watch(
            "webhooks",
            task(move || hooks.clone().run(rx.clone())),
        ));
        if let Some(mailer) = state.mailer.clone() {
            let rx = stopped.clone();
            tasks.push(watch("mail", task(move || mailer.clone().run(rx.clone()))));
        }
        Background { stop, tasks }
    }

    /// Signals every task to stop and waits until they have: the sweeper
    /// and the samplers at once, the mail worker after the message in hand.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "a background task ended abnormally");
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// What [`supervise`] runs again after a panic: a fresh run of a task.
pub(crate) type Task = Box<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

fn task<F, Fut>(make: F) -> Task
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Box::new(move || Box::pin(make()))
}

/// Wait before running a task again after it panicked: a task that panics
/// at once every time costs a log line a second, not a core.
const RESTART_AFTER: Duration = Duration::from_secs(1);

/// Runs `make`'s task until it returns (it saw the stop signal). A panic
/// in it (landscape §5.8: PocketBase's unhandled worker panics) neither
/// ends the process nor the work: it is logged, counted in
/// `toktok_background_restarts_total{task}`, and the task starts again
/// after `pause` ([`RESTART_AFTER`]), unless toktok is stopping.
pub(crate) async fn supervise(
    name: &'static str,
    metrics: std::sync::Arc<metrics::Metrics>,
    stop: watch::Receiver<bool>,
    make: Task,
    pause: Duration,
) {
    loop {
        match tokio::spawn(make()).await {
            Ok(()) => return,
            Err(e) if e.is_panic() => {
                tracing::error!(task = name, "a background task panicked; it starts again");
                metrics.incr(metrics::BACKGROUND_RESTARTS, &[("task", name)]);
            }
            Err(_) => return,
        }
        let mut stop = stop.clone();
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Rows deleted per sweep transaction: small enough that no batch holds the
/// write lock for long (measured: under 20 ms).
const CHALLENGE_SWEEP_BATCH: usize = 500;

/// Deletes expired challenges, dead sessions and stale counters every
/// `challenges.sweep_interval`.
async fn sweep_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = state.config.challenges.sweep_interval;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        sweep_once(&state).await;
    }
}

/// One sweep; public so tests and the benchmark can run it on demand.
pub async fn sweep_once(state: &AppState) {
    let now = state.now();
    // Ended sessions are kept a day for the audit trail's sake, then deleted.
    match state.store.sweep_sessions(now, 86_400).await {
        Ok(n) if n > 0 => {
            tracing::info!(deleted = n, "swept ended sessions");
            state.metrics.count_swept("sessions", n);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "session sweep failed"),
    }
    // Counts by client idle for a day; clients not seen for the known time.
    let known_since = now - crate::accounts::KNOWN_CLIENT_SECS;
    match state.store.sweep_lockout(now - 86_400, known_since).await {
        Ok(n) if n > 0 => tracing::debug!(deleted = n, "swept lockout counts and clients"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "lockout sweep failed"),
    }
    match state.challenges.sweep(CHALLENGE_SWEEP_BATCH).await {
        Ok(n) if n > 0 => {
            tracing::info!(deleted = n, "swept expired challenges");
            state.metrics.count_swept("challenges", n);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "challenge sweep failed"),
    }
    // OAuth codes live 60 s; a used one is kept a day past its expiry so
    // that a late replay still revokes what it issued.
    match state.store.sweep_oauth_codes(now - 86_400).await {
        Ok(n) if n > 0 => tracing::debug!(deleted = n, "swept expired authorization codes"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "authorization code sweep failed"),
    }
    // Provider sign-ins live ten minutes, their exchange codes a minute.
    match state.store.sweep_provider_flows(now).await {
        Ok(n) if n > 0 => tracing::debug!(deleted = n, "swept expired provider sign-ins"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "provider sign-in sweep failed"),
    }
    state.limiter.sweep();
    state.limiter.sweep_shared().await;
    // audit: events past `audit.retention`, in batches (admin API).
    let retention = state.config.audit.retention.as_secs() as i64;
    match crate::accounts::admin::sweep_audit(state, retention).await {
        Ok(n) if n > 0 => {
            tracing::info!(deleted = n, "swept old audit events");
            state.metrics.count_swept("audit", n);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "audit sweep failed"),
    }
    // end audit sweep
    // mail: failed rows after a week
    crate::mail::outbox::sweep(&state.store, &state.metrics, state.now()).await;
    state.webhooks.sweep().await;
}

/// How often the queue gauges of `/metrics` are sampled: often enough for
/// any scrape interval, rare enough that the one indexed count is free.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);

/// Rereads the keys every `jwt.key_reload`, so a key added by `toktok keys
/// rotate` (from any instance, or the command line) reaches every instance
/// before it is used (`crate::auth::rotation`). Ticks keep their period
/// whatever a reread takes; one that takes longer is given up.
async fn key_reload_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = state.config.jwt.key_reload;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        match tokio::time::timeout(every, state.reload_keys()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(
                error = format!("{e:#}"),
                "key reload failed; the keys in use stay"
            ),
            Err(_) => tracing::warn!("key reload took longer than jwt.key_reload; given up"),
        }
    }
}

/// Samples the gauges every [`GAUGE_INTERVAL`], the first time at once.
async fn gauge_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        sample_gauges(&state).await;
        tokio::select! {
            () = tokio::time::sleep(GAUGE_INTERVAL) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sets the queue gauges: mail waiting in the outbox, password hashes
/// waiting for a core. Public so tests can sample on demand.
pub async fn sample_gauges(state: &AppState) {
    state
        .metrics
        .set_gauge(metrics::HASH_QUEUE, state.hasher.queued() as i64);
    match state.store.webhook_queue_depth().await {
        Ok(n) => state
            .metrics
            .set_gauge(crate::hooks::deliver::QUEUE_DEPTH, n),
        Err(e) => tracing::debug!(error = %e, "cannot count queued webhook deliveries"),
    }
    let pending = state.store.outbox_depth().await;
    match pending {
        Ok(n) => state.metrics.set_gauge(metrics::OUTBOX_DEPTH, n),
        Err(e) => tracing::debug!(error = %e, "cannot count queued mail"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::metrics::Metrics;

    /// A task that panics on its first two runs and returns on its third
    /// runs three times, and both panics are counted.
    #[tokio::test]
    async fn a_panicking_task_starts_again_and_is_counted() {
        let metrics = Arc::new(Metrics::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let (_stop, stopped) = watch::channel(false);
        let counted = runs.clone();
        let make = task(move || {
            let runs = counted.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("a bug in a background task");
                }
            }
        });
        supervise("sweeper", metrics.clone(), stopped, make, Duration::ZERO).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let text = metrics.render();
        assert!(
            text.contains("toktok_background_restarts_total{task=\"sweeper\"} 2"),
            "{text}"
        );
    }

    /// Stopping while a panicked task waits to start again ends it.
    #[tokio::test]
    async fn a_stop_during_the_wait_ends_the_supervision() {
        let metrics = Arc::new(Metrics::new());
        let (stop, stopped) = watch::channel(false);
        let make = task(|| async { panic!("always") });
        let pause = Duration::from_secs(3600);
        let watching = tokio::spawn(supervise("mail", metrics, stopped, make, pause));
        tokio::task::yield_now().await;
        stop.send(true).unwrap();
        watching.await.unwrap();
    }
}
