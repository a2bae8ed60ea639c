//! The token endpoint's rules (RFC 6749 §3.2, §4.1.3, §4.4, §6; OIDC Core
//! §3.1.3): which grant, for which client, gives which tokens. HTTP is in
//! `http/oauth_token.rs`; client authentication in [`super::client_auth`].
//!
//! - `authorization_code`: the code is taken once, in one store
//!   transaction (`Store::exchange_oauth_code`), and only for the client,
//!   redirect URI and PKCE verifier of its request; a replay revokes what
//!   its first exchange issued.
//! - `refresh_token`: toktok's own rotation and reuse detection
//!   (`accounts::refresh::rotate`) for every client, public or not (RFC
//!   9700 §4.14 asks it of public clients; one rule for all is simpler to
//!   reason about), and only for the session's own client.
//! - `client_credentials`: confidential clients that registered the grant;
//!   the token's `sub` is the client itself, with no user, session, refresh
//!   or ID token.
//!
//! A client's access token has the shape of toktok's own (`typ: at+jwt`,
//! signed by the signing keys) with `client_id` = the client, its `scope`,
//! `aud` = the client's audience (default `jwt.audience`) and `sid` = the
//! client's session. It carries no `email` or `role`: what a client may
//! learn of the user is what its scopes give at `/oauth/userinfo`.

use serde::Serialize;
use serde_json::json;

use super::claims::{self, SignIn};
use super::client_auth::{self, Presented};
use super::pkce;
use crate::accounts::refresh::rotate;
use crate::accounts::tokens::{random_jti, refresh_token, SigningFailed};
use crate::accounts::{RequestMeta, LEEWAY_SECS};
use crate::app::AppState;
use crate::auth::jwt::{Algorithm, Claims, Keyring, TokenKind, Validation};
use crate::auth::sha256_hex;
use crate::error::ApiError;
use crate::store::{CodeCheck, CodeRow, CodeUse, OAuthClientRow, SessionRecord, StoreError};

/// An error of the OAuth endpoints (RFC 6749 §5.2), or a fault of ours.
#[derive(Debug)]
pub enum OAuthError {
    /// 400: a parameter is missing, repeated or malformed.
    InvalidRequest(&'static str),
    /// 401: the client could not be authenticated; `basic`: the request
    /// tried `Authorization: Basic`, so the answer names the scheme.
    InvalidClient { basic: bool },
    /// 400: the code or refresh token is unknown, used, expired, revoked,
    /// or not this client's.
    InvalidGrant(&'static str),
    /// 400: this client may not use this grant.
    UnauthorizedClient(&'static str),
    /// 400: not a grant toktok knows.
    UnsupportedGrantType,
    /// 400: a scope beyond what the client or the grant allows.
    InvalidScope(&'static str),
    /// A fault of ours (the store, a key): the usual 500.
    Internal(ApiError),
}

impl OAuthError {
    pub(crate) fn store(e: StoreError) -> OAuthError {
        OAuthError::Internal(ApiError::from(e))
    }

    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient { .. } => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::Internal(_) => "server_error",
        }
    }

    /// The `error_description`.
    pub fn description(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(why)
            | OAuthError::InvalidGrant(why)
            | OAuthError::UnauthorizedClient(why)
            | OAuthError::InvalidScope(why) => why,
            OAuthError::InvalidClient { .. } => "client authentication failed",
            OAuthError::UnsupportedGrantType => {
                "grant_type must be authorization_code, refresh_token or client_credentials"
            }
            OAuthError::Internal(_) => "something went wrong on our side",
        }
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> OAuthError {
        OAuthError::Internal(e)
    }
}

/// Parameters the OAuth endpoints read; each may appear once (RFC 6749
/// §3.2). Others are ignored.
const KNOWN: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
    "access_token",
];

/// A decoded `application/x-www-form-urlencoded` body.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Decodes `body`; a known parameter sent twice is `invalid_request`.
    pub fn parse(body: &[u8]) -> Result<Form, OAuthError> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            let again = pairs.get(i + 1..).unwrap_or_default();
            if KNOWN.contains(&name.as_str()) && again.iter().any(|(n, _)| n == name) {
                return Err(OAuthError::InvalidRequest("a parameter is repeated"));
            }
        }
        Ok(Form(pairs))
    }

    /// The value of `name`; an empty one counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The token endpoint's answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenAnswer {
    /// A JWT (`typ: at+jwt`) with `client_id`, `scope` and `aud` = the
    /// client's audience.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// Opaque (`rt_…`), single use, rotated at every refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// With scope `openid`: the ID token, signed with the client's
    /// `id_token_signed_response_alg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The scopes the access token carries, space-separated.
    pub scope: String,
}

