//! RSA-encrypted request bodies: the server's RSA keys and JWE decryption
//! (docs/API.md "Encrypted bodies", docs/SECURITY.md O1–O3). Free of HTTP.
//!
//! This module owns:
//!
//! - key generation ([`generate_key`]) and the storage form of a key, PKCS#8
//!   DER, kept in the `rsa_keys` table so every restart and every worker
//!   decrypts with the same key (O3);
//! - the [`RsaKeyring`]: the current key, which clients encrypt to, plus keys
//!   rotated out less than [`GRACE_PERIOD`] ago, which still decrypt so that a
//!   client holding the previous public key is not refused mid-rotation. Each
//!   key's `kid` is its RFC 7638 JWK thumbprint;
//! - the one JWE form accepted: compact serialization with `alg`
//!   `RSA-OAEP-256` and `enc` `A256GCM`, nothing else (O1: no PKCS#1 v1.5, no
//!   SHA-1 OAEP, no `zip`, no `crit`);
//! - a bounded pool that runs decryption off the async runtime.
//!
//! Why aws-lc-rs and not the `rsa` crate: the `rsa` crate's private-key
//! operations are not constant time (RUSTSEC-2023-0071, the Marvin attack,
//! no fixed release), and a server that decrypts attacker-chosen ciphertexts
//! and answers differently by timing is exactly what that attack needs.
//! aws-lc's RSA is blinded and constant time, and ring cannot decrypt RSA at
//! all. The `rsa` crate is not used at all, not even in tests: decryption
//! is checked against JWEs and a key made by Python's `cryptography`
//! (`testdata/independent.py`) and against the Wycheproof vectors, code it
//! does not share.
//!
//! Why every failure is one [`InvalidEncryption`] (O2): a distinguishable
//! "padding was wrong" answer, by content or by timing, is a decryption
//! oracle. So the error carries no reason, and when the RSA step fails (or
//! yields a key of the wrong length) decryption carries on with a random
//! content key and fails at the AES-GCM tag like any other forgery
//! (RFC 7516 §11.5), so both paths do the same work. What is checked before
//! the RSA step (segments, base64url, header, `kid`, sizes) depends only on
//! public data.
//!
//! Why a pool: an RSA private-key operation costs about a millisecond
//! (3072-bit) to tens of milliseconds (8192-bit) of CPU, for any anonymous
//! caller. Like password hashing (`crate::auth::password::HashPool`) it runs
//! on tokio's blocking pool, at most one per core, behind a bounded queue;
//! past it callers get [`DecryptError::Overloaded`] (503) at once.

//!
//! Files: this one holds the profile's constants and errors; `keys.rs`
//! generates and parses keys (kid, public-key object); `keyring.rs` holds
//! the [`RsaKeyring`], its loading, rotation and the pool; `decrypt.rs` the
//! one accepted JWE form; `tests.rs` tests them against independent
//! encryptions and the Wycheproof vectors.

mod decrypt;
mod keyring;
mod keys;
#[cfg(test)]
mod tests;

pub use keyring::RsaKeyring;
pub use keys::generate_key;

/// The only key-management algorithm accepted (JWE `alg`).
pub const JWE_ALG: &str = "RSA-OAEP-256";
/// The only content-encryption algorithm accepted (JWE `enc`).
pub const JWE_ENC: &str = "A256GCM";
/// How long a rotated-out key keeps decrypting, in seconds. A day covers
/// clients that fetched the public key before the rotation and servers that
/// pick up the new key only at their next restart.
pub const GRACE_PERIOD: i64 = 24 * 60 * 60;
/// Largest JWE accepted, before anything is decoded. The HTTP body limit
/// applies first; this keeps the function safe to call on any input.
pub const MAX_JWE_LEN: usize = 1024 * 1024;
/// Smallest RSA key toktok generates or loads (O3).
pub const MIN_KEY_BITS: usize = 2048;

/// The body could not be decrypted. Deliberately without a reason: every
/// failure must look the same to the client (O2). Answer 400
/// `invalid_encryption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid encryption")]
pub struct InvalidEncryption;

/// Why [`RsaKeyring::decrypt`] returned no plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Any decryption failure: 400 `invalid_encryption`.
    #[error("invalid encryption")]
    Invalid,
    /// Too many decryptions already wait: 503 with Retry-After.
    #[error("RSA decryption is overloaded")]
    Overloaded,
}

impl From<InvalidEncryption> for DecryptError {
    fn from(_: InvalidEncryption) -> Self {
        DecryptError::Invalid
    }
}

/// A key could not be generated or loaded; start-up and CLI only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RSA key error: {0}")]
pub struct RsaKeyError(String);
