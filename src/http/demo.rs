//! The browser demo client at `GET /demo` (`server.demo`, on by default).
//!
//! One HTML page (`demo.html`, compiled into the binary): an app on the
//! client library (`/sdk/toktok.js`, `http::sdk`), the reference for app
//! developers: register, log in (password, passkey, email code, the second
//! step), `/v1/users/me`, refresh, factors, reauthentication and log out,
//! each step logged on the page. The browser end-to-end tests
//! (`tests/browser/`) drive this very page.
//!
//! The page loads nothing from elsewhere and is served with a strict
//! Content Security Policy: its one inline module `<script>` and one inline
//! `<style>` are allowed by their SHA-256 hashes, computed from the embedded
//! page, and `'self'` admits the library it imports; no `'unsafe-inline'`
//! is needed and nothing injected could run. `fetch` may go to this origin
//! only (`connect-src 'self'`).

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::app::AppState;
use crate::error::ApiError;

/// The page, exactly as served.
const HTML: &str = include_str!("demo.html");

/// `GET /demo`: the demo page, or 404 `feature_disabled` when
/// `server.demo = false`.
#[utoipa::path(get, path = "/demo", tag = "ops", summary = "Built-in demo page",
    responses(
        (status = 200, description = "The demo page.", content_type = "text/html", body = String),
        (status = 404, description = "`feature_disabled` (`server.demo = false`)"),
    ))]
pub async fn page(State(state): State<AppState>) -> Response {
    if !state.config.server.demo {
        return ApiError::FeatureDisabled.into_response();
    }
    respond()
}

fn respond() -> Response {
    let mut response = (StatusCode::OK, HTML).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, csp().clone());
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The Content-Security-Policy of the page. It depends only on [`HTML`], a
/// compile-time constant, so it is computed once and kept (this is a cache
/// of a constant, not shared state).
fn csp() -> &'static HeaderValue {
    static CSP: OnceLock<HeaderValue> = OnceLock::new();
    CSP.get_or_init(|| {
        let policy = policy_for(HTML);
        // The policy is ASCII by construction (keywords and base64), so
        // this cannot fail; `from_static` would need a literal.
        HeaderValue::from_str(&policy)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
    })
}

/// A policy that allows exactly the inline scripts and styles of `html`.
fn policy_for(html: &str) -> String {
    let scripts = hashes(html, "script");
    let styles = hashes(html, "style");
    // 'self' for the one module the script imports, /sdk/toktok.js.
    format!(
        "default-src 'none'; script-src 'self' {scripts}; style-src {styles}; connect-src 'self'; \
         img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// `'sha256-…'` sources for the contents of every `<tag>…</tag>` in `html`
/// (attributes allowed: the script is `<script type="module">`). A browser
/// hashes the element's text exactly as written, so this hashes the bytes
/// between the tags. `'none'` when there is no such element.
fn hashes(html: &str, tag: &str) -> String {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut sources = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<tag>` or `<tag attributes>`, not `<tagname>`.
        if !after.starts_with('>') && !after.starts_with(' ') {
            rest = after;
            continue;
        }
        let Some(head) = after.find('>') else { break };
        let body = &after[head + 1..];
        let Some(end) = body.find(&close) else { break };
        let digest = ring::digest::digest(&ring::digest::SHA256, &body.as_bytes()[..end]);
        sources.push(format!("'sha256-{}'", STANDARD.encode(digest.as_ref())));
        rest = &body[end + close.len()..];
    }
    if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, EmailMode};
    use crate::App;
    use sha2::Digest as _;

    async fn state(demo: bool) -> (AppState, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.database.path = dir.path().join("toktok.db");
        config.email.mode = EmailMode::Off;
        config.server.demo = demo;
        let app = App::build(config).await.expect("app builds");
        (app.state().clone(), dir)
    }

    async fn body(response: Response) -> String {
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("body")
            .to_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn serves_the_page_with_protective_headers() {
        let (state, _dir) = state(true).await;
        let response = page(State(state)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let h = response.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        let csp = h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.starts_with("default-src 'none'; "), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        let html = body(response).await;
        assert!(html.contains("id=\"run\"") && html.contains("id=\"log\""));
    }

    #[tokio::test]
    async fn disabled_demo_is_feature_disabled() {
        let (state, _dir) = state(false).await;
        let response = page(State(state)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(body(response)
            .await
            .contains("\"code\":\"feature_disabled\""));
    }

    /// The hashes in the policy are those of the page's inline code, checked
    /// with an independent SHA-256.
    #[test]
    fn policy_hashes_the_inline_script_and_style() {
        let expect = |tag: &str| {
            let open = if tag == "script" {
                "<script type=\"module\">".to_owned()
            } else {
                format!("<{tag}>")
            };
            let (_, after) = HTML.split_once(&open).expect("tag present");
            let (inner, _) = after.split_once(&format!("</{tag}>")).expect("tag closed");
            format!("'sha256-{}'", STANDARD.encode(sha2::Sha256::digest(inner)))
        };
        let policy = policy_for(HTML);
        assert!(
            policy.contains(&format!("script-src 'self' {};", expect("script"))),
            "{policy}"
        );
        assert!(
            policy.contains(&format!("style-src {};", expect("style"))),
            "{policy}"
        );
        assert_eq!(
            HTML.matches("<script").count(),
            1,
            "one inline script, no src (it imports /sdk/toktok.js)"
        );
        assert_eq!(HTML.matches("<style").count(), 1, "one inline style");
    }

    #[test]
    fn policy_without_inline_code_allows_none() {
        assert_eq!(hashes("<p>hi</p>", "script"), "'none'");
        assert_eq!(
            hashes("<script>a</script><script>b</script>", "script")
                .matches("'sha256-")
                .count(),
            2
        );
    }

    /// No external assets: nothing is loaded from anywhere but this origin,
    /// and inline event-handler attributes (which a hash CSP blocks) are not
    /// used.
    #[test]
    fn page_is_self_contained() {
        for needle in [
            "src=",
            "<link",
            "http://",
            "https://",
            "@import",
            " onclick=",
        ] {
            assert!(!HTML.contains(needle), "demo.html contains {needle:?}");
        }
    }
}