/// Grants toktok knows, as the metric's `grant` label.
fn grant_label(grant: Option<&str>) -> &'static str {
    match grant {
        Some("authorization_code") => "authorization_code",
        Some("refresh_token") => "refresh_token",
        Some("client_credentials") => "client_credentials",
        _ => "other",
    }
}

/// `POST /oauth/token`: authenticates the client, runs the grant, and
/// counts the outcome in `toktok_oauth_tokens_total{grant,outcome}`.
pub async fn token(
    state: &AppState,
    authorization: Option<&str>,
    form: &Form,
    meta: &RequestMeta,
) -> Result<TokenAnswer, OAuthError> {
    let grant = form.get("grant_type");
    let answer = grant_token(state, authorization, form, meta, grant).await;
    let outcome = match &answer {
        Ok(_) => "issued",
        Err(e) => e.code(),
    };
    state.metrics.incr(
        "toktok_oauth_tokens_total",
        &[("grant", grant_label(grant)), ("outcome", outcome)],
    );
    answer
}

async fn grant_token(
    state: &AppState,
    authorization: Option<&str>,
    form: &Form,
    meta: &RequestMeta,
    grant: Option<&str>,
) -> Result<TokenAnswer, OAuthError> {
    let presented = Presented::read(authorization, form);
    let client = client_auth::authenticate(state, &presented, true).await?;
    match grant {
        None => Err(OAuthError::InvalidRequest("grant_type is missing")),
        Some("authorization_code") => authorization_code(state, &client, form, meta).await,
        Some("refresh_token") => refresh(state, &client, form, meta).await,
        Some("client_credentials") => client_credentials(state, &client, form, meta).await,
        Some(_) => Err(OAuthError::UnsupportedGrantType),
    }
}

fn allows(client: &OAuthClientRow, grant: &str) -> bool {
    client.grant_types.iter().any(|g| g == grant)
}

fn scopes_of(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(str::to_owned).collect()
}

/// `requested` when every scope of it is in `allowed`, else
/// `invalid_scope`; `allowed` itself when nothing was asked.
fn narrowed(requested: Option<&str>, allowed: &[String]) -> Result<Vec<String>, OAuthError> {
    match requested {
        None => Ok(allowed.to_vec()),
        Some(asked) => {
            let asked = scopes_of(asked);
            if asked.iter().all(|s| allowed.contains(s)) {
                Ok(asked)
            } else {
                Err(OAuthError::InvalidScope(
                    "a requested scope was not granted to this client",
                ))
            }
        }
    }
}

