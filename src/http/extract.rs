//! Extractors: where raw HTTP becomes typed input, with one precise error
//! for each way a request can be wrong.
//!
//! - [`JsonBody`]: 415 without a JSON content type, 413 over the body limit,
//!   400 for bytes that are not JSON, 422 naming the field for JSON of the
//!   wrong shape (missing, wrongly typed or unknown fields), for a key given
//!   twice in any object at any depth (free-form `metadata` included, where
//!   serde would keep the last silently), and for nesting deeper than
//!   [`MAX_JSON_DEPTH`] (valid JSON that serde_json's recursion limit would
//!   have called malformed).
//! - [`Auth`]: a valid access token whose session is live, else 401; 403
//!   for a session that may only enrol a second factor
//!   (`accounts::assurance::enrolment_only`) on any other route.
//! - [`ChallengeService`]: an API key with scope `challenges` (401 without a
//!   live key, 403 without the scope).
//! - [`Admin`]: an API key with scope `admin` or a user with role `admin`
//!   (whose session is not restricted to enrolling).
//! - [`Sealed`]: a JSON body that may come encrypted (JWE); the client's
//!   per-IP decrypt token is taken before any RSA work.
//! - [`Meta`]: the client's address (honouring `X-Forwarded-For` only from
//!   trusted proxies) and user agent, for rate limits and the audit log.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use crate::accounts::{self, Authenticated, RequestMeta};
use crate::app::AppState;
use crate::auth::api_keys::{self, Scope};
use crate::auth::jwe::DecryptError;
use crate::config::IpNet;
use crate::error::{ApiError, FieldError};
use crate::metrics;
use crate::ratelimit::Bucket;
use crate::store::ApiKeyRecord;

/// Deepest nesting of arrays and objects a body may have. Below
/// serde_json's own recursion limit (128), so a deep body is refused here,
/// as too deep (422), rather than by the parser as if it were not JSON.
pub const MAX_JSON_DEPTH: usize = 100;

/// A walk over a JSON body that finds what the typed parse cannot: the
/// same key twice in one object (at any depth) and nesting past
/// [`MAX_JSON_DEPTH`]. What it finds goes to `found`; the serde error that
/// stops the walk then carries nothing.
struct Check<'a> {
    /// Where this value sits: its key or index, under its parent's place.
    place: Option<&'a Place<'a>>,
    depth: usize,
    found: &'a std::cell::RefCell<Option<FieldError>>,
}

struct Place<'a> {
    parent: Option<&'a Place<'a>>,
    step: Step,
}

enum Step {
    Key(String),
    Index(usize),
}

impl Place<'_> {
    /// `metadata.a[2].b`, or `body` for the body itself.
    fn path(place: Option<&Place<'_>>) -> String {
        let mut steps = Vec::new();
        let mut at = place;
        while let Some(p) = at {
            steps.push(&p.step);
            at = p.parent;
        }
        let mut out = String::new();
        for step in steps.into_iter().rev() {
            match step {
                Step::Key(k) if out.is_empty() => out.push_str(k),
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            "body".to_owned()
        } else {
            out
        }
    }

    /// The body's top-level field this place is under, or `body`.
    fn top(place: Option<&Place<'_>>) -> String {
        let mut at = place;
        let mut top = None;
        while let Some(p) = at {
            top = Some(p);
            at = p.parent;
        }
        match top.map(|p| &p.step) {
            Some(Step::Key(k)) => k.clone(),
            _ => "body".to_owned(),
        }
    }
}

impl Check<'_> {
    fn fail<E: serde::de::Error>(&self, field: String, message: &str) -> E {
        *self.found.borrow_mut() = Some(FieldError::new(field, message));
        E::custom("refused")
    }

    fn deeper<E: serde::de::Error>(&self) -> Result<usize, E> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(self.fail(
                Place::top(self.place),
                "is nested deeper than 100 levels of arrays and objects, toktok's limit",
            ));
        }
        Ok(self.depth + 1)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.deeper()?;
        let mut index = 0;
        loop {
            let place = Place {
                parent: self.place,
                step: Step::Index(index),
            };
            let check = Check {
                place: Some(&place),
                depth,
                found: self.found,
            };
            if seq.next_element_seed(check)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = self.deeper()?;
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let place = Place {
                parent: self.place,
                step: Step::Key(key),
            };
            let Step::Key(key) = &place.step else {
                unreachable!("built as a key just above")
            };
            if !seen.insert(key.clone()) {
                return Err(self.fail(Place::path(Some(&place)), "is given more than once"));
            }
            map.next_value_seed(Check {
                place: Some(&place),
                depth,
                found: self.found,
            })?;
        }
        Ok(())
    }
}

