//! RSA-encrypted request bodies: the server's RSA keys and JWE decryption
//! (API.md "Encrypted bodies", SECURITY.md O1–O3). Free of HTTP.
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
//! all. The `rsa` crate is used only in tests, to *encrypt* with the public
//! key, so that decryption is checked against code it does not share.
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

use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::pool::{BlockingPool, RunError};
use super::rotation::{self, KeyTimes};
use crate::store::{RsaKeyRow, Store};

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

/// A256GCM: 256-bit content key, 96-bit IV, 128-bit tag.
const CEK_LEN: usize = 32;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;

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

/// A freshly generated key in storage form.
#[derive(Clone)]
pub struct GeneratedKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// PKCS#8 DER of the private key. Secret: never logged (see `Debug`).
    pub private_der: Vec<u8>,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The supported modulus size for `[rsa] key_bits`: the smallest of 2048,
/// 3072, 4096 and 8192 bits that is at least `bits`. Below 2048 or above
/// 8192 is refused (the config refuses both already).
pub fn key_size(bits: usize) -> Result<KeySize, RsaKeyError> {
    match bits {
        0..MIN_KEY_BITS => Err(RsaKeyError(format!(
            "{bits}-bit RSA keys are too small; at least {MIN_KEY_BITS} bits are needed"
        ))),
        MIN_KEY_BITS..=2048 => Ok(KeySize::Rsa2048),
        2049..=3072 => Ok(KeySize::Rsa3072),
        3073..=4096 => Ok(KeySize::Rsa4096),
        4097..=8192 => Ok(KeySize::Rsa8192),
        _ => Err(RsaKeyError(format!(
            "{bits}-bit RSA keys are not supported; at most 8192 bits"
        ))),
    }
}

/// Blocking (a 3072-bit key takes a fraction of a second, 8192 bits several
/// seconds): generates a key of at least `bits` bits with aws-lc.
pub fn generate_key(bits: usize) -> Result<GeneratedKey, RsaKeyError> {
    let size = key_size(bits)?;
    let pair =
        KeyPair::generate(size).map_err(|_| RsaKeyError("RSA key generation failed".into()))?;
    let der = pair
        .as_der()
        .map_err(|_| RsaKeyError("RSA key encoding failed".into()))?;
    let private_der = der.as_ref().to_vec();
    // Load what was generated, so the stored form is known to be usable and
    // the kid comes from the same code path as at every start.
    let key = DecryptionKey::from_pkcs8(&private_der)?;
    Ok(GeneratedKey {
        kid: key.kid,
        private_der,
    })
}

/// One private key, parsed once, ready to decrypt.
struct DecryptionKey {
    kid: String,
    oaep: OaepPrivateDecryptingKey,
    /// The public-key object served to clients ([`RsaKeyring::public_key`]).
    public: Value,
}

impl DecryptionKey {
    fn from_pkcs8(der: &[u8]) -> Result<Self, RsaKeyError> {
        let rejected = |what: &str| RsaKeyError(format!("the RSA private key {what}"));
        // aws-lc accepts 2048 to 8192-bit keys only, so a smaller key fails here.
        let private = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|_| rejected("is not a PKCS#8 RSA key of 2048 to 8192 bits"))?;
        if private.key_size_bits() < MIN_KEY_BITS {
            return Err(rejected("is smaller than 2048 bits"));
        }
        let pair = KeyPair::from_pkcs8(der).map_err(|_| rejected("has an unusable public part"))?;
        let public = pair.public_key();
        let spki = public
            .as_der()
            .map_err(|_| rejected("cannot encode its public key"))?;
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let kid = thumbprint(&n, &e);
        let jwk = json!({
            "kty": "RSA",
            "n": n,
            "e": e,
            "kid": kid,
            "alg": JWE_ALG,
            "use": "enc",
        });
        let public = json!({
            "kid": kid,
            "alg": JWE_ALG,
            "enc": JWE_ENC,
            "pem": pem("PUBLIC KEY", spki.as_ref()),
            "jwk": jwk,
        });
        let oaep = OaepPrivateDecryptingKey::new(private)
            .map_err(|_| rejected("cannot be used for RSA-OAEP"))?;
        Ok(DecryptionKey { kid, oaep, public })
    }

    /// The RSA-OAEP-SHA256 step with an optional label (JWE uses none; the
    /// Wycheproof vectors use some). Constant time inside aws-lc; the result
    /// says only whether it worked.
    fn oaep_decrypt(&self, ciphertext: &[u8], label: Option<&[u8]>) -> Option<Vec<u8>> {
        let mut out = vec![0u8; self.oaep.min_output_size()];
        let plain = self
            .oaep
            .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, label)
            .ok()
            .map(|p| p.to_vec());
        out.fill(0);
        plain
    }
}

/// RFC 7638 JWK thumbprint of an RSA public key: SHA-256 over the required
/// members in lexicographic order, base64url. A stable `kid` derived from
/// the key itself, the same wherever the key is loaded.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// PEM armour (RFC 7468): standard base64 in 64-column lines.
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The JWE protected header. An allow-list: `zip`, `crit`, `jku`, `jwk`,
/// `x5u`, `epk` or any other member is refused, as is a repeated member.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    enc: String,
    #[serde(default)]
    kid: Option<String>,
    /// Informational only (RFC 7516 §4.1.11, §4.1.12); allowed, ignored.
    #[serde(default, rename = "typ")]
    _typ: Option<IgnoredAny>,
    #[serde(default, rename = "cty")]
    _cty: Option<IgnoredAny>,
}

