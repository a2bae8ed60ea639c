//! `GET /sdk/toktok.js` and `GET /sdk/toktok.d.ts`: the client library
//! (`clients/js/`), built into the binary, so an app loads it from the
//! toktok it talks to:
//!
//! ```html
//! <script type="module" integrity="sha384-…" crossorigin="anonymous">
//!   import { createClient } from "https://auth.example.com/sdk/toktok.js";
//! </script>
//! ```
//!
//! The file changes only with toktok's version, so it is cached for a
//! week and revalidated by its ETag (its SHA-384, the same value as the
//! `integrity` attribute: clients/js/README.md). Any origin may load it
//! (`Access-Control-Allow-Origin: *`; it holds no secret), which module
//! scripts and subresource integrity need across origins.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

/// The library as the repository holds it.
pub const SCRIPT: &str = include_str!("../../clients/js/toktok.js");
/// Its TypeScript declarations.
pub const TYPES: &str = include_str!("../../clients/js/toktok.d.ts");

/// `sha384-<base64>` of [`SCRIPT`]: its `integrity` value and ETag.
pub fn integrity() -> &'static str {
    static VALUE: OnceLock<String> = OnceLock::new();
    VALUE.get_or_init(|| {
        let digest = ring::digest::digest(&ring::digest::SHA384, SCRIPT.as_bytes());
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    })
}

/// The module.
pub async fn script(headers: HeaderMap) -> Response {
    serve(
        &headers,
        SCRIPT,
        "text/javascript; charset=utf-8",
        integrity(),
    )
}

/// Its declarations.
pub async fn types(headers: HeaderMap) -> Response {
    static TAG: OnceLock<String> = OnceLock::new();
    let tag = TAG.get_or_init(|| crate::domain::digest::sha256_hex(TYPES));
    serve(
        &headers,
        TYPES,
        "application/typescript; charset=utf-8",
        tag,
    )
}

fn serve(
    request: &HeaderMap,
    body: &'static str,
    content_type: &'static str,
    tag: &str,
) -> Response {
    let etag = format!("\"{tag}\"");
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=604800"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}
