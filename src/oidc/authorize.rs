//! The parameters of `GET /oauth/authorize`, parsed and checked in the
//! order that decides where an error may go (RFC 6749 §4.1.2.1, RFC 9700
//! §4.11): while the client and its redirect URI are not both known and
//! matching, an error is shown on toktok's own page and **never**
//! redirected (no open redirect through any error path); after that, errors
//! go back to the client's redirect URI with `state` and `iss` (RFC 9207).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::pkce;

/// Where an authorization error is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// On toktok's error page: the client or its redirect URI is not
    /// trusted yet. The text is for the person at the browser.
    Page(&'static str),
    /// Back to the client: `error` (RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6)
    /// and a description, sent with the request's `state`.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

/// The `prompt` values of OIDC Core §3.1.2.1 toktok acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// No page may be shown: answer `login_required` / `consent_required`.
    pub none: bool,
    /// Ask for the credentials again even with a live browser session.
    pub login: bool,
    /// Ask for consent again even when it was granted.
    pub consent: bool,
}

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Requested scopes that the client may ask for, in a stable order.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
}

/// What the parser needs to know of the client named by `client_id`.
pub struct ClientView<'a> {
    pub redirect_uris: &'a [String],
    pub scopes: &'a [String],
    pub grant_types: &'a [String],
}

/// The longest `state`, `nonce`, `login_hint` or `ui_locales` accepted.
pub const MAX_PARAM: usize = 1024;

/// Parameters recognised; anything else is ignored (RFC 6749 §3.1).
const KNOWN: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "request",
    "request_uri",
    "response_mode",
];

/// Parses `pairs` (the decoded query), looking the client up with
/// `client` (its id → what it registered; `None`: unknown).
pub fn parse<'c>(
    pairs: &[(String, String)],
    client: impl FnOnce(&str) -> Option<ClientView<'c>>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    // A parameter sent twice is ambiguous (RFC 6749 §3.1): refused, and on
    // the page while the redirect is not yet trusted.
    let mut seen = BTreeSet::new();
    let mut twice = None;
    for (name, _) in pairs {
        if KNOWN.contains(&name.as_str()) && !seen.insert(name.as_str()) {
            twice = Some(name.clone());
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let Some(client_id) = get("client_id") else {
        return Err(AuthorizeError::Page(
            "The request names no client (client_id).",
        ));
    };
    let Some(client) = client(client_id) else {
        return Err(AuthorizeError::Page(
            "The application that sent you here is not registered.",
        ));
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return Err(AuthorizeError::Page("The request names no redirect_uri."));
    };
    // Exact string comparison (RFC 9700 §4.1.3): no prefix, case folding,
    // normalisation or trailing-slash leniency.
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(AuthorizeError::Page(
            "The application asked to send you to an address it did not register.",
        ));
    }
    if twice.as_deref() == Some("redirect_uri") || twice.as_deref() == Some("client_id") {
        return Err(AuthorizeError::Page("The request repeats a parameter."));
    }
    let state = get("state").map(str::to_owned);
    let fail = |error: &'static str, description: String| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone().filter(|s| s.len() <= MAX_PARAM),
        error,
        description,
    };
    if let Some(name) = twice {
        return Err(fail("invalid_request", format!("{name} is repeated")));
    }
    if state.as_ref().is_some_and(|s| s.len() > MAX_PARAM) {
        return Err(fail(
            "invalid_request",
            format!("state is longer than {MAX_PARAM}"),
        ));
    }
    if get("request").is_some() {
        return Err(fail(
            "request_not_supported",
            "request objects are not supported".into(),
        ));
    }
    if get("request_uri").is_some() {
        return Err(fail(
            "request_uri_not_supported",
            "request_uri is not supported".into(),
        ));
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err(fail(
            "invalid_request",
            "response_mode must be query".into(),
        ));
    }
    match get("response_type") {
        Some("code") => {}
        None => return Err(fail("invalid_request", "response_type is required".into())),
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported".into(),
            ))
        }
    }
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(fail(
            "unauthorized_client",
            "the client may not use the authorization code grant".into(),
        ));
    }
    let mut scopes = Vec::new();
    for scope in get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        if !client.scopes.iter().any(|s| s == scope) {
            return Err(fail(
                "invalid_scope",
                format!("scope {scope} is not allowed for this client"),
            ));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err(fail("invalid_scope", "scope is required".into()));
    }
    // PKCE is required of every client, S256 only (RFC 9700 §2.1.1).
    let Some(code_challenge) = get("code_challenge") else {
        return Err(fail(
            "invalid_request",
            "code_challenge is required (PKCE, S256)".into(),
        ));
    };
    match get("code_challenge_method") {
        Some("S256") => {}
        _ => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256".into(),
            ))
        }
    }
    if !pkce::is_challenge(code_challenge) {
        return Err(fail(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)".into(),
        ));
    }
    let bounded = |name: &'static str| -> Result<Option<String>, AuthorizeError> {
        match get(name) {
            Some(v) if v.len() > MAX_PARAM => Err(fail(
                "invalid_request",
                format!("{name} is longer than {MAX_PARAM}"),
            )),
            v => Ok(v.map(str::to_owned)),
        }
    };
    let nonce = bounded("nonce")?;
    let login_hint = bounded("login_hint")?;
    let ui_locales = bounded("ui_locales")?;
    let mut prompt = Prompt::default();
    for value in get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => {
                return Err(fail(
                    "invalid_request",
                    format!("prompt {value} is unknown"),
                ))
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(fail(
            "invalid_request",
            "prompt=none cannot be combined".into(),
        ));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (0..=i64::from(u32::MAX)).contains(&n) => Some(n),
            _ => {
                return Err(fail(
                    "invalid_request",
                    "max_age must be a number of seconds".into(),
                ))
            }
        },
    };
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        nonce,
        code_challenge: code_challenge.to_owned(),
        prompt,
        max_age,
        login_hint,
        ui_locales,
    })
}

#[cfg(test)]
mod tests;