/// Duplicate keys and over-deep nesting anywhere in `bytes` (422 naming
/// where), or `None`: also when the bytes are not JSON, which the typed
/// parse then reports.
fn check_json(bytes: &[u8]) -> Option<ApiError> {
    use serde::de::DeserializeSeed as _;
    let found = std::cell::RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let check = Check {
        place: None,
        depth: 0,
        found: &found,
    };
    let _ = check.deserialize(&mut de);
    let problem = found.into_inner()?;
    // The walk stopped at the problem; bytes that turn out not to be JSON
    // further on are a 400 like any others. (Past the nesting limit the
    // parser cannot look, so a too-deep body is 422 whatever follows.)
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Err(e) if !e.to_string().starts_with("recursion limit exceeded") => None,
        _ => Some(ApiError::Validation(vec![problem])),
    }
}

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence[..essence.len() - 5]
                .to_ascii_lowercase()
                .starts_with("application/")
            && essence.to_ascii_lowercase().ends_with("+json"))
}

fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Reads the whole body, refusing more than `limit` bytes with 413.
pub async fn read_body(req: Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::BodyTooLarge(limit));
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| {
            if is_length_limit(&e) {
                ApiError::BodyTooLarge(limit)
            } else {
                ApiError::MalformedBody("the body could not be read".into())
            }
        })
}

/// Deserialises JSON, telling syntax errors (400) from shape errors (422).
///
/// Every body is a JSON object: serde would also fill a struct from an array
/// of its fields in order (`[null, null]`), which no client means to send.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some(problem) = check_json(bytes) {
        return Err(problem);
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Err(syntax) => ApiError::MalformedBody(syntax.to_string()),
                Ok(_) => ApiError::field("body", "must be a JSON object"),
            },
        );
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // Shape errors surface before the parser has seen the whole body;
        // bytes that are not JSON at all are a 400 whatever their shape.
        if let Err(syntax) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            return ApiError::MalformedBody(syntax.to_string());
        }
        let path = e.path().to_string();
        shape_or_syntax(&path, e.into_inner())
    })?;
    de.end()
        .map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    Ok(value)
}

fn shape_or_syntax(path: &str, e: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::MalformedBody(e.to_string()),
        Category::Data => {
            let message = e.to_string();
            // serde names missing and unknown fields only in its message.
            let named = ["missing field `", "unknown field `"]
                .iter()
                .find_map(|prefix| {
                    let rest = message.split(prefix).nth(1)?;
                    Some(rest.split('`').next()?.to_owned())
                });
            let field = match (named, path) {
                (Some(name), "." | "") => name,
                // Unknown fields already end the path; missing ones do not.
                (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => {
                    path.to_owned()
                }
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, "." | "") => "body".to_owned(),
                (None, path) => path.to_owned(),
            };
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            ApiError::Validation(vec![FieldError::new(field, message)])
        }
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state, false).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The body of an endpoint marked (E) in docs/API.md: JSON, or — when RSA is on —
/// the same JSON encrypted as a compact JWE (`Content-Type:
/// application/jose`); with `rsa.required`, only the latter.
#[derive(Debug)]
pub struct Sealed<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Sealed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state, true).await?;
        parse_json(&bytes).map(Sealed)
    }
}

fn is_jose(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/jose"))
}

/// The JSON bytes of a request: read as they are, or decrypted from a JWE
/// on (E) endpoints (`sealed`). Every decryption failure is one answer.
async fn json_bytes(
    req: Request,
    state: &AppState,
    sealed: bool,
) -> Result<axum::body::Bytes, ApiError> {
    let limit = state.config.server.max_body_bytes;
    if is_json(req.headers()) {
        if sealed && state.config.rsa.enabled && state.config.rsa.required {
            return Err(ApiError::EncryptionRequired);
        }
        return read_body(req, limit).await;
    }
    match &state.rsa {
        Some(rsa) if sealed && is_jose(req.headers()) => {
            // TT-04: the client's decrypt token is taken before any RSA
            // work, and kept whatever the outcome, so undecryptable bodies
            // from one address are refused (429) before they reach the
            // private key, rather than starving everyone's decryptions.
            if let Some(ip) = request_ip(&req, state) {
                state
                    .limiter
                    .take(Bucket::Decrypt, ip)
                    .await
                    .map_err(ApiError::RateLimited)?;
            }
            let body = read_body(req, limit).await?;
            let decrypted = rsa.decrypt(body.to_vec()).await;
            let outcome = match &decrypted {
                Ok(_) => "ok",
                Err(DecryptError::Overloaded) => "overloaded",
                Err(DecryptError::Invalid) => "invalid",
            };
            state
                .metrics
                .incr(metrics::JWE_DECRYPTIONS, &[("outcome", outcome)]);
            let plain = decrypted.map_err(ApiError::from)?;
            // Plaintext that is not JSON at all is one more way the JWE is
            // bad; JSON of the wrong shape goes on to a 422 like plain JSON.
            if serde_json::from_slice::<serde::de::IgnoredAny>(&plain).is_err() {
                return Err(ApiError::InvalidEncryption);
            }
            Ok(plain.into())
        }
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// The client address of a whole request (see [`client_ip`]).
fn request_ip(req: &Request, state: &AppState) -> Option<IpAddr> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    client_ip(peer, req.headers(), &state.config.server.trusted_proxies)
}

/// Which encoding a [`JsonOrForm`] body came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    /// `application/x-www-form-urlencoded`, from toktok's own HTML forms:
    /// the answer is a page, not JSON.
    Form,
}

