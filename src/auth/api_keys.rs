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

/// The longest API key name accepted: a label, not a document.
pub const MAX_NAME: usize = 200;

/// A key just made: shown once (`key`), stored by its hash with `record`.
#[derive(Debug)]
pub struct NewKey {
    pub key: String,
    pub hash: String,
    pub record: ApiKeyRecord,
}

/// Why a new key was not made: each says what to fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NewKeyError {
    #[error("the name must not be empty")]
    EmptyName,
    #[error("the name is longer than {MAX_NAME} bytes")]
    LongName,
    #[error("the name must not contain control characters")]
    ControlInName,
    #[error("at least one scope is needed")]
    NoScope,
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// The rules of a new key, for every way one is made (`toktok api-key
/// create`, the admin console): a trimmed, printable name of at most
/// [`MAX_NAME`] bytes and at least one scope (repeats dropped). The caller
/// stores it (`Store::insert_api_key`) with its audit event
/// ([`created_detail`]).
pub fn new_key(name: &str, scopes: Vec<Scope>, now: i64) -> Result<NewKey, NewKeyError> {
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(NewKeyError::EmptyName);
    }
    if name.len() > MAX_NAME {
        return Err(NewKeyError::LongName);
    }
    if name.chars().any(char::is_control) {
        return Err(NewKeyError::ControlInName);
    }
    let mut unique: Vec<Scope> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        if !unique.contains(&scope) {
            unique.push(scope);
        }
    }
    if unique.is_empty() {
        return Err(NewKeyError::NoScope);
    }
    let (key, hash) = generate()?;
    let record = ApiKeyRecord {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        scopes: unique,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Ok(NewKey { key, hash, record })
}

/// The detail of an `api_key.created` audit event (never the key).
pub fn created_detail(record: &ApiKeyRecord) -> serde_json::Value {
    serde_json::json!({ "id": record.id, "name": record.name, "scopes": record.scopes })
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
    fn a_new_key_has_a_printable_name_and_a_scope() {
        let k = new_key("  billing  ", vec![Scope::Admin, Scope::Admin], 5).unwrap();
        assert_eq!(k.record.name, "billing");
        assert_eq!(k.record.scopes, vec![Scope::Admin]);
        assert_eq!(k.hash, hash(&k.key));
        let err = |name: &str, scopes: Vec<Scope>| new_key(name, scopes, 5).unwrap_err();
        assert!(matches!(
            err(" ", vec![Scope::Admin]),
            NewKeyError::EmptyName
        ));
        let long = "x".repeat(MAX_NAME + 1);
        assert!(matches!(
            err(&long, vec![Scope::Admin]),
            NewKeyError::LongName
        ));
        assert!(matches!(
            err("a\u{7}", vec![Scope::Admin]),
            NewKeyError::ControlInName
        ));
        assert!(matches!(err("a", vec![]), NewKeyError::NoScope));
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
