//! The compact serialization and what is read from it: the header
//! allow-list, canonical base64url, JSON objects without repeated members,
//! and the claims with their checks (docs/SECURITY.md J1–J2).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    anonymous_audience, Algorithm, Claims, JwtError, TokenKind, Validation, ACCESS_TOKEN_TYP,
    MAX_LEEWAY, MAX_TOKEN_LEN,
};

/// Header members that carry key material or extensions. They are refused by
/// the allow-list anyway; naming them gives a clearer reason in the logs.
const FORBIDDEN_HEADER: &[&str] = &["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"];

pub(super) fn encode_header(alg: Algorithm, kid: &str, typ: &str) -> String {
    let header = json!({ "alg": alg.as_str(), "kid": kid, "typ": typ });
    URL_SAFE_NO_PAD.encode(header.to_string())
}

/// The three segments of a compact JWS, decoded, and the signing input.
pub(crate) struct Parts<'a> {
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    /// The text of the first two segments and the dot between them,
    /// exactly as received.
    pub signing_input: &'a [u8],
}

/// Splits and decodes a token: size first, then exactly three canonical
/// base64url segments. Anything else is `Malformed`.
pub(super) fn split(token: &str) -> Result<Parts<'_>, JwtError> {
    split_capped(token, MAX_TOKEN_LEN)
}

/// [`split`] with a size cap of the caller's: tokens of other issuers
/// (`crate::federation`) may be larger than toktok's own.
pub(crate) fn split_capped(token: &str, max_len: usize) -> Result<Parts<'_>, JwtError> {
    if token.len() > max_len {
        return Err(JwtError::Malformed);
    }
    let mut segments = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(sig_b64), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(JwtError::Malformed);
    };
    let header = decode_segment(header_b64)?;
    let payload = decode_segment(payload_b64)?;
    let signature = decode_segment(sig_b64)?;
    let signing_input = token
        .as_bytes()
        .get(..header_b64.len() + 1 + payload_b64.len())
        .ok_or(JwtError::Malformed)?;
    Ok(Parts {
        header,
        payload,
        signature,
        signing_input,
    })
}

/// What a protected header says, once it passed [`check_header`].
pub(super) struct Header {
    /// The `kid`, when there is one (the keyring decides whether it must be).
    pub kid: Option<String>,
    /// `typ` is `at+jwt` (else it is `JWT` or absent).
    pub access_typ: bool,
}

/// Applies the header allow-list (`alg`, `kid`, `typ` and nothing else),
/// requires `alg` to be the keyring's, and reads `typ` and `kid`.
pub(super) fn check_header(header: &[u8], alg: Algorithm) -> Result<Header, JwtError> {
    let header = parse_object(header)?;
    for name in header.keys() {
        match name.as_str() {
            "alg" | "kid" | "typ" => {}
            n if FORBIDDEN_HEADER.contains(&n) => {
                return Err(JwtError::Invalid("forbidden header parameter"))
            }
            _ => return Err(JwtError::Invalid("unsupported header parameter")),
        }
    }
    match header.get("alg") {
        Some(Value::String(name)) if name == alg.as_str() => {}
        Some(_) => return Err(JwtError::Invalid("algorithm not accepted")),
        None => return Err(JwtError::Invalid("missing alg")),
    }
    let access_typ = match header.get("typ") {
        None => false,
        Some(Value::String(typ)) if typ == "JWT" => false,
        Some(Value::String(typ)) if typ == ACCESS_TOKEN_TYP => true,
        Some(_) => return Err(JwtError::Invalid("unexpected typ header")),
    };
    let kid = match header.get("kid") {
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(JwtError::Invalid("kid is not a string")),
        None => None,
    };
    Ok(Header { kid, access_typ })
}

/// The header `typ` must agree with the `typ` claim: `at+jwt` on access
/// tokens only, and an access token without it only in the pre-1.1 shape
/// (no `client_id`).
pub(super) fn check_typ(header: &Header, claims: &WireClaims) -> Result<(), JwtError> {
    match (header.access_typ, claims.typ) {
        (true, TokenKind::Access) => Ok(()),
        (true, _) => Err(JwtError::Invalid("at+jwt on a token that is not access")),
        // Only the pre-1.1 shape, which had no client_id, may lack it.
        (false, TokenKind::Access) if claims.client_id.is_some() => {
            Err(JwtError::Invalid("access token without typ at+jwt"))
        }
        (false, _) => Ok(()),
    }
}

