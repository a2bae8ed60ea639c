//! The receiving end of the hooks benchmark (issue 22), for
//! `bench/hooks.sh`: a local HTTP server that
//!
//! - counts webhook deliveries at `POST /events` (answering 204 at once)
//!   and, when the `--expect`th has arrived, prints one line,
//!   `workload=deliver ok=N failed=0 seconds=… rate=… p50_ms=0 p99_ms=0`,
//!   the seconds being from the first delivery to the last;
//! - answers the access-token hook at `POST /claims` after
//!   `--claims-delay-ms` (default 1), with `{"claims": {"tenant": "bench"}}`.
//!
//! ```text
//! cargo bench --bench hooks -- [--expect N] [--claims-delay-ms MS]
//! ```
//!
//! It prints `port=P` first, then serves until killed. Deliveries are not
//! verified here (their signatures are, in `tests/hooks/` and the test
//! suite): the figure is toktok's side of the pipeline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;

#[derive(Clone)]
struct State {
    expect: usize,
    delay: Duration,
    count: Arc<AtomicUsize>,
    first: Arc<Mutex<Option<Instant>>>,
}

fn main() {
    let mut expect = 0usize;
    let mut delay_ms = 1u64;
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--expect" => expect = value.parse().expect("--expect N"),
            "--claims-delay-ms" => delay_ms = value.parse().expect("--claims-delay-ms MS"),
            other => panic!("unknown option {other}"),
        }
    }
    let state = State {
        expect,
        delay: Duration::from_millis(delay_ms),
        count: Arc::default(),
        first: Arc::default(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let app = axum::Router::new()
            .route(
                "/events",
                post(|axum::extract::State(s): axum::extract::State<State>| async move {
                    let now = Instant::now();
                    let first = *s.first.lock().unwrap().get_or_insert(now);
                    let n = s.count.fetch_add(1, Ordering::SeqCst) + 1;
                    if n == s.expect {
                        let seconds = now.duration_since(first).as_secs_f64().max(1e-6);
                        println!(
                            "workload=deliver ok={n} failed=0 seconds={seconds:.2} rate={:.1} p50_ms=0 p99_ms=0",
                            n as f64 / seconds
                        );
                        std::io::stdout().flush().unwrap();
                    }
                    StatusCode::NO_CONTENT
                }),
            )
            .route(
                "/claims",
                post(|axum::extract::State(s): axum::extract::State<State>| async move {
                    tokio::time::sleep(s.delay).await;
                    axum::Json(json!({ "claims": { "tenant": "bench" } }))
                }),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("port={}", listener.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}
