//! Running toktok: the embeddable [`App`] (the router plus the background
//! work it needs), and serving it: the accept loop, connection limits and
//! graceful shutdown.
//!
//! [`App`] is what another program holds: build it from a [`Config`], then
//! either [`serve`] it on a listener or mount [`App::router`] inside its own
//! axum program and start [`App::run_background`] beside it
//! (`examples/embed.rs`). It sits above the router and the application
//! state ([`AppState`], `app.rs`), so nothing below points back up here.
//!
//! [`serve`] takes a bound listener and a shutdown future: tests bind port 0,
//! the binary binds the configured address and passes SIGTERM/SIGINT. On
//! shutdown it stops accepting, lets in-flight requests finish (up to
//! [`DRAIN_TIMEOUT`]), and stops the background tasks. [`serve_with`] also
//! serves `/metrics` on a listener of its own (`metrics.listen`, TT-10), so
//! the API's port never shows them.
//!
//! Connection limits (docs/SECURITY.md D4, TT-07):
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
//!
//! `conn.rs` holds one connection's life and the limits; `background.rs`
//! the sweeper, key reloader, gauge sampler and mail worker.

mod background;
mod conn;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

pub use background::Background;
#[cfg(any(test, feature = "testing"))]
pub use background::{sample_gauges, sweep_once};
use conn::{Connection, PerIp};

use crate::app::AppState;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::metrics;

/// A built toktok: its router and the background work that router needs
/// (mail delivery, the sweeper, key reloads), ready to [`serve`] or to
/// mount in another program. Cheap to clone: clones share one state.
#[derive(Clone)]
pub struct App {
    state: AppState,
}

/// Options for an [`App`] beyond its configuration.
pub struct AppBuilder {
    config: Config,
    clock: SharedClock,
}

impl AppBuilder {
    /// Replaces the wall clock: every expiry decision asks this clock
    /// (tests move time with [`crate::clock::ManualClock`]).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Opens the database (migrating it), loads or creates the keys, reads
    /// the mail templates. Starts nothing: see [`App::run_background`].
    pub async fn build(self) -> anyhow::Result<App> {
        let state = AppState::build(self.config, self.clock).await?;
        Ok(App { state })
    }
}

impl App {
    /// An [`AppBuilder`] for `config`, with the wall clock.
    pub fn builder(config: Config) -> AppBuilder {
        AppBuilder {
            config,
            clock: Arc::new(SystemClock),
        }
    }

    /// Builds with the wall clock: `App::builder(config).build()`.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        App::builder(config).build().await
    }

    /// Every route of toktok with its layers, to serve or to merge into
    /// another axum router (merge, not nest: mailed links are built from
    /// `public_url` and `/v1/…`, and the `/docs` paths are absolute). Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()`: rate limits
    /// and the audit trail read the client address from `ConnectInfo`.
    pub fn router(&self) -> axum::Router {
        crate::router::router(self.state.clone())
    }

    /// `GET /metrics` alone, for a listener of its own (it must not share
    /// the API's port: some counters tell whether an address has an
    /// account, TT-10).
    pub fn metrics_router(&self) -> axum::Router {
        axum::Router::new()
            .route("/metrics", axum::routing::get(crate::http::ops::metrics))
            .fallback(crate::http::ops::not_found)
            .with_state(self.state.clone())
    }

    /// Starts the background work on the current tokio runtime: the mail
    /// outbox worker, the sweeper, the key reloader and the metrics gauge
    /// sampler. [`serve`] does this itself; a program that mounts
    /// [`App::router`] calls it once and keeps the handle until it stops.
    pub fn run_background(&self) -> Background {
        Background::start(&self.state)
    }

    /// Rereads the signing and RSA keys from the database now, as the key
    /// reloader does every `jwt.key_reload` (the binary also on SIGHUP).
    pub async fn reload_keys(&self) -> anyhow::Result<()> {
        self.state.reload_keys().await
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// The shared state every handler sees (the test suites reach into
    /// it, through the `testing` feature).
    #[cfg(feature = "testing")]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The shared state every handler sees.
    #[cfg(not(feature = "testing"))]
    pub(crate) fn state(&self) -> &AppState {
        &self.state
    }
}

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
    conn::raise_open_file_limit();
    let (stop_tx, stop_rx) = watch::channel(false);
    let background = app.run_background();
    let scraper = metrics.map(|listener| {
        tokio::spawn(conn::serve_metrics(
            listener,
            app.metrics_router(),
            stop_rx.clone(),
        ))
    });

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
    if let Some(scraper) = scraper {
        let _ = scraper.await;
    }
    // The mail worker finishes the message in hand, then returns.
    background.stop().await;
    tracing::info!("stopped");
    Ok(())
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