async fn authorization_code(
    state: &AppState,
    client: &OAuthClientRow,
    form: &Form,
    meta: &RequestMeta,
) -> Result<TokenAnswer, OAuthError> {
    if !allows(client, "authorization_code") {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the authorization_code grant",
        ));
    }
    let code = form
        .get("code")
        .ok_or(OAuthError::InvalidRequest("code is missing"))?;
    let now_ms = state.now_ms();
    let now = now_ms.div_euclid(1000);
    let secret = random_jti()?;
    let session_id = uuid::Uuid::now_v7().to_string();
    // Everything the check needs, owned: it runs inside the transaction.
    let check = CodeExchange {
        client_id: client.client_id.clone(),
        redirect_uri: form.get("redirect_uri").map(str::to_owned),
        verifier: form.get("code_verifier").map(str::to_owned),
        session_id: session_id.clone(),
        refresh_hash: sha256_hex(&secret),
        now_ms,
        refresh_ttl: state.config.jwt.refresh_ttl.as_secs() as i64,
        meta: meta.clone(),
    };
    let check: CodeCheck = Box::new(move |row| check.decide(row));
    let replay = meta.event(now, "oauth.code_replayed", None, json!({}));
    let used = state
        .store
        .exchange_oauth_code(sha256_hex(code), now, check, replay)
        .await
        .map_err(OAuthError::store)?;
    let row = match used {
        CodeUse::Issued(row) => *row,
        CodeUse::Unknown | CodeUse::Replayed => {
            return Err(OAuthError::InvalidGrant(
                "the code is unknown, expired or already used",
            ))
        }
        CodeUse::Refused(why) => return Err(OAuthError::InvalidGrant(why)),
    };
    let (session, user) = state
        .store
        .live_session(&session_id, now)
        .await
        .map_err(OAuthError::store)?
        .ok_or(OAuthError::InvalidGrant("the user can no longer sign in"))?;
    let scopes = scopes_of(&row.scope);
    let id_token = match scopes.iter().any(|s| s == "openid") {
        true => Some(
            id_token(
                state,
                client,
                &user,
                &session,
                &scopes,
                row.nonce.as_deref(),
                now,
            )
            .await?,
        ),
        false => None,
    };
    let access = access_token(
        state,
        client,
        &user.id,
        Some(&user),
        Some(&session),
        &row.scope,
        now,
    );
    Ok(TokenAnswer {
        access_token: access.await?,
        token_type: "Bearer",
        expires_in: state.config.jwt.access_ttl.as_secs(),
        refresh_token: allows(client, "refresh_token").then(|| refresh_token(&secret)),
        id_token,
        scope: row.scope,
    })
}

/// What an authorization code must match, and the session it then
/// becomes (see [`CodeCheck`]).
struct CodeExchange {
    client_id: String,
    redirect_uri: Option<String>,
    verifier: Option<String>,
    session_id: String,
    refresh_hash: String,
    now_ms: i64,
    refresh_ttl: i64,
    meta: RequestMeta,
}

impl CodeExchange {
    fn decide(
        self,
        row: &CodeRow,
    ) -> Result<(SessionRecord, crate::store::AuditEvent), &'static str> {
        if row.client_id != self.client_id {
            return Err("the code was issued to another client");
        }
        // Exact string comparison, like the authorization request's.
        if self.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
            return Err("redirect_uri is not the authorization request's");
        }
        let verified = self
            .verifier
            .as_deref()
            .is_some_and(|v| pkce::verifies(v, &row.code_challenge));
        if !verified {
            return Err("code_verifier does not match the code_challenge");
        }
        let now = self.now_ms.div_euclid(1000);
        let session = SessionRecord {
            id: self.session_id,
            user_id: row.user_id.clone(),
            refresh_hash: self.refresh_hash,
            prev_refresh_hash: None,
            rotated_at_ms: self.now_ms,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.refresh_ttl,
            user_agent: self.meta.user_agent.clone(),
            ip: self.meta.ip.map(|ip| ip.to_string()),
            revoked_at: None,
            auth_time: row.auth_time,
            amr: row.amr.clone(),
            aal: row.aal,
            // The store copies the browser session's.
            factor: None,
            client_id: Some(row.client_id.clone()),
            scope: Some(row.scope.clone()),
            parent_id: Some(row.session_id.clone()),
        };
        let event = self.meta.event(
            now,
            "oauth.token_issued",
            Some(&row.user_id),
            json!({ "client_id": row.client_id, "grant": "authorization_code",
                    "session": session.id }),
        );
        Ok((session, event))
    }
}