/// Canonical, unpadded base64url of a non-empty segment.
pub(crate) fn decode_segment(segment: &str) -> Result<Vec<u8>, JwtError> {
    if segment.is_empty() {
        return Err(JwtError::Malformed);
    }
    // URL_SAFE_NO_PAD refuses `=`, `+`, `/`, whitespace and non-zero
    // trailing bits, so each token has exactly one textual form.
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::Malformed)
}

/// A JSON object that remembers whether a member name was repeated, which
/// `serde_json::Value` silently resolves (last one wins) and other parsers
/// may resolve differently.
struct StrictObject {
    members: Map<String, Value>,
    duplicate: bool,
}

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = StrictObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictObject, A::Error> {
                let mut members = Map::new();
                let mut duplicate = false;
                while let Some(name) = map.next_key::<String>()? {
                    let value: Value = map.next_value()?;
                    duplicate |= members.insert(name, value).is_some();
                }
                Ok(StrictObject { members, duplicate })
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// Parses a JSON object: not JSON or not an object is `Malformed`, a repeated
/// member name is `Invalid`.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JwtError> {
    let object: StrictObject = serde_json::from_slice(bytes).map_err(|_| JwtError::Malformed)?;
    if object.duplicate {
        return Err(JwtError::Invalid("duplicate JSON member"));
    }
    Ok(object.members)
}

/// `aud` may be one string or an array of strings (RFC 7519 4.1.3).
#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims as they come off the wire; only `aud` differs from [`Claims`].
#[derive(Clone, Deserialize)]
pub(super) struct WireClaims {
    iss: String,
    aud: Audience,
    sub: String,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    sid: Option<String>,
    pub(super) typ: TokenKind,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    amr: Option<Vec<String>>,
    #[serde(default)]
    aal: Option<u8>,
    #[serde(default)]
    scope: Option<String>,
}

pub(super) fn parse_claims(payload: &[u8]) -> Result<WireClaims, JwtError> {
    let members = parse_object(payload)?;
    // Typed deserialisation is what makes `"exp":"9999999999"` or
    // `"exp":1e10` fail: an i64 field accepts JSON integers only.
    serde_json::from_value(Value::Object(members))
        .map_err(|_| JwtError::Invalid("claims missing or of the wrong type"))
}

pub(super) fn check_claims(c: WireClaims, v: &Validation, now: i64) -> Result<Claims, JwtError> {
    if c.iss != v.issuer {
        return Err(JwtError::Invalid("wrong issuer"));
    }
    // Anonymous tokens have an audience of their own; the pre-1.1 ones
    // (aud = the audience) are still taken until they expire.
    let expected = match v.kind {
        TokenKind::Anonymous => anonymous_audience(&v.audience),
        TokenKind::Access | TokenKind::Refresh => v.audience.clone(),
    };
    let legacy = (v.kind == TokenKind::Anonymous).then_some(&v.audience);
    let ours = |aud: &&String| **aud == expected || Some(*aud) == legacy;
    let audience = match &c.aud {
        Audience::One(aud) => Some(aud).filter(ours),
        Audience::Many(auds) => auds.iter().find(ours),
    }
    .cloned()
    .ok_or(JwtError::Invalid("wrong audience"))?;
    if c.typ != v.kind {
        return Err(JwtError::Invalid("wrong token kind"));
    }
    let leeway = v.leeway.clamp(0, MAX_LEEWAY);
    if c.nbf.saturating_sub(leeway) > now {
        return Err(JwtError::Invalid("not yet valid"));
    }
    if c.iat.saturating_sub(leeway) > now {
        return Err(JwtError::Invalid("issued in the future"));
    }
    if c.exp.saturating_add(leeway) <= now {
        return Err(JwtError::Expired);
    }
    Ok(Claims {
        iss: c.iss,
        aud: audience,
        sub: c.sub,
        exp: c.exp,
        iat: c.iat,
        nbf: c.nbf,
        jti: c.jti,
        client_id: c.client_id,
        sid: c.sid,
        typ: c.typ,
        email: c.email,
        email_verified: c.email_verified,
        role: c.role,
        auth_time: c.auth_time,
        amr: c.amr,
        aal: c.aal,
        scope: c.scope,
    })
}
