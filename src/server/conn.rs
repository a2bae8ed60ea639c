//! One accepted connection, from its first byte to its close, and the
//! limits around it: the per-address cap, idle and drain closing, and the
//! open-file limit (docs/SECURITY.md D4, TT-07; see the `server` module doc).
//! Also the `/metrics` listener, which serves one route on its own port.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::Instant;
use tower::ServiceExt as _;

use super::{CLOSE_GRACE, HEADER_READ_TIMEOUT, MAX_CONNECTIONS};

/// One accepted connection and what it holds until it ends.
pub(super) struct Connection {
    pub(super) builder: Arc<Builder<TokioExecutor>>,
    pub(super) router: axum::Router,
    /// Turns true when the server shuts down: finish in-flight, then close.
    pub(super) stop: watch::Receiver<bool>,
    pub(super) idle: Duration,
    /// The global slot and the address's slot, given back on drop.
    pub(super) _slots: (OwnedSemaphorePermit, Option<IpSlot>),
}

impl Connection {
    pub(super) async fn run(mut self, stream: TcpStream, peer: SocketAddr) {
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
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
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
pub(super) struct PerIp {
    /// 0: no cap.
    max: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// One connection's place in its address's count, given back on drop.
pub(super) struct IpSlot(Arc<PerIp>, String);

impl PerIp {
    pub(super) fn new(max: usize) -> Self {
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
    pub(super) fn take(self: Arc<Self>, ip: IpAddr) -> Result<Option<IpSlot>, ()> {
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
pub(super) fn raise_open_file_limit() {
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
pub(super) async fn serve_metrics(
    listener: TcpListener,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics are served at /metrics");
    }
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
