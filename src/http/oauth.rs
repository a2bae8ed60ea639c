//! The OpenID Connect provider's HTTP side (issue 19, docs/oidc.md): the
//! discovery documents so far; the rules are in `crate::oidc`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::app::AppState;
use crate::error::ApiError;
use crate::oidc::discovery;

/// 404 `feature_disabled` unless `[oidc] enabled`.
fn require_oidc(state: &AppState) -> Result<(), ApiError> {
    if state.config.oidc.enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

/// The discovery body: ID tokens are RS256 (every provider must offer
/// it), or toktok's own algorithm when a client asks for that.
fn discovery_document(state: &AppState) -> Response {
    let own = state.keys().algorithm();
    let mut algs = Vec::new();
    if state.rs256_keys().is_some() {
        algs.push("RS256");
    }
    if own != crate::auth::jwt::Algorithm::HS256 && !algs.contains(&own.as_str()) {
        algs.push(own.as_str());
    }
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(discovery::document(&state.config.server.public_url, &algs)),
    )
        .into_response()
}

#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oidc",
    summary = "OpenID Connect Discovery 1.0",
    responses(
        (status = 200, description = "The provider's metadata.", body = Object),
        (status = 404, description = "`feature_disabled`"),
    ))]
pub async fn openid_configuration(State(state): State<AppState>) -> Result<Response, ApiError> {
    require_oidc(&state)?;
    Ok(discovery_document(&state))
}

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oidc",
    summary = "OAuth 2.0 Authorization Server Metadata (RFC 8414)",
    responses(
        (status = 200, description = "The same metadata as the OpenID document.", body = Object),
        (status = 404, description = "`feature_disabled`"),
    ))]
pub async fn authorization_server(State(state): State<AppState>) -> Result<Response, ApiError> {
    require_oidc(&state)?;
    Ok(discovery_document(&state))
}
