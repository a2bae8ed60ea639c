//! Tracing set-up: the global subscriber and the per-request root span.
//!
//! This module owns how toktok logs, not what: [`init`] installs one
//! `tracing-subscriber` fmt subscriber (human-readable or JSON lines, always
//! on stderr so stdout stays free for command output), and `request_span`
//! builds the root span every request runs in (STYLE.md item 14).
//!
//! Why it is shaped so:
//! - `init` takes plain values instead of the config type so it can run
//!   before the config is loaded (to report config errors) and is callable
//!   from tests and embedders. It uses `try_init`: a second call finds a
//!   subscriber already installed and leaves it alone instead of failing.
//! - The request span carries only the method, the route *template* and the
//!   request id; `on_response` logs `status` and `latency_ms` once, at the end.
//!   It never records the URI: link tokens travel in `?token=` and the
//!   template is all an operator needs. It never records headers either
//!   (`Authorization`, cookies). A secret that is never put in a span cannot
//!   leak from one, whatever the subscriber does later.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use tracing::Span;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Route recorded when no route template is known.
const UNMATCHED_ROUTE: &str = crate::metrics::UNMATCHED_ROUTE;

/// Request ids longer than this are cut: the header comes from the client, and
/// a log line is no place for a 60 KiB string.
const MAX_REQUEST_ID: usize = 128;

/// Installs the global tracing subscriber.
///
/// The filter comes from `RUST_LOG` when that is set and non-empty, else
/// from `level` (e.g. `info` or `toktok=debug,tower_http=info`). Output is
/// JSON lines when `format_json`, else the human-readable format (coloured
/// only when stderr is a terminal). An invalid filter is an error; a
/// subscriber that is already installed is not.
pub fn init(format_json: bool, level: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .with_context(|| format!("RUST_LOG={directives:?} is not a valid tracing filter (try RUST_LOG=info)"))?,
        _ => EnvFilter::try_new(level).with_context(|| {
            format!("log level {level:?} is not a valid tracing filter (use error, warn, info, debug or trace)")
        })?,
    };

    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = if format_json {
        builder
            .fmt_fields(JsonFields::new())
            .event_format(json_format())
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    // The only failure left is "a global subscriber (or `log` logger) is
    // already set": a second call from a test or an embedding application,
    // whose subscriber we keep.
    if let Err(e) = installed {
        tracing::debug!(error = %e, "tracing subscriber already installed; keeping it");
    }
    Ok(())
}

/// JSON lines: every field of the event, the current span, and the list of
/// every span it happened in — the request's root span with its
/// `request_id` first — so an audit line can be joined to its request.
fn json_format<S, N>() -> impl FormatEvent<S, N>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    AuditDetailAsJson(
        tracing_subscriber::fmt::format()
            .json()
            .with_current_span(true)
            .with_span_list(true),
    )
}

/// The JSON event format with one change for audit events: their `detail`
/// field, recorded as JSON text (a tracing field holds no objects), is
/// written as the JSON object it is, so `jq '.fields.detail.session'` works
/// without `fromjson`. Every other event is written by the inner format
/// untouched; an audit line is re-read once, which costs microseconds for
/// a handful of lines per request.
struct AuditDetailAsJson<F>(F);

impl<S, N, F> FormatEvent<S, N> for AuditDetailAsJson<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if event.metadata().target() != crate::store::AUDIT_TARGET {
            return self.0.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&line) else {
            return writer.write_str(&line);
        };
        if let Some(detail) = value.pointer_mut("/fields/detail") {
            if let Some(parsed) = detail
                .as_str()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            {
                *detail = parsed;
            }
        }
        writeln!(writer, "{value}")
    }
}

/// The root span of one request, for
/// `TraceLayer::new_for_http().make_span_with(telemetry::request_span)`.
///
/// Fields: `method`, `route` (the [`MatchedPath`] template, or `unmatched`
/// when the layer runs before routing or nothing matched), `request_id` (the
/// `x-request-id` header, so put `SetRequestIdLayer` outside this layer).
/// Add the `TraceLayer` with `Router::layer` so it sees the matched route.
pub(crate) fn request_span(req: &Request<Body>) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or("", |id| truncate(id, MAX_REQUEST_ID));
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = route,
        request_id = request_id,
    )
}

