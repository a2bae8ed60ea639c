//! A provider's signing keys, read from its JWK set (RFC 7517, the document
//! at `jwks_uri`) into ring verifiers once per fetch.
//!
//! Only what [`super::id_token`] can use is kept: RSA keys (RS256, modulus
//! 2048–8192 bits), EC P-256 (ES256) and OKP Ed25519 (EdDSA), for
//! signatures. Every other key is skipped, not refused: providers publish
//! encryption keys, certificates and algorithms we do not speak beside the
//! ones they sign ID tokens with, and one odd key must not lock everybody
//! out. A key that carries private members is skipped too: a provider that
//! publishes one is broken, and such a key is never something to trust.
//!
//! Each kept key verifies exactly one algorithm, given by its type and
//! curve. A JWK `alg` naming another one makes the key unusable (skipped),
//! so "the header `alg` is the key's" also means "the header `alg` is the
//! JWK's `alg`" wherever one is given.

use std::fmt;

use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

use crate::auth::jwt::{decode_segment, Verifier, PRIVATE_JWK_MEMBERS};

/// The most keys a JWK set may hold. Providers publish two to five; a
/// larger document is a mistake or an attack on our start-up time.
pub const MAX_KEYS: usize = 100;

const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// Why a JWK set as a whole was refused. Single keys are skipped, never
/// refused (module doc).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// The document is not a JSON object with a `keys` array.
    #[error("not a JWK set: expected a JSON object with a \"keys\" array")]
    NotAKeySet,
    /// More than [`MAX_KEYS`] entries.
    #[error("the JWK set holds {0} keys, more than the {MAX_KEYS} accepted")]
    TooManyKeys(usize),
    /// Not one entry is an RS256, ES256 or EdDSA signature key.
    #[error("the JWK set has no usable key (RSA 2048-8192, P-256 or Ed25519, for signatures)")]
    NoUsableKey,
}

/// The one algorithm a kept key verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlg {
    Rs256,
    Es256,
    EdDsa,
}

impl KeyAlg {
    /// The JOSE name, as in a header or JWK `alg`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Es256 => "ES256",
            KeyAlg::EdDsa => "EdDSA",
        }
    }

    /// The algorithm of a JOSE name; `None` for every name we do not verify
    /// (`none`, `HS256`, `PS256`, ...).
    pub(crate) fn from_name(name: &str) -> Option<KeyAlg> {
        [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::EdDsa]
            .into_iter()
            .find(|alg| alg.name() == name)
    }
}

/// One usable key of the set.
pub(crate) struct ProviderKey {
    /// The JWK `kid`, by which a token names its key; optional in a JWK.
    pub(crate) kid: Option<String>,
    /// What the key verifies: from its type and curve, equal to the JWK
    /// `alg` when one is given.
    pub(crate) alg: KeyAlg,
    pub(crate) verifier: Verifier,
}

/// A provider's usable signing keys, parsed once per JWKS fetch.
pub struct ProviderKeys {
    keys: Vec<ProviderKey>,
}

impl fmt::Debug for ProviderKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| (k.kid.as_deref(), k.alg.name()))
            .collect();
        f.debug_struct("ProviderKeys").field("keys", &keys).finish()
    }
}

impl ProviderKeys {
    /// Reads a JWK set (`{"keys":[…]}`), keeping the usable keys and
    /// skipping the others (module doc). Fails when the document is not a
    /// key set, holds more than [`MAX_KEYS`] entries, or has no usable key.
    pub fn from_jwks(jwks: &Value) -> Result<ProviderKeys, JwksError> {
        let entries = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksError::NotAKeySet)?;
        if entries.len() > MAX_KEYS {
            return Err(JwksError::TooManyKeys(entries.len()));
        }
        let mut keys = Vec::new();
        for entry in entries {
            match parse_key(entry) {
                Ok(key) => keys.push(key),
                Err(reason) => {
                    let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("");
                    tracing::debug!(kid, reason, "JWK skipped");
                }
            }
        }
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey);
        }
        Ok(ProviderKeys { keys })
    }

    /// Whether a usable key has this `kid`: when a token names one that is
    /// not here, the provider may have rotated, and the caller refetches.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The number of usable keys (never zero).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a set without a usable key is refused by
    /// [`ProviderKeys::from_jwks`].
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn keys(&self) -> &[ProviderKey] {
        &self.keys
    }
}

/// One JWK into a key, or the reason it is skipped.
fn parse_key(jwk: &Value) -> Result<ProviderKey, &'static str> {
    let jwk = jwk.as_object().ok_or("not a JSON object")?;
    if PRIVATE_JWK_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err("carries private key material");
    }
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(_) => return Err("not for signatures (use)"),
    }
    match jwk.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => {}
        Some(_) => return Err("not for verification (key_ops)"),
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err("kid is not a string"),
    };
    let kty = jwk.get("kty").and_then(Value::as_str);
    let crv = jwk.get("crv").and_then(Value::as_str);
    let (alg, verifier) = match (kty, crv) {
        (Some("RSA"), _) => (KeyAlg::Rs256, rsa(jwk)?),
        (Some("EC"), Some("P-256")) => (KeyAlg::Es256, p256(jwk)?),
        (Some("OKP"), Some("Ed25519")) => (KeyAlg::EdDsa, ed25519(jwk)?),
        _ => return Err("unsupported key type or curve"),
    };
    match jwk.get("alg") {
        None => {}
        Some(Value::String(name)) if name == alg.name() => {}
        Some(_) => return Err("alg unsupported or not the key's"),
    }
    Ok(ProviderKey { kid, alg, verifier })
}

/// A base64url member, canonical and unpadded like a token segment.
fn member(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, &'static str> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or("key member missing or not a string")?;
    decode_segment(text).map_err(|_| "key member is not canonical base64url")
}

/// An RSA public key, checked the way ring will check it on every
/// verification, so that a key kept here can verify: modulus odd and
/// 2048–8192 bits, exponent odd, at least 3 and at most 33 bits. Leading
/// zero octets (which RFC 7518 §6.3.1.1 says some libraries add) are
/// dropped: they do not change the number.
fn rsa(jwk: &Map<String, Value>) -> Result<Verifier, &'static str> {
    let n = strip_leading_zeros(member(jwk, "n")?);
    let e = strip_leading_zeros(member(jwk, "e")?);
    let bits = match n.first() {
        Some(top) => n.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    };
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return Err("RSA modulus not 2048 to 8192 bits");
    }
    if n.last().is_some_and(|low| low & 1 == 0) {
        return Err("RSA modulus is even");
    }
    if e.len() > 5 {
        return Err("RSA exponent too large");
    }
    let exponent = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if !(3..1 << 33).contains(&exponent) || exponent & 1 == 0 {
        return Err("RSA exponent not odd, at least 3 and at most 33 bits");
    }
    Ok(Verifier::Rsa(RsaPublicKeyComponents { n, e }))
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// A P-256 public key as the uncompressed point ring takes (whether it is on
/// the curve, ring checks when verifying).
fn p256(jwk: &Map<String, Value>) -> Result<Verifier, &'static str> {
    let x = member(jwk, "x")?;
    let y = member(jwk, "y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err("P-256 coordinates are not 32 bytes");
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok(Verifier::Unparsed(UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        point,
    )))
}

fn ed25519(jwk: &Map<String, Value>) -> Result<Verifier, &'static str> {
    let x = member(jwk, "x")?;
    if x.len() != 32 {
        return Err("Ed25519 key is not 32 bytes");
    }
    Ok(Verifier::Unparsed(UnparsedPublicKey::new(
        &signature::ED25519,
        x,
    )))
}
