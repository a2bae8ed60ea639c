//! `GET /branding/logo`: the `[branding] logo` file, read at start
//! (`app::Logo`). The pages show it from their own origin, so they load
//! nothing from anywhere else.
//!
//! An SVG can hold script; served from toktok's origin and opened on its
//! own, it would run there. So the answer carries a CSP with `sandbox` and
//! no script source, and `nosniff`: shown by `<img>` (where SVG never runs
//! script) or opened directly, it stays a picture.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::ApiError;

/// The handler. A static asset, not an API operation: it is routed beside
/// the pages (`crate::router`), outside the OpenAPI document, whose
/// generated clients have no use for an image.
pub async fn logo(State(state): State<AppState>) -> Response {
    let Some(logo) = state.logo.as_ref() else {
        return ApiError::NotFound.into_response();
    };
    let mut response = logo.bytes.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(logo.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