async fn refresh(
    state: &AppState,
    client: &OAuthClientRow,
    form: &Form,
    meta: &RequestMeta,
) -> Result<TokenAnswer, OAuthError> {
    if !allows(client, "refresh_token") {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the refresh_token grant",
        ));
    }
    let token = form
        .get("refresh_token")
        .ok_or(OAuthError::InvalidRequest("refresh_token is missing"))?;
    let rotated = rotate(state, token, meta, Some(&client.client_id))
        .await
        .map_err(|e| match e {
            ApiError::InvalidToken | ApiError::TokenExpired | ApiError::TokenReused => {
                OAuthError::InvalidGrant("the refresh token is invalid, expired or revoked")
            }
            other => OAuthError::Internal(other),
        })?;
    let granted = scopes_of(rotated.session.scope.as_deref().unwrap_or_default());
    // Checked after the rotation, which needed the session: a client that
    // asked too much retries with the same token inside the reuse grace.
    let scopes = narrowed(form.get("scope"), &granted)?;
    let scope = scopes.join(" ");
    let (session, user, now) = (&rotated.session, &rotated.user, rotated.now);
    let id_token = match scopes.iter().any(|s| s == "openid") {
        true => Some(id_token(state, client, user, session, &scopes, None, now).await?),
        false => None,
    };
    let access = access_token(
        state,
        client,
        &user.id,
        Some(user),
        Some(session),
        &scope,
        now,
    );
    Ok(TokenAnswer {
        access_token: access.await?,
        token_type: "Bearer",
        expires_in: state.config.jwt.access_ttl.as_secs(),
        refresh_token: Some(refresh_token(&rotated.secret)),
        id_token,
        scope,
    })
}

async fn client_credentials(
    state: &AppState,
    client: &OAuthClientRow,
    form: &Form,
    meta: &RequestMeta,
) -> Result<TokenAnswer, OAuthError> {
    if client.client_type != "confidential" || !allows(client, "client_credentials") {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the client_credentials grant",
        ));
    }
    // No user signs in: the user scopes mean nothing here.
    let allowed: Vec<String> = client
        .scopes
        .iter()
        .filter(|s| *s != "openid" && *s != "offline_access")
        .cloned()
        .collect();
    let scope = narrowed(form.get("scope"), &allowed)?.join(" ");
    let now = state.now();
    let access = access_token(state, client, &client.client_id, None, None, &scope, now).await?;
    let event = meta.event(
        now,
        "oauth.token_issued",
        None,
        json!({ "client_id": client.client_id, "grant": "client_credentials" }),
    );
    state.store.audit(event).await.map_err(OAuthError::store)?;
    Ok(TokenAnswer {
        access_token: access,
        token_type: "Bearer",
        expires_in: state.config.jwt.access_ttl.as_secs(),
        refresh_token: None,
        id_token: None,
        scope,
    })
}

/// `aud` of the client's access tokens.
pub fn client_audience(state: &AppState, client: &OAuthClientRow) -> String {
    client
        .audience
        .clone()
        .unwrap_or_else(|| state.config.jwt.audience.clone())
}

/// What a client's access token must satisfy besides its signature.
pub fn client_validation(state: &AppState, client: &OAuthClientRow) -> Validation {
    Validation {
        issuer: state.config.jwt.issuer.clone(),
        audience: client_audience(state, client),
        leeway: LEEWAY_SECS,
        kind: TokenKind::Access,
    }
}

