//! Signing keys: generation, the storage form [`KeyMaterial`], the parsed
//! [`Signer`] and [`Verifier`] (ring), and the public JWK derived from a
//! private key. Nothing here looks at a token.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use serde_json::{json, Value};

use super::{Algorithm, JwtError};

/// RSA modulus size for generated RS256 keys.
const RSA_BITS: aws_lc_rs::rsa::KeySize = aws_lc_rs::rsa::KeySize::Rsa2048;

/// JWK members that only private keys have; never published, never stored in
/// `KeyMaterial::public_jwk`.
pub(crate) const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A signing key in its storage form (what the database keeps).
#[derive(Clone)]
pub struct KeyMaterial {
    pub kid: String,
    pub alg: Algorithm,
    /// PKCS#8 DER of the private key. Secret: never logged (see `Debug`).
    pub private_der: Vec<u8>,
    /// The public JWK, including `kid`, `alg` and `use: "sig"`.
    pub public_jwk: Value,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_der", &"[redacted]")
            .field("public_jwk", &self.public_jwk)
            .finish()
    }
}

/// Generates a fresh signing key in storage form. HS256 has no generated key
/// (its secret comes from the config), so it is an error here.
pub fn generate_key(alg: Algorithm) -> Result<KeyMaterial, JwtError> {
    let rng = SystemRandom::new();
    let private_der = match alg {
        Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| JwtError::Key("Ed25519 key generation failed".into()))?
            .as_ref()
            .to_vec(),
        Algorithm::ES256 => {
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| JwtError::Key("P-256 key generation failed".into()))?
                .as_ref()
                .to_vec()
        }
        Algorithm::RS256 => generate_rsa_pkcs8()?,
        Algorithm::HS256 => {
            return Err(JwtError::Key(
                "HS256 keys are not generated; set [jwt] secret".into(),
            ))
        }
    };
    let mut kid_bytes = [0u8; 16];
    rng.fill(&mut kid_bytes)
        .map_err(|_| JwtError::Key("the system random generator failed".into()))?;
    let kid = URL_SAFE_NO_PAD.encode(kid_bytes);
    // Load what we just generated, so the stored form is known to be usable
    // and the public JWK comes from the same code path as the JWKS.
    let signer = Signer::from_pkcs8(alg, &kid, &private_der, &rng)?;
    let public_jwk = signer
        .public_jwk(alg, &kid)
        .ok_or_else(|| JwtError::Key("internal: asymmetric key without a public JWK".into()))?;
    Ok(KeyMaterial {
        kid,
        alg,
        private_der,
        public_jwk,
    })
}

/// RSA key generation is the one thing ring cannot do; aws-lc-rs (already
/// the JWE side's RSA, `crate::auth::jwe`) generates the key and encodes it
/// as PKCS#8, and ring signs with it like with any loaded key.
fn generate_rsa_pkcs8() -> Result<Vec<u8>, JwtError> {
    use aws_lc_rs::encoding::AsDer as _;
    let key = aws_lc_rs::rsa::KeyPair::generate(RSA_BITS)
        .map_err(|_| JwtError::Key("RSA key generation failed".into()))?;
    let der = key
        .as_der()
        .map_err(|_| JwtError::Key("RSA key encoding failed".into()))?;
    Ok(der.as_ref().to_vec())
}

/// A private key parsed, ready to sign: by ring, except RSA and Ed25519,
/// which aws-lc-rs signs. Its RSA is constant time and several times faster
/// than ring's on the machines measured (an RS256 ID token is the dearest
/// part of an OIDC code exchange, BENCHMARKS.md); its Ed25519 (s2n-bignum's
/// assembly) signs in 8.5 µs where ring takes 23 (issue 25: every access
/// token is one signature). Ed25519 signatures are deterministic: both
/// give the same bytes. ring still gives the public parts.
pub(super) enum Signer {
    Ed25519(Ed25519KeyPair, aws_lc_rs::signature::Ed25519KeyPair),
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair, aws_lc_rs::signature::RsaKeyPair),
    Hs256(hmac::Key),
}

