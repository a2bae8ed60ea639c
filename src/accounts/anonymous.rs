//! Anonymous tokens: a client's first credential, before any account.
//!
//! With `[anonymous] enabled`, `POST /v1/auth/anonymous` hands out a short
//! JWT of kind `anonymous` (`sub` = `anon:<uuid>`, role `anonymous`, no
//! session, no refresh token). With `required = true`, register, login,
//! password-forgot and confirmation-resend need one ([`gate`]). An
//! anonymous token is never accepted where a user's token is needed: the
//! kinds differ by `typ` (J3), and its `aud` is `<audience>:anonymous`
//! (docs/API.md "Token shapes, v1.1"), so a service that checks `aud` refuses it
//! too. A user who registers while holding one keeps
//! its id in `app_metadata.anonymous_id`, so an app can carry over what the
//! visitor did before signing up.

use serde::Serialize;
use serde_json::Value;

use super::tokens::SigningFailed;
use super::{validation, RequestMeta};
use crate::app::AppState;
use crate::auth::jwt::{anonymous_audience, Claims, TokenKind};
use crate::error::ApiError;
use crate::ratelimit::Bucket;

/// Prefix of an anonymous token's subject.
pub const SUBJECT_PREFIX: &str = "anon:";

/// The answer of `POST /v1/auth/anonymous`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnonymousToken {
    /// A JWT of kind `anonymous` (`aud` = `<audience>:anonymous`, header
    /// `typ: JWT`): not an access token, refused where a user is needed.
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// The RSA key to encrypt credentials with, when RSA is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub public_key: Option<Value>,
}

pub async fn issue(state: &AppState, meta: &RequestMeta) -> Result<AnonymousToken, ApiError> {
    let config = &state.config;
    if !config.anonymous.enabled {
        return Err(ApiError::FeatureDisabled);
    }
    meta.limit(state, Bucket::Anonymous).await?;
    let now = state.now();
    let ttl = config.anonymous.ttl.as_secs();
    let claims = Claims {
        iss: config.jwt.issuer.clone(),
        aud: anonymous_audience(&config.jwt.audience),
        sub: format!("{SUBJECT_PREFIX}{}", uuid::Uuid::new_v4()),
        exp: now + ttl as i64,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::now_v7().to_string(),
        client_id: None,
        sid: None,
        typ: TokenKind::Anonymous,
        email: None,
        email_verified: None,
        role: Some("anonymous".to_owned()),
        auth_time: None,
        amr: None,
        aal: None,
        scope: None,
    };
    let access_token = state
        .keys()
        .sign(&claims)
        .map_err(SigningFailed::Anonymous)?;
    Ok(AnonymousToken {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        public_key: state.rsa.as_ref().map(|rsa| rsa.public_key()),
    })
}

/// The anonymous visitor behind a request to an (A) endpoint: `Some(id)`
/// when it carries a valid anonymous token. With `anonymous.required`, no
/// or a bad token is 401 `anonymous_token_required`, and a user's access
/// token is 403 `already_authenticated`.
pub fn gate(state: &AppState, bearer: Option<&str>) -> Result<Option<String>, ApiError> {
    let required = state.config.anonymous.enabled && state.config.anonymous.required;
    let Some(token) = bearer else {
        return if required {
            Err(ApiError::AnonymousTokenRequired)
        } else {
            Ok(None)
        };
    };
    let keys = state.keys();
    let now = state.now();
    match keys.verify(token, &validation(state, TokenKind::Anonymous), now) {
        Ok(claims) => Ok(claims.sub.strip_prefix(SUBJECT_PREFIX).map(str::to_owned)),
        Err(_) if required => {
            let is_user = keys
                .verify(token, &validation(state, TokenKind::Access), now)
                .is_ok();
            if is_user {
                Err(ApiError::AlreadyAuthenticated)
            } else {
                Err(ApiError::AnonymousTokenRequired)
            }
        }
        Err(_) => Ok(None),
    }
}
