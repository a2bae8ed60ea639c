//! Verifying the ID token a provider returns from its token endpoint (OIDC
//! Core §3.1.3.7), strictly: every check runs on every token, and a claim
//! the check needs that is missing fails it. A verifier that skips the
//! `exp` check when `exp` is absent accepts such a token forever.
//!
//! The order: size and shape (three canonical base64url segments, JSON
//! objects without repeated members), then the header (`alg` allowed and
//! the key's, no key material), then the signature, and only then the
//! claims: `iss`, `aud`/`azp`, `nonce`, `sub`, the times, and what we
//! read of the profile (`email`, `email_verified`, `name`).

use serde_json::{Map, Value};

use super::jwks::{KeyAlg, ProviderKey, ProviderKeys};
use crate::auth::jwt::{parse_object, split_capped, JwtError};

/// Largest ID token accepted, checked before anything is decoded. Twice
/// toktok's own cap (`crate::auth::jwt::MAX_TOKEN_LEN`): providers put
/// more in theirs (groups, profile pictures).
pub const MAX_ID_TOKEN_LEN: usize = 16 * 1024;

/// Clock skew allowed on `exp`, `iat` and `nbf`, in seconds.
pub const LEEWAY: i64 = 60;

/// The algorithms [`Expected::new`] allows: all the ones we verify.
pub const DEFAULT_ALGS: &[&str] = &["RS256", "ES256", "EdDSA"];

/// The longest `sub` (OIDC Core §2: at most 255 ASCII characters).
pub const MAX_SUB_LEN: usize = 255;

/// Header members that carry keys or extensions. Keys come from the
/// provider's JWKS only, and we implement no extension `crit` could name.
const FORBIDDEN_HEADER: &[&str] = &["jku", "x5u", "jwk", "x5c", "crit"];

/// What the token must say, from the sign-in flow that is ending.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The provider's `issuer`, compared exactly.
    pub issuer: &'a str,
    /// Our client id at the provider: the audience.
    pub client_id: &'a str,
    /// The nonce sent in the authorization request of this flow.
    pub nonce: &'a str,
    /// The current time, unix seconds.
    pub now: i64,
    /// Header `alg` values accepted; names we do not verify (`none`,
    /// `HS256`, `PS256`, ...) are refused even if listed.
    pub algs: &'a [&'a str],
}

#[cfg(test)]
impl<'a> Expected<'a> {
    /// With [`DEFAULT_ALGS`].
    pub fn new(issuer: &'a str, client_id: &'a str, nonce: &'a str, now: i64) -> Expected<'a> {
        Expected {
            issuer,
            client_id,
            nonce,
            now,
            algs: DEFAULT_ALGS,
        }
    }
}

/// What a verified ID token says about the user.
#[derive(Debug, Clone, PartialEq)]
pub struct IdClaims {
    /// The user at this provider: non-empty, at most [`MAX_SUB_LEN`] bytes.
    pub sub: String,
    pub email: Option<String>,
    /// The provider vouches for `email`: a JSON `true` or the string
    /// `"true"` (Apple), and only when there is an `email`.
    pub email_verified: bool,
    pub name: Option<String>,
    /// Every claim of the token, for what a provider adds (Microsoft's
    /// `tid`, Google's `hd`, Apple's `is_private_email`).
    pub claims: Map<String, Value>,
}

/// Why an ID token was refused. None of them is for the user's eyes: the
/// flow fails as a whole, and the reason goes to the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// No key of the set has the header's `kid` (or, without a `kid`, none
    /// is of the header's algorithm): the provider may have rotated its
    /// keys, so the caller refetches the JWKS once and tries again.
    #[error("ID token signed with a key not in the provider's key set")]
    UnknownKid,
    /// Not a compact JWS we can read: size, segments, base64url, JSON.
    #[error("malformed ID token")]
    Malformed,
    /// Readable but refused: header, signature or a claim. The reason is
    /// for the log.
    #[error("invalid ID token: {0}")]
    Invalid(&'static str),
    /// Everything checked out except that `exp` (plus [`LEEWAY`]) has
    /// passed.
    #[error("ID token expired")]
    Expired,
}

fn from_jwt(error: JwtError) -> IdTokenError {
    match error {
        JwtError::Malformed => IdTokenError::Malformed,
        JwtError::Expired => IdTokenError::Expired,
        JwtError::Invalid(reason) => IdTokenError::Invalid(reason),
        JwtError::Key(_) => IdTokenError::Invalid("key error"),
    }
}

/// The header's `kid`, read without verifying anything, so that the caller
/// can refetch the JWKS when it names a key the cached set lacks
/// ([`ProviderKeys::has_kid`]).
pub fn header_kid(token: &str) -> Result<Option<String>, IdTokenError> {
    let parts = split_capped(token, MAX_ID_TOKEN_LEN).map_err(from_jwt)?;
    let header = parse_object(&parts.header).map_err(from_jwt)?;
    kid(&header)
}

/// Verifies an ID token against the provider's keys and what this flow
/// expects (module doc), and returns its claims.
pub fn verify(
    token: &str,
    keys: &ProviderKeys,
    expected: &Expected<'_>,
) -> Result<IdClaims, IdTokenError> {
    let parts = split_capped(token, MAX_ID_TOKEN_LEN).map_err(from_jwt)?;
    let header = parse_object(&parts.header).map_err(from_jwt)?;
    let alg = check_header(&header, expected.algs)?;
    let key = pick_key(keys, kid(&header)?.as_deref(), alg)?;
    key.verifier
        .verify(parts.signing_input, &parts.signature)
        .map_err(|_| IdTokenError::Invalid("bad signature"))?;
    let claims = parse_object(&parts.payload).map_err(from_jwt)?;
    check_claims(claims, expected)
}

/// Refuses key-bearing members and returns the `alg`, which must be one
/// the caller allows and we verify.
fn check_header(header: &Map<String, Value>, allowed: &[&str]) -> Result<KeyAlg, IdTokenError> {
    if FORBIDDEN_HEADER.iter().any(|m| header.contains_key(*m)) {
        return Err(IdTokenError::Invalid("forbidden header parameter"));
    }
    let name = match header.get("alg") {
        Some(Value::String(name)) => name.as_str(),
        Some(_) => return Err(IdTokenError::Invalid("alg is not a string")),
        None => return Err(IdTokenError::Invalid("missing alg")),
    };
    if !allowed.contains(&name) {
        return Err(IdTokenError::Invalid("algorithm not allowed"));
    }
    KeyAlg::from_name(name).ok_or(IdTokenError::Invalid("algorithm not supported"))
}

fn kid(header: &Map<String, Value>) -> Result<Option<String>, IdTokenError> {
    match header.get("kid") {
        None => Ok(None),
        Some(Value::String(kid)) => Ok(Some(kid.clone())),
        Some(_) => Err(IdTokenError::Invalid("kid is not a string")),
    }
}

/// The key with the header's `kid` (which must be for the header's `alg`),
/// or, without a `kid`, the one key for that `alg`.
fn pick_key<'k>(
    keys: &'k ProviderKeys,
    kid: Option<&str>,
    alg: KeyAlg,
) -> Result<&'k ProviderKey, IdTokenError> {
    let named: Vec<&ProviderKey> = keys
        .keys()
        .iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .collect();
    if named.is_empty() {
        return Err(IdTokenError::UnknownKid);
    }
    let mut fitting = named.iter().filter(|k| k.alg == alg);
    match (fitting.next(), fitting.next()) {
        (Some(key), None) => Ok(key),
        (Some(_), Some(_)) if kid.is_some() => Err(IdTokenError::Invalid("kid names several keys")),
        (Some(_), Some(_)) => Err(IdTokenError::Invalid("no kid and several keys")),
        (None, _) if kid.is_some() => Err(IdTokenError::Invalid("alg is not the key's")),
        (None, _) => Err(IdTokenError::UnknownKid),
    }
}

