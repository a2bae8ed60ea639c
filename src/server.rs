//! Serving: the accept loop, connection limits, graceful shutdown, and the
//! background tasks that live as long as the server.
//!
//! [`serve`] takes a bound listener and a shutdown future: tests bind port 0,
//! the binary binds the configured address and passes SIGTERM/SIGINT. On
//! shutdown it stops accepting, lets in-flight requests finish (up to
//! [`DRAIN_TIMEOUT`]), and stops the background tasks.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt as _;

use crate::app::{App, AppState};
use crate::metrics;

/// How long in-flight requests may take to finish after shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// A client must send its request headers within this time (slowloris).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line plus headers) hyper buffers.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Connections served at once; further clients wait in the kernel backlog.
pub const MAX_CONNECTIONS: usize = 10_000;

/// Serves `app` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let state = app.state().clone();
    let router = app.router();
    let (stop_tx, stop_rx) = watch::channel(false);
    // The mail outbox worker, stopped like the sweeper.
    let mailer = tokio::spawn(crate::mail::Mailer::run(state.clone(), stop_rx.clone()));
    let sweeper = tokio::spawn(sweep_loop(state.clone(), stop_rx.clone()));
    let sampler = tokio::spawn(gauge_loop(state.clone(), stop_rx.clone()));
    let reloader = tokio::spawn(key_reload_loop(state.clone(), stop_rx));

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));

    tracing::info!(addr = %listener.local_addr()?, "toktok is listening");
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let service = TowerToHyperService::new(service);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper's header-read timeout starts only once hyper-util has
            // told HTTP/1 from HTTP/2, which needs a first byte: a client
            // that connects and sends nothing would hold its slot for ever.
            let mut first = [0u8; 1];
            match tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return, // silent, closed or failed: drop it and its permit
            }
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }

    tracing::info!("shutting down: draining in-flight requests");
    drop(listener);
    let _ = stop_tx.send(true);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the drain timeout");
    }
    let _ = sweeper.await;
    let _ = sampler.await;
    let _ = reloader.await;
    // The mail worker finishes the message in hand, then returns.
    let _ = mailer.await;
    tracing::info!("stopped");
    Ok(())
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

/// Counts `n` rows of `kind` deleted by the sweeper
/// (`toktok_sweeper_deleted_total`).
pub fn count_swept(state: &AppState, kind: &'static str, n: usize) {
    state
        .metrics
        .add(metrics::SWEPT, &[("kind", kind)], n as u64);
}

/// One sweep; public so tests and the benchmark can run it on demand.
pub async fn sweep_once(state: &AppState) {
    let now = state.now();
    // Ended sessions are kept a day for the audit trail's sake, then deleted.
    match state.store.sweep_sessions(now, 86_400).await {
        Ok(n) if n > 0 => {
            tracing::info!(deleted = n, "swept ended sessions");
            count_swept(state, "sessions", n);
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
            count_swept(state, "challenges", n);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "challenge sweep failed"),
    }
    state.limiter.sweep();
    state.limiter.sweep_shared().await;
    // audit: events past `audit.retention`, in batches (admin API).
    let retention = state.config.audit.retention.as_secs() as i64;
    match crate::accounts::admin::sweep_audit(state, retention).await {
        Ok(n) if n > 0 => {
            tracing::info!(deleted = n, "swept old audit events");
            count_swept(state, "audit", n);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "audit sweep failed"),
    }
    // end audit sweep
    crate::mail::outbox::sweep(state).await; // mail: failed rows after a week
}

/// How often the queue gauges of `/metrics` are sampled: often enough for
/// any scrape interval, rare enough that the one indexed count is free.
pub const GAUGE_INTERVAL: Duration = Duration::from_secs(5);

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
    let pending = state.store.outbox_depth().await;
    match pending {
        Ok(n) => state.metrics.set_gauge(metrics::OUTBOX_DEPTH, n),
        Err(e) => tracing::debug!(error = %e, "cannot count queued mail"),
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