/// The keys one decryption may use, swapped whole on reload.
struct KeySet {
    /// The served key: what clients encrypt to, and what a JWE without
    /// `kid` is opened with.
    current: DecryptionKey,
    /// The other keys that decrypt by `kid`: a rotated-in key not served
    /// yet, and rotated-out keys still within [`GRACE_PERIOD`].
    previous: Vec<DecryptionKey>,
}

impl KeySet {
    /// The ids of every key that decrypts, the served one first.
    fn kids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| k.kid.as_str())
    }

    /// A `kid` names any live key; without one only the current key is tried.
    fn find(&self, kid: Option<&str>) -> Option<&DecryptionKey> {
        match kid {
            None => Some(&self.current),
            Some(kid) => std::iter::once(&self.current)
                .chain(&self.previous)
                .find(|k| k.kid == kid),
        }
    }

    fn decrypt_jwe(&self, compact: &[u8]) -> Result<Vec<u8>, InvalidEncryption> {
        if compact.len() > MAX_JWE_LEN {
            return Err(InvalidEncryption);
        }
        let mut segments = compact.split(|&b| b == b'.');
        let (Some(header_b64), Some(ek), Some(iv), Some(ciphertext), Some(tag), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(InvalidEncryption);
        };
        let header = b64(header_b64)?;
        // serde would also read a struct from a JSON array; a header is an object.
        if header.trim_ascii_start().first() != Some(&b'{') {
            return Err(InvalidEncryption);
        }
        let header: Header = serde_json::from_slice(&header).map_err(|_| InvalidEncryption)?;
        if header.alg != JWE_ALG || header.enc != JWE_ENC {
            return Err(InvalidEncryption);
        }
        let key = self.find(header.kid.as_deref()).ok_or(InvalidEncryption)?;
        let ek = b64(ek)?;
        let iv = b64(iv)?;
        let tag = b64(tag)?;
        let mut in_out = b64(ciphertext)?;
        if ek.len() != key.oaep.key_size_bytes() || iv.len() != IV_LEN || tag.len() != TAG_LEN {
            return Err(InvalidEncryption);
        }

        // RFC 7516 §11.5: whether the RSA step fails must not show, so a
        // random content key is drawn first and used whenever it does.
        let mut cek = [0u8; CEK_LEN];
        SystemRandom::new()
            .fill(&mut cek)
            .map_err(|_| InvalidEncryption)?;
        if let Some(mut unwrapped) = key.oaep_decrypt(&ek, None) {
            if unwrapped.len() == CEK_LEN {
                cek.copy_from_slice(&unwrapped);
            }
            unwrapped.fill(0);
        }

        let opened = UnboundKey::new(&AES_256_GCM, &cek).map(LessSafeKey::new);
        cek.fill(0);
        let aead = opened.map_err(|_| InvalidEncryption)?;
        let nonce = Nonce::try_assume_unique_for_key(&iv).map_err(|_| InvalidEncryption)?;
        in_out.extend_from_slice(&tag);
        let len = aead
            .open_in_place(nonce, Aad::from(header_b64), &mut in_out)
            .map_err(|_| InvalidEncryption)?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }
}

/// Canonical, unpadded base64url (the engine refuses padding and non-zero
/// trailing bits).
fn b64(segment: &[u8]) -> Result<Vec<u8>, InvalidEncryption> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| InvalidEncryption)
}

/// The server's RSA keys and the bounded pool that decrypts with them.
/// Send + Sync; shared as `Arc<RsaKeyring>` in the app state.
pub struct RsaKeyring {
    /// Current and grace-period keys; replaced whole by [`RsaKeyring::reload`],
    /// so a decryption in flight keeps the set it started with.
    keys: RwLock<Arc<KeySet>>,
    /// Modulus size for a key generated when the table has no current key.
    key_bits: usize,
    /// How long a rotated-in key decrypts before it is served
    /// ([`rotation::publish_delay`]), in seconds.
    publish_delay: i64,
    pool: BlockingPool,
}

impl std::fmt::Debug for RsaKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.keys();
        f.debug_struct("RsaKeyring")
            .field("kid", &keys.current.kid)
            .field("previous", &keys.previous.len())
            .finish_non_exhaustive()
    }
}

impl RsaKeyring {
    #[cfg(any(test, feature = "testing"))]
    /// A keyring from PKCS#8 DER keys: `current` encrypts from now on,
    /// `previous` still decrypt. At most `permits` decryptions run at once
    /// (below 1 is raised to 1), and at most `max_waiting` wait.
    pub fn from_pkcs8(
        current: &[u8],
        previous: &[&[u8]],
        permits: usize,
        max_waiting: usize,
    ) -> Result<Self, RsaKeyError> {
        let current = DecryptionKey::from_pkcs8(current)?;
        let key_bits = current.oaep.key_size_bits();
        let previous = previous
            .iter()
            .map(|der| DecryptionKey::from_pkcs8(der))
            .collect::<Result<_, _>>()?;
        Ok(RsaKeyring {
            keys: RwLock::new(Arc::new(KeySet { current, previous })),
            key_bits,
            publish_delay: 0,
            pool: BlockingPool::new(permits, max_waiting),
        })
    }

