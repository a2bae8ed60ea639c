//! `GET /docs`: Swagger UI, served from the binary.
//!
//! The four files the page loads come from the `utoipa-swagger-ui-vendored`
//! crate's zip, picked and gzipped by `build.rs`; the page and its
//! initializer are written here. They go out gzipped to every client that
//! accepts gzip (every browser) and are inflated for the others. Until issue
//! 25 the `utoipa-swagger-ui` crate served them, embedding the zip's whole
//! `dist/` folder (source maps and two more bundles): 12 MiB of the binary
//! against 0.6 MiB now.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use super::openapi::{DOCS_CSP, DOCS_PATH, DOCUMENT_PATH};
use crate::error::ApiError;

const BUNDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui-bundle.js.gz"));
const PRESET: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/swagger-ui-standalone-preset.js.gz"
));
const CSS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui.css.gz"));
const ICON: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/favicon-32x32.png.gz"));

const JS: &str = "text/javascript; charset=utf-8";

/// The page: Swagger UI's own `index.html`, its stylesheet inlined (the CSP
/// allows inline styles, not inline scripts).
const INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>toktok API — Swagger UI</title>
<link rel="stylesheet" href="./swagger-ui.css">
<link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
<style>html { box-sizing: border-box; overflow-y: scroll; } *, *:before, *:after { box-sizing: inherit; } body { margin: 0; background: #fafafa; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js" charset="utf-8"></script>
<script src="./swagger-ui-standalone-preset.js" charset="utf-8"></script>
<script src="./swagger-initializer.js" charset="utf-8"></script>
</body>
</html>
"#;

/// The configuration: the document, "Try it out" on (issue 17), and no
/// credentials kept in localStorage (TT-12).
fn initializer() -> String {
    format!(
        r##"window.onload = function () {{
  window.ui = SwaggerUIBundle({{
    "dom_id": "#swagger-ui",
    "url": "{DOCUMENT_PATH}",
    "deepLinking": true,
    "tryItOutEnabled": true,
    "persistAuthorization": false,
    "layout": "StandaloneLayout",
    "presets": [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    "plugins": [SwaggerUIBundle.plugins.DownloadUrl]
  }});
}};
"##
    )
}

/// The Swagger UI router (`/docs`, `/docs/`, `/docs/{file}`) pointing at
/// [`DOCUMENT_PATH`]; an empty router when `server.docs = false`
/// (`/openapi.json` is served either way: it holds nothing that the
/// binary's `toktok openapi` does not print).
///
/// Its answers carry the protective headers of the link pages (TT-12):
/// `X-Frame-Options: DENY` and [`DOCS_CSP`] against framing, `nosniff`,
/// `no-referrer`.
pub fn router<S: Clone + Send + Sync + 'static>(enabled: bool) -> axum::Router<S> {
    if !enabled {
        return axum::Router::new();
    }
    let router = axum::Router::new()
        .route(
            DOCS_PATH,
            get(|| async { Redirect::to(&format!("{DOCS_PATH}/")) }),
        )
        .route(&format!("{DOCS_PATH}/"), get(|| async { page() }))
        .route(&format!("{DOCS_PATH}/{{file}}"), get(file));
    let headers = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

fn page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response()
}

async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let (gzipped, content_type) = match name.as_str() {
        "index.html" => return page(),
        "swagger-initializer.js" => {
            return ([(header::CONTENT_TYPE, JS)], initializer()).into_response()
        }
        "swagger-ui-bundle.js" => (BUNDLE, JS),
        "swagger-ui-standalone-preset.js" => (PRESET, JS),
        "swagger-ui.css" => (CSS, "text/css; charset=utf-8"),
        "favicon-32x32.png" => (ICON, "image/png"),
        _ => return ApiError::NotFound.into_response(),
    };
    let vary = (header::VARY, "accept-encoding");
    if accepts_gzip(&headers) {
        let encoding = (header::CONTENT_ENCODING, "gzip");
        return (
            [(header::CONTENT_TYPE, content_type), encoding, vary],
            gzipped,
        )
            .into_response();
    }
    match inflate(gzipped) {
        Ok(body) => ([(header::CONTENT_TYPE, content_type), vary], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, file = name, "an embedded Swagger UI file does not inflate");
            ApiError::Internal("an embedded Swagger UI file does not inflate".into())
                .into_response()
        }
    }
}

fn inflate(gzipped: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut body = Vec::with_capacity(gzipped.len() * 4);
    flate2::read::GzDecoder::new(gzipped).read_to_end(&mut body)?;
    Ok(body)
}

/// Whether `Accept-Encoding` names gzip (or `*`) with a non-zero weight.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let weight = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name == "*") && weight > 0.0
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        assert!(accepts_gzip(&with("gzip, deflate, br")));
        assert!(accepts_gzip(&with("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&with("*")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("br, identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn every_embedded_file_inflates() {
        for (gzipped, at_least) in [
            (BUNDLE, 1_000_000),
            (PRESET, 100_000),
            (CSS, 100_000),
            (ICON, 500),
        ] {
            assert!(inflate(gzipped).unwrap().len() > at_least);
        }
    }
}
