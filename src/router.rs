//! The layers every request passes through; the routes themselves are
//! declared beside their handlers and listed in [`crate::http`].
//!
//! Layers, outermost first: request id (set, then propagated to the
//! response), a tracing span per request, CORS, problem titles in the
//! client's language (`http::error::localise_title`), a timeout, the
//! metrics recorder, `Cache-Control: no-store` on API answers, then the routes.
//! The body limit is enforced by the JSON extractor so that it answers
//! problem+json 413 like every other error.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::{self, ops, swagger};
use crate::{metrics, telemetry};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

/// Answers 503 `overloaded` (problem+json, `Retry-After: 1`) when a request
/// is not done within `server.request_timeout`. The handler's future is
/// dropped; a write it had begun is either committed or rolled back by
/// SQLite, and was never acknowledged.
///
/// The import (`http::import`) is exempt: it takes as long as its file, and
/// times out on a stalled body instead.
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if request.uri().path() == http::import::IMPORT_PATH {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Overloaded(1).into_response(),
    }
}

/// The complete router for `state`.
pub fn router(state: AppState) -> Router {
    let (ops, _) = http::ops().split_for_parts();
    let (api, _) = http::api().split_for_parts();
    // Token answers must never sit in a cache (RFC 6749 §5.1).
    let api = api.layer(SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    let timeout = state.config.server.request_timeout;
    ops.merge(api)
        // The branding logo, the client library, the console and the
        // account center: outside the document.
        .merge(http::pages().into_router())
        .merge(swagger::router(state.config.server.docs))
        .fallback(ops::not_found)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(timeout, deadline))
        .layer(axum::middleware::from_fn_with_state(
            state.catalogues.clone(),
            http::error::localise_title,
        ))
        .layer(cors(&state.config.server.cors_origins))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                .on_response(telemetry::on_response),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_past_its_deadline_gets_a_problem_503() {
        let slow = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Duration::from_millis(20),
                deadline,
            ));
        let request = Request::builder()
            .uri("/slow")
            .body(axum::body::Body::empty());
        let response = slow.oneshot(request.unwrap()).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}