    /// Start-up: loads the keys from the database, generating the first one
    /// (`key_bits`, on the blocking pool) if there is none, retiring stray
    /// older keys and forgetting those past the grace period. A key younger
    /// than `publish_delay` seconds decrypts but is not served yet
    /// ([`rotation::rsa_plan`]). One decryption per core may run at once,
    /// 32 per core may wait.
    pub async fn load(
        store: &Store,
        key_bits: usize,
        publish_delay: i64,
        now: i64,
    ) -> anyhow::Result<RsaKeyring> {
        let keys = load_key_set(store, key_bits, publish_delay, now, None)
            .await?
            .context("no RSA keys after loading them")?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(RsaKeyring {
            keys: RwLock::new(Arc::new(keys)),
            key_bits,
            publish_delay,
            pool: BlockingPool::new(cores, cores * 32),
        })
    }

    /// Rereads the keys from the database (every `jwt.key_reload`, and on
    /// SIGHUP); keys that did not change are not parsed again. On error the
    /// keys in use stay.
    pub async fn reload(&self, store: &Store, now: i64) -> anyhow::Result<()> {
        let current = self.keys();
        let fresh = load_key_set(
            store,
            self.key_bits,
            self.publish_delay,
            now,
            Some(&current),
        )
        .await?;
        if let Some(keys) = fresh {
            tracing::info!(kid = keys.current.kid, "RSA keys reloaded");
            *self
                .keys
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(keys);
        }
        Ok(())
    }

    fn keys(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    #[cfg(any(test, feature = "testing"))]
    /// The current key's id (its RFC 7638 thumbprint).
    pub fn kid(&self) -> String {
        self.keys().current.kid.clone()
    }

    #[cfg(any(test, feature = "testing"))]
    /// The ids of every key that decrypts, the served one first.
    pub fn kids(&self) -> Vec<String> {
        self.keys().kids().map(str::to_owned).collect()
    }

    /// What `GET /v1/auth/public-key` serves (API.md):
    /// `{"kid","alg":"RSA-OAEP-256","enc":"A256GCM","pem","jwk"}`, where
    /// `pem` is the SPKI public key and `jwk` is
    /// `{"kty":"RSA","n","e","kid","alg":"RSA-OAEP-256","use":"enc"}`.
    pub fn public_key(&self) -> Value {
        self.keys().current.public.clone()
    }

    #[cfg(any(test, feature = "testing"))]
    /// Blocking: decrypts a JWE compact serialization (RSA-OAEP-256 +
    /// A256GCM) to its plaintext. Every failure is the same error.
    pub fn decrypt_jwe(&self, compact: &[u8]) -> Result<Vec<u8>, InvalidEncryption> {
        self.keys().decrypt_jwe(compact)
    }

    /// [`RsaKeyring::decrypt_jwe`] on the bounded blocking pool: what request
    /// handlers call with the raw `application/jose` body.
    pub async fn decrypt(&self, body: Vec<u8>) -> Result<Vec<u8>, DecryptError> {
        if body.len() > MAX_JWE_LEN {
            return Err(DecryptError::Invalid);
        }
        let keys = self.keys();
        match self.pool.run(move || keys.decrypt_jwe(&body)).await {
            Ok(result) => Ok(result?),
            Err(RunError::Overloaded) => Err(DecryptError::Overloaded),
            Err(RunError::Failed(e)) => {
                tracing::error!(error = %e, "JWE decryption task failed");
                Err(DecryptError::Invalid)
            }
        }
    }
}

/// Loads, and if needed creates, the keys (see [`RsaKeyring::load`]);
/// `None` when `current` already holds exactly these keys.
async fn load_key_set(
    store: &Store,
    key_bits: usize,
    publish_delay: i64,
    now: i64,
    current: Option<&KeySet>,
) -> anyhow::Result<Option<KeySet>> {
    let mut rows = store
        .rsa_keys()
        .await
        .context("while loading the RSA keys")?;
    if rows.first().is_none_or(|row| row.retired_at.is_some()) {
        let generated = tokio::task::spawn_blocking(move || generate_key(key_bits))
            .await
            .context("the RSA key generation task failed")??;
        let kid = generated.kid.clone();
        let inserted = store
            .insert_first_rsa_key(RsaKeyRow {
                kid: generated.kid,
                private_der: generated.private_der,
                created_at: now,
                retired_at: None,
            })
            .await
            .context("while storing the new RSA key")?;
        if inserted {
            tracing::info!(kid, bits = key_bits, "generated the RSA key");
        }
        rows = store
            .rsa_keys()
            .await
            .context("while loading the RSA keys")?;
    }
    if rows.is_empty() {
        anyhow::bail!("no RSA key after creating one");
    }
    let times: Vec<KeyTimes> = rows.iter().map(KeyTimes::from).collect();
    let plan = rotation::rsa_plan(&times, now, publish_delay, GRACE_PERIOD);
    let kids = |indices: &[usize]| -> Vec<String> {
        indices.iter().map(|&i| rows[i].kid.clone()).collect()
    };
    let wanted = std::iter::once(plan.served)
        .chain(plan.decrypt_only.iter().copied())
        .map(|i| rows[i].kid.as_str());
    let keys = if current.is_some_and(|keys| keys.kids().eq(wanted)) {
        None
    } else {
        let served = rows[plan.served].clone();
        let others: Vec<RsaKeyRow> = plan.decrypt_only.iter().map(|&i| rows[i].clone()).collect();
        // Parsing (and aws-lc's key check) is CPU work; keep it off the
        // runtime. Done before anything is retired or forgotten: a damaged
        // row must not cost the keys in use their rows.
        let parsed = tokio::task::spawn_blocking(move || -> anyhow::Result<KeySet> {
            let parse = |row: &RsaKeyRow| -> anyhow::Result<DecryptionKey> {
                let key = DecryptionKey::from_pkcs8(&row.private_der)
                    .with_context(|| format!("RSA key {} is unusable", row.kid))?;
                if key.kid != row.kid {
                    anyhow::bail!("RSA key {} is damaged: its thumbprint differs", row.kid);
                }
                Ok(key)
            };
            Ok(KeySet {
                current: parse(&served)?,
                previous: others.iter().map(parse).collect::<anyhow::Result<_>>()?,
            })
        })
        .await
        .context("the RSA key loading task failed")??;
        Some(parsed)
    };
    if !plan.retire.is_empty() || !plan.forget.is_empty() {
        store
            .retire_rsa_keys(kids(&plan.retire), kids(&plan.forget), now)
            .await
            .context("while retiring old RSA keys")?;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::sync::OnceLock;

    use ::rsa::pkcs8::DecodePublicKey as _;
    use ::rsa::traits::PublicKeyParts as _;
    use ::rsa::{Oaep, Pkcs1v15Encrypt, RsaPublicKey};
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};

    use super::*;
    use crate::store::Db;

    /// Two 2048-bit keys, generated once for the whole test binary.
    fn keys() -> &'static (Vec<u8>, Vec<u8>) {
        static KEYS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
        KEYS.get_or_init(|| {
            (
                generate_key(2048).unwrap().private_der,
                generate_key(2048).unwrap().private_der,
            )
        })
    }