impl Signer {
    pub(super) fn from_pkcs8(
        alg: Algorithm,
        kid: &str,
        der: &[u8],
        rng: &SystemRandom,
    ) -> Result<Signer, JwtError> {
        let rejected = |e: ring::error::KeyRejected| {
            JwtError::Key(format!("{} key {kid} cannot be loaded: {e}", alg.as_str()))
        };
        match alg {
            Algorithm::EdDSA => {
                let public = Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?;
                let signing = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(der)
                    .map_err(|e| JwtError::Key(format!("EdDSA key {kid} cannot be loaded: {e}")))?;
                Ok(Signer::Ed25519(public, signing))
            }
            Algorithm::ES256 => {
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, rng)
                    .map(Signer::Es256)
                    .map_err(rejected)
            }
            Algorithm::RS256 => {
                let public = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
                let signing = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der)
                    .map_err(|e| JwtError::Key(format!("RS256 key {kid} cannot be loaded: {e}")))?;
                Ok(Signer::Rs256(public, signing))
            }
            Algorithm::HS256 => Err(JwtError::Key(
                "HS256 has no key pair; use Keyring::hs256".into(),
            )),
        }
    }

    pub(super) fn sign(&self, rng: &SystemRandom, msg: &[u8]) -> Result<Vec<u8>, JwtError> {
        let failed = |_| JwtError::Key("signing failed".into());
        match self {
            Signer::Ed25519(_, kp) => Ok(kp.sign(msg).as_ref().to_vec()),
            Signer::Es256(kp) => Ok(kp.sign(rng, msg).map_err(failed)?.as_ref().to_vec()),
            Signer::Rs256(_, kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                let rng = aws_lc_rs::rand::SystemRandom::new();
                kp.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(|_| JwtError::Key("signing failed".into()))?;
                Ok(sig)
            }
            Signer::Hs256(key) => Ok(hmac::sign(key, msg).as_ref().to_vec()),
        }
    }

    pub(super) fn verifier(&self) -> Verifier {
        match self {
            Signer::Ed25519(kp, _) => Verifier::Unparsed(UnparsedPublicKey::new(
                &signature::ED25519,
                kp.public_key().as_ref().to_vec(),
            )),
            Signer::Es256(kp) => Verifier::Unparsed(UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                kp.public_key().as_ref().to_vec(),
            )),
            Signer::Rs256(kp, _) => Verifier::Rsa(RsaPublicKeyComponents::from(kp.public())),
            Signer::Hs256(key) => Verifier::Hmac(key.clone()),
        }
    }

    /// The public JWK (with `kid`, `alg`, `use`); `None` for HS256.
    pub(super) fn public_jwk(&self, alg: Algorithm, kid: &str) -> Option<Value> {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match self {
            Signer::Ed25519(kp, _) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64(kp.public_key().as_ref()),
            }),
            Signer::Es256(kp) => {
                // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = kp.public_key().as_ref();
                let (x, y) = point.get(1..33).zip(point.get(33..65))?;
                json!({ "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y) })
            }
            Signer::Rs256(kp, _) => {
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(kp.public());
                json!({ "kty": "RSA", "n": b64(&parts.n), "e": b64(&parts.e) })
            }
            Signer::Hs256(_) => return None,
        };
        let members = jwk.as_object_mut()?;
        members.insert("kid".into(), Value::from(kid));
        members.insert("alg".into(), Value::from(alg.as_str()));
        members.insert("use".into(), Value::from("sig"));
        Some(jwk)
    }
}

/// A public (or, for HS256, shared) key parsed once, ready to verify.
pub(crate) enum Verifier {
    Unparsed(UnparsedPublicKey<Vec<u8>>),
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    Hmac(hmac::Key),
}

impl Verifier {
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), ring::error::Unspecified> {
        match self {
            Verifier::Unparsed(key) => key.verify(msg, sig),
            Verifier::Rsa(key) => key.verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig),
            // Constant-time comparison inside ring.
            Verifier::Hmac(key) => hmac::verify(key, msg, sig),
        }
    }
}

pub(super) struct VerifyKey {
    pub(super) kid: String,
    pub(super) verifier: Verifier,
}

/// A stored public JWK must agree with the key derived from the private key
/// on every member we publish, and must not carry a private member.
pub(super) fn check_stored_jwk(kid: &str, stored: &Value, derived: &Value) -> Result<(), JwtError> {
    let mismatch = || {
        JwtError::Key(format!(
            "public JWK of key {kid} does not match its private key"
        ))
    };
    let (Some(stored), Some(derived)) = (stored.as_object(), derived.as_object()) else {
        return Err(mismatch());
    };
    if PRIVATE_JWK_MEMBERS.iter().any(|m| stored.contains_key(*m)) {
        return Err(JwtError::Key(format!(
            "public JWK of key {kid} contains private key material"
        )));
    }
    if derived
        .iter()
        .all(|(name, value)| stored.get(name) == Some(value))
    {
        Ok(())
    } else {
        Err(mismatch())
    }
}
