//! Prometheus metrics: the counters and histograms behind `GET /metrics`.
//!
//! `/metrics` is served on a listener of its own (`metrics.listen`,
//! `crate::server::serve_with`), never on the API's port: some counters
//! (mail sent, for one) tell whether a password-forgot matched an account.
//!
//! This module owns every number toktok exports and the text exposition
//! format (version 0.0.4) they are rendered in. It is hand-written rather
//! than built on a metrics crate because toktok needs a handful of counters,
//! one histogram and a few gauges, and the format is a page of rules; a crate would bring a global registry,
//! which STYLE.md item 4 rules out (state is passed, never global).
//!
//! Shape:
//! - One [`Metrics`] value lives in an `Arc` in the application state; tests
//!   build their own, so parallel tests never see each other's counts.
//! - Each family sits behind its own `Mutex`. The critical sections are a map
//!   lookup and a few additions, so contention is negligible next to the
//!   request work itself, and a plain mutex keeps the code obviously correct.
//! - The hot path ([`Metrics::record_request`]) allocates only the first time
//!   a (route, method) pair is seen: maps are keyed by owned `String`s but
//!   looked up by `&str`.
//! - Label cardinality is bounded: routes are axum route *templates* (or
//!   `unmatched`), methods outside the standard set are folded into `OTHER`,
//!   and status codes are three digits. A client therefore cannot grow the
//!   maps by sending odd paths or made-up methods.
//! - [`Metrics::render`] sorts everything, so two renders of the same state
//!   are byte-identical (easy to test, friendly to diffing).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds (seconds) of the request-duration histogram buckets; `+Inf`
/// is implicit (it equals `_count`).
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Route label for requests no route matched (404s, probes for random paths).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Login outcomes that are always exported, at zero if never seen, so that a
/// `rate()` over them has a series from the first scrape.
const LOGIN_OUTCOMES: [&str; 6] = [
    "success",
    "invalid_credentials",
    "locked",
    "rate_limited",
    "not_confirmed",
    "overloaded",
];

/// What the sweeper deletes, always exported (at zero until a sweep deletes
/// something), so an alert on them has a series from the first scrape.
pub const SWEEP_KINDS: [&str; 4] = ["sessions", "challenges", "audit", "mail"];

const HTTP_REQUESTS: &str = "toktok_http_requests_total";
const HTTP_DURATION: &str = "toktok_http_request_duration_seconds";
const LOGINS: &str = "toktok_logins_total";
/// Rows deleted by the background sweeper, by `kind` ([`SWEEP_KINDS`]).
pub const SWEPT: &str = "toktok_sweeper_deleted_total";
/// JWE bodies handed to the RSA key, by `outcome` (`ok`, `invalid`,
/// `overloaded`): every one is a private-key operation.
pub const JWE_DECRYPTIONS: &str = "toktok_jwe_decryptions_total";
/// Connections closed at accept because their address held
/// `server.max_connections_per_ip` already.
pub const REFUSED_CONNECTIONS: &str = "toktok_connections_refused_total";
/// Gauge: queued mail not yet sent nor given up.
pub const OUTBOX_DEPTH: &str = "toktok_outbox_queue_depth";
/// Gauge: password hashes waiting for a free core.
pub const HASH_QUEUE: &str = "toktok_hash_pool_queue_depth";

/// Counters exported with every label value from the start, at zero.
const ALWAYS_EXPORTED: [(&str, &str, &[&str]); 2] = [
    (LOGINS, "outcome", &LOGIN_OUTCOMES),
    (SWEPT, "kind", &SWEEP_KINDS),
];

/// `# HELP` texts of the families toktok knows by name.
fn help_for(name: &str) -> &'static str {
    match name {
        LOGINS => "Login attempts, by outcome.",
        SWEPT => "Rows deleted by the background sweeper, by kind.",
        REFUSED_CONNECTIONS => "Connections closed at accept: their address was at its cap.",
        JWE_DECRYPTIONS => "Encrypted (JWE) bodies the RSA key was asked to decrypt, by outcome.",
        OUTBOX_DEPTH => "Queued mail not yet sent nor given up (sampled every few seconds).",
        HASH_QUEUE => "Password hashes waiting for a free core (sampled every few seconds).",
        "toktok_mail_total" => "Mail delivery attempts, by outcome.",
        _ => "Recorded by toktok.",
    }
}

/// Methods exported under their own name; anything else becomes `OTHER`.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// All metrics of one toktok process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// route template -> method -> counts; feeds both the request counter and
    /// the duration histogram.
    http: Mutex<HashMap<String, HashMap<&'static str, RouteStats>>>,
    /// Generic counters, including `toktok_logins_total`: family name ->
    /// (label set, value). Label sets per family are few, so a linear scan
    /// finds them without building a key.
    counters: Mutex<HashMap<&'static str, Vec<(Labels, u64)>>>,
    /// Gauges without labels: family name -> last value set. Set by a
    /// sampler (`server.rs`), read by a scrape.
    gauges: Mutex<HashMap<&'static str, i64>>,
}

