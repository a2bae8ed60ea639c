//! JWT signing and verification: toktok's access and anonymous tokens (and
//! the JWT refresh tokens issued before v1.1), the signing keys behind them,
//! and the JWKS that publishes them.
//!
//! This module owns the whole compact-JWS path: key generation (storage form
//! [`KeyMaterial`]), the parsed, shareable [`Keyring`], signing, verification
//! and the public key set served at `/.well-known/jwks.json`.
//!
//! It is hand-written on top of `ring` rather than built on a JWT crate so
//! that every rule of docs/SECURITY.md J1–J3 is visible in one place and nothing is
//! accepted by accident:
//!
//! - the accepted algorithm is fixed by the keyring, never chosen by the token
//!   (`alg: none`, another algorithm, HS256 signed with a public key: refused);
//! - the header is an allow-list (`alg`, `kid`, `typ`): `jku`, `x5u`, `jwk`,
//!   `x5c`, `x5t`, `crit` or anything else is refused, so no key material or
//!   extension can ever be smuggled in through the token itself;
//! - base64url is canonical and unpadded, JSON objects may not repeat a member
//!   name, and the token size is capped before anything is decoded;
//! - `exp`, `iat`, `nbf` must be JSON integers (a string or float `exp` is
//!   refused), `iss`, `aud` and the token kind `typ` are always checked, and
//!   claims are only looked at after the signature is good.
//!
//! Token shapes (docs/API.md "Token shapes, v1.1") are chosen so that a service
//! verifying the obvious way (signature through the JWKS, `iss`, `aud`,
//! `exp`) accepts access tokens and nothing else: access tokens carry the
//! JOSE header `typ: at+jwt` (RFC 9068) and `aud` = the audience; anonymous
//! tokens carry `aud` = `<audience>:anonymous` ([`anonymous_audience`]) and
//! header `typ: JWT`; refresh tokens are no longer JWTs at all
//! (`crate::accounts::tokens`). toktok's own check is stricter still: the
//! header `typ` must agree with the `typ` claim, except that access and
//! anonymous tokens in the pre-1.1 shape (header `typ: JWT`, no
//! `client_id`; anonymous `aud` = the audience) are accepted until they
//! expire, so an upgrade signs nobody out.
//!
//! Keys are parsed once in [`Keyring::new`]; `verify` runs on every request
//! and only does base64, JSON and one signature check, and not even that for
//! a token it has verified before: the claims of access and anonymous tokens
//! whose signature checked out are remembered by the token's exact text
//! (`VerifyMemo`), and every call still checks them, `exp` included, against
//! the clock. A memo belongs to its keyring, so a key rotation starts afresh.
//!
//! Files: this one holds the vocabulary (algorithms, token kinds, claims,
//! errors, what a token must satisfy); `keys.rs` generates and parses keys
//! and derives their JWKs; `keyring.rs` signs, verifies and remembers;
//! `compact.rs` reads the compact serialization (header allow-list,
//! canonical base64url, strict JSON, claim checks); `tests.rs` tests them.

mod compact;
mod keyring;
mod keys;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use keyring::Keyring;

pub use crate::domain::algorithm::Algorithm;
pub use keys::{generate_key, KeyMaterial};

// The strict reading of a compact JWS and the ring verifiers, reused for
// the ID tokens of other providers (`crate::federation`).
pub(crate) use compact::{decode_segment, parse_object, split_capped};
pub(crate) use keys::{Verifier, PRIVATE_JWK_MEMBERS};

/// Largest token accepted by [`Keyring::verify`] (and produced by
/// [`Keyring::sign`]). Ours are well under 1 KiB; the cap bounds the work an
/// unauthenticated caller can cause before the signature is checked.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Upper bound for [`Validation::leeway`] (docs/SECURITY.md J2); larger values are
/// clamped to it, negative ones to zero.
pub const MAX_LEEWAY: i64 = 60;

/// What a token is for; carried in the `typ` claim so that kinds cannot stand
/// in for each other (docs/SECURITY.md J3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
    Anonymous,
}

impl TokenKind {
    #[cfg(any(test, feature = "testing"))]
    /// The claim value: `access`, `refresh` or `anonymous`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Anonymous => "anonymous",
        }
    }
}

/// The JOSE header `typ` of access tokens (RFC 9068 section 2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The `client_id` of access tokens toktok issues for its own sessions
/// (RFC 9068 requires the claim; there is no other client yet).
pub const FIRST_PARTY_CLIENT_ID: &str = "toktok";

/// The `aud` of anonymous tokens: never the audience itself, so a service
/// that checks `aud` refuses them.
pub fn anonymous_audience(audience: &str) -> String {
    format!("{audience}:anonymous")
}

/// Claims toktok issues and reads. Unknown claims in a verified token are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// RFC 9068: `"toktok"` on access tokens of first-party sessions.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    pub typ: TokenKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<String>,
    /// When the user last proved who they are (sign-in), unix seconds;
    /// unchanged by refreshes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<i64>,
    /// How they proved it, RFC 8176 values (`["pwd"]`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub amr: Option<Vec<String>>,
    /// Authentication assurance level: 1 (one factor) for now.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub aal: Option<u8>,
    /// RFC 9068 §2.2.3: the scopes an OAuth client's access token was
    /// granted, space-separated; absent on toktok's own tokens.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
}

/// Why a token (or a key) was refused. `Malformed` and `Invalid` both become
/// 401 `invalid_token`, `Expired` becomes 401 `token_expired`; the reason in
/// `Invalid` is for logs only and must not reach a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a compact JWS we can even read: segments, base64url, JSON syntax, size.
    #[error("malformed token")]
    Malformed,
    /// Everything checked out except that `exp` (plus leeway) has passed.
    #[error("token expired")]
    Expired,
    /// Readable but refused: header, signature or claims.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// A key could not be loaded, generated or used; start-up only in practice.
    #[error("signing key error: {0}")]
    Key(String),
}

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct Validation {
    pub issuer: String,
    /// `[jwt] audience`. Anonymous tokens are checked against
    /// [`anonymous_audience`] of it (or, pre-1.1, the audience itself).
    pub audience: String,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds; clamped to
    /// `0..=MAX_LEEWAY`.
    pub leeway: i64,
    pub kind: TokenKind,
}
