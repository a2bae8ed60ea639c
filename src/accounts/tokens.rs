//! Issuing access and refresh tokens, and the refresh-token chain.
//!
//! A refresh token's `jti` is its secret; the store keeps only its SHA-256.
//! Each successor's `jti` is `HMAC(chain key, predecessor's jti)`, and its
//! `iat` is the rotation time, so presenting the predecessor again inside the
//! grace window re-creates exactly the same successor: a client that lost a
//! response is not logged out, and no raw token is ever stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use crate::app::AppState;
use crate::auth::jwt::{Claims, JwtError, TokenKind};
use crate::error::ApiError;
use crate::store::{SessionRecord, UserRecord};

use super::UserView;

/// The body of login, refresh and register answers (API.md "Token responses").
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub user: UserView,
}

/// A fresh random refresh `jti`: 256 bits from the OS CSPRNG.
pub fn random_jti() -> Result<String, ApiError> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the OS random number generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The `jti` of the refresh token that replaces the one with `jti`.
pub fn successor_jti(state: &AppState, jti: &str) -> String {
    let tag = ring::hmac::sign(&state.refresh_chain_key, jti.as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

fn jwt_failure(e: JwtError) -> ApiError {
    match e {
        JwtError::Key(cause) => ApiError::Internal(format!("signing failed: {cause}")),
        _ => ApiError::Internal("signing failed".into()),
    }
}

pub fn access_token(
    state: &AppState,
    user: &UserRecord,
    sid: &str,
    now: i64,
) -> Result<String, ApiError> {
    let jwt = &state.config.jwt;
    let claims = Claims {
        iss: jwt.issuer.clone(),
        aud: jwt.audience.clone(),
        sub: user.id.clone(),
        exp: now + jwt.access_ttl.as_secs() as i64,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::now_v7().to_string(),
        sid: Some(sid.to_owned()),
        typ: TokenKind::Access,
        email: Some(user.email.clone()),
        email_verified: Some(user.email_confirmed_at.is_some()),
        role: Some(user.role.clone()),
    };
    state.keys().sign(&claims).map_err(jwt_failure)
}

/// The refresh token with `jti`, issued at `issued_at`, for `session`.
pub fn refresh_token(
    state: &AppState,
    session: &SessionRecord,
    jti: &str,
    issued_at: i64,
) -> Result<String, ApiError> {
    let jwt = &state.config.jwt;
    let claims = Claims {
        iss: jwt.issuer.clone(),
        aud: jwt.audience.clone(),
        sub: session.user_id.clone(),
        exp: session.expires_at,
        iat: issued_at,
        nbf: issued_at,
        jti: jti.to_owned(),
        sid: Some(session.id.clone()),
        typ: TokenKind::Refresh,
        email: None,
        email_verified: None,
        role: None,
    };
    state.keys().sign(&claims).map_err(jwt_failure)
}

/// Builds the token answer for a live session whose current refresh token
/// has `refresh_jti` and was issued at `session.rotated_at`.
pub fn token_response(
    state: &AppState,
    user: &UserRecord,
    session: &SessionRecord,
    refresh_jti: &str,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    Ok(TokenResponse {
        access_token: access_token(state, user, &session.id, now)?,
        token_type: "Bearer",
        expires_in: state.config.jwt.access_ttl.as_secs(),
        refresh_token: refresh_token(state, session, refresh_jti, session.rotated_at)?,
        refresh_expires_in: (session.expires_at - now).max(0) as u64,
        user: UserView::from(user),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_jtis_differ_and_carry_256_bits() {
        let a = random_jti().unwrap();
        let b = random_jti().unwrap();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(a).unwrap().len(), 32);
    }
}