fn check_claims(claims: Map<String, Value>, e: &Expected<'_>) -> Result<IdClaims, IdTokenError> {
    let invalid = IdTokenError::Invalid;
    match claims.get("iss") {
        Some(Value::String(iss)) if iss == e.issuer => {}
        Some(_) => return Err(invalid("wrong issuer")),
        None => return Err(invalid("missing iss")),
    }
    let several_audiences = match claims.get("aud") {
        Some(Value::String(aud)) if aud == e.client_id => false,
        Some(Value::Array(auds)) => {
            if !auds.iter().all(Value::is_string) {
                return Err(invalid("aud is not a string or an array of strings"));
            }
            if !auds.iter().any(|aud| aud == e.client_id) {
                return Err(invalid("wrong audience"));
            }
            auds.len() > 1
        }
        Some(_) => return Err(invalid("wrong audience")),
        None => return Err(invalid("missing aud")),
    };
    match claims.get("azp") {
        Some(Value::String(azp)) if azp == e.client_id => {}
        Some(_) => return Err(invalid("wrong azp")),
        None if several_audiences => return Err(invalid("several audiences and no azp")),
        None => {}
    }
    match claims.get("nonce") {
        Some(Value::String(nonce)) if nonce.is_empty() || e.nonce.is_empty() => {
            return Err(invalid("empty nonce"))
        }
        Some(Value::String(nonce)) if same(nonce.as_bytes(), e.nonce.as_bytes()) => {}
        Some(_) => return Err(invalid("wrong nonce")),
        None => return Err(invalid("missing nonce")),
    }
    let sub = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() && sub.len() <= MAX_SUB_LEN => sub.clone(),
        Some(_) => return Err(invalid("sub is not a string of 1 to 255 bytes")),
        None => return Err(invalid("missing sub")),
    };
    let exp = integer(&claims, "exp", "exp is not an integer")?.ok_or(invalid("missing exp"))?;
    let iat = integer(&claims, "iat", "iat is not an integer")?.ok_or(invalid("missing iat"))?;
    let nbf = integer(&claims, "nbf", "nbf is not an integer")?;
    if iat.saturating_sub(LEEWAY) > e.now {
        return Err(invalid("issued in the future"));
    }
    if nbf.is_some_and(|nbf| nbf.saturating_sub(LEEWAY) > e.now) {
        return Err(invalid("not yet valid"));
    }
    let email = string(&claims, "email", "email is not a string")?;
    let name = string(&claims, "name", "name is not a string")?;
    // Apple sends "true"/"false" strings; anything else is "not verified".
    let verified = match claims.get("email_verified") {
        Some(Value::Bool(verified)) => *verified,
        Some(Value::String(verified)) => verified == "true",
        _ => false,
    };
    // Expired last: it means everything else checked out.
    if exp.saturating_add(LEEWAY) <= e.now {
        return Err(IdTokenError::Expired);
    }
    Ok(IdClaims {
        sub,
        email_verified: verified && email.is_some(),
        email,
        name,
        claims,
    })
}

/// An optional JSON integer claim (a float or a string is refused).
fn integer(
    claims: &Map<String, Value>,
    name: &str,
    wrong: &'static str,
) -> Result<Option<i64>, IdTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or(IdTokenError::Invalid(wrong)),
    }
}

/// An optional string claim; `null` counts as absent.
fn string(
    claims: &Map<String, Value>,
    name: &str,
    wrong: &'static str,
) -> Result<Option<String>, IdTokenError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(IdTokenError::Invalid(wrong)),
    }
}

/// Equality that takes the same time wherever the bytes differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