    /// Current key A, previous key B.
    fn keyring() -> RsaKeyring {
        let (a, b) = keys();
        RsaKeyring::from_pkcs8(a, &[b], 2, 8).unwrap()
    }

    /// Only key B: A's ciphertexts are for a key it does not have.
    fn other_keyring() -> RsaKeyring {
        RsaKeyring::from_pkcs8(&keys().1, &[], 2, 8).unwrap()
    }

    fn public_key_of(ring: &RsaKeyring) -> RsaPublicKey {
        RsaPublicKey::from_public_key_pem(ring.public_key()["pem"].as_str().unwrap()).unwrap()
    }

    fn b64e(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A JWE built by an independent implementation: the `rsa` crate's
    /// public-key OAEP-SHA256 for the key, ring's AES-GCM for the content.
    #[derive(Clone)]
    struct Jwe {
        header: String,
        ek: Vec<u8>,
        iv: Vec<u8>,
        ct: Vec<u8>,
        tag: Vec<u8>,
    }

    impl Jwe {
        fn compact(&self) -> String {
            format!(
                "{}.{}.{}.{}.{}",
                self.header,
                b64e(&self.ek),
                b64e(&self.iv),
                b64e(&self.ct),
                b64e(&self.tag)
            )
        }
    }

    fn wrap_oaep256(public: &RsaPublicKey, cek: &[u8]) -> Vec<u8> {
        public
            .encrypt(&mut rand_core::OsRng, Oaep::new::<sha2::Sha256>(), cek)
            .unwrap()
    }

    /// AES-GCM with the key length deciding AES-128 or AES-256.
    fn seal(cek: &[u8], iv: &[u8; 12], aad: &str, plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let alg = if cek.len() == 16 {
            &AES_128_GCM
        } else {
            &AES_256_GCM
        };
        let key = LessSafeKey::new(UnboundKey::new(alg, cek).unwrap());
        let mut in_out = plaintext.to_vec();
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(*iv),
                Aad::from(aad.as_bytes()),
                &mut in_out,
            )
            .unwrap();
        (in_out, tag.as_ref().to_vec())
    }

    /// A JWE with this header JSON, key-wrapped with `ek` for `cek`.
    fn jwe_with(header_json: &str, ek: Vec<u8>, cek: &[u8], plaintext: &[u8]) -> Jwe {
        let header = b64e(header_json.as_bytes());
        let mut iv = [0u8; 12];
        SystemRandom::new().fill(&mut iv).unwrap();
        let (ct, tag) = seal(cek, &iv, &header, plaintext);
        Jwe {
            header,
            ek,
            iv: iv.to_vec(),
            ct,
            tag,
        }
    }

    fn random_cek() -> [u8; 32] {
        let mut cek = [0u8; 32];
        SystemRandom::new().fill(&mut cek).unwrap();
        cek
    }

    /// A valid JWE for `public` with the given header.
    fn jwe_for(public: &RsaPublicKey, header_json: &str, plaintext: &[u8]) -> Jwe {
        let cek = random_cek();
        jwe_with(header_json, wrap_oaep256(public, &cek), &cek, plaintext)
    }

    const BODY: &[u8] = br#"{"email":"a@example.com","password":"correct horse battery staple"}"#;
    const HEADER: &str = r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#;