type Labels = Vec<(&'static str, String)>;

/// Counts for one (route, method) pair.
#[derive(Debug, Default, Clone)]
struct RouteStats {
    /// (status, count); a route answers with a handful of statuses, so a small
    /// vector beats a map.
    statuses: Vec<(u16, u64)>,
    /// Non-cumulative bucket counts; cumulated when rendering.
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves counts at worst one short; the
    // data stays valid, so keep serving it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// One finished HTTP request: `route` is the axum `MatchedPath` template
    /// (or [`UNMATCHED_ROUTE`]), `method`, status code, latency in seconds.
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = normalize_method(method);
        // Instants are monotonic, but stay safe against odd callers: a NaN or
        // negative value would poison the sum forever.
        let seconds = if seconds.is_finite() && seconds > 0.0 {
            seconds
        } else {
            0.0
        };

        let mut http = lock(&self.http);
        let per_route = match http.get_mut(route) {
            Some(m) => m,
            None => http.entry(route.to_owned()).or_default(),
        };
        let stats = per_route.entry(method).or_default();

        match stats.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => stats.statuses.push((status, 1)),
        }
        if let Some(i) = BUCKETS.iter().position(|le| seconds <= *le) {
            stats.buckets[i] += 1;
        }
        stats.sum += seconds;
        stats.count += 1;
    }

    /// Login outcome: "success", "invalid_credentials", "locked",
    /// "rate_limited", "not_confirmed", "overloaded".
    pub fn record_login(&self, outcome: &'static str) {
        self.incr(LOGINS, &[("outcome", outcome)]);
    }

    /// Generic counter with one label set, for later features, e.g.
    /// `incr("toktok_refresh_total", &[("outcome", "rotated")])`.
    ///
    /// `name` and the label names must be valid Prometheus names and the
    /// label names of one family must always be the same, in the same order.
    /// The two HTTP family names are reserved (they are rendered from
    /// [`Metrics::record_request`]); using them here is a bug, caught by a
    /// debug assertion and ignored in release builds.
    pub fn incr(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, labels, 1);
    }

    /// [`Metrics::incr`] by `n` (0 creates the series at zero).
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        debug_assert!(is_valid_name(name), "invalid metric name {name:?}");
        debug_assert!(
            labels
                .iter()
                .all(|(k, _)| is_valid_name(k) && !k.starts_with("__")),
            "invalid label name in {labels:?}"
        );
        if is_reserved(name) {
            debug_assert!(false, "{name} is reserved for record_request");
            return;
        }
        let mut counters = lock(&self.counters);
        let series = counters.entry(name).or_default();
        let same = |l: &Labels| {
            l.len() == labels.len()
                && l.iter()
                    .zip(labels)
                    .all(|((ka, va), (kb, vb))| ka == kb && va == vb)
        };
        match series.iter_mut().find(|(l, _)| same(l)) {
            Some((_, value)) => *value = value.saturating_add(n),
            None => series.push((
                labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
                n,
            )),
        }
    }

    /// Counts `n` rows of `kind` deleted by the sweeper
    /// (`toktok_sweeper_deleted_total`).
    pub fn count_swept(&self, kind: &'static str, n: usize) {
        self.add(SWEPT, &[("kind", kind)], n as u64);
    }

    /// Sets a gauge (a value that goes up and down, e.g. a queue length).
    pub fn set_gauge(&self, name: &'static str, value: i64) {
        debug_assert!(is_valid_name(name), "invalid metric name {name:?}");
        if is_reserved(name) {
            debug_assert!(false, "{name} is reserved for record_request");
            return;
        }
        lock(&self.gauges).insert(name, value);
    }

    /// The text exposition format, version 0.0.4
    /// (`Content-Type: text/plain; version=0.0.4; charset=utf-8`).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.render_http(&mut out);
        self.render_counters(&mut out);
        self.render_gauges(&mut out);
        out
    }

    fn render_gauges(&self, out: &mut String) {
        let mut gauges: Vec<(&'static str, i64)> =
            lock(&self.gauges).iter().map(|(k, v)| (*k, *v)).collect();
        gauges.sort_unstable();
        for (name, value) in gauges {
            header(out, name, "gauge", help_for(name));
            let _ = writeln!(out, "{name} {value}");
        }
    }

    fn render_http(&self, out: &mut String) {
        // Copy out under the lock, format after releasing it: a scrape must
        // not stall requests while it builds strings.
        let mut rows: Vec<(String, &'static str, RouteStats)> = {
            let http = lock(&self.http);
            http.iter()
                .flat_map(|(route, methods)| {
                    methods
                        .iter()
                        .map(move |(method, stats)| (route.clone(), *method, stats.clone()))
                })
                .collect()
        };
        rows.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));

        header(
            out,
            HTTP_REQUESTS,
            "counter",
            "HTTP requests answered, by method, route template and status.",
        );
        for (route, method, stats) in &mut rows {
            stats.statuses.sort_unstable();
            for (status, n) in &stats.statuses {
                let _ = writeln!(
                    out,
                    "{HTTP_REQUESTS}{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(method),
                    escape(route),
                );
            }
        }

        header(
            out,
            HTTP_DURATION,
            "histogram",
            "Time to produce the response head, by method and route template.",
        );
        for (route, method, stats) in &rows {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0u64;
            for (le, n) in BUCKETS.iter().zip(&stats.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "{HTTP_DURATION}_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let count = stats.count;
            let _ = writeln!(
                out,
                "{HTTP_DURATION}_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "{HTTP_DURATION}_sum{{{labels}}} {}", float(stats.sum));
            let _ = writeln!(out, "{HTTP_DURATION}_count{{{labels}}} {count}");
        }
    }

    fn render_counters(&self, out: &mut String) {
        let mut families: Vec<(&'static str, Vec<(Labels, u64)>)> = {
            let counters = lock(&self.counters);
            counters.iter().map(|(k, v)| (*k, v.clone())).collect()
        };
        // Some families exist from the start, every label value at zero.
        for (family, label, values) in ALWAYS_EXPORTED {
            let series = match families.iter_mut().position(|(n, _)| *n == family) {
                Some(i) => &mut families[i].1,
                None => {
                    families.push((family, Vec::new()));
                    let last = families.len() - 1;
                    &mut families[last].1
                }
            };
            for value in values {
                if !series
                    .iter()
                    .any(|(l, _)| l.len() == 1 && l[0].0 == label && l[0].1 == *value)
                {
                    series.push((vec![(label, (*value).to_owned())], 0));
                }
            }
        }

        families.sort_by(|a, b| a.0.cmp(b.0));
        for (name, mut series) in families {
            let help = help_for(name);
            header(out, name, "counter", help);
            series.sort();
            for (labels, n) in series {
                out.push_str(name);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (k, v)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{k}=\"{}\"", escape(v));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {n}");
            }
        }
    }
}

