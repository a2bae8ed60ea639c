//! The load driver the Rust benches share (`bench/factors.rs`,
//! `bench/oidc.rs`): a fixed number of operations in flight for a
//! duration, and the one-line `key=value` report their scripts read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// Runs `op` with `in_flight` at once until `deadline` (or until an op
/// says there is no more work), and returns the latencies of the
/// successes and the count of failures.
pub async fn drive<F, Fut>(
    in_flight: usize,
    duration: Duration,
    op: F,
) -> (Vec<Duration>, usize, f64)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<bool>> + Send,
{
    let op = Arc::new(op);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..in_flight {
        let (op, latencies, failed, next) =
            (op.clone(), latencies.clone(), failed.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                match op(i).await {
                    None => break,
                    Some(true) => latencies.lock().await.push(t0.elapsed()),
                    Some(false) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seconds = start.elapsed().as_secs_f64();
    let latencies = Arc::try_unwrap(latencies).unwrap().into_inner();
    (latencies, failed.load(Ordering::Relaxed), seconds)
}

pub fn report(workload: &str, mut lat: Vec<Duration>, failed: usize, seconds: f64) {
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i].as_secs_f64() * 1000.0
    };
    println!(
        "workload={workload} ok={} failed={failed} seconds={seconds:.2} rate={:.1} p50_ms={:.2} p99_ms={:.2}",
        lat.len(),
        lat.len() as f64 / seconds,
        pct(0.50),
        pct(0.99)
    );
}
