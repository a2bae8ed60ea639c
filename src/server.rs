//! Serving: the accept loop, connection limits, graceful shutdown, and the
//! background tasks that live as long as the server.
//!
//! [`serve`] takes a bound listener and a shutdown future: tests bind port 0,
//! the binary binds the configured address and passes SIGTERM/SIGINT. On
//! shutdown it stops accepting, lets in-flight requests finish (up to
//! [`DRAIN_TIMEOUT`]), and stops the background tasks. [`serve_with`] also
//! serves `/metrics` on a listener of its own (`metrics.listen`, TT-10), so
//! the API's port never shows them.
//!
//! Connection limits (SECURITY.md D4, TT-07):
//! - at most [`MAX_CONNECTIONS`] at once, and `server.max_connections_per_ip`
//!   per client address (an IPv6 /64; trusted proxies exempt): over the
//!   cap a connection is closed at accept, so one client cannot take every
//!   slot;
//! - a connection with no request in progress is closed after
//!   `server.idle_timeout`, whether HTTP/1 keep-alive or HTTP/2 (hyper has
//!   no idle timeout for HTTP/2: each connection's requests are counted
//!   here, and an idle one gets a GOAWAY); the same time bounds the first
//!   byte and HTTP/1 headers, and is the HTTP/2 ping interval and timeout;
//! - at start the soft open-file limit is raised to the hard one, so the
//!   cap is reachable (the systemd unit sets `LimitNOFILE` too).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt as _;

use crate::app::{App, AppState};
use crate::metrics;

/// How long in-flight requests may take to finish after shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The default `server.idle_timeout`: a client must send its request
/// headers within this time (slowloris), and an idle connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line plus headers) hyper buffers.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Connections served at once; further clients wait in the kernel backlog.
pub const MAX_CONNECTIONS: usize = 10_000;
/// How long a connection being closed (idle, or drained at shutdown) may
/// take to go once nothing is in flight.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    serve_with(listener, None, app, shutdown).await
}

/// [`serve`], plus `/metrics` on `metrics` when given (`metrics.listen`).
pub async fn serve_with(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    app: App,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let state = app.state().clone();
    let router = app.router();
    raise_open_file_limit();
    let (stop_tx, stop_rx) = watch::channel(false);
    // The mail outbox worker, stopped like the sweeper.
    let mailer = tokio::spawn(crate::mail::Mailer::run(state.clone(), stop_rx.clone()));
    let sweeper = tokio::spawn(sweep_loop(state.clone(), stop_rx.clone()));
    let sampler = tokio::spawn(gauge_loop(state.clone(), stop_rx.clone()));
    let reloader = tokio::spawn(key_reload_loop(state.clone(), stop_rx.clone()));
    let scraper = metrics
        .map(|listener| tokio::spawn(serve_metrics(listener, state.clone(), stop_rx.clone())));

    let idle = state.config.server.idle_timeout;
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(idle))
        .keep_alive_timeout(idle);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let per_ip = Arc::new(PerIp::new(state.config.server.max_connections_per_ip));

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
        let trusted = &state.config.server.trusted_proxies;
        let ip_slot = if trusted.iter().any(|net| net.contains(peer.ip())) {
            None
        } else {
            match per_ip.clone().take(peer.ip()) {
                Ok(slot) => slot,
                Err(()) => {
                    tracing::debug!(%peer, "connection refused: its address is at its cap");
                    state.metrics.incr(metrics::REFUSED_CONNECTIONS, &[]);
                    continue; // dropping the stream closes it
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            stop: stop_rx.clone(),
            idle,
            _slots: (permit, ip_slot),
        };
        tokio::spawn(connection.run(stream, peer));
    }

    tracing::info!("shutting down: draining in-flight requests");
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it ends: all back means drained.
    let all = u32::try_from(MAX_CONNECTIONS).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_TIMEOUT, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the drain timeout");
    }
    let _ = sweeper.await;
    let _ = sampler.await;
    let _ = reloader.await;
    if let Some(scraper) = scraper {
        let _ = scraper.await;
    }
    // The mail worker finishes the message in hand, then returns.
    let _ = mailer.await;
    tracing::info!("stopped");
    Ok(())
}

/// One accepted connection and what it holds until it ends.
struct Connection {
    builder: Arc<Builder<TokioExecutor>>,
    router: axum::Router,
    /// Turns true when the server shuts down: finish in-flight, then close.
    stop: watch::Receiver<bool>,
    idle: Duration,
    /// The global slot and the address's slot, given back on drop.
    _slots: (OwnedSemaphorePermit, Option<IpSlot>),
}

