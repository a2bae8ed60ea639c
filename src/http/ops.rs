//! Operational routes: health, readiness, metrics, JWKS and public settings.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::config::EmailMode;
use crate::error::ApiError;

/// The answer of `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
    version: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadyStatus {
    Ready,
    Unavailable,
}

#[utoipa::path(get, path = "/health", tag = "ops",
    summary = "Liveness: 200 while the process runs",
    responses((status = 200, description = "Running.", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The answer of `GET /ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    status: ReadyStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reason: Option<&'static str>,
}

#[utoipa::path(get, path = "/ready", tag = "ops",
    summary = "Readiness: 200 when the database answers, else 503",
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "The database does not answer.", body = Readiness),
    ))]
pub async fn ready(State(state): State<AppState>) -> Response {
    if state.store.ping().await {
        Json(Readiness {
            status: ReadyStatus::Ready,
            reason: None,
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness {
                status: ReadyStatus::Unavailable,
                reason: Some("the database does not answer"),
            }),
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

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "ops",
    summary = "Public signing keys (empty for HS256)",
    responses((status = 200, description = "The key set.", body = super::openapi::Jwks)))]
// Cacheable for `jwt.key_reload`: a rotated key is in the JWKS for longer
// than that plus the verifiers' refetch cooldown before it signs, so a
// verifier has it in time (`crate::auth::rotation::publish_delay`).
pub async fn jwks(State(state): State<AppState>) -> Response {
    let max_age = crate::auth::rotation::jwks_max_age(state.config.jwt.key_reload);
    (
        [(header::CACHE_CONTROL, format!("public, max-age={max_age}"))],
        Json(state.jwks()),
    )
        .into_response()
}

/// The answer of `GET /v1/settings`: what a client adapts to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    anonymous: Switch,
    rsa: Switch,
    email: EmailSettings,
    password: PasswordSettings,
    registration_open: bool,
    totp: Enabled,
    passkeys: PasskeySettings,
    email_code: Enabled,
    mfa: MfaSettings,
    /// toktok as an OpenID provider (an addition to the contract's list).
    oidc: Enabled,
}

/// A feature that can be on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enabled {
    enabled: bool,
}

/// Passkeys (WebAuthn): on, and the relying party id they are bound to.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeySettings {
    enabled: bool,
    /// `navigator.credentials` ceremonies must run on this host or a
    /// subdomain of it.
    #[schema(example = "auth.example.com")]
    rp_id: String,
}

/// Second factors.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaSettings {
    /// Every user must enrol a second factor (`mfa.required`; users with a
    /// role in `mfa.required_roles` must too, whatever this says).
    required: bool,
}

/// A feature that can be on, and required.
#[derive(Debug, Serialize, ToSchema)]
pub struct Switch {
    enabled: bool,
    required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailSettings {
    enabled: bool,
    confirmation_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordSettings {
    min_length: usize,
    max_length: usize,
}

#[utoipa::path(get, path = "/v1/settings", tag = "discovery",
    summary = "Public settings clients adapt to",
    responses((status = 200, description = "Settings.", body = Settings)))]
pub async fn settings(State(state): State<AppState>) -> Json<Settings> {
    let c = &state.config;
    Json(Settings {
        anonymous: Switch {
            enabled: c.anonymous.enabled,
            required: c.anonymous.required,
        },
        rsa: Switch {
            enabled: c.rsa.enabled,
            required: c.rsa.required,
        },
        email: EmailSettings {
            enabled: c.email.mode != EmailMode::Off,
            confirmation_required: c.email.confirmation_required,
        },
        password: PasswordSettings {
            min_length: c.password.min_length,
            max_length: c.password.max_length,
        },
        registration_open: c.accounts.registration_open,
        totp: Enabled {
            enabled: c.totp.enabled,
        },
        passkeys: PasskeySettings {
            enabled: c.webauthn.enabled,
            rp_id: c.webauthn.rp_id(c),
        },
        email_code: Enabled {
            enabled: c.email_code.enabled,
        },
        mfa: MfaSettings {
            required: c.mfa.required,
        },
        oidc: Enabled {
            enabled: c.oidc.enabled,
        },
    })
}

/// Unknown paths: a problem+json 404 like every other error.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