/// A body that is JSON (or a JWE of it, as [`Sealed`]), or a form post from
/// the built-in link pages.
/// `SEALED`: the endpoint is marked (E), so JSON may come as a JWE.
#[derive(Debug)]
pub struct JsonOrForm<T, const SEALED: bool = false>(pub T, pub BodyKind);

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

impl<T: DeserializeOwned, const SEALED: bool> FromRequest<AppState> for JsonOrForm<T, SEALED> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if is_form(req.headers()) {
            // The built-in pages post forms without JavaScript, so they cannot
            // encrypt: forms are accepted even with `rsa.required`.
            let bytes = read_body(req, state.config.server.max_body_bytes).await?;
            let value = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| ApiError::field("body", e.to_string()))?;
            return Ok(JsonOrForm(value, BodyKind::Form));
        }
        let bytes = json_bytes(req, state, SEALED).await?;
        parse_json(&bytes).map(|value| JsonOrForm(value, BodyKind::Json))
    }
}

/// The anonymous visitor on an endpoint marked (A): `Some(id)` with a valid
/// anonymous token; see `accounts::anonymous::gate` for the refusals.
#[derive(Debug, Clone)]
pub struct Anonymous(pub Option<String>);

impl FromRequestParts<AppState> for Anonymous {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        accounts::anonymous::gate(state, bearer(&parts.headers)).map(Anonymous)
    }
}

/// For `Option<Option<T>>` fields of PATCH bodies: `Some(None)` for an
/// explicit `null`, so `"name": null` clears the name while an absent field
/// (`#[serde(default)]`) leaves it alone.
pub fn explicit_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

/// The bearer token of a request, if it carries one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// A signed-in user (valid access token, live session).
#[derive(Debug, Clone)]
pub struct Auth(pub Authenticated);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let who = accounts::authenticate(state, token).await?;
        if accounts::assurance::enrolment_only(state, &who) && !enrolment_route(parts) {
            return Err(ApiError::SecondFactorRequired);
        }
        Ok(Auth(who))
    }
}

/// The routes a session restricted to enrolling a second factor may call
/// (`accounts::assurance::enrolment_only`): who am I, which factors, the
/// TOTP and passkey enrolment, signing out, and reauthenticating (which
/// lifts the restriction once a second factor is used).
const ENROLMENT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/users/me"),
    ("GET", "/v1/users/me/factors"),
    ("POST", "/v1/users/me/totp"),
    ("POST", "/v1/users/me/totp/confirm"),
    ("POST", "/v1/users/me/passkeys/options"),
    ("POST", "/v1/users/me/passkeys"),
    ("POST", "/v1/auth/logout"),
    ("POST", "/v1/auth/logout-all"),
    ("POST", "/v1/auth/reauthenticate"),
    ("POST", "/v1/auth/reauthenticate/passkey-options"),
];

/// Whether the request is for one of [`ENROLMENT_ROUTES`], by the route
/// that matched it (the path as sent only when no route matched).
fn enrolment_route(parts: &Parts) -> bool {
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map_or(parts.uri.path(), MatchedPath::as_str);
    ENROLMENT_ROUTES
        .iter()
        .any(|(method, route)| parts.method.as_str() == *method && path == *route)
}

/// A trusted service holding an API key with scope `challenges`.
#[derive(Debug, Clone)]
pub struct ChallengeService(pub ApiKeyRecord);

