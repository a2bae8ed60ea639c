//! Issuing access and refresh tokens, and the refresh-token chain.
//!
//! Access tokens are JWTs in RFC 9068's shape (header `typ: at+jwt`,
//! `client_id`, plus `auth_time`, `amr` and `aal` from the session).
//!
//! Refresh tokens are opaque (docs/API.md "Token shapes, v1.1"): `rt_` and 43
//! base64url characters, a 256-bit secret. They are not JWTs, so no
//! service that trusts the JWKS can mistake one for an access token. The
//! store keeps only the SHA-256 of the secret. Each successor's secret is
//! `HMAC(chain key, predecessor's secret)`, so presenting the predecessor
//! again inside the grace window re-creates exactly the same successor: a
//! client that lost a response is not logged out, and no raw token is ever
//! stored. Refresh tokens issued as JWTs before v1.1 (their `jti` was the
//! secret, and is hashed the same way) keep working until they expire:
//! [`presented_refresh`] reads both, and their successors are opaque.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use crate::app::AppState;
use crate::auth::jwt::{Claims, JwtError, TokenKind, FIRST_PARTY_CLIENT_ID};
use crate::error::ApiError;
use crate::store::{SessionKey, SessionRecord, UserRecord};

use super::{validation, UserView};

/// What every refresh token starts with.
pub const REFRESH_PREFIX: &str = "rt_";

/// Length of the secret after [`REFRESH_PREFIX`]: 256 bits in base64url.
pub const REFRESH_SECRET_LEN: usize = 43;

/// `amr` of a session started with a password (RFC 8176).
pub const AMR_PASSWORD: &str = "pwd";

/// The body of login, refresh and register answers (docs/API.md "Token responses").
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// A JWT (header `typ: at+jwt`, RFC 9068 claims) for `Authorization:
    /// Bearer`; verify it with the JWKS, checking `typ`, `iss`, `aud`, `exp`.
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// Opaque (`rt_…`), single use: send it to `/v1/auth/refresh` only.
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub user: UserView,
}

/// A fresh random refresh secret: 256 bits from the OS CSPRNG.
pub fn random_jti() -> Result<String, ApiError> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the OS random number generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The secret of the refresh token that replaces the one with `secret`.
pub fn successor_jti(state: &AppState, secret: &str) -> String {
    let tag = ring::hmac::sign(&state.refresh_chain_key, secret.as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// The refresh token with this secret.
pub fn refresh_token(secret: &str) -> String {
    format!("{REFRESH_PREFIX}{secret}")
}

/// A refresh token as presented: its secret, how it names its session, and
/// (pre-1.1 JWTs only) the user it was issued to.
#[derive(Debug)]
pub struct PresentedRefresh {
    pub secret: String,
    pub key: SessionKey,
    pub subject: Option<String>,
}

/// Reads a presented refresh token: `rt_` + 43 canonical base64url
/// characters, or a pre-1.1 JWT refresh token (checked like before: its
/// signature, issuer, audience, kind and expiry). Anything else is
/// `invalid_token`.
pub fn presented_refresh(state: &AppState, token: &str) -> Result<PresentedRefresh, ApiError> {
    if let Some(secret) = token.strip_prefix(REFRESH_PREFIX) {
        let canonical = secret.len() == REFRESH_SECRET_LEN
            && URL_SAFE_NO_PAD
                .decode(secret)
                .is_ok_and(|bytes| bytes.len() == 32);
        if !canonical {
            return Err(ApiError::InvalidToken);
        }
        return Ok(PresentedRefresh {
            key: SessionKey::RefreshHash(crate::auth::sha256_hex(secret)),
            secret: secret.to_owned(),
            subject: None,
        });
    }
    let claims = state
        .keys()
        .verify(token, &validation(state, TokenKind::Refresh), state.now())?;
    let sid = claims.sid.ok_or(ApiError::InvalidToken)?;
    Ok(PresentedRefresh {
        secret: claims.jti,
        key: SessionKey::Id(sid),
        subject: Some(claims.sub),
    })
}

/// A token toktok issues could not be signed: a key fault, never the
/// client's. `crate::http::error` answers 500 and logs the cause; the
/// variant says which token, for the log.
#[derive(Debug)]
pub enum SigningFailed {
    /// An access token of a session.
    Session(JwtError),
    /// An anonymous token ([`super::anonymous`]).
    Anonymous(JwtError),
}

/// An access token for `user` in `session`, issued at `now`, with the
/// extra claims of `[claims]` and the access-token hook (`super::claims`).
pub async fn access_token(
    state: &AppState,
    user: &UserRecord,
    session: &SessionRecord,
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
        client_id: Some(FIRST_PARTY_CLIENT_ID.to_owned()),
        sid: Some(session.id.clone()),
        typ: TokenKind::Access,
        email: Some(user.email.clone()),
        email_verified: Some(user.email_confirmed_at.is_some()),
        role: Some(user.role.clone()),
        auth_time: Some(session.auth_time),
        amr: Some(session.amr.clone()),
        aal: Some(session.aal),
        scope: None,
    };
    if !super::claims::any(state) {
        return Ok(state.keys().sign(&claims).map_err(SigningFailed::Session)?);
    }
    let mut map = claims_map(&claims)?;
    super::claims::extend(
        state,
        user,
        Some(session),
        FIRST_PARTY_CLIENT_ID,
        super::claims::TokenFor::Access,
        &mut map,
    )
    .await?;
    Ok(state
        .keys()
        .sign_access_json(&serde_json::Value::Object(map))
        .map_err(SigningFailed::Session)?)
}

/// `claims` as a JSON object, to add claims to.
pub fn claims_map(claims: &Claims) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::to_value(claims) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(ApiError::Internal("claims are not an object".into())),
    }
}

/// Builds the token answer for a live session whose current refresh token
/// has the secret `refresh_jti`.
pub async fn token_response(
    state: &AppState,
    user: &UserRecord,
    session: &SessionRecord,
    refresh_jti: &str,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let access = access_token(state, user, session, now).await?;
    Ok(answer(state, user, session, access, refresh_jti, now))
}

/// The token answer around an access token already signed.
pub fn answer(
    state: &AppState,
    user: &UserRecord,
    session: &SessionRecord,
    access_token: String,
    refresh_jti: &str,
    now: i64,
) -> TokenResponse {
    TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.config.jwt.access_ttl.as_secs(),
        refresh_token: refresh_token(refresh_jti),
        refresh_expires_in: (session.expires_at - now).max(0) as u64,
        user: UserView::from(user),
    }
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
