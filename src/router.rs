//! The routes and the layers every request passes through.
//!
//! Layers, outermost first: request id (set, then propagated to the
//! response), a tracing span per request, CORS, a timeout, the metrics
//! recorder, `Cache-Control: no-store` on API answers, then the routes.
//! The body limit is enforced by the JSON extractor so that it answers
//! problem+json 413 like every other error.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::{admin, auth, challenges, demo, email, openapi, ops, users};
use crate::{metrics, telemetry};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[cfg(any(test, feature = "testing"))]
/// Every route of API.md that exists so far, as (method, path) pairs: the
/// OpenAPI document and the tests are checked against this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/v1/settings"),
    ("POST", "/v1/auth/anonymous"),
    ("GET", "/v1/auth/public-key"),
    ("GET", "/demo"),
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("POST", "/v1/auth/logout-all"),
    ("GET", "/v1/users/me"),
    ("PATCH", "/v1/users/me"),
    ("DELETE", "/v1/users/me"),
    ("POST", "/v1/users/me/password"),
    ("GET", "/v1/users/me/sessions"),
    ("DELETE", "/v1/users/me/sessions/{id}"),
    ("POST", "/v1/users/me/email"),
    ("GET", "/v1/auth/confirm-email"),
    ("POST", "/v1/auth/confirm-email"),
    ("POST", "/v1/auth/confirm-email/resend"),
    ("POST", "/v1/auth/password/forgot"),
    ("GET", "/v1/auth/password/reset"),
    ("POST", "/v1/auth/password/reset"),
    ("POST", "/v1/challenges"),
    ("POST", "/v1/challenges/verify"),
    ("POST", "/v1/challenges/info"),
    ("POST", "/v1/challenges/regenerate"),
    ("POST", "/v1/challenges/remove"),
    ("GET", "/v1/admin/users"),
    ("POST", "/v1/admin/users"),
    ("GET", "/v1/admin/users/{id}"),
    ("PATCH", "/v1/admin/users/{id}"),
    ("DELETE", "/v1/admin/users/{id}"),
    ("POST", "/v1/admin/users/{id}/logout"),
    ("GET", "/v1/admin/audit"),
];

fn api(state: AppState) -> Router {
    Router::new()
        .route("/v1/settings", get(ops::settings))
        .route("/v1/auth/anonymous", post(auth::anonymous))
        .route("/v1/auth/public-key", get(auth::public_key))
        .route("/v1/auth/register", post(auth::register))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/auth/logout-all", post(auth::logout_all))
        .route(
            "/v1/users/me",
            get(users::me)
                .patch(users::patch_me)
                .delete(users::delete_me),
        )
        .route("/v1/users/me/password", post(users::change_password))
        .route("/v1/users/me/sessions", get(users::sessions))
        .route("/v1/users/me/sessions/{id}", delete(users::end_session))
        .route("/v1/users/me/email", post(email::change_email))
        .route(
            "/v1/auth/confirm-email",
            get(email::confirm_page).post(email::confirm),
        )
        .route("/v1/auth/confirm-email/resend", post(email::resend))
        .route("/v1/auth/password/forgot", post(email::forgot))
        .route(
            "/v1/auth/password/reset",
            get(email::reset_page).post(email::reset),
        )
        .route("/v1/challenges", post(challenges::create))
        .route("/v1/challenges/verify", post(challenges::verify))
        .route("/v1/challenges/info", post(challenges::info))
        .route("/v1/challenges/regenerate", post(challenges::regenerate))
        .route("/v1/challenges/remove", post(challenges::remove))
        .route(
            "/v1/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/v1/admin/users/{id}",
            get(admin::get_user)
                .patch(admin::patch_user)
                .delete(admin::delete_user),
        )
        .route("/v1/admin/users/{id}/logout", post(admin::logout_user))
        .route("/v1/admin/audit", get(admin::audit))
        // Token answers must never sit in a cache (RFC 6749 §5.1).
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

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
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Overloaded(1).into_response(),
    }
}

/// The complete router for `state`.
pub fn router(state: AppState) -> Router {
    let ops = Router::new()
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/demo", get(demo::page))
        .route(openapi::DOCUMENT_PATH, get(openapi::serve))
        .merge(openapi::swagger_ui(state.config.server.docs))
        .with_state(state.clone());
    let timeout = state.config.server.request_timeout;
    ops.merge(api(state.clone()))
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(timeout, deadline))
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
