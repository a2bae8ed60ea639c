//! Operational routes: health, readiness, metrics, JWKS and public settings.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::config::EmailMode;
use crate::error::ApiError;

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn ready(State(state): State<AppState>) -> Response {
    if state.store.ping().await {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": "the database does not answer" })),
        )
            .into_response()
    }
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    if !state.config.metrics.enabled {
        return Err(ApiError::FeatureDisabled);
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response())
}

/// Cacheable for `jwt.key_reload`: a rotated key is in the JWKS for longer
/// than that plus the verifiers' refetch cooldown before it signs, so a
/// verifier has it in time (`crate::auth::rotation::publish_delay`).
pub async fn jwks(State(state): State<AppState>) -> Response {
    let max_age = crate::auth::rotation::jwks_max_age(state.config.jwt.key_reload);
    (
        [(header::CACHE_CONTROL, format!("public, max-age={max_age}"))],
        Json(state.keys().jwks()),
    )
        .into_response()
}

pub async fn settings(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "anonymous": { "enabled": c.anonymous.enabled, "required": c.anonymous.required },
        "rsa": { "enabled": c.rsa.enabled, "required": c.rsa.required },
        "email": {
            "enabled": c.email.mode != EmailMode::Off,
            "confirmation_required": c.email.confirmation_required,
        },
        "password": { "min_length": c.password.min_length, "max_length": c.password.max_length },
        "registration_open": c.accounts.registration_open,
    }))
}

/// Unknown paths: a problem+json 404 like every other error.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
