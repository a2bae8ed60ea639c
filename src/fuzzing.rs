//! What the cargo-fuzz targets (`fuzz/`, issue 9) need and the public API
//! does not offer: the challenge-token codec and the account field checks,
//! which are crate-private. Not an API: only with the `fuzzing` feature,
//! hidden from the docs, and nothing in toktok uses it.

// Harness code for the fuzzer, built only for it: fixed keys that failed
// to load should stop the fuzzer at once, not be handled.
#![allow(clippy::expect_used)]

use serde_json::Value;

use crate::challenge::token::{Claims, Keyring, KEY_LEN, KID_LEN};
use crate::challenge::Namespace;
use crate::error::FieldError;

/// A challenge-token keyring with fixed keys: tokens sealed under the last
/// key, opened with any.
pub struct ChallengeTokens(Keyring);

/// What a challenge token carries: action, id, uid, secret.
pub type TokenClaims = (String, String, Option<String>, String);

impl ChallengeTokens {
    /// Two keys: key `i` (1, 2) has the id `[i; 8]` and the bytes `[i; 32]`.
    pub fn new() -> ChallengeTokens {
        use base64::Engine as _;
        let rows: Vec<(String, Vec<u8>)> = (1u8..=2)
            .map(|i| {
                let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([i; KID_LEN]);
                (kid, vec![i; KEY_LEN])
            })
            .collect();
        ChallengeTokens(Keyring::from_rows(&rows).expect("two valid keys"))
    }

    /// `None` unless `token` is a genuine token of these keys (namespace `api`).
    pub fn open(&self, token: &str) -> Option<TokenClaims> {
        self.0
            .open(token, Namespace::Api)
            .map(|c| (c.action, c.id, c.uid, c.secret))
    }

    /// Seals `claims` under the newest key with a random nonce.
    pub fn seal(&self, claims: TokenClaims) -> String {
        let (action, id, uid, secret) = claims;
        let claims = Claims {
            action,
            id,
            uid,
            secret,
        };
        self.0
            .seal(&claims, Namespace::Api, &ring::rand::SystemRandom::new())
            .expect("sealing with a valid key")
    }
}

impl Default for ChallengeTokens {
    fn default() -> Self {
        ChallengeTokens::new()
    }
}

/// The `name` check of registration and profile edits.
pub fn check_name(name: &Option<String>) -> Result<(), FieldError> {
    crate::accounts::check_name(name)
}

/// The `metadata` / `app_metadata` check of registration and edits.
pub fn check_metadata(field: &str, metadata: &Value) -> Result<(), FieldError> {
    crate::accounts::check_metadata(field, metadata)
}
