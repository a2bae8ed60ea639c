//! Prometheus metrics: the counters, histogram and gauges behind
//! `GET /metrics`.
//!
//! `/metrics` is served on a listener of its own (`metrics.listen`,
//! `crate::server::serve_with`), never on the API's port: some counters
//! (mail sent, for one) tell whether a password-forgot matched an account.
//!
//! This module owns every number toktok exports. They are kept and
//! rendered by `prometheus-client`, whose [`Registry`] is a value held
//! here, not a process-wide global (STYLE.md item 4: state is passed): each
//! application, and each test, has its own. The output is the Prometheus
//! text format, version 0.0.4, as before the move to the crate: the same
//! names, labels, buckets and content type.
//!
//! Shape:
//! - One [`Metrics`] value lives in an `Arc` in the application state.
//! - The call sites name a family and its labels
//!   (`incr(metrics::SWEPT, &[("kind", "mail")])`); the families known by
//!   name are registered at start, and one named for the first time is
//!   registered then (behind a lock taken only that once).
//! - The hot path ([`Metrics::record_request`]) is two lookups in the HTTP
//!   families (a read lock each), one atomic add and one histogram
//!   observation; it allocates the route label once per request.
//! - Label cardinality is bounded: routes are axum route *templates* (or
//!   `unmatched`), methods outside the standard set are folded into `OTHER`,
//!   and status codes are three digits. A client therefore cannot grow the
//!   families by sending odd paths or made-up methods.
//! - Series within a family come in the order of the family's map, not
//!   sorted (Prometheus does not care); two renders of the same state are
//!   identical.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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
pub const SWEEP_KINDS: [&str; 5] = ["sessions", "challenges", "audit", "mail", "webhooks"];

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
/// Background tasks started again after a panic, by task.
pub const BACKGROUND_RESTARTS: &str = "toktok_background_restarts_total";
/// The tasks of [`BACKGROUND_RESTARTS`] (`server::background`).
const BACKGROUND_TASKS: [&str; 5] = ["sweeper", "gauges", "keys", "webhooks", "mail"];

/// Counters exported with every label value from the start, at zero.
const ALWAYS_EXPORTED: [(&str, &str, &[&str]); 3] = [
    (LOGINS, "outcome", &LOGIN_OUTCOMES),
    (SWEPT, "kind", &SWEEP_KINDS),
    (BACKGROUND_RESTARTS, "task", &BACKGROUND_TASKS),
];

/// `# HELP` texts of the families toktok knows by name (the registry adds
/// the final full stop).
fn help_for(name: &str) -> &'static str {
    match name {
        LOGINS => "Login attempts, by outcome",
        SWEPT => "Rows deleted by the background sweeper, by kind",
        BACKGROUND_RESTARTS => "Background tasks started again after a panic, by task",
        REFUSED_CONNECTIONS => "Connections closed at accept: their address was at its cap",
        JWE_DECRYPTIONS => "Encrypted (JWE) bodies the RSA key was asked to decrypt, by outcome",
        OUTBOX_DEPTH => "Queued mail not yet sent nor given up (sampled every few seconds)",
        HASH_QUEUE => "Password hashes waiting for a free core (sampled every few seconds)",
        "toktok_mail_total" => "Mail delivery attempts, by outcome",
        "toktok_hook_calls_total" => "Access-token hook calls, by outcome",
        "toktok_hook_duration_seconds" => "Access-token hook call latency",
        "toktok_webhook_deliveries_total" => "Webhook delivery attempts, by outcome",
        "toktok_webhook_queue_depth" => {
            "Webhook deliveries not yet delivered nor given up (sampled every few seconds)"
        }
        "toktok_oauth_tokens_total" => "OAuth token requests, by grant and outcome",
        _ => "Recorded by toktok",
    }
}

