//! The authorization step's decisions (OIDC Core §3.1.2.3–§3.1.2.6): is the
//! browser's sign-in good enough for this request, is consent needed, and
//! the code that ends it all.

use serde_json::json;

use super::authorize::AuthorizeRequest;
use super::sealed::Flow;
use crate::accounts::{tokens, Authenticated, RequestMeta};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::error::ApiError;
use crate::store::{CodeRow, OAuthClientRow};

/// What a pending authorization needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A (fresh) sign-in on `/login`.
    SignIn,
    /// The user's consent on `/consent`, to these scopes.
    Consent,
    /// Nothing: a code may be issued.
    Code,
}

/// Whether `who`'s sign-in satisfies the request: any live browser session,
/// unless `prompt=login` or `max_age` asks for a newer one. A sign-in made
/// after the request began is always fresh enough (so `max_age=0` does not
/// loop).
pub fn signed_in_enough(flow: &Flow, who: &Authenticated, now: i64) -> bool {
    let auth_time = who.session.auth_time;
    if auth_time >= flow.started_at {
        return true;
    }
    let request = &flow.request;
    !request.prompt.login && request.max_age.is_none_or(|max| now - auth_time <= max)
}

/// Decides the next step of `flow` for the browser's session `who`.
pub async fn next(
    state: &AppState,
    flow: &Flow,
    client: &OAuthClientRow,
    who: Option<&Authenticated>,
) -> Result<Next, ApiError> {
    let now = state.now();
    let Some(who) = who.filter(|w| signed_in_enough(flow, w, now)) else {
        return Ok(Next::SignIn);
    };
    if client.skip_consent {
        return Ok(Next::Code);
    }
    if flow.request.prompt.consent {
        return Ok(Next::Consent);
    }
    let ttl = state.config.oidc.consent_ttl.as_secs() as i64;
    let granted = state
        .store
        .consents_of(&who.user.id)
        .await?
        .into_iter()
        .find(|c| c.client_id == client.client_id && now - c.updated_at <= ttl);
    let covered = granted.is_some_and(|g| flow.request.scopes.iter().all(|s| g.scopes.contains(s)));
    Ok(if covered { Next::Code } else { Next::Consent })
}

/// `uri` with the query parameters `pairs` added (after any it has).
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", query.finish())
}

/// The error response to the client (RFC 6749 §4.1.2.1) with `state` and
/// `iss` (RFC 9207).
pub fn error_redirect(
    state: &AppState,
    request: &AuthorizeRequest,
    error: &str,
    description: &str,
) -> String {
    redirect_error(
        state,
        &request.redirect_uri,
        request.state.as_deref(),
        error,
        description,
    )
}

/// As [`error_redirect`], for a request that was not fully parsed.
pub fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    client_state: Option<&str>,
    error: &str,
    description: &str,
) -> String {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = client_state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &state.config.server.public_url));
    with_query(redirect_uri, &pairs)
}

/// Issues a code for `flow` to `who` and answers where the browser goes:
/// the redirect URI with `code`, `state` and `iss`.
pub async fn issue(
    state: &AppState,
    flow: &Flow,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<String, ApiError> {
    let now = state.now();
    let code = tokens::random_jti()?;
    let request = &flow.request;
    let scope = request.scopes.join(" ");
    let row = CodeRow {
        code_hash: sha256_hex(&code),
        client_id: request.client_id.clone(),
        user_id: who.user.id.clone(),
        session_id: who.session.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scope: scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: who.session.auth_time,
        amr: who.session.amr.clone(),
        aal: who.session.aal,
        created_at: now,
        expires_at: now + state.config.oidc.code_ttl.as_secs() as i64,
    };
    let event = meta.event(
        now,
        "oauth.authorized",
        Some(&who.user.id),
        json!({ "client_id": request.client_id, "scope": scope, "session": who.session.id }),
    );
    state.store.insert_oauth_code(row, event).await?;
    state
        .metrics
        .incr("toktok_oauth_authorize_total", &[("outcome", "code")]);
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = request.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &state.config.server.public_url));
    Ok(with_query(&request.redirect_uri, &pairs))
}