/// Logs one line per request, inside its span, for
/// `TraceLayer::on_response(telemetry::on_response)`.
pub(crate) fn on_response<B>(res: &Response<B>, latency: Duration, _span: &Span) {
    let status = res.status().as_u16();
    // Whole microseconds, shown as milliseconds: 0.058, not 0.057766000000000005.
    let latency_ms = latency.as_micros() as f64 / 1000.0;
    if res.status().is_server_error() {
        tracing::warn!(status, latency_ms, "request finished");
    } else {
        tracing::info!(status, latency_ms, "request finished");
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};

    /// A `MakeWriter` that collects everything into a shared buffer.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn secret_request() -> Request<Body> {
        Request::builder()
            .method("POST")
            .uri("/v1/auth/confirm-email?token=SECRETTOKEN123")
            .header("authorization", "Bearer SECRETBEARER456")
            .header("x-request-id", "req-1")
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn request_span_has_only_the_known_fields() {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let c = capture.clone();
                move || c.clone()
            })
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();

        tracing::subscriber::with_default(subscriber, || {
            let span = request_span(&secret_request());
            let meta = span.metadata().expect("span is enabled");
            let names: Vec<&str> = meta.fields().iter().map(|f| f.name()).collect();
            assert_eq!(names, ["method", "route", "request_id"]);

            let res = Response::builder().status(204).body(()).unwrap();
            on_response(&res, Duration::from_millis(3), &span);
            span.in_scope(|| tracing::info!("inside"));
        });

        let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        assert!(out.contains("method=POST"), "{out}");
        assert!(
            out.contains("route=\"unmatched\"") || out.contains("route=unmatched"),
            "{out}"
        );
        assert!(out.contains("req-1"), "{out}");
        assert!(out.contains("status=204"), "{out}");
        assert!(!out.contains("SECRET"), "{out}");
        assert!(!out.contains("confirm-email"), "{out}");
    }

    #[test]
    fn json_audit_lines_carry_the_request_id_and_detail_as_an_object() {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let c = capture.clone();
                move || c.clone()
            })
            .with_max_level(tracing::Level::TRACE)
            .fmt_fields(JsonFields::new())
            .event_format(json_format())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = request_span(&secret_request());
            let _request = span.enter();
            let _handler = tracing::info_span!("login").entered();
            let detail = serde_json::json!({"session": "s-1", "n": 2});
            tracing::info!(
                target: crate::store::AUDIT_TARGET,
                kind = "login.succeeded",
                detail = %detail,
                "audit"
            );
            tracing::info!(detail = "{\"not\":\"audit\"}", "other");
        });
        let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        let audit = &lines[0];
        assert_eq!(audit["fields"]["kind"], "login.succeeded");
        assert_eq!(
            audit["fields"]["detail"],
            serde_json::json!({"session": "s-1", "n": 2})
        );
        assert_eq!(audit["spans"][0]["request_id"], "req-1", "{out}");
        assert_eq!(audit["spans"][1]["name"], "login", "{out}");
        assert_eq!(audit["span"]["name"], "login", "{out}");
        // Only audit events are rewritten.
        assert_eq!(lines[1]["fields"]["detail"], "{\"not\":\"audit\"}");
        assert_eq!(lines[1]["spans"][0]["request_id"], "req-1");
    }

    #[test]
    fn request_id_is_truncated() {
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn init_twice_is_ok_and_bad_filter_is_err() {
        // RUST_LOG may be set by whoever runs the tests; only test the
        // explicit path when it is not.
        if std::env::var_os("RUST_LOG").is_none() {
            assert!(init(false, "toktok=loud").is_err());
        }
        // "off": this installs the subscriber for the whole test binary, and
        // other modules' tests should not start writing to stderr.
        assert!(init(false, "off").is_ok());
        assert!(init(true, "off").is_ok());
    }
}
