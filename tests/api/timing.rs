//! Timing side channels (issue 16, TT-05): forgot-password and
//! confirmation-resend must take as long for an unknown address as for a
//! known one, on a first request and on a repeat; and (issue 26, the
//! landscape's §5.7) so must a failed login, a registration, and an email
//! change, whether the address has an account or not.
//!
//! A measurement, so `#[ignore]`d in the ordinary run: `.ci/run` runs it on
//! its own, `cargo test --test api timing -- --ignored --test-threads=1`,
//! on a server with the rate limit raised out of the way. Like the
//! reviewer's: a few hundred requests, known and unknown addresses
//! interleaved in random order on one keep-alive connection, compared with
//! a Mann-Whitney U test; |z| must stay below [`Z_LIMIT`] (before the fix
//! the reviewer measured z = 14.97 and 14.89) in one of [`ATTEMPTS`]
//! measurements of each round ([`least_z`]).

use std::future::Future;
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore as _};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};

/// Addresses of each kind per endpoint.
const N: usize = 150;
/// |z| at or above this fails: 3 is p ≈ 0.003 two-sided.
pub const Z_LIMIT: f64 = 3.0;

/// Measurements of one round before it fails. The test assumes every
/// latency independent, but a shared 2-core machine slows down in bursts
/// that hit a run of neighbouring requests: CI once measured z = 3.48
/// between medians 0.06 ms apart, with no difference in the work done
/// after the floor. A burst does not come back in the same place; a real
/// difference reaches the limit in every attempt (the leak the floor fixed
/// measured z ≈ 15 twice).
pub const ATTEMPTS: usize = 3;