/// axum middleware: times the request and records it under its route
/// template. Use with `axum::middleware::from_fn_with_state(metrics, track)`
/// added by `Router::layer` (so it runs after routing and sees
/// [`MatchedPath`]; applied outside the router every request would count as
/// `unmatched`).
///
/// The latency is the time until the response head is ready; streaming the
/// body afterwards is not counted.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = normalize_method(req.method().as_str());
    // Cloning a MatchedPath is an Arc bump, not a string copy.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let route = route.as_ref().map_or(UNMATCHED_ROUTE, |p| p.as_str());
    metrics.record_request(
        method,
        route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

fn normalize_method(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("OTHER")
}

fn is_reserved(name: &str) -> bool {
    name == HTTP_REQUESTS || name.starts_with(HTTP_DURATION)
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*` (label names may not contain `:`, but ours are
/// static and checked by eye; this is a debug aid).
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    // Help texts are our own constants, with no `\` or newline to escape.
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Label-value escaping per the text format: `\` -> `\\`, `"` -> `\"`,
/// newline -> `\n`.
fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return value.into();
    }
    let mut s = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.into()
}

/// Formats a sample value the way Prometheus parses it.
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn render_contains_recorded_requests_and_logins() {
        let m = Metrics::new();
        m.record_request("GET", "/health", 200, 0.0007);
        m.record_request("GET", "/health", 200, 0.02);
        m.record_request("POST", "/v1/auth/login", 401, 0.3);
        m.record_login("success");
        m.record_login("success");
        m.record_login("locked");
        m.incr("toktok_refresh_total", &[("outcome", "rotated")]);

        let text = m.render();
        let l = lines(&text);
        for want in [
            "# TYPE toktok_http_requests_total counter",
            "toktok_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 2",
            "toktok_http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"401\"} 1",
            "# TYPE toktok_http_request_duration_seconds histogram",
            "toktok_http_request_duration_seconds_count{method=\"GET\",route=\"/health\"} 2",
            "toktok_http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"+Inf\"} 2",
            "# TYPE toktok_logins_total counter",
            "toktok_logins_total{outcome=\"success\"} 2",
            "toktok_logins_total{outcome=\"locked\"} 1",
            "toktok_logins_total{outcome=\"overloaded\"} 0",
            "# TYPE toktok_refresh_total counter",
            "toktok_refresh_total{outcome=\"rotated\"} 1",
        ] {
            assert!(l.contains(&want), "missing {want:?} in\n{text}");
        }
        // Every sample line is `name{labels} value` or `name value`.
        for line in l.iter().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok() || value == "+Inf", "{line}");
        }
        // Deterministic.
        assert_eq!(text, m.render());
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new();
        for s in [0.0005, 0.003, 0.003, 0.2, 3.0, 60.0] {
            m.record_request("GET", "/x", 200, s);
        }
        let text = m.render();
        let bucket = |le: &str| -> u64 {
            let prefix = format!(
                "toktok_http_request_duration_seconds_bucket{{method=\"GET\",route=\"/x\",le=\"{le}\"}} "
            );
            let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
            line[prefix.len()..].parse().unwrap()
        };
        assert_eq!(bucket("0.001"), 1);
        assert_eq!(bucket("0.0025"), 1);
        assert_eq!(bucket("0.005"), 3);
        assert_eq!(bucket("0.1"), 3);
        assert_eq!(bucket("0.25"), 4);
        assert_eq!(bucket("2.5"), 4);
        assert_eq!(bucket("5"), 5);
        assert_eq!(bucket("10"), 5);
        assert_eq!(bucket("+Inf"), 6);
        // Non-decreasing across all buckets, in order.
        let values: Vec<u64> = text
            .lines()
            .filter(|l| l.contains("_bucket{"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(values.len(), BUCKETS.len() + 1);
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
        let sum_line = text.lines().find(|l| l.contains("_sum{")).unwrap();
        let sum: f64 = sum_line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((sum - 63.2065).abs() < 1e-9);
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.record_request("GET", "/a\\b\"c\nd", 200, 0.01);
        m.incr("toktok_test_total", &[("why", "x\"y")]);
        let text = m.render();
        assert!(text.contains(r#"route="/a\\b\"c\nd""#), "{text}");
        assert!(
            text.contains(r#"toktok_test_total{why="x\"y"} 1"#),
            "{text}"
        );
        // The newline did not split a sample line.
        assert!(!text.lines().any(|l| l.starts_with("d\"")), "{text}");
    }

    #[test]
    fn odd_methods_fold_into_other() {
        let m = Metrics::new();
        m.record_request("BREW", "unmatched", 405, 0.0);
        m.record_request("XYZZY", "unmatched", 405, 0.0);
        let text = m.render();
        assert!(text.contains(
            "toktok_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 2"
        ));
        assert!(!text.contains("BREW"));
    }

    #[test]
    fn empty_render_is_valid() {
        let text = Metrics::new().render();
        assert!(text.contains("# TYPE toktok_http_requests_total counter"));
        assert!(text.contains("toktok_logins_total{outcome=\"success\"} 0"));
    }

    #[test]
    fn sweeper_kinds_start_at_zero_and_gauges_render() {
        let m = Metrics::new();
        let text = m.render();
        for kind in SWEEP_KINDS {
            let want = format!("toktok_sweeper_deleted_total{{kind=\"{kind}\"}} 0");
            assert!(text.lines().any(|l| l == want), "{want} in\n{text}");
        }
        m.add(SWEPT, &[("kind", "sessions")], 7);
        m.add(SWEPT, &[("kind", "sessions")], 0);
        m.set_gauge(OUTBOX_DEPTH, 3);
        m.set_gauge(OUTBOX_DEPTH, 2);
        m.set_gauge(HASH_QUEUE, 0);
        let text = m.render();
        let l = lines(&text);
        for want in [
            "toktok_sweeper_deleted_total{kind=\"sessions\"} 7",
            "toktok_sweeper_deleted_total{kind=\"mail\"} 0",
            "# TYPE toktok_outbox_queue_depth gauge",
            "toktok_outbox_queue_depth 2",
            "# TYPE toktok_hash_pool_queue_depth gauge",
            "toktok_hash_pool_queue_depth 0",
        ] {
            assert!(l.contains(&want), "missing {want:?} in\n{text}");
        }
        // One HELP/TYPE pair per family.
        assert_eq!(text.matches("# TYPE toktok_outbox_queue_depth ").count(), 1);
    }

    #[tokio::test]
    async fn track_records_route_template() {
        let metrics = Arc::new(Metrics::new());
        let app = Router::new()
            .route("/v1/users/{id}", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(metrics.clone(), track));

        for uri in ["/v1/users/42", "/v1/users/43", "/nope"] {
            let req = axum::http::Request::builder()
                .uri(uri)
                .body(Body::empty())
                .unwrap();
            app.clone().oneshot(req).await.unwrap();
        }

        let text = metrics.render();
        assert!(
            text.contains(
                "toktok_http_requests_total{method=\"GET\",route=\"/v1/users/{id}\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "toktok_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"
            ),
            "{text}"
        );
        assert!(!text.contains("/v1/users/42"));
    }
}