    fn valid() -> Jwe {
        jwe_for(&public_key_of(&keyring()), HEADER, BODY)
    }

    fn refused(ring: &RsaKeyring, compact: &str, case: &str) {
        assert_eq!(
            ring.decrypt_jwe(compact.as_bytes()),
            Err(InvalidEncryption),
            "{case} must be refused"
        );
    }

    #[test]
    fn key_bits_map_to_the_nearest_supported_size_at_or_above() {
        assert!(key_size(1024).is_err());
        assert!(key_size(2047).is_err());
        assert_eq!(key_size(2048).unwrap(), KeySize::Rsa2048);
        assert_eq!(key_size(2049).unwrap(), KeySize::Rsa3072);
        assert_eq!(key_size(3072).unwrap(), KeySize::Rsa3072);
        assert_eq!(key_size(3073).unwrap(), KeySize::Rsa4096);
        assert_eq!(key_size(5000).unwrap(), KeySize::Rsa8192);
        assert_eq!(key_size(8192).unwrap(), KeySize::Rsa8192);
        assert!(key_size(8193).is_err());
    }

    #[test]
    fn the_default_size_generates_a_3072_bit_key() {
        let key = generate_key(3072).unwrap();
        let ring = RsaKeyring::from_pkcs8(&key.private_der, &[], 1, 1).unwrap();
        assert_eq!(ring.kid(), key.kid);
        assert_eq!(public_key_of(&ring).size(), 384);
        let jwe = jwe_for(&public_key_of(&ring), HEADER, BODY);
        assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
        // Debug never shows the private key.
        assert!(!format!("{key:?}").contains("private_der"));
    }

    #[test]
    fn a_key_below_2048_bits_is_refused() {
        // A 1024-bit PKCS#8 key made by the rsa crate (key generation only).
        use ::rsa::pkcs8::EncodePrivateKey as _;
        let small = ::rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        let der = small.to_pkcs8_der().unwrap();
        assert!(RsaKeyring::from_pkcs8(der.as_bytes(), &[], 1, 1).is_err());
        assert!(RsaKeyring::from_pkcs8(b"not a key", &[], 1, 1).is_err());
    }