/// Measures a round up to [`ATTEMPTS`] times, until one attempt's |z|
/// stays below [`Z_LIMIT`]; returns the least |z| seen. `round` must put
/// the server in the round's state itself (a first request or a repeat).
pub async fn least_z<F, Fut>(name: &str, mut round: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (Vec<f64>, Vec<f64>)>,
{
    let mut least = f64::INFINITY;
    for attempt in 1..=ATTEMPTS {
        let (known, unknown) = round().await;
        let z = report(&format!("{name} #{attempt}"), &known, &unknown).abs();
        least = least.min(z);
        if least < Z_LIMIT {
            break;
        }
    }
    least
}

/// Past every address's mail slot (`MAIL_THROTTLE_SECS`), so the next
/// request for each is a first one again.
pub const PAST_THE_SLOTS: i64 = toktok::accounts::email::MAIL_THROTTLE_SECS as i64 + 1;

/// Mann-Whitney U of `a` against `b`, as a z statistic (normal
/// approximation, ties given their mean rank): positive when `a` tends
/// to be larger.
pub fn mann_whitney_z(a: &[f64], b: &[f64]) -> f64 {
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut rank_sum_a = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let rank = (i + j + 2) as f64 / 2.0;
        rank_sum_a += rank * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let sd = (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    (u - mean) / sd
}

fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = (OsRng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Sends one request per address to `path`, in random order, and returns
/// the latencies in ms of (known, unknown).
pub async fn measure(
    app: &TestApp,
    path: &str,
    known: &[String],
    unknown: &[String],
) -> (Vec<f64>, Vec<f64>) {
    let probes = probes_of(known, unknown.iter().cloned(), |a| json!({ "email": a }));
    measure_probes(app, path, probes, StatusCode::ACCEPTED).await
}

/// A probe of `body(address)` for each `known` address, then each
/// `unknown` one.
fn probes_of(
    known: &[String],
    unknown: impl IntoIterator<Item = String>,
    body: impl Fn(String) -> Value,
) -> Vec<Probe> {
    let mut probes: Vec<Probe> = known
        .iter()
        .map(|a| Probe::new(true, body(a.clone())))
        .collect();
    probes.extend(unknown.into_iter().map(|a| Probe::new(false, body(a))));
    probes
}

/// One request of a measurement: which side it counts for, its JSON body
/// and bearer token.
pub struct Probe {
    known: bool,
    body: Value,
    token: Option<String>,
}

impl Probe {
    pub fn new(known: bool, body: Value) -> Probe {
        Probe {
            known,
            body,
            token: None,
        }
    }

    pub fn with_token(mut self, token: &str) -> Probe {
        self.token = Some(token.to_owned());
        self
    }
}

/// Sends `probes` to `path` in random order, each answered `status`, and
/// returns the latencies in ms of (known, unknown).
pub async fn measure_probes(
    app: &TestApp,
    path: &str,
    mut probes: Vec<Probe>,
    status: StatusCode,
) -> (Vec<f64>, Vec<f64>) {
    shuffle(&mut probes);
    let url = app.url(path);
    let (mut k, mut u) = (Vec::new(), Vec::new());
    for probe in probes {
        let body = probe.body.to_string();
        let mut req = app
            .client
            .post(&url)
            .header("content-type", "application/json");
        if let Some(token) = &probe.token {
            req = req.bearer_auth(token);
        }
        let started = Instant::now();
        let res = req.body(body).send().await.unwrap();
        let got = res.status();
        let _ = res.bytes().await.unwrap();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(got, status, "{path}: {}", probe.body);
        if probe.known {
            k.push(ms)
        } else {
            u.push(ms)
        }
    }
    (k, u)
}

/// Waits until the mail worker has sent everything queued, so its work
/// does not overlap the next measurement.
async fn drained(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.sql_count("SELECT count(*) FROM outbox").await > 0 {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn report(name: &str, known: &[f64], unknown: &[f64]) -> f64 {
    let z = mann_whitney_z(known, unknown);
    eprintln!(
        "TT-05 {name}: known n={} median={:.3} ms | unknown n={} median={:.3} ms | MWU z={z:.2}",
        known.len(),
        median(known),
        unknown.len(),
        median(unknown)
    );
    z
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timing measurement: .ci/run runs it alone (--ignored --test-threads=1)"]
async fn forgot_and_resend_take_as_long_for_unknown_addresses() {
    let app = spawn_app_with(
        "[email]\nconfirmation_required = true\n\
         [rate_limit]\nenabled = true\nper_ip_per_minute = 1000000\nper_ip_burst = 1000000\n",
    )
    .await;
    let known: Vec<String> = (0..N).map(|i| format!("known{i}@example.com")).collect();
    let unknown: Vec<String> = (0..N).map(|i| format!("nobody{i}@example.com")).collect();
    for address in &known {
        assert_eq!(
            app.register(address, PASSWORD).await.status(),
            StatusCode::CREATED
        );
    }
    // Warm up both paths (connection, caches, prepared statements).
    let warm: Vec<String> = (0..20).map(|i| format!("warm{i}@example.com")).collect();
    measure(&app, "/v1/auth/password/forgot", &[], &warm).await;
    drained(&app).await;

    let mut worst: f64 = 0.0;
    let (app, known, unknown) = (&app, &known, &unknown);
    for path in ["/v1/auth/password/forgot", "/v1/auth/confirm-email/resend"] {
        let first = least_z(path, move || async move {
            // Every slot free again, whatever an attempt before took.
            app.clock.advance(PAST_THE_SLOTS);
            let latencies = measure(app, path, known, unknown).await;
            drained(app).await;
            latencies
        })
        .await;
        // Repeats inside the minute: every slot is taken now.
        let repeat = least_z(&format!("{path} (repeat)"), move || async move {
            let latencies = measure(app, path, known, unknown).await;
            drained(app).await;
            latencies
        })
        .await;
        worst = worst.max(first).max(repeat);
    }
    assert!(worst < Z_LIMIT, "|z| = {worst:.2} reaches {Z_LIMIT}");
}

/// The rate limits out of the way of a few hundred requests from one
/// address.
const LIMITS_RAISED: &str =
    "[rate_limit]\nenabled = true\nper_ip_per_minute = 1000000\nper_ip_burst = 1000000\n";

/// `n` addresses `{prefix}{i}@example.com`, each registered.
async fn registered(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut addresses = Vec::new();
    for i in 0..n {
        let address = format!("{prefix}{i}@example.com");
        let res = app.register(&address, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        addresses.push(address);
    }
    addresses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timing measurement: .ci/run runs it alone (--ignored --test-threads=1)"]
/// A failed login (SECURITY.md L2): a wrong password for a known address,
/// and any password for an unknown one, each cost one password
/// verification, so both 401s take as long. A known account fails at most
/// `ATTEMPTS` times, below the lockout.
async fn a_failed_login_takes_as_long_for_unknown_addresses() {
    let app = spawn_app_with(LIMITS_RAISED).await;
    let known = registered(&app, "known", N).await;
    let probes = || {
        let unknown = (0..N).map(|i| format!("nobody{i}@example.com"));
        probes_of(
            &known,
            unknown,
            |address| json!({ "email": address, "password": "not the password" }),
        )
    };
    let (app, probes) = (&app, &probes);
    let z = least_z("/v1/auth/login (wrong password)", move || async move {
        measure_probes(app, "/v1/auth/login", probes(), StatusCode::UNAUTHORIZED).await
    })
    .await;
    assert!(z < Z_LIMIT, "|z| = {z:.2} reaches {Z_LIMIT}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timing measurement: .ci/run runs it alone (--ignored --test-threads=1)"]
/// Registration with confirmation on (SECURITY.md L1): a taken address
/// answers exactly like a new one and mails its owner instead, and takes
/// as long — the new account's hash and insert against the taken path's
/// dummy hash and notice.
async fn a_registration_takes_as_long_for_a_taken_address() {
    let app = spawn_app_with(&format!(
        "[email]\nconfirmation_required = true\n{LIMITS_RAISED}"
    ))
    .await;
    let taken = registered(&app, "taken", N).await;
    drained(&app).await;
    let round = std::sync::atomic::AtomicUsize::new(0);
    let (app, taken, round) = (&app, &taken, &round);
    let z = least_z("/v1/auth/register (taken address)", move || async move {
        // Every owner's notice slot free again; new addresses each time.
        app.clock.advance(PAST_THE_SLOTS);
        let r = round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let new = (0..N).map(|i| format!("new{r}-{i}@example.com"));
        let probes = probes_of(
            taken,
            new,
            |address| json!({ "email": address, "password": PASSWORD }),
        );
        let latencies = measure_probes(app, "/v1/auth/register", probes, StatusCode::CREATED).await;
        drained(app).await;
        latencies
    })
    .await;
    assert!(z < Z_LIMIT, "|z| = {z:.2} reaches {Z_LIMIT}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timing measurement: .ci/run runs it alone (--ignored --test-threads=1)"]
/// An email change (TT-08): to an address another account holds it
/// answers 202 like any other, mails only the notice, and takes as long
/// as a change to a free address. Each of 2N signed-in users asks once a
/// round, half for a taken address, half for a free one.
async fn an_email_change_takes_as_long_to_a_taken_address() {
    let app = spawn_app_with(LIMITS_RAISED).await;
    let free_askers = registered(&app, "free", N).await;
    let taken_askers = registered(&app, "taker", N).await;
    let mut tokens = Vec::new();
    for address in free_askers.iter().chain(&taken_askers) {
        tokens.push(app.signed_in(address).await.access);
    }
    drained(&app).await;
    let round = std::sync::atomic::AtomicUsize::new(0);
    let (app, tokens, free_askers, round) = (&app, &tokens, &free_askers, &round);
    let z = least_z("/v1/users/me/email (taken address)", move || async move {
        app.clock.advance(PAST_THE_SLOTS);
        let r = round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = |new_email: String| json!({ "new_email": new_email, "password": PASSWORD });
        let mut probes = Vec::new();
        for i in 0..N {
            // The free askers' own addresses are the taken ones.
            let free = format!("moved{r}-{i}@example.com");
            probes.push(Probe::new(false, body(free)).with_token(&tokens[i]));
            let taken = free_askers[i].clone();
            probes.push(Probe::new(true, body(taken)).with_token(&tokens[N + i]));
        }
        let latencies =
            measure_probes(app, "/v1/users/me/email", probes, StatusCode::ACCEPTED).await;
        drained(app).await;
        latencies
    })
    .await;
    assert!(z < Z_LIMIT, "|z| = {z:.2} reaches {Z_LIMIT}");
}

#[test]
fn mann_whitney_z_is_zero_for_the_same_samples_and_large_for_shifted_ones() {
    let a: Vec<f64> = (0..100).map(f64::from).collect();
    assert!(mann_whitney_z(&a, &a).abs() < 1e-9);
    let b: Vec<f64> = a.iter().map(|x| x + 1000.0).collect();
    let z = mann_whitney_z(&b, &a);
    assert!(z > 10.0, "{z}");
    assert!((mann_whitney_z(&a, &b) + z).abs() < 1e-9);
}
