//! RSA keys: generation with aws-lc, the storage form (PKCS#8 DER), the
//! parsed [`DecryptionKey`] with its RSA-OAEP-SHA256 step, and what is
//! derived from the public half (the RFC 7638 `kid`, PEM, JWK).

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

use super::{RsaKeyError, JWE_ALG, JWE_ENC, MIN_KEY_BITS};

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
pub(super) struct DecryptionKey {
    pub(super) kid: String,
    pub(super) oaep: OaepPrivateDecryptingKey,
    /// The public-key object served to clients ([`RsaKeyring::public_key`]).
    pub(super) public: Value,
}

impl DecryptionKey {
    pub(super) fn from_pkcs8(der: &[u8]) -> Result<Self, RsaKeyError> {
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
    pub(super) fn oaep_decrypt(&self, ciphertext: &[u8], label: Option<&[u8]>) -> Option<Vec<u8>> {
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
pub(super) fn thumbprint(n: &str, e: &str) -> String {
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
