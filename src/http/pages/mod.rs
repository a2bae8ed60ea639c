//! The HTML pages toktok serves itself: the landing pages of emailed links
//! and (issue 19) the hosted sign-in, for deployments without their own
//! front end.
//!
//! Pages are template files (`templates/*.html`, compiled into the binary)
//! rendered by minijinja with HTML auto-escaping and strict undefined
//! variables: a value is never pasted into markup unescaped, and a template
//! naming a value its handler did not pass fails its test instead of
//! rendering blank. Every page extends `base.html`, which applies
//! `[branding]`.
//!
//! Plain HTML forms that work without JavaScript, no external assets (the
//! branding logo aside), and headers that keep a token in the URL from
//! leaking and the page from being framed: `Referrer-Policy: no-referrer`
//! (E5), a strict CSP with `frame-ancestors 'none'`, `X-Frame-Options:
//! DENY`, `Cache-Control: no-store`.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use minijinja::{context, AutoEscape, Environment, UndefinedBehavior, Value};

use crate::config::BrandingConfig;

/// The templates, by name; each is a file next to this one.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("message.html", include_str!("templates/message.html")),
    (
        "confirm_email.html",
        include_str!("templates/confirm_email.html"),
    ),
    (
        "reset_password.html",
        include_str!("templates/reset_password.html"),
    ),
    (
        "email_code_link.html",
        include_str!("templates/email_code_link.html"),
    ),
    // The hosted sign-in of the OpenID provider (issue 19, `http::hosted`).
    ("login.html", include_str!("templates/login.html")),
    ("passkey.html", include_str!("templates/passkey.html")),
    ("email_code.html", include_str!("templates/email_code.html")),
    ("register.html", include_str!("templates/register.html")),
    ("forgot.html", include_str!("templates/forgot.html")),
    (
        "second_factor.html",
        include_str!("templates/second_factor.html"),
    ),
    ("consent.html", include_str!("templates/consent.html")),
    ("logout.html", include_str!("templates/logout.html")),
];

/// The parsed templates, built on first use.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for (name, source) in TEMPLATES {
            // The templates are part of the binary; `templates_parse` below
            // proves each one parses.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a page template does not parse");
            }
        }
        env
    })
}

/// The page's content security policy: nothing but inline style, forms to
/// this origin, no framing; the branding logo's origin for images; and
/// the one inline script of a page that has one, by its hash.
fn csp(brand: &BrandingConfig, script: Option<&str>) -> String {
    let img = url::Url::parse(&brand.logo)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|origin| origin != "null")
        .map(|origin| format!("img-src {origin}; "))
        .unwrap_or_default();
    let script = script
        .map(|js| {
            let digest = ring::digest::digest(&ring::digest::SHA256, js.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
            format!("script-src 'sha256-{b64}'; ")
        })
        .unwrap_or_default();
    format!(
        "default-src 'none'; {img}{script}style-src 'unsafe-inline'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Renders `template` with `ctx` (plus `brand`, `lang` and `title`) into a
/// response with the protective headers. A render failure (a bug: every
/// template is rendered by the tests) is a plain 500 page.
pub fn render(
    brand: &BrandingConfig,
    status: StatusCode,
    template: &str,
    title: &str,
    ctx: Value,
) -> Response {
    render_with_script(brand, status, template, title, ctx, None)
}

/// [`render`] for a page with one inline script (given to the template as
/// `script`, and allowed by the CSP by its SHA-256 alone).
pub fn render_with_script(
    brand: &BrandingConfig,
    status: StatusCode,
    template: &str,
    title: &str,
    ctx: Value,
    script: Option<&'static str>,
) -> Response {
    let brand_ctx = context! {
        name => &brand.name,
        logo => &brand.logo,
        primary_color => &brand.primary_color,
    };
    let full =
        context! { brand => brand_ctx, lang => "en", title => title, script => script, ..ctx };
    let rendered = environment()
        .get_template(template)
        .and_then(|t| t.render(full));
    let (status, html) = match rendered {
        Ok(html) => (status, html),
        Err(e) => {
            tracing::error!(template, error = %e, "a page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>This page could not be shown.</p>"
                    .to_owned(),
            )
        }
    };
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
    if let Ok(value) = HeaderValue::from_str(&csp(brand, script)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
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
pub fn confirm_form(brand: &BrandingConfig, token: &str) -> Response {
    render(
        brand,
        StatusCode::OK,
        "confirm_email.html",
        "Confirm your email address",
        context! { token },
    )
}

/// The new-password form of a reset link, with the rules and, after a
/// failed attempt, the server's message (and 422).
pub fn reset_form(
    brand: &BrandingConfig,
    token: &str,
    min: usize,
    max: usize,
    error: Option<&str>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        brand,
        status,
        "reset_password.html",
        "Choose a new password",
        context! { token, min, max, error },
    )
}

/// The email-code link's page: a button that POSTs the token.
pub fn email_code_form(brand: &BrandingConfig, token: &str) -> Response {
    render(
        brand,
        StatusCode::OK,
        "email_code_link.html",
        "Sign in",
        context! { token },
    )
}

/// A one-line outcome page.
pub fn message(brand: &BrandingConfig, status: StatusCode, title: &str, text: &str) -> Response {
    render(brand, status, "message.html", title, context! { text })
}

#[cfg(test)]
mod tests;