    #[test]
    fn the_public_key_object_has_the_documented_shape() {
        let ring = keyring();
        let public = ring.public_key();
        let object = public.as_object().unwrap();
        let mut members: Vec<_> = object.keys().map(String::as_str).collect();
        members.sort_unstable();
        assert_eq!(members, ["alg", "enc", "jwk", "kid", "pem"]);
        assert_eq!(public["alg"], "RSA-OAEP-256");
        assert_eq!(public["enc"], "A256GCM");
        assert_eq!(public["kid"], ring.kid().as_str());
        let pem = public["pem"].as_str().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("\n-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        let jwk = &public["jwk"];
        let mut members: Vec<_> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        members.sort_unstable();
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["alg"], "RSA-OAEP-256");
        assert_eq!(jwk["use"], "enc");
        assert_eq!(jwk["kid"], public["kid"]);
        // n and e agree with an independent parse of the PEM.
        let parsed = public_key_of(&ring);
        assert_eq!(jwk["n"], b64e(&parsed.n().to_bytes_be()).as_str());
        assert_eq!(jwk["e"], b64e(&parsed.e().to_bytes_be()).as_str());
        assert_eq!(jwk["e"], "AQAB");
        // The kid is the RFC 7638 thumbprint of that JWK.
        let (n, e) = (jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap());
        assert_eq!(public["kid"], thumbprint(n, e).as_str());
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn round_trip_with_an_independent_encryptor() {
        let ring = keyring();
        let public = public_key_of(&ring);
        // Without a kid: the current key.
        let jwe = jwe_for(&public, HEADER, BODY);
        assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
        // With the current kid, typ and cty, and members in another order.
        let header = format!(
            r#"{{"enc":"A256GCM","kid":"{}","typ":"JOSE","cty":"json","alg":"RSA-OAEP-256"}}"#,
            ring.kid()
        );
        let jwe = jwe_for(&public, &header, BODY);
        assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
        // A body near the HTTP limit, and an empty one.
        let big = vec![b'x'; 60 * 1024];
        let jwe = jwe_for(&public, HEADER, &big);
        assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), big);
        let jwe = jwe_for(&public, HEADER, b"");
        assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), b"");
    }

    #[test]
    fn a_previous_key_decrypts_only_when_named_by_kid() {
        let ring = keyring();
        let previous = other_keyring();
        assert_eq!(ring.kids(), [ring.kid(), previous.kid()]);
        let old_public = public_key_of(&previous);
        let header = format!(
            r#"{{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"{}"}}"#,
            previous.kid()
        );
        let jwe = jwe_for(&old_public, &header, BODY);
        assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
        // Without a kid only the current key is tried.
        let jwe = jwe_for(&old_public, HEADER, BODY);
        refused(&ring, &jwe.compact(), "a previous key's JWE without kid");
    }

    #[test]
    fn every_malformed_or_tampered_jwe_is_the_same_error() {
        let ring = keyring();
        let public = public_key_of(&ring);
        let good = valid();
        assert_eq!(ring.decrypt_jwe(good.compact().as_bytes()).unwrap(), BODY);
        let compact = good.compact();
        let segments: Vec<&str> = compact.split('.').collect();
        let join = |parts: &[&str]| parts.join(".");

        // Segment count.
        refused(&ring, &join(&segments[..4]), "4 segments");
        refused(&ring, &format!("{compact}."), "6 segments (empty)");
        refused(&ring, &format!("{compact}.AAAA"), "6 segments");
        refused(&ring, "", "empty input");
        refused(&ring, "....", "5 empty segments");

        // Bad base64url in each segment: a character outside the alphabet,
        // the standard alphabet's '+', and padding.
        for i in 0..5 {
            for bad in ["!", "+", "="] {
                let mut parts: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
                parts[i].push_str(bad);
                if bad == "=" {
                    // Keep the length a multiple of 4 minus padding, so only
                    // the padding itself is wrong.
                    parts[i].push('=');
                }
                refused(&ring, &parts.join("."), &format!("segment {i} + {bad:?}"));
            }
            // Non-canonical trailing bits: the last character changed so the
            // decoded bytes are the same but unused bits are set.
            let mut parts: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
            if parts[i].len() % 4 != 0 {
                let last = parts[i].pop().unwrap();
                let index = URL_SAFE_ALPHABET.find(last).unwrap();
                parts[i].push(URL_SAFE_ALPHABET.as_bytes()[index | 1] as char);
                if URL_SAFE_ALPHABET.as_bytes()[index | 1] as char != last {
                    refused(
                        &ring,
                        &parts.join("."),
                        &format!("segment {i} trailing bits"),
                    );
                }
            }
        }

        // Algorithms other than RSA-OAEP-256 + A256GCM, with otherwise good
        // content (the header alone must refuse them), and a real PKCS#1 v1.5
        // key wrap for RSA1_5.
        for header in [
            r#"{"alg":"RSA1_5","enc":"A256GCM"}"#,
            r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
            r#"{"alg":"none","enc":"A256GCM"}"#,
            r#"{"alg":"dir","enc":"A256GCM"}"#,
            r#"{"alg":"rsa-oaep-256","enc":"A256GCM"}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A128GCM"}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["exp"],"exp":1}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","jku":"https://evil.example"}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","alg":"RSA-OAEP-256"}"#,
            r#"{"alg":"RSA-OAEP-256"}"#,
            r#"{"enc":"A256GCM"}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":7}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"unknown"}"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":""}"#,
            r#"["RSA-OAEP-256","A256GCM"]"#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"} "#,
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}{}"#,
            "not json",
        ] {
            let jwe = jwe_for(&public, header, BODY);
            if header.ends_with("} ") {
                // Trailing whitespace is valid JSON; the JWE is then fine.
                assert_eq!(ring.decrypt_jwe(jwe.compact().as_bytes()).unwrap(), BODY);
                continue;
            }
            refused(&ring, &jwe.compact(), header);
        }
        let cek = random_cek();
        let pkcs1 = public
            .encrypt(&mut rand_core::OsRng, Pkcs1v15Encrypt, &cek)
            .unwrap();
        let rsa1_5 = jwe_with(
            r#"{"alg":"RSA1_5","enc":"A256GCM"}"#,
            pkcs1.clone(),
            &cek,
            BODY,
        );
        refused(&ring, &rsa1_5.compact(), "RSA1_5 with a PKCS#1 v1.5 key");
        // ... nor is a PKCS#1 v1.5 wrapped key under an RSA-OAEP-256 header.
        let lying = jwe_with(HEADER, pkcs1, &cek, BODY);
        refused(
            &ring,
            &lying.compact(),
            "PKCS#1 v1.5 key wrap labelled OAEP-256",
        );

        // The wrong key: encrypted to another key pair.
        let stranger = jwe_for(&public_key_of(&other_keyring()), HEADER, BODY);
        refused(&other_keyring(), &valid().compact(), "JWE for another key");
        refused(
            &ring,
            &stranger.compact(),
            "JWE for the previous key, no kid",
        );

        // A flipped bit anywhere.
        let flip = |bytes: &mut Vec<u8>, at: usize| bytes[at] ^= 0x01;
        let mut jwe = good.clone();
        flip(&mut jwe.ek, 0);
        refused(
            &ring,
            &jwe.compact(),
            "flipped bit in the encrypted key (first byte)",
        );
        let mut jwe = good.clone();
        let last = jwe.ek.len() - 1;
        flip(&mut jwe.ek, last);
        refused(
            &ring,
            &jwe.compact(),
            "flipped bit in the encrypted key (last byte)",
        );
        let mut jwe = good.clone();
        flip(&mut jwe.iv, 5);
        refused(&ring, &jwe.compact(), "flipped bit in the IV");
        let mut jwe = good.clone();
        flip(&mut jwe.ct, 3);
        refused(&ring, &jwe.compact(), "flipped bit in the ciphertext");
        let mut jwe = good.clone();
        flip(&mut jwe.tag, 15);
        refused(&ring, &jwe.compact(), "flipped bit in the tag");
        let mut header = URL_SAFE_NO_PAD.decode(&good.header).unwrap();
        flip(&mut header, 2); // "alg" -> "amg": refused by the allow-list
        let mut jwe = good.clone();
        jwe.header = b64e(&header);
        refused(&ring, &jwe.compact(), "flipped bit in the protected header");
        // The same header with other whitespace: the AAD is the segment as
        // sent, so the tag no longer matches.
        let mut jwe = good.clone();
        jwe.header = b64e(br#"{"alg":"RSA-OAEP-256", "enc":"A256GCM"}"#);
        refused(&ring, &jwe.compact(), "re-encoded protected header");

        // Lengths: IV, tag, encrypted key.
        let mut jwe = good.clone();
        jwe.tag.pop();
        refused(&ring, &jwe.compact(), "truncated tag");
        let mut jwe = good.clone();
        jwe.tag.clear();
        refused(&ring, &jwe.compact(), "no tag");
        let mut jwe = good.clone();
        jwe.tag.push(0);
        refused(&ring, &jwe.compact(), "17-byte tag");
        let mut jwe = good.clone();
        jwe.iv.push(0);
        refused(&ring, &jwe.compact(), "13-byte IV");
        let mut jwe = good.clone();
        jwe.iv.truncate(8);
        refused(&ring, &jwe.compact(), "8-byte IV");
        let mut jwe = good.clone();
        jwe.ek.insert(0, 0);
        refused(&ring, &jwe.compact(), "encrypted key one byte too long");
        let mut jwe = good.clone();
        jwe.ek.clear();
        refused(&ring, &jwe.compact(), "no encrypted key");
        let mut jwe = good.clone();
        jwe.ek = vec![0xff; jwe.ek.len()];
        refused(&ring, &jwe.compact(), "encrypted key above the modulus");
        let mut jwe = good.clone();
        jwe.ek = vec![0; jwe.ek.len()];
        refused(&ring, &jwe.compact(), "zero encrypted key");

        // A content key of the wrong length, with content encrypted under it
        // (AES-128-GCM for 16 bytes, the first 32 bytes for 33).
        let short = [7u8; 16];
        let jwe = jwe_with(HEADER, wrap_oaep256(&public, &short), &short, BODY);
        refused(&ring, &jwe.compact(), "16-byte CEK");
        let long = [7u8; 33];
        let jwe = jwe_with(HEADER, wrap_oaep256(&public, &long), &long[..32], BODY);
        refused(&ring, &jwe.compact(), "33-byte CEK");
        let jwe = jwe_with(HEADER, wrap_oaep256(&public, &[]), &[0u8; 32], BODY);
        refused(&ring, &jwe.compact(), "empty CEK");

        // Over the size cap, even if otherwise well formed.
        let mut jwe = good.clone();
        jwe.ct = vec![0; MAX_JWE_LEN];
        refused(&ring, &jwe.compact(), "over MAX_JWE_LEN");
        // Not ASCII at all.
        assert_eq!(ring.decrypt_jwe(&[0xff; 40]), Err(InvalidEncryption));
    }

    const URL_SAFE_ALPHABET: &str =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[tokio::test]
    async fn decrypt_runs_on_the_pool_and_maps_errors() {
        let ring = keyring();
        let jwe = valid();
        assert_eq!(
            ring.decrypt(jwe.compact().into_bytes()).await.unwrap(),
            BODY
        );
        assert_eq!(
            ring.decrypt(b"a.b.c.d.e".to_vec()).await,
            Err(DecryptError::Invalid)
        );
        assert_eq!(
            ring.decrypt(vec![b'a'; MAX_JWE_LEN + 1]).await,
            Err(DecryptError::Invalid)
        );
    }

    #[tokio::test]
    async fn a_full_pool_with_a_full_queue_refuses_at_once() {
        let (a, _) = keys();
        let ring = Arc::new(RsaKeyring::from_pkcs8(a, &[], 1, 1).unwrap());
        // Occupy the only permit.
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let busy = {
            let ring = Arc::clone(&ring);
            tokio::spawn(async move {
                ring.pool
                    .run(move || {
                        let _ = started.send(());
                        let _ = blocked.recv();
                    })
                    .await
            })
        };
        running.await.unwrap();
        // One caller may wait...
        let waiting = {
            let ring = Arc::clone(&ring);
            let body = valid().compact().into_bytes();
            tokio::spawn(async move { ring.decrypt(body).await })
        };
        while ring.pool.waiting.load(Ordering::Acquire) < 1 {
            tokio::task::yield_now().await;
        }
        // ... the next is refused without waiting.
        assert_eq!(
            ring.decrypt(valid().compact().into_bytes()).await,
            Err(DecryptError::Overloaded)
        );
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), BODY);
        assert_eq!(ring.pool.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn keys_persist_rotate_and_expire_after_the_grace_period() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
        let t0 = 1_700_000_000;
        const DELAY: i64 = 120;
        let first = RsaKeyring::load(&store, 2048, DELAY, t0).await.unwrap();
        let again = RsaKeyring::load(&store, 2048, DELAY, t0 + 10)
            .await
            .unwrap();
        assert_eq!(first.kid(), again.kid());
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(store.rsa_keys().await.unwrap().len(), 1);

        // Rotation (what `toktok keys rotate --rsa` does), then a reload.
        let old_jwe = jwe_for(
            &public_key_of(&first),
            &format!(
                r#"{{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"{}"}}"#,
                first.kid()
            ),
            BODY,
        );
        let new = generate_key(2048).unwrap();
        store
            .rotate_rsa_key(
                RsaKeyRow {
                    kid: new.kid.clone(),
                    private_der: new.private_der,
                    created_at: t0 + 100,
                    retired_at: None,
                },
                t0 + 100,
            )
            .await
            .unwrap();
        // The new key decrypts at once but is served only after the delay,
        // when every instance has reloaded and decrypts with it too.
        again.reload(&store, t0 + 100).await.unwrap();
        assert_eq!(again.kid(), first.kid());
        assert_eq!(again.kids(), [first.kid(), new.kid.clone()]);
        again.reload(&store, t0 + 100 + DELAY).await.unwrap();
        assert_eq!(again.kid(), new.kid);
        assert_eq!(again.kids(), [new.kid.clone(), first.kid()]);
        assert_eq!(
            again.decrypt_jwe(old_jwe.compact().as_bytes()).unwrap(),
            BODY
        );

        // Still within the grace period at its last second...
        again
            .reload(&store, t0 + 100 + GRACE_PERIOD + DELAY)
            .await
            .unwrap();
        assert_eq!(
            again.decrypt_jwe(old_jwe.compact().as_bytes()).unwrap(),
            BODY
        );
        // ... gone after it, from memory and from the database.
        again
            .reload(&store, t0 + 101 + GRACE_PERIOD + DELAY)
            .await
            .unwrap();
        assert_eq!(again.kids(), std::slice::from_ref(&new.kid));
        assert_eq!(
            again.decrypt_jwe(old_jwe.compact().as_bytes()),
            Err(InvalidEncryption)
        );
        assert_eq!(store.rsa_keys().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_damaged_stored_key_stops_the_start_with_its_kid() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
        store
            .insert_first_rsa_key(RsaKeyRow {
                kid: "broken".into(),
                private_der: vec![1, 2, 3],
                created_at: 1,
                retired_at: None,
            })
            .await
            .unwrap();
        let err = RsaKeyring::load(&store, 2048, 120, 2).await.unwrap_err();
        assert!(format!("{err:#}").contains("broken"), "{err:#}");
    }

    /// Wycheproof RSA-OAEP with SHA-256 and MGF1-SHA-256, run against the
    /// exact OAEP step `decrypt_jwe` uses (with each vector's label).
    #[test]
    fn wycheproof_rsa_oaep_sha256_vectors() {
        use wycheproof::rsa_oaep::{TestName, TestSet};
        use wycheproof::{HashFunction, Mgf, TestResult};

        let (mut run, mut passed, mut small_keys, mut acceptable) = (0, 0, 0, 0);
        for name in [
            TestName::Rsa2048Sha256Mgf1Sha256,
            TestName::Rsa3072Sha256Mgf1Sha256,
            TestName::Rsa4096Sha256Mgf1Sha256,
            TestName::RsaMisc,
        ] {
            let set = TestSet::load(name).unwrap();
            for group in set.test_groups {
                if group.hash != HashFunction::Sha2_256
                    || group.mgf != Mgf::Mgf1
                    || group.mgf_hash != HashFunction::Sha2_256
                {
                    continue;
                }
                let key = DecryptionKey::from_pkcs8(&group.pkcs8);
                if group.key_size < MIN_KEY_BITS {
                    // O3: such keys are refused outright, so their vectors
                    // cannot run; the refusal is what is checked.
                    assert!(key.is_err(), "a {}-bit key must be refused", group.key_size);
                    small_keys += group.tests.len();
                    continue;
                }
                let key = key.unwrap_or_else(|e| panic!("{}-bit key: {e}", group.key_size));
                for test in &group.tests {
                    run += 1;
                    let label = (!test.label.is_empty()).then_some(&test.label[..]);
                    let got = key.oaep_decrypt(&test.ct, label);
                    let ok = match test.result {
                        TestResult::Valid => got.as_deref() == Some(&test.pt[..]),
                        TestResult::Invalid => got.is_none(),
                        TestResult::Acceptable => {
                            acceptable += 1;
                            got.as_deref().is_none_or(|pt| pt == &test.pt[..])
                        }
                    };
                    assert!(ok, "tcId {} ({}) gave {:?}", test.tc_id, test.comment, got);
                    passed += 1;
                }
            }
        }
        eprintln!(
            "wycheproof RSA-OAEP-SHA256: {run} run, {passed} passed, \
             {small_keys} skipped (keys below 2048 bits, refused), {acceptable} acceptable"
        );
        assert_eq!(run, passed);
        assert!(run >= 3 * 37, "all three sha256 sets ran ({run})");
    }

    /// O1: OAEP with SHA-1 is not accepted as OAEP-256 either: every valid
    /// SHA-1 vector fails the SHA-256 step.
    #[test]
    fn wycheproof_sha1_oaep_ciphertexts_are_refused() {
        use wycheproof::rsa_oaep::{TestName, TestSet};
        use wycheproof::TestResult;

        let set = TestSet::load(TestName::Rsa2048Sha1Mgf1Sha1).unwrap();
        let mut checked = 0;
        for group in set.test_groups {
            let key = DecryptionKey::from_pkcs8(&group.pkcs8).unwrap();
            for test in group.tests.iter().filter(|t| t.result == TestResult::Valid) {
                let label = (!test.label.is_empty()).then_some(&test.label[..]);
                assert_eq!(
                    key.oaep_decrypt(&test.ct, label),
                    None,
                    "tcId {}",
                    test.tc_id
                );
                checked += 1;
            }
        }
        assert!(checked > 0);
    }
}