impl FromRequestParts<AppState> for ChallengeService {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        api_keys::authenticate(&state.store, state.now(), token, Scope::Challenges)
            .await
            .map(ChallengeService)
            .map_err(ApiError::from)
    }
}

/// An administrator: an API key with scope `admin`, or the access token of
/// a user whose current role is `admin`. Holds the actor written into audit
/// events: `api_key:<id>` or `user:<id>`. 401 without (valid) credentials,
/// 403 for anyone else.
#[derive(Debug, Clone)]
pub struct Admin(pub String);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        if api_keys::looks_like_key(token) {
            let key = api_keys::authenticate(&state.store, state.now(), token, Scope::Admin)
                .await
                .map_err(ApiError::from)?;
            return Ok(Admin(format!("api_key:{}", key.id)));
        }
        // The stored role, not the token's claim: a demotion counts at once.
        let who = accounts::authenticate(state, token).await?;
        if who.user.role != "admin" {
            return Err(ApiError::Forbidden);
        }
        if accounts::assurance::enrolment_only(state, &who) {
            return Err(ApiError::SecondFactorRequired);
        }
        Ok(Admin(format!("user:{}", who.user.id)))
    }
}

/// Who is asking: client address and user agent.
#[derive(Debug, Clone)]
pub struct Meta(pub RequestMeta);