/// Methods exported under their own name; anything else becomes `OTHER`.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// The labels of `toktok_http_requests_total`, in their exported order.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The labels of `toktok_http_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The label set of a family counted through [`Metrics::incr`]: names as
/// the call site gives them, in its order.
type Labels = Vec<(&'static str, String)>;

type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// All metrics of one toktok process.
#[derive(Debug)]
pub struct Metrics {
    /// What [`Metrics::render`] encodes. Written only when a family is
    /// named for the first time.
    registry: RwLock<Registry>,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: DurationFamily,
    /// Counter families by full name (`…_total`), registered in `registry`.
    counters: RwLock<HashMap<&'static str, Family<Labels, Counter>>>,
    /// Gauges without labels by name, registered in `registry` the first
    /// time they are set. Set by a sampler (`server/background.rs`), read
    /// by a scrape.
    gauges: RwLock<HashMap<&'static str, Gauge>>,
    /// Histograms without labels by name (seconds, the request buckets),
    /// registered the first time they observe.
    histograms: RwLock<HashMap<&'static str, Histogram>>,
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // A panic while holding the lock leaves counts at worst one short; the
    // data stays valid, so keep serving it.
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn new_duration_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every family toktok always exports, registered and at zero.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            counter_name(HTTP_REQUESTS),
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_duration: DurationFamily =
            Family::new_with_constructor(new_duration_histogram as fn() -> Histogram);
        registry.register(
            HTTP_DURATION,
            "Time to produce the response head, by method and route template",
            http_duration.clone(),
        );
        let mut counters = HashMap::new();
        for (name, label, values) in ALWAYS_EXPORTED {
            let family = Family::<Labels, Counter>::default();
            for value in values {
                family
                    .get_or_create(&vec![(label, (*value).to_owned())])
                    .inc_by(0);
            }
            registry.register(counter_name(name), help_for(name), family.clone());
            counters.insert(name, family);
        }
        Metrics {
            registry: RwLock::new(registry),
            http_requests,
            http_duration,
            counters: RwLock::new(counters),
            gauges: RwLock::new(HashMap::new()),
            histograms: RwLock::new(HashMap::new()),
        }
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
        let labels = RequestLabels {
            method,
            route: route.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        let RequestLabels { method, route, .. } = labels;
        self.http_duration
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }

    /// Login outcome: "success", "invalid_credentials", "locked",
    /// "rate_limited", "not_confirmed", "overloaded".
    pub fn record_login(&self, outcome: &'static str) {
        self.incr(LOGINS, &[("outcome", outcome)]);
    }

    /// Generic counter with one label set, for later features, e.g.
    /// `incr("toktok_refresh_total", &[("outcome", "rotated")])`.
    ///
    /// `name` must be a valid Prometheus name ending in `_total`, and the
    /// label names of one family must always be the same, in the same
    /// order. The two HTTP family names are reserved (they are recorded by
    /// [`Metrics::record_request`]); using them here is a bug, caught by a
    /// debug assertion and ignored in release builds.
    pub fn incr(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, labels, 1);
    }

    /// [`Metrics::incr`] by `n` (0 creates the series at zero).
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        debug_assert!(is_valid_name(name), "invalid metric name {name:?}");
        debug_assert!(name.ends_with("_total"), "counter {name:?} lacks _total");
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
        let labels: Labels = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        if let Some(family) = read(&self.counters).get(name) {
            family.get_or_create(&labels).inc_by(n);
            return;
        }
        let mut counters = write(&self.counters);
        let family = counters.entry(name).or_insert_with(|| {
            let family = Family::<Labels, Counter>::default();
            write(&self.registry).register(counter_name(name), help_for(name), family.clone());
            family
        });
        family.get_or_create(&labels).inc_by(n);
    }

    /// Counts `n` rows of `kind` deleted by the sweeper
    /// (`toktok_sweeper_deleted_total`).
    pub fn count_swept(&self, kind: &'static str, n: usize) {
        self.add(SWEPT, &[("kind", kind)], n as u64);
    }

    /// Records one duration, in seconds, in the histogram `name`.
    pub fn observe(&self, name: &'static str, seconds: f64) {
        debug_assert!(is_valid_name(name), "invalid metric name {name:?}");
        if is_reserved(name) {
            debug_assert!(false, "{name} is reserved for record_request");
            return;
        }
        if let Some(h) = read(&self.histograms).get(name) {
            h.observe(seconds);
            return;
        }
        let mut histograms = write(&self.histograms);
        let h = histograms.entry(name).or_insert_with(|| {
            let h = new_duration_histogram();
            write(&self.registry).register(name, help_for(name), h.clone());
            h
        });
        h.observe(seconds);
    }

    /// Sets a gauge (a value that goes up and down, e.g. a queue length);
    /// it is exported from the first time it is set.
    pub fn set_gauge(&self, name: &'static str, value: i64) {
        debug_assert!(is_valid_name(name), "invalid metric name {name:?}");
        if is_reserved(name) {
            debug_assert!(false, "{name} is reserved for record_request");
            return;
        }
        if let Some(gauge) = read(&self.gauges).get(name) {
            gauge.set(value);
            return;
        }
        let mut gauges = write(&self.gauges);
        let gauge = gauges.entry(name).or_insert_with(|| {
            let gauge = Gauge::default();
            write(&self.registry).register(name, help_for(name), gauge.clone());
            gauge
        });
        gauge.set(value);
    }

    /// The text exposition format, version 0.0.4
    /// (`Content-Type: text/plain; version=0.0.4; charset=utf-8`).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let registry = read(&self.registry);
        // Writing to a String cannot fail; should the encoder, the scrape
        // shows what was written and the log says why.
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry) {
            tracing::warn!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

/// The name a counter is registered under: the registry adds `_total`.
fn counter_name(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
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
    fn the_exposition_is_the_text_format_as_before() {
        let m = Metrics::new();
        m.record_request("GET", "/health", 200, 0.003);
        m.incr(REFUSED_CONNECTIONS, &[]);
        m.set_gauge(OUTBOX_DEPTH, 4);
        let text = m.render();
        for want in [
            "# HELP toktok_http_requests_total HTTP requests answered, by method, route template and status.",
            "# TYPE toktok_http_requests_total counter",
            "toktok_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1",
            "# HELP toktok_http_request_duration_seconds Time to produce the response head, by method and route template.",
            "toktok_http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"0.0025\"} 0",
            "toktok_http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"0.005\"} 1",
            "toktok_http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"1\"} 1",
            "toktok_http_request_duration_seconds_sum{method=\"GET\",route=\"/health\"} 0.003",
            "toktok_http_request_duration_seconds_count{method=\"GET\",route=\"/health\"} 1",
            "# HELP toktok_logins_total Login attempts, by outcome.",
            "# TYPE toktok_connections_refused_total counter",
            "toktok_connections_refused_total 1",
            "# HELP toktok_outbox_queue_depth Queued mail not yet sent nor given up (sampled every few seconds).",
            "# TYPE toktok_outbox_queue_depth gauge",
            "toktok_outbox_queue_depth 4",
        ] {
            assert!(text.lines().any(|l| l == want), "missing {want:?} in\n{text}");
        }
        assert!(!text.contains("# EOF"), "not OpenMetrics");
        assert!(!text.contains("toktok_hash_pool_queue_depth"), "never set");
    }

    #[test]
    fn empty_render_is_valid() {
        let text = Metrics::new().render();
        // prometheus-client writes a family's HELP/TYPE with its first
        // series: before any request the HTTP families are absent (the
        // hand-written exposition showed their headers alone).
        assert!(!text.contains("toktok_http_requests_total"), "{text}");
        assert!(text.contains("# TYPE toktok_logins_total counter"));
        assert!(text.contains("toktok_logins_total{outcome=\"success\"} 0"));
        for line in text.lines() {
            assert!(
                line.starts_with("# HELP ") || line.starts_with("# TYPE ") || line.contains(' '),
                "{line}"
            );
        }
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
