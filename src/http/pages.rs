//! The few HTML pages toktok serves itself: the landing pages of emailed
//! links, for deployments without their own front end.
//!
//! Plain HTML forms that work without JavaScript, no external assets, and
//! headers that keep the token in the URL from leaking: `Referrer-Policy:
//! no-referrer` (E5), a strict CSP, `Cache-Control: no-store`. Every value
//! shown is HTML-escaped.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;\
padding:0 1rem;color:#222}button{font-size:1rem;padding:.5rem 1.2rem}\
input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0 1rem}\
.error{color:#a00}.muted{color:#666;font-size:.9rem}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    crate::mail::templates::push_html_escaped(&mut out, text);
    out
}

/// A page with the protective headers; `body` must already be escaped.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The confirm-email landing page: a button that POSTs the token (a GET
/// never consumes it: mail scanners pre-fetch links).
pub fn confirm_form(token: &str) -> Response {
    let body = format!(
        "<p>Press the button to confirm your email address.</p>\
         <form method=\"post\" action=\"/v1/auth/confirm-email\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button type=\"submit\">Confirm my email address</button></form>",
        escape(token)
    );
    page(StatusCode::OK, "Confirm your email address", &body)
}

/// The new-password form of a reset link, with the rules and, after a
/// failed attempt, the server's message.
pub fn reset_form(token: &str, min: usize, max: usize, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{error}<form method=\"post\" action=\"/v1/auth/password/reset\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <label for=\"password\">New password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         minlength=\"{min}\" maxlength=\"{max}\" required autofocus>\
         <p class=\"muted\">Between {min} and {max} characters. Any characters are fine; \
         very common passwords and your email address are refused.</p>\
         <button type=\"submit\">Set new password</button></form>",
        token = escape(token),
    );
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(status, "Choose a new password", &body)
}

/// A one-line outcome page.
pub fn message(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, title, &format!("<p>{}</p>", escape(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn pages_carry_the_protective_headers() {
        let res = reset_form("t\"><script>", 12, 256, Some("<b>bad</b>"));
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.headers()[header::REFERRER_POLICY], "no-referrer");
        assert!(res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    }
}