/// An access token of `client` for `subject` (a user in `session`, or the
/// client itself), carrying `scope`.
async fn access_token(
    state: &AppState,
    client: &OAuthClientRow,
    subject: &str,
    user: Option<&crate::store::UserRecord>,
    session: Option<&SessionRecord>,
    scope: &str,
    now: i64,
) -> Result<String, OAuthError> {
    let claims = Claims {
        iss: state.config.jwt.issuer.clone(),
        aud: client_audience(state, client),
        sub: subject.to_owned(),
        exp: now + state.config.jwt.access_ttl.as_secs() as i64,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::now_v7().to_string(),
        client_id: Some(client.client_id.clone()),
        sid: session.map(|s| s.id.clone()),
        typ: TokenKind::Access,
        email: None,
        email_verified: None,
        role: None,
        auth_time: session.map(|s| s.auth_time),
        amr: session.map(|s| s.amr.clone()),
        aal: session.map(|s| s.aal),
        scope: Some(scope.to_owned()),
    };
    let signed = match user.filter(|_| crate::accounts::claims::any(state)) {
        None => state.keys().sign(&claims),
        Some(user) => {
            let mut map = crate::accounts::tokens::claims_map(&claims)?;
            crate::accounts::claims::extend(
                state,
                user,
                session,
                &client.client_id,
                crate::accounts::claims::TokenFor::Access,
                &mut map,
            )
            .await?;
            state
                .keys()
                .sign_access_json(&serde_json::Value::Object(map))
        }
    };
    signed.map_err(|e| OAuthError::Internal(ApiError::from(SigningFailed::Session(e))))
}

/// The keys that sign `client`'s ID tokens: RS256 by default; ES256 or
/// EdDSA when that is toktok's own signing algorithm, and RS256 again when
/// it is not (toktok keeps no second key of another algorithm).
pub fn id_token_keys(state: &AppState, alg: &str) -> Option<std::sync::Arc<Keyring>> {
    let own = state.keys();
    let own_fits = alg != Algorithm::RS256.as_str()
        && own.algorithm().as_str() == alg
        && own.algorithm() != Algorithm::HS256;
    if own_fits {
        Some(own)
    } else {
        state.rs256_keys()
    }
}

/// An ID token for `user` through the client session `session`; `sid` is
/// the browser session it was issued from.
async fn id_token(
    state: &AppState,
    client: &OAuthClientRow,
    user: &crate::store::UserRecord,
    session: &SessionRecord,
    scopes: &[String],
    nonce: Option<&str>,
    now: i64,
) -> Result<String, OAuthError> {
    let sign_in = SignIn {
        sid: session
            .parent_id
            .clone()
            .unwrap_or_else(|| session.id.clone()),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
        aal: session.aal,
    };
    let mut claims = claims::id_token(
        &state.config.jwt.issuer,
        &client.client_id,
        user,
        scopes,
        &sign_in,
        nonce,
        now,
        state.config.jwt.access_ttl.as_secs() as i64,
    );
    let keys = id_token_keys(state, &client.id_token_alg).ok_or_else(|| {
        OAuthError::Internal(ApiError::Internal(
            "no RS256 key for ID tokens: is [oidc] enabled?".into(),
        ))
    })?;
    if let (true, serde_json::Value::Object(map)) =
        (crate::accounts::claims::any(state), &mut claims)
    {
        crate::accounts::claims::extend(
            state,
            user,
            Some(session),
            &client.client_id,
            crate::accounts::claims::TokenFor::Id,
            map,
        )
        .await?;
    }
    keys.sign_json(&claims).map_err(|e| {
        OAuthError::Internal(ApiError::Internal(format!(
            "an ID token could not be signed: {e}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_refused_and_unknown_ones_ignored() {
        assert!(Form::parse(b"grant_type=a&code=1&code=2").is_err());
        let form = Form::parse(b"grant_type=a&x=1&x=2&scope=").unwrap();
        assert_eq!(form.get("grant_type"), Some("a"));
        assert_eq!(form.get("scope"), None);
    }

    #[test]
    fn a_narrower_scope_is_taken_and_a_wider_one_refused() {
        let granted = scopes_of("openid email");
        assert_eq!(narrowed(None, &granted).unwrap(), granted);
        assert_eq!(narrowed(Some("email"), &granted).unwrap(), ["email"]);
        assert!(matches!(
            narrowed(Some("email profile"), &granted),
            Err(OAuthError::InvalidScope(_))
        ));
    }
}
