//! What a presented token is, for `/oauth/userinfo` (OIDC Core §5.3, RFC
//! 6750), `/oauth/revoke` (RFC 7009) and `/oauth/introspect` (RFC 7662).
//!
//! A client's access token is verified in full against *that* client's
//! audience: the unverified `client_id` claim only picks the client (and
//! so the audience to expect); the signature, `iss`, `typ`, `exp` and
//! `aud` are then checked as for any token, and the claim read again from
//! the verified claims. A token that names its session (`sid`) is alive
//! only while that session is, and is that client's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::token::{client_audience, client_validation, OAuthError};
use crate::accounts::tokens::presented_refresh;
use crate::accounts::RequestMeta;
use crate::app::AppState;
use crate::auth::jwt::{Claims, FIRST_PARTY_CLIENT_ID};
use crate::auth::sha256_hex;
use crate::store::{OAuthClientRow, SessionKey, SessionRecord, UserRecord};

/// Why `/oauth/userinfo` refused.
#[derive(Debug)]
pub enum UserinfoError {
    /// 401 `invalid_token`: missing, forged, expired, revoked, or not a
    /// client's access token of a user.
    InvalidToken,
    /// 403 `insufficient_scope`: no `openid`.
    InsufficientScope,
    Internal(OAuthError),
}

/// The `client_id` claim of a JWT, read **without** verifying it: only to
/// choose which client's audience to verify it against.
fn unverified_client_id(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("client_id")?.as_str().map(str::to_owned)
}

/// A verified access token of an OAuth client, with that client.
async fn client_access(
    state: &AppState,
    token: &str,
) -> Result<Option<(Claims, OAuthClientRow)>, OAuthError> {
    let Some(client_id) = unverified_client_id(token) else {
        return Ok(None);
    };
    if client_id == FIRST_PARTY_CLIENT_ID {
        return Ok(None);
    }
    let Some(client) = state
        .store
        .oauth_client(&client_id)
        .await
        .map_err(OAuthError::store)?
    else {
        return Ok(None);
    };
    let Ok(claims) = state
        .keys()
        .verify(token, &client_validation(state, &client), state.now())
    else {
        return Ok(None);
    };
    if claims.client_id.as_deref() != Some(client.client_id.as_str()) {
        return Ok(None);
    }
    Ok(Some((claims, client)))
}

/// The live session a client's access token names, with its user: only a
/// session of that client and of the token's subject.
async fn token_session(
    state: &AppState,
    claims: &Claims,
) -> Result<Option<(SessionRecord, UserRecord)>, OAuthError> {
    let Some(sid) = &claims.sid else {
        return Ok(None);
    };
    let found = state
        .store
        .live_session(sid, state.now())
        .await
        .map_err(OAuthError::store)?;
    Ok(found.filter(|(session, _)| {
        session.client_id == claims.client_id && session.user_id == claims.sub
    }))
}

/// `/oauth/userinfo`: `sub` and the claims the token's scopes give.
pub async fn userinfo(state: &AppState, token: &str) -> Result<Map<String, Value>, UserinfoError> {
    let internal = UserinfoError::Internal;
    let (claims, _client) = client_access(state, token)
        .await
        .map_err(internal)?
        .ok_or(UserinfoError::InvalidToken)?;
    let (_session, user) = token_session(state, &claims)
        .await
        .map_err(UserinfoError::Internal)?
        .ok_or(UserinfoError::InvalidToken)?;
    let scopes: Vec<String> = claims
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(UserinfoError::InsufficientScope);
    }
    Ok(super::claims::user_claims(&user, &scopes))
}

/// `/oauth/revoke` for `client`: a refresh token or an access token of
/// one of its sessions ends that session. Anything else — unknown,
/// expired, another client's — changes nothing, and the answer is the
/// same (RFC 7009 §2.2).
pub async fn revoke(
    state: &AppState,
    client: &OAuthClientRow,
    token: &str,
    meta: &RequestMeta,
) -> Result<(), OAuthError> {
    let now = state.now();
    let sid = if let Ok(presented) = presented_refresh(state, token) {
        match presented.key {
            SessionKey::RefreshHash(hash) => state
                .store
                .session_by_refresh_hash(&hash, true)
                .await
                .map_err(OAuthError::store)?,
            SessionKey::Id(sid) => Some(sid),
        }
    } else {
        client_access(state, token)
            .await?
            .filter(|(_, issuer)| issuer.client_id == client.client_id)
            .and_then(|(claims, _)| claims.sid)
    };
    if let Some(sid) = sid {
        let event = meta.event(
            now,
            "oauth.token_revoked",
            None,
            json!({ "client_id": client.client_id, "session": sid }),
        );
        state
            .store
            .revoke_client_session(&sid, &client.client_id, now, event)
            .await
            .map_err(OAuthError::store)?;
    }
    Ok(())
}

/// `/oauth/introspect` for the confidential `client` (RFC 7662 §2.2):
/// `{"active":false}` unless the token is live and was issued to `client`,
/// or is an access token whose `aud` is `client`'s own registered
/// `audience` (a resource server asking about tokens meant for it).
pub async fn introspect(
    state: &AppState,
    client: &OAuthClientRow,
    token: &str,
) -> Result<Value, OAuthError> {
    let inactive = json!({ "active": false });
    let issuer = &state.config.jwt.issuer;
    if token.starts_with(crate::accounts::tokens::REFRESH_PREFIX) {
        let Ok(presented) = presented_refresh(state, token) else {
            return Ok(inactive);
        };
        let hash = sha256_hex(&presented.secret);
        let Some(sid) = state
            .store
            .session_by_refresh_hash(&hash, false)
            .await
            .map_err(OAuthError::store)?
        else {
            return Ok(inactive);
        };
        let live = state
            .store
            .live_session(&sid, state.now())
            .await
            .map_err(OAuthError::store)?;
        let Some((session, user)) = live else {
            return Ok(inactive);
        };
        let idle = state.config.jwt.refresh_idle_ttl.as_secs() as i64;
        let idled = state.now() - session.last_used_at > idle;
        if idled || session.client_id.as_deref() != Some(client.client_id.as_str()) {
            return Ok(inactive);
        }
        return Ok(json!({
            "active": true,
            "scope": session.scope,
            "client_id": client.client_id,
            "sub": user.id,
            "exp": session.expires_at,
            "iat": session.rotated_at_ms.div_euclid(1000),
            "iss": issuer,
            "token_type": "refresh_token",
            "sid": session.id,
        }));
    }
    let Some((claims, issued_to)) = client_access(state, token).await? else {
        return Ok(inactive);
    };
    let own = issued_to.client_id == client.client_id;
    let for_it = client.audience.is_some() && claims.aud == client_audience(state, client);
    if !own && !for_it {
        return Ok(inactive);
    }
    if claims.sid.is_some() && token_session(state, &claims).await?.is_none() {
        return Ok(inactive);
    }
    Ok(json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "exp": claims.exp,
        "iat": claims.iat,
        "iss": claims.iss,
        "aud": claims.aud,
        "token_type": "Bearer",
        "sid": claims.sid,
    }))
}
