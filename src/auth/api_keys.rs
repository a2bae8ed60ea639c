//! Service API keys: what a key is, how it is made and kept, and the check
//! that turns a presented key into a known, scoped caller.
//!
//! A key is `tk_` followed by the base64url form of 32 bytes from the OS
//! CSPRNG (256 bits, 46 characters). The prefix lets `Authorization: Bearer`
//! carry keys beside JWTs and lets a leaked key be recognised by secret
//! scanners. The key is shown once, by `toktok api-key create`; the store
//! keeps only its SHA-256 in hex. A plain (unsalted, fast) hash is enough
//! here, unlike for passwords: the input has 256 bits of entropy, so there is
//! nothing to guess, and a fast hash lets every request look the key up by
//! its hash in one indexed query.
//!
//! [`authenticate`] is the whole rule: a `tk_` key that is known and not
//! revoked, carrying the scope the route needs. It is a plain async function
//! so the HTTP layer decides how to extract the header and how to answer
//! ([`ApiKeyError::Unknown`] is a 401, [`ApiKeyError::MissingScope`] a 403);
//! this module knows nothing of HTTP and writes no SQL.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SecureRandom as _;

use crate::store::{ApiKeyRecord, Store, StoreError};

/// What every API key starts with.
pub const PREFIX: &str = "tk_";

/// Random bytes in a key: 256 bits, well above the 128 the contract asks.
const KEY_BYTES: usize = 32;

pub use crate::domain::scope::Scope;

/// The OS random number generator failed: no key can be made safely.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the OS random number generator failed")]
pub struct RandomError;

/// A fresh key and the SHA-256 (hex) of it: the key goes to the operator
/// once, the hash to the store.
pub fn generate() -> Result<(String, String), RandomError> {
    let mut bytes = [0u8; KEY_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| RandomError)?;
    let key = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&key);
    Ok((key, hash))
}

/// SHA-256 of the whole key (prefix included), in lowercase hex: what the
/// store keeps and looks keys up by.
pub fn hash(key: &str) -> String {
    super::sha256_hex(key)
}

/// Whether a bearer token is meant as an API key (rather than a JWT).
pub fn looks_like_key(s: &str) -> bool {
    s.starts_with(PREFIX)
}

/// Why a presented API key was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// Not a `tk_` key, or no live key has this hash (unknown or revoked).
    /// One variant for all of these: the caller learns nothing about which.
    #[error("unknown or revoked API key")]
    Unknown,
    /// A live key without the scope the route needs.
    #[error("the API key lacks the needed scope")]
    MissingScope,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The live key behind `token` if it carries `needed`; records its use.
pub async fn authenticate(
    store: &Store,
    now: i64,
    token: &str,
    needed: Scope,
) -> Result<ApiKeyRecord, ApiKeyError> {
    if !looks_like_key(token) {
        return Err(ApiKeyError::Unknown);
    }
    let record = store
        .api_key_by_hash(&hash(token), now)
        .await?
        .ok_or(ApiKeyError::Unknown)?;
    if !record.scopes.contains(&needed) {
        return Err(ApiKeyError::MissingScope);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_prefix_and_256_bits_of_base64url() {
        let (key, hash_hex) = generate().unwrap();
        let body = key.strip_prefix(PREFIX).unwrap();
        assert_eq!(body.len(), 43, "{key}");
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), KEY_BYTES);
        assert!(looks_like_key(&key));
        assert_eq!(hash_hex, hash(&key));
        assert!(!hash_hex.contains(body));
    }

    #[test]
    fn keys_do_not_repeat() {
        let keys: std::collections::HashSet<String> =
            (0..100).map(|_| generate().unwrap().0).collect();
        assert_eq!(keys.len(), 100);
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hash("tk_x").len(), 64);
        assert_ne!(hash("tk_x"), hash("tk_y"));
    }

    #[test]
    fn only_tk_tokens_look_like_keys() {
        assert!(looks_like_key("tk_abc"));
        assert!(!looks_like_key("eyJhbGciOiJFZERTQSJ9.e30.sig"));
        assert!(!looks_like_key("TK_abc"));
        assert!(!looks_like_key(""));
    }

    #[test]
    fn scopes_parse_print_and_serialise_as_lowercase_names() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(scope.to_string(), scope.as_str());
            assert_eq!(
                serde_json::to_string(&scope).unwrap(),
                format!("\"{}\"", scope.as_str())
            );
        }
        let scopes: Vec<Scope> = serde_json::from_str(r#"["challenges","admin"]"#).unwrap();
        assert_eq!(scopes, vec![Scope::Challenges, Scope::Admin]);
    }

    #[test]
    fn an_unknown_scope_names_the_allowed_values() {
        for bad in ["", "Admin", "root", "challenges "] {
            let err = bad.parse::<Scope>().unwrap_err();
            let text = err.to_string();
            assert!(text.contains("challenges, admin"), "{text}");
            assert_eq!(err, crate::domain::scope::UnknownScope(bad.to_owned()));
        }
    }
}