impl Connection {
    async fn run(mut self, stream: TcpStream, peer: SocketAddr) {
        // hyper's header-read timeout starts only once hyper-util has told
        // HTTP/1 from HTTP/2, which needs a first byte: a client that
        // connects and sends nothing would hold its slot for ever.
        let mut first = [0u8; 1];
        match tokio::time::timeout(self.idle, stream.peek(&mut first)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return, // silent, closed or failed: drop it and its slots
        }
        let activity = Arc::new(Activity::new());
        let tracked = activity.clone();
        let service = self
            .router
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            })
            .map_future(move |response| {
                let busy = tracked.begin();
                async move {
                    let response = response.await;
                    drop(busy);
                    response
                }
            });
        let service = TowerToHyperService::new(service);
        let connection = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service);
        tokio::pin!(connection);
        // Once closing, a client that does not take its GOAWAY (HTTP/2
        // waits for a ping's answer before it closes) is dropped after
        // [`CLOSE_GRACE`].
        let mut closing: Option<Instant> = None;
        loop {
            let give_up = closing.map(|at| at + CLOSE_GRACE);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                    return;
                }
                () = activity.idle_for(self.idle), if closing.is_none() => {
                    tracing::debug!(%peer, "idle connection closed");
                    connection.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
                () = stopped(&mut self.stop), if closing.is_none() => {
                    connection.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
                () = sleep_until(give_up), if give_up.is_some() => {
                    // Requests in flight finish (a request that slipped in
                    // before an idle GOAWAY too): the request timeout, and
                    // at shutdown the drain timeout, bound them.
                    if !activity.busy() {
                        return;
                    }
                    closing = Some(Instant::now());
                }
            }
        }
    }
}

/// Resolves once the server shuts down (or its signal is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Requests in progress on one connection, and since when there were none.
struct Activity(Mutex<(usize, Instant)>);

/// Marks a request in progress until dropped.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Activity(Mutex::new((0, Instant::now())))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, Instant)> {
        // Two integers, always consistent: a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn busy(&self) -> bool {
        self.lock().0 > 0
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.lock().0 += 1;
        Busy(self.clone())
    }

    /// Resolves once no request has been in progress for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let (busy, since) = *self.lock();
            let wait = if busy > 0 {
                idle
            } else {
                let quiet = since.elapsed();
                if quiet >= idle {
                    return;
                }
                idle - quiet
            };
            tokio::time::sleep(wait).await;
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.0 = state.0.saturating_sub(1);
        state.1 = Instant::now();
    }
}

/// Connections held per client address (`server.max_connections_per_ip`).
struct PerIp {
    /// 0: no cap.
    max: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// One connection's place in its address's count, given back on drop.
struct IpSlot(Arc<PerIp>, String);

impl PerIp {
    fn new(max: usize) -> Self {
        PerIp {
            max,
            held: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        // Counts only: a poisoned lock is still consistent enough to use.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for `ip`; `Ok(None)` without a cap, `Err` when it is full.
    fn take(self: Arc<Self>, ip: IpAddr) -> Result<Option<IpSlot>, ()> {
        if self.max == 0 {
            return Ok(None);
        }
        let key = crate::ratelimit::client_key(ip);
        {
            let mut held = self.lock();
            let count = held.entry(key.clone()).or_insert(0);
            if *count >= self.max {
                return Err(());
            }
            *count += 1;
        }
        Ok(Some(IpSlot(self, key)))
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut held = self.0.lock();
        if let Some(count) = held.get_mut(&self.1) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.1);
            }
        }
    }
}

/// Raises the soft open-file limit to the hard one, so that
/// [`MAX_CONNECTIONS`] sockets fit (1024 is a common default soft limit),
/// and says what it set; warns when the cap stays out of reach.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let limit = getrlimit(Resource::Nofile);
        let wanted = MAX_CONNECTIONS as u64 + 1024;
        let (Some(soft), hard) = (limit.current, limit.maximum) else {
            return; // unlimited already
        };
        let target = hard.map_or(wanted, |hard| hard.min(wanted.max(soft)));
        if target > soft {
            let raised = rustix::process::Rlimit {
                current: Some(target),
                maximum: hard,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => tracing::info!(from = soft, to = target, "raised the open-file limit"),
                Err(e) => tracing::warn!(error = %e, soft, "cannot raise the open-file limit"),
            }
        }
        let now = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
        if now < wanted {
            tracing::warn!(
                limit = now,
                "the open-file limit keeps connections below {MAX_CONNECTIONS}; raise it (LimitNOFILE= under systemd, ulimit -n)"
            );
        }
    }
}

/// Serves `GET /metrics` (only) on its own listener until `stop`.
async fn serve_metrics(listener: TcpListener, state: AppState, mut stop: watch::Receiver<bool>) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics are served at /metrics");
    }
    let router = axum::Router::new()
        .route("/metrics", axum::routing::get(crate::http::ops::metrics))
        .fallback(crate::http::ops::not_found)
        .with_state(state);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => return,
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopped(&mut stop) => {}
            }
        });
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