/// The client address: the peer, or — when the peer is a trusted proxy —
/// the right-most `X-Forwarded-For` entry that is not itself trusted.
///
/// Hops are read right to left, each written by the hop after it. A hop is
/// an address, `ip:port` or `[v6]:port` (as some load balancers write
/// them). A hop that is none of these (`unknown`, garbage) is skipped: it
/// names no address, so it can neither end the walk at the proxy (which
/// would put every client in the proxy's bucket) nor be trusted. The walk
/// still ends at the first parsable hop that is not trusted, so nothing
/// left of an untrusted hop is ever believed. With no usable hop the client
/// is the last trusted address seen.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            if !hop.is_empty() {
                tracing::debug!(hop = %hop.chars().take(64).collect::<String>(),
                    "X-Forwarded-For hop is not an address; skipped");
            }
            continue;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` hop: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok());
        return port_ok
            .then(|| inside.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6))
            .flatten();
    }
    hop.parse::<SocketAddr>()
        .ok()
        .filter(SocketAddr::is_ipv4)
        .map(|addr| addr.ip())
}

impl FromRequestParts<AppState> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = client_ip(peer, &parts.headers, &state.config.server.trusted_proxies);
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect());
        let locale = parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::i18n::from_accept_language);
        Ok(Meta(RequestMeta {
            ip,
            user_agent,
            locale,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_key_twice_at_any_depth_is_422_naming_it() {
        // TT-17: serde keeps the last of two keys in a free-form Value.
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            metadata: Option<serde_json::Value>,
        }
        let field = |body: &str| field_of(parse_json::<Body>(body.as_bytes()).unwrap_err());
        assert_eq!(field(r#"{"metadata":{"k":1,"k":2}}"#), "metadata.k");
        assert_eq!(
            field(r#"{"metadata":{"a":[0,{"b":{"k":1,"k":1}}]}}"#),
            "metadata.a[1].b.k"
        );
        assert_eq!(field(r#"{"metadata":null,"metadata":{}}"#), "metadata");
        // Distinct keys, and the same key in sibling objects, are fine.
        assert!(parse_json::<Body>(br#"{"metadata":[{"k":1},{"k":2}]}"#).is_ok());
        // Not JSON further on: still the 400 of a malformed body.
        assert!(matches!(
            parse_json::<Body>(br#"{"metadata":{"k":1,"k":2}} x"#),
            Err(ApiError::MalformedBody(_))
        ));
    }

    #[test]
    fn nesting_past_the_limit_is_422_saying_so() {
        // TT-17: valid JSON deeper than serde_json's 128 was a 400 that
        // called it "not valid JSON".
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            metadata: Option<serde_json::Value>,
        }
        let nested = |depth: usize| {
            format!(
                "{{\"metadata\":{}1{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            )
        };
        // The body object is one level: metadata may nest 99 more.
        assert!(parse_json::<Body>(nested(MAX_JSON_DEPTH - 1).as_bytes()).is_ok());
        for depth in [MAX_JSON_DEPTH, 200, 5000] {
            let err = parse_json::<Body>(nested(depth).as_bytes()).unwrap_err();
            let ApiError::Validation(errors) = &err else {
                panic!("{err:?}")
            };
            assert_eq!(errors[0].field, "metadata");
            assert!(
                errors[0].message.contains("nested deeper than 100"),
                "{err:?}"
            );
        }
        let top = "[".repeat(300) + &"]".repeat(300);
        assert_eq!(
            field_of(parse_json::<Body>(top.as_bytes()).unwrap_err()),
            "body"
        );
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_name_the_field() {
        assert!(matches!(
            parse_json::<Login>(b"{"),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_json::<Login>(b""),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_json::<Login>(b"\xff"),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_json::<Login>(br#"{"email":"a","password":"b"} x"#),
            Err(ApiError::MalformedBody(_))
        ));
        assert_eq!(
            field_of(parse_json::<Login>(br#"{"email":"a"}"#).unwrap_err()),
            "password"
        );
        assert_eq!(
            field_of(parse_json::<Login>(br#"{"email":"a","password":5}"#).unwrap_err()),
            "password"
        );
        assert_eq!(
            field_of(parse_json::<Login>(br#"{"email":"a","password":"b","x":1}"#).unwrap_err()),
            "x"
        );
        assert_eq!(field_of(parse_json::<Login>(b"[]").unwrap_err()), "body");
        assert_eq!(field_of(parse_json::<Login>(b"null").unwrap_err()), "body");
        assert!(matches!(
            parse_json::<Login>(b"[,"),
            Err(ApiError::MalformedBody(_))
        ));
    }

    #[test]
    fn an_array_of_the_right_fields_is_not_an_object() {
        // Found by the bad-input table (issue 9): serde's derived structs
        // accept `[email, password]` as well as the object.
        assert_eq!(
            field_of(parse_json::<Login>(br#" ["a@x.io", "pw"]"#).unwrap_err()),
            "body"
        );
        assert!(matches!(
            parse_json::<Login>(br#"["a@x.io", "#),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(parse_json::<Login>(br#" {"email":"a","password":"b"}"#).is_ok());
    }

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(
            CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(is_json(&h));
        h.insert(CONTENT_TYPE, "Application/JSON".parse().unwrap());
        assert!(is_json(&h));
        h.insert(
            CONTENT_TYPE,
            "application/merge-patch+json".parse().unwrap(),
        );
        assert!(is_json(&h));
        h.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&h));
        h.insert(CONTENT_TYPE, "+json".parse().unwrap());
        assert!(!is_json(&h));
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 10.0.0.7".parse().unwrap());
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "5.6.7.8".parse().unwrap();
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(client_ip(Some(stranger), &h, &trusted), Some(stranger));
        assert_eq!(client_ip(Some(proxy), &h, &[]), Some(proxy));
    }

    /// TT-16: an `ip:port` or garbage right-most hop put every client in
    /// the proxy's bucket.
    #[test]
    fn forwarded_for_hops_with_ports_and_garbage() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let with = |xff: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", xff.parse().unwrap());
            client_ip(Some(proxy), &h, &trusted)
        };
        assert_eq!(with("1.2.3.4:5678"), ip("1.2.3.4"));
        assert_eq!(with("[2001:db8::7]:443"), ip("2001:db8::7"));
        assert_eq!(with("[2001:db8::7]"), ip("2001:db8::7"));
        assert_eq!(with("9.9.9.9, 1.2.3.4:80, 10.0.0.7:1"), ip("1.2.3.4"));
        // Garbage names no address: skipped, never the end of the walk.
        assert_eq!(with("1.2.3.4, garbage"), ip("1.2.3.4"));
        assert_eq!(with("1.2.3.4, unknown, 10.0.0.9"), ip("1.2.3.4"));
        assert_eq!(with("5.6.7.8, 1.2.3.4, , [::1"), ip("1.2.3.4"));
        // Nothing left of an untrusted hop is believed.
        assert_eq!(with("6.6.6.6, garbage, 1.2.3.4"), ip("1.2.3.4"));
        assert_eq!(with("6.6.6.6, 1.2.3.4:99, junk"), ip("1.2.3.4"));
        // Only garbage: the nearest trusted address, as without the header.
        assert_eq!(with("garbage"), Some(proxy));
        assert_eq!(with("garbage, 10.0.0.9"), ip("10.0.0.9"));
        // Not ports: bare v6 with a port needs brackets; bad ports refuse.
        assert_eq!(parse_hop("1.2.3.4:99999"), None);
        assert_eq!(parse_hop("[::1]:x"), None);
        assert_eq!(parse_hop("[1.2.3.4]:80"), None);
        assert_eq!(parse_hop("[::1]junk"), None);
        assert_eq!(parse_hop("::1"), "::1".parse().ok());
    }
}
