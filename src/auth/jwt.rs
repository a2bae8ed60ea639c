//! JWT signing and verification: toktok's access and anonymous tokens (and
//! the JWT refresh tokens issued before v1.1), the signing keys behind them,
//! and the JWKS that publishes them.
//!
//! This module owns the whole compact-JWS path: key generation (storage form
//! [`KeyMaterial`]), the parsed, shareable [`Keyring`], signing, verification
//! and the public key set served at `/.well-known/jwks.json`.
//!
//! It is hand-written on top of `ring` rather than built on a JWT crate so
//! that every rule of SECURITY.md J1–J3 is visible in one place and nothing is
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
//! Token shapes (API.md "Token shapes, v1.1") are chosen so that a service
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

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, PoisonError};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use ring::{digest, hmac};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Largest token accepted by [`Keyring::verify`] (and produced by
/// [`Keyring::sign`]). Ours are well under 1 KiB; the cap bounds the work an
/// unauthenticated caller can cause before the signature is checked.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Upper bound for [`Validation::leeway`] (SECURITY.md J2); larger values are
/// clamped to it, negative ones to zero.
pub const MAX_LEEWAY: i64 = 60;

/// RSA modulus size for generated RS256 keys.
const RSA_BITS: usize = 2048;

/// Header members that carry key material or extensions. They are refused by
/// the allow-list anyway; naming them gives a clearer reason in the logs.
const FORBIDDEN_HEADER: &[&str] = &["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"];

/// JWK members that only private keys have; never published, never stored in
/// `KeyMaterial::public_jwk`.
const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The signing algorithm, fixed by `[jwt] algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    EdDSA,
    ES256,
    RS256,
    HS256,
}

impl Algorithm {
    /// The JOSE name, as it appears in `alg` (same as the config string).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
            Algorithm::HS256 => "HS256",
        }
    }
}

/// What a token is for; carried in the `typ` claim so that kinds cannot stand
/// in for each other (SECURITY.md J3).
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
}

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

/// RSA key generation is the one thing ring cannot do; the `rsa` crate is
/// used for it and for PKCS#8 encoding only. Its private-key operations are
/// not constant time (RUSTSEC-2023-0071), so signing is left to ring.
fn generate_rsa_pkcs8() -> Result<Vec<u8>, JwtError> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, RSA_BITS)
        .map_err(|e| JwtError::Key(format!("RSA key generation failed: {e}")))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| JwtError::Key(format!("RSA key encoding failed: {e}")))?;
    Ok(der.as_bytes().to_vec())
}

/// A private key parsed by ring, ready to sign.
enum Signer {
    Ed25519(Ed25519KeyPair),
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
    Hs256(hmac::Key),
}

impl Signer {
    fn from_pkcs8(
        alg: Algorithm,
        kid: &str,
        der: &[u8],
        rng: &SystemRandom,
    ) -> Result<Signer, JwtError> {
        let rejected = |e: ring::error::KeyRejected| {
            JwtError::Key(format!("{} key {kid} cannot be loaded: {e}", alg.as_str()))
        };
        match alg {
            Algorithm::EdDSA => Ed25519KeyPair::from_pkcs8(der)
                .map(Signer::Ed25519)
                .map_err(rejected),
            Algorithm::ES256 => {
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, rng)
                    .map(Signer::Es256)
                    .map_err(rejected)
            }
            Algorithm::RS256 => RsaKeyPair::from_pkcs8(der)
                .map(Signer::Rs256)
                .map_err(rejected),
            Algorithm::HS256 => Err(JwtError::Key(
                "HS256 has no key pair; use Keyring::hs256".into(),
            )),
        }
    }

    fn sign(&self, rng: &SystemRandom, msg: &[u8]) -> Result<Vec<u8>, JwtError> {
        let failed = |_| JwtError::Key("signing failed".into());
        match self {
            Signer::Ed25519(kp) => Ok(kp.sign(msg).as_ref().to_vec()),
            Signer::Es256(kp) => Ok(kp.sign(rng, msg).map_err(failed)?.as_ref().to_vec()),
            Signer::Rs256(kp) => {
                let mut sig = vec![0u8; kp.public().modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, rng, msg, &mut sig)
                    .map_err(failed)?;
                Ok(sig)
            }
            Signer::Hs256(key) => Ok(hmac::sign(key, msg).as_ref().to_vec()),
        }
    }

    fn verifier(&self) -> Verifier {
        match self {
            Signer::Ed25519(kp) => Verifier::Unparsed(UnparsedPublicKey::new(
                &signature::ED25519,
                kp.public_key().as_ref().to_vec(),
            )),
            Signer::Es256(kp) => Verifier::Unparsed(UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                kp.public_key().as_ref().to_vec(),
            )),
            Signer::Rs256(kp) => Verifier::Rsa(RsaPublicKeyComponents::from(kp.public())),
            Signer::Hs256(key) => Verifier::Hmac(key.clone()),
        }
    }

    /// The public JWK (with `kid`, `alg`, `use`); `None` for HS256.
    fn public_jwk(&self, alg: Algorithm, kid: &str) -> Option<Value> {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match self {
            Signer::Ed25519(kp) => json!({
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
            Signer::Rs256(kp) => {
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
enum Verifier {
    Unparsed(UnparsedPublicKey<Vec<u8>>),
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    Hmac(hmac::Key),
}

impl Verifier {
    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), ring::error::Unspecified> {
        match self {
            Verifier::Unparsed(key) => key.verify(msg, sig),
            Verifier::Rsa(key) => key.verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig),
            // Constant-time comparison inside ring.
            Verifier::Hmac(key) => hmac::verify(key, msg, sig),
        }
    }
}

struct VerifyKey {
    kid: String,
    verifier: Verifier,
}

/// The parsed signing and verification keys of one algorithm. Built once at
/// start (or on key rotation) and shared through an `Arc` in the app state.
pub struct Keyring {
    alg: Algorithm,
    active_kid: String,
    /// Only the active key's private half is kept in memory.
    signer: Signer,
    /// base64url of the active key's header `typ: JWT` (anonymous tokens).
    header_b64: String,
    /// base64url of the active key's header `typ: at+jwt` (access tokens).
    access_header_b64: String,
    /// The active key first, then retired ones; looked up by `kid`.
    keys: Vec<VerifyKey>,
    /// `{"keys":[…]}`, built once.
    jwks: Value,
    /// HS256 accepts tokens without `kid` (API.md, "Token responses").
    kid_optional: bool,
    rng: SystemRandom,
    /// Tokens whose signature this keyring has checked (see the module doc).
    memo: Mutex<VerifyMemo>,
}

/// Tokens kept per generation of [`VerifyMemo`]; at most twice this many
/// are remembered (about 1 KiB each).
const MEMO_CAPACITY: usize = 2048;

/// The claims of tokens whose signature checked out, by the exact token
/// text. Two generations: when `current` is full it becomes `previous`
/// and a new one starts, so tokens in use stay while unused ones age out.
/// Only tokens that verified are ever put here, so a caller without a key
/// cannot fill it. Refresh tokens are left out: each is used once.
#[derive(Default)]
struct VerifyMemo {
    current: HashMap<String, WireClaims>,
    previous: HashMap<String, WireClaims>,
}

impl VerifyMemo {
    fn get(&mut self, token: &str) -> Option<WireClaims> {
        if let Some(claims) = self.current.get(token) {
            return Some(claims.clone());
        }
        let (token, claims) = self.previous.remove_entry(token)?;
        self.insert(token, claims.clone());
        Some(claims)
    }

    fn insert(&mut self, token: String, claims: WireClaims) {
        if self.current.len() >= MEMO_CAPACITY {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(token, claims);
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("Keyring")
            .field("alg", &self.alg)
            .field("active_kid", &self.active_kid)
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Asymmetric: `active` signs; `active` and every key in `retired` verify
    /// (by kid). All must have alg == `alg` (error otherwise).
    ///
    /// Public keys are derived from the private keys; a stored `public_jwk`
    /// that disagrees with its private key, or holds a private member, is an
    /// error rather than something to publish.
    pub fn new(
        alg: Algorithm,
        active: &KeyMaterial,
        retired: &[KeyMaterial],
    ) -> Result<Keyring, JwtError> {
        if alg == Algorithm::HS256 {
            return Err(JwtError::Key(
                "HS256 uses a configured secret (Keyring::hs256), not key material".into(),
            ));
        }
        let rng = SystemRandom::new();
        let mut seen = HashSet::new();
        let mut keys = Vec::with_capacity(1 + retired.len());
        let mut jwks = Vec::with_capacity(1 + retired.len());
        let mut signer = None;
        for (i, km) in std::iter::once(active).chain(retired).enumerate() {
            if km.alg != alg {
                return Err(JwtError::Key(format!(
                    "key {} is {}, but [jwt] algorithm is {}",
                    km.kid,
                    km.alg.as_str(),
                    alg.as_str()
                )));
            }
            if km.kid.is_empty() {
                return Err(JwtError::Key("a signing key has an empty kid".into()));
            }
            if !seen.insert(km.kid.as_str()) {
                return Err(JwtError::Key(format!("duplicate key id {}", km.kid)));
            }
            let parsed = Signer::from_pkcs8(alg, &km.kid, &km.private_der, &rng)?;
            let jwk = parsed.public_jwk(alg, &km.kid).ok_or_else(|| {
                JwtError::Key("internal: asymmetric key without a public JWK".into())
            })?;
            check_stored_jwk(&km.kid, &km.public_jwk, &jwk)?;
            jwks.push(jwk);
            keys.push(VerifyKey {
                kid: km.kid.clone(),
                verifier: parsed.verifier(),
            });
            if i == 0 {
                signer = Some(parsed);
            }
        }
        let signer =
            signer.ok_or_else(|| JwtError::Key("internal: no active signing key".into()))?;
        Ok(Keyring {
            alg,
            active_kid: active.kid.clone(),
            signer,
            header_b64: encode_header(alg, &active.kid, "JWT"),
            access_header_b64: encode_header(alg, &active.kid, ACCESS_TOKEN_TYP),
            keys,
            jwks: json!({ "keys": jwks }),
            kid_optional: false,
            rng,
            memo: Mutex::default(),
        })
    }

    /// HS256 with the raw UTF-8 bytes of the secret (caller guarantees >= 32
    /// bytes). kid = "hs-" + first 8 hex chars of SHA-256(secret).
    pub fn hs256(secret: &[u8]) -> Keyring {
        let hash = digest::digest(&digest::SHA256, secret);
        let mut kid = String::from("hs-");
        for byte in hash.as_ref().iter().take(4) {
            kid.push_str(&format!("{byte:02x}"));
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        Keyring {
            alg: Algorithm::HS256,
            header_b64: encode_header(Algorithm::HS256, &kid, "JWT"),
            access_header_b64: encode_header(Algorithm::HS256, &kid, ACCESS_TOKEN_TYP),
            keys: vec![VerifyKey {
                kid: kid.clone(),
                verifier: Verifier::Hmac(key.clone()),
            }],
            active_kid: kid,
            signer: Signer::Hs256(key),
            jwks: json!({ "keys": [] }),
            kid_optional: true,
            rng: SystemRandom::new(),
            memo: Mutex::default(),
        }
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }

    /// Whether this keyring signs with `active` and verifies with exactly
    /// `active` and `others`, in that order: then a reload keeps it.
    pub fn holds<'a>(&self, active: &'a str, others: impl IntoIterator<Item = &'a str>) -> bool {
        self.active_kid == active
            && self
                .keys
                .iter()
                .map(|k| k.kid.as_str())
                .eq(std::iter::once(active).chain(others))
    }

    /// Header {"alg","kid","typ"}, compact serialisation, base64url without
    /// padding. `typ` is `at+jwt` for access tokens and `JWT` otherwise
    /// (a refresh kind gives the pre-1.1 refresh token, for tests only).
    pub fn sign(&self, claims: &Claims) -> Result<String, JwtError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|_| JwtError::Key("claims could not be serialised".into()))?;
        let header = match claims.typ {
            TokenKind::Access => &self.access_header_b64,
            TokenKind::Refresh | TokenKind::Anonymous => &self.header_b64,
        };
        self.sign_parts(header, &payload)
    }

    fn sign_parts(&self, header_b64: &str, payload_json: &[u8]) -> Result<String, JwtError> {
        let mut token = String::with_capacity(512);
        token.push_str(header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload_json, &mut token);
        let sig = self.signer.sign(&self.rng, token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut token);
        if token.len() > MAX_TOKEN_LEN {
            // It would never verify; refuse to hand it out.
            return Err(JwtError::Invalid("claims too large for a token"));
        }
        Ok(token)
    }

    /// Verifies signature and claims at time `now` (unix seconds).
    ///
    /// Order: shape and size, header allow-list and `alg`, key by `kid`,
    /// signature, and only then claims. `Expired` is returned only for a
    /// token that is valid in every other respect. A token whose signature
    /// this keyring has already checked skips straight to the claims.
    pub fn verify(&self, token: &str, v: &Validation, now: i64) -> Result<Claims, JwtError> {
        let remembered = self.memo().get(token);
        let claims = match remembered {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(token)?;
                if claims.typ != TokenKind::Refresh {
                    self.memo().insert(token.to_owned(), claims.clone());
                }
                claims
            }
        };
        check_claims(claims, v, now)
    }

    #[cfg(any(test, feature = "testing"))]
    /// [`Keyring::verify`] without the memo: always checks the signature.
    pub fn verify_fresh(&self, token: &str, v: &Validation, now: i64) -> Result<Claims, JwtError> {
        check_claims(self.verify_signature(token)?, v, now)
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, VerifyMemo> {
        self.memo.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything of `verify` but the claims check: the claims of a token
    /// whose form, header and signature are good.
    fn verify_signature(&self, token: &str) -> Result<WireClaims, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
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
        // The signing input is the text of the first two segments and the
        // dot between them, exactly as received.
        let signing_input = token
            .as_bytes()
            .get(..header_b64.len() + 1 + payload_b64.len())
            .ok_or(JwtError::Malformed)?;

        let (key, access_typ) = self.check_header(&header)?;
        key.verifier
            .verify(signing_input, &signature)
            .map_err(|_| JwtError::Invalid("bad signature"))?;

        let claims = parse_claims(&payload)?;
        match (access_typ, claims.typ) {
            (true, TokenKind::Access) => {}
            (true, _) => return Err(JwtError::Invalid("at+jwt on a token that is not access")),
            // Only the pre-1.1 shape, which had no client_id, may lack it.
            (false, TokenKind::Access) if claims.client_id.is_some() => {
                return Err(JwtError::Invalid("access token without typ at+jwt"))
            }
            (false, _) => {}
        }
        Ok(claims)
    }

    /// `{"keys":[public JWKs]}` — empty list for HS256; never any private part.
    pub fn jwks(&self) -> Value {
        self.jwks.clone()
    }

    /// Applies the header allow-list and returns the key named by `kid`,
    /// and whether `typ` is `at+jwt` (else it is `JWT` or absent).
    fn check_header(&self, header: &[u8]) -> Result<(&VerifyKey, bool), JwtError> {
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
            Some(Value::String(alg)) if alg == self.alg.as_str() => {}
            Some(_) => return Err(JwtError::Invalid("algorithm not accepted")),
            None => return Err(JwtError::Invalid("missing alg")),
        }
        let access_typ = match header.get("typ") {
            None => false,
            Some(Value::String(typ)) if typ == "JWT" => false,
            Some(Value::String(typ)) if typ == ACCESS_TOKEN_TYP => true,
            Some(_) => return Err(JwtError::Invalid("unexpected typ header")),
        };
        let key = match header.get("kid") {
            Some(Value::String(kid)) => self
                .keys
                .iter()
                .find(|k| k.kid == *kid)
                .ok_or(JwtError::Invalid("unknown kid")),
            Some(_) => Err(JwtError::Invalid("kid is not a string")),
            None if self.kid_optional => self
                .keys
                .first()
                .ok_or(JwtError::Invalid("no verification key")),
            None => Err(JwtError::Invalid("missing kid")),
        }?;
        Ok((key, access_typ))
    }
}

fn encode_header(alg: Algorithm, kid: &str, typ: &str) -> String {
    let header = json!({ "alg": alg.as_str(), "kid": kid, "typ": typ });
    URL_SAFE_NO_PAD.encode(header.to_string())
}

/// A stored public JWK must agree with the key derived from the private key
/// on every member we publish, and must not carry a private member.
fn check_stored_jwk(kid: &str, stored: &Value, derived: &Value) -> Result<(), JwtError> {
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

/// Canonical, unpadded base64url of a non-empty segment.
fn decode_segment(segment: &str) -> Result<Vec<u8>, JwtError> {
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
fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JwtError> {
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
struct WireClaims {
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
    typ: TokenKind,
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
}

fn parse_claims(payload: &[u8]) -> Result<WireClaims, JwtError> {
    let members = parse_object(payload)?;
    // Typed deserialisation is what makes `"exp":"9999999999"` or
    // `"exp":1e10` fail: an i64 field accepts JSON integers only.
    serde_json::from_value(Value::Object(members))
        .map_err(|_| JwtError::Invalid("claims missing or of the wrong type"))
}

fn check_claims(c: WireClaims, v: &Validation, now: i64) -> Result<Claims, JwtError> {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    const NOW: i64 = 1_700_000_000;
    const SECRET: &[u8] = b"an-hs256-test-secret-of-at-least-32-bytes!";
    const ALL_ASYMMETRIC: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];
    const ALL_KINDS: [TokenKind; 3] = [TokenKind::Access, TokenKind::Refresh, TokenKind::Anonymous];

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// RSA key generation is slow: one RS256 key for the whole suite.
    fn rs256_key() -> &'static KeyMaterial {
        static KEY: OnceLock<KeyMaterial> = OnceLock::new();
        KEY.get_or_init(|| generate_key(Algorithm::RS256).unwrap())
    }

    fn key_for(alg: Algorithm) -> KeyMaterial {
        match alg {
            Algorithm::RS256 => rs256_key().clone(),
            other => generate_key(other).unwrap(),
        }
    }

    fn ring_for(alg: Algorithm) -> Keyring {
        match alg {
            Algorithm::HS256 => Keyring::hs256(SECRET),
            other => Keyring::new(other, &key_for(other), &[]).unwrap(),
        }
    }

    /// One shared keyring per algorithm, for the property tests.
    fn shared_ring(alg: Algorithm) -> &'static Keyring {
        static RINGS: OnceLock<[Keyring; 4]> = OnceLock::new();
        let rings = RINGS.get_or_init(|| {
            [
                ring_for(Algorithm::EdDSA),
                ring_for(Algorithm::ES256),
                ring_for(Algorithm::RS256),
                ring_for(Algorithm::HS256),
            ]
        });
        &rings[alg as usize]
    }

    fn all_rings() -> Vec<&'static Keyring> {
        [
            Algorithm::EdDSA,
            Algorithm::ES256,
            Algorithm::RS256,
            Algorithm::HS256,
        ]
        .into_iter()
        .map(shared_ring)
        .collect()
    }

    fn claims(kind: TokenKind) -> Claims {
        Claims {
            iss: "toktok".into(),
            aud: "toktok-api".into(),
            sub: "0190f1a2-0000-7000-8000-000000000001".into(),
            exp: NOW + 900,
            iat: NOW,
            nbf: NOW,
            jti: "jti-1".into(),
            client_id: (kind == TokenKind::Access).then(|| FIRST_PARTY_CLIENT_ID.into()),
            sid: Some("sid-1".into()),
            typ: kind,
            email: Some("ada@example.com".into()),
            email_verified: Some(true),
            role: Some("user".into()),
            auth_time: Some(NOW - 60),
            amr: Some(vec!["pwd".into()]),
            aal: Some(1),
        }
    }

    fn validation(kind: TokenKind) -> Validation {
        Validation {
            issuer: "toktok".into(),
            audience: "toktok-api".into(),
            leeway: 30,
            kind,
        }
    }

    fn access() -> Validation {
        validation(TokenKind::Access)
    }

    /// The payload of `claims(Access)` as a JSON value, to tamper with.
    fn payload_value() -> Value {
        serde_json::to_value(claims(TokenKind::Access)).unwrap()
    }

    /// A correctly signed token with an arbitrary header and payload, so the
    /// header and claim rules are tested on their own, not via the signature.
    fn forge(ring: &Keyring, header: &Value, payload: &Value) -> String {
        ring.sign_parts(&b64(header.to_string()), payload.to_string().as_bytes())
            .unwrap()
    }

    /// The header of an access token (which `payload_value` is).
    fn std_header(ring: &Keyring) -> Value {
        json!({ "alg": ring.algorithm().as_str(), "kid": ring.active_kid(), "typ": ACCESS_TOKEN_TYP })
    }

    fn segments(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    fn invalid(r: Result<Claims, JwtError>) -> bool {
        matches!(r, Err(JwtError::Invalid(_)))
    }

    // ---- algorithm, keys, keyring construction -------------------------

    #[test]
    fn a_remembered_token_is_still_checked_against_the_clock_and_the_rules() {
        for alg in [
            Algorithm::EdDSA,
            Algorithm::ES256,
            Algorithm::RS256,
            Algorithm::HS256,
        ] {
            let ring = ring_for(alg);
            let mut c = claims(TokenKind::Access);
            c.exp = NOW + 60;
            let token = ring.sign(&c).unwrap();
            assert!(ring.verify(&token, &access(), NOW).is_ok());
            assert_eq!(
                ring.memo().current.len(),
                1,
                "an access token is remembered"
            );
            // Served from the memo, yet expiry, kind and audience still count.
            assert_eq!(
                ring.verify(&token, &access(), NOW + 60 + MAX_LEEWAY + 1),
                Err(JwtError::Expired)
            );
            assert!(invalid(ring.verify(
                &token,
                &validation(TokenKind::Refresh),
                NOW
            )));
            let mut other = access();
            other.audience = "someone-else".into();
            assert!(invalid(ring.verify(&token, &other, NOW)));
            assert!(ring.verify(&token, &access(), NOW).is_ok());
        }
    }

    #[test]
    fn only_verified_access_tokens_are_remembered() {
        let ring = ring_for(Algorithm::EdDSA);
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        // A changed signature is another text: checked, refused, not kept.
        let mut parts = segments(&token);
        parts[2] = b64([0u8; 64]);
        let forged = parts.join(".");
        assert!(invalid(ring.verify(&forged, &access(), NOW)));
        let refresh = ring.sign(&claims(TokenKind::Refresh)).unwrap();
        ring.verify(&refresh, &validation(TokenKind::Refresh), NOW)
            .unwrap();
        assert!(ring.memo().current.is_empty());
        assert!(ring.memo().previous.is_empty());
        ring.verify(&token, &access(), NOW).unwrap();
        assert!(
            invalid(ring.verify(&forged, &access(), NOW)),
            "still refused"
        );
    }

    #[test]
    fn the_memo_keeps_two_generations() {
        let mut memo = VerifyMemo::default();
        let ring = ring_for(Algorithm::HS256);
        let wire = ring
            .verify_signature(&ring.sign(&claims(TokenKind::Access)).unwrap())
            .unwrap();
        for i in 0..MEMO_CAPACITY {
            memo.insert(format!("t{i}"), wire.clone());
        }
        memo.insert("last".into(), wire.clone());
        assert_eq!(memo.current.len(), 1);
        assert_eq!(memo.previous.len(), MEMO_CAPACITY);
        // A hit in the old generation moves the token to the new one.
        assert!(memo.get("t5").is_some());
        assert!(memo.current.contains_key("t5"));
        assert!(!memo.previous.contains_key("t5"));
        assert!(memo.get("never").is_none());
    }

    #[test]
    fn algorithm_names_match_config_strings() {
        for (alg, name) in [
            (Algorithm::EdDSA, "EdDSA"),
            (Algorithm::ES256, "ES256"),
            (Algorithm::RS256, "RS256"),
            (Algorithm::HS256, "HS256"),
        ] {
            assert_eq!(alg.as_str(), name);
            assert_eq!(serde_json::to_value(alg).unwrap(), json!(name));
            assert_eq!(
                serde_json::from_value::<Algorithm>(json!(name)).unwrap(),
                alg
            );
        }
        for (kind, name) in [
            (TokenKind::Access, "access"),
            (TokenKind::Refresh, "refresh"),
            (TokenKind::Anonymous, "anonymous"),
        ] {
            assert_eq!(kind.as_str(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
        }
    }

    #[test]
    fn generated_keys_have_random_url_safe_kids_and_public_jwks() {
        for alg in ALL_ASYMMETRIC {
            let km = key_for(alg);
            assert_eq!(km.alg, alg);
            assert_eq!(km.kid.len(), 22, "16 bytes, base64url, no padding");
            assert_eq!(URL_SAFE_NO_PAD.decode(&km.kid).unwrap().len(), 16);
            assert_eq!(km.public_jwk["kid"], json!(km.kid));
            assert_eq!(km.public_jwk["alg"], json!(alg.as_str()));
            assert_eq!(km.public_jwk["use"], json!("sig"));
            assert!(!km.private_der.is_empty());
        }
        assert_ne!(
            generate_key(Algorithm::EdDSA).unwrap().kid,
            generate_key(Algorithm::EdDSA).unwrap().kid
        );
        assert!(matches!(
            generate_key(Algorithm::HS256),
            Err(JwtError::Key(_))
        ));
    }

    #[test]
    fn key_material_debug_redacts_the_private_key() {
        let km = key_for(Algorithm::EdDSA);
        let shown = format!("{km:?}");
        assert!(shown.contains("[redacted]"));
        assert!(shown.contains(&km.kid));
        assert!(!shown.contains(&format!("{:?}", km.private_der)));
        assert!(!shown.contains("private_der: ["));
        let ring = ring_for(Algorithm::EdDSA);
        assert!(format!("{ring:?}").contains(ring.active_kid()));
    }

    #[test]
    fn keyring_is_send_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Keyring>();
        assert_send_sync::<std::sync::Arc<Keyring>>();
    }

    #[test]
    fn keyring_refuses_mixed_algorithms_and_hs256_material() {
        let ed = key_for(Algorithm::EdDSA);
        let es = key_for(Algorithm::ES256);
        assert!(matches!(
            Keyring::new(Algorithm::ES256, &ed, &[]),
            Err(JwtError::Key(_))
        ));
        assert!(matches!(
            Keyring::new(Algorithm::EdDSA, &ed, std::slice::from_ref(&es)),
            Err(JwtError::Key(_))
        ));
        assert!(matches!(
            Keyring::new(Algorithm::HS256, &ed, &[]),
            Err(JwtError::Key(_))
        ));
        // DER of one algorithm labelled as another.
        let mut relabelled = es;
        relabelled.alg = Algorithm::EdDSA;
        assert!(matches!(
            Keyring::new(Algorithm::EdDSA, &relabelled, &[]),
            Err(JwtError::Key(_))
        ));
    }

    #[test]
    fn keyring_refuses_duplicate_kids_and_bad_stored_jwks() {
        let ed = key_for(Algorithm::EdDSA);
        assert!(matches!(
            Keyring::new(Algorithm::EdDSA, &ed, std::slice::from_ref(&ed)),
            Err(JwtError::Key(_))
        ));
        let mut garbage = ed.clone();
        garbage.private_der = vec![0x30, 0x03, 0x02, 0x01, 0x00];
        assert!(matches!(
            Keyring::new(Algorithm::EdDSA, &garbage, &[]),
            Err(JwtError::Key(_))
        ));
        // A public JWK belonging to another key.
        let mut swapped = ed.clone();
        swapped.public_jwk = key_for(Algorithm::EdDSA).public_jwk;
        assert!(matches!(
            Keyring::new(Algorithm::EdDSA, &swapped, &[]),
            Err(JwtError::Key(_))
        ));
        // A "public" JWK with a private member.
        let mut leaky = ed.clone();
        leaky.public_jwk["d"] = json!("AAAA");
        assert!(matches!(
            Keyring::new(Algorithm::EdDSA, &leaky, &[]),
            Err(JwtError::Key(_))
        ));
        let mut empty_kid = ed;
        empty_kid.kid.clear();
        assert!(Keyring::new(Algorithm::EdDSA, &empty_kid, &[]).is_err());
    }

    #[test]
    fn hs256_kid_is_derived_from_the_secret_hash() {
        let ring = Keyring::hs256(SECRET);
        let hash = digest::digest(&digest::SHA256, SECRET);
        let expected: String = hash.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(ring.active_kid(), format!("hs-{expected}"));
        assert_eq!(ring.active_kid().len(), 11);
        assert_eq!(ring.algorithm(), Algorithm::HS256);
        assert_ne!(
            Keyring::hs256(b"another-secret-of-at-least-32-bytes!!").active_kid(),
            ring.active_kid()
        );
    }

    // ---- signing and round trips --------------------------------------

    #[test]
    fn signed_header_is_alg_kid_typ_only() {
        for ring in all_rings() {
            let token = ring.sign(&claims(TokenKind::Access)).unwrap();
            let parts = segments(&token);
            assert_eq!(parts.len(), 3);
            assert!(!token.contains('='));
            let header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[0]).unwrap()).unwrap();
            assert_eq!(header, std_header(ring));
        }
    }

    #[test]
    fn sign_then_verify_round_trips_for_every_algorithm_and_kind() {
        for ring in all_rings() {
            for kind in ALL_KINDS {
                let c = claims(kind);
                let token = ring.sign(&c).unwrap();
                assert_eq!(
                    ring.verify(&token, &validation(kind), NOW).unwrap(),
                    c,
                    "{:?}",
                    ring.algorithm()
                );
            }
        }
    }

    #[test]
    fn optional_claims_are_omitted_when_absent() {
        let mut c = claims(TokenKind::Refresh);
        c.email = None;
        c.email_verified = None;
        c.role = None;
        let value = serde_json::to_value(&c).unwrap();
        for name in ["email", "email_verified", "role"] {
            assert!(value.get(name).is_none());
        }
        assert_eq!(value["typ"], json!("refresh"));
        let ring = shared_ring(Algorithm::EdDSA);
        let token = ring.sign(&c).unwrap();
        assert_eq!(
            ring.verify(&token, &validation(TokenKind::Refresh), NOW)
                .unwrap(),
            c
        );
    }

    #[test]
    fn retired_keys_verify_but_do_not_sign() {
        let old = key_for(Algorithm::EdDSA);
        let new = key_for(Algorithm::EdDSA);
        let old_ring = Keyring::new(Algorithm::EdDSA, &old, &[]).unwrap();
        let old_token = old_ring.sign(&claims(TokenKind::Access)).unwrap();

        let rotated = Keyring::new(Algorithm::EdDSA, &new, std::slice::from_ref(&old)).unwrap();
        assert_eq!(rotated.active_kid(), new.kid);
        assert!(rotated.verify(&old_token, &access(), NOW).is_ok());
        let new_token = rotated.sign(&claims(TokenKind::Access)).unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(&new_token)[0]).unwrap())
                .unwrap();
        assert_eq!(header["kid"], json!(new.kid));
        // The old keyring does not know the new key.
        assert_eq!(
            old_ring.verify(&new_token, &access(), NOW),
            Err(JwtError::Invalid("unknown kid"))
        );
        // Once the old key is dropped, its tokens die.
        let pruned = Keyring::new(Algorithm::EdDSA, &new, &[]).unwrap();
        assert!(invalid(pruned.verify(&old_token, &access(), NOW)));
    }

    // ---- shape: segments, base64url, size -----------------------------

    #[test]
    fn wrong_segment_counts_are_malformed() {
        let ring = shared_ring(Algorithm::EdDSA);
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let p = segments(&token);
        for bad in [
            String::new(),
            ".".into(),
            "..".into(),
            "...".into(),
            p[0].clone(),
            format!("{}.{}", p[0], p[1]),
            format!("{token}.{}", p[2]),
            format!("{token}."),
            format!(".{token}"),
            format!("{}..{}", p[0], p[2]),
        ] {
            assert_eq!(
                ring.verify(&bad, &access(), NOW),
                Err(JwtError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn padding_and_non_url_base64_are_malformed() {
        let ring = shared_ring(Algorithm::EdDSA);
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let p = segments(&token);
        // Re-encode each segment with padding or with the standard alphabet.
        let std = base64::engine::general_purpose::STANDARD;
        let url_padded = base64::engine::general_purpose::URL_SAFE;
        for i in 0..3 {
            let raw = URL_SAFE_NO_PAD.decode(&p[i]).unwrap();
            for encoded in [url_padded.encode(&raw), std.encode(&raw)] {
                if encoded == p[i] {
                    continue; // no padding needed and no +/ in it
                }
                let mut q = p.clone();
                q[i] = encoded;
                assert_eq!(
                    ring.verify(&q.join("."), &access(), NOW),
                    Err(JwtError::Malformed)
                );
            }
            for junk in ["=", "+", "/", " ", "\n", "%", "é"] {
                let mut q = p.clone();
                q[i].push_str(junk);
                assert_eq!(
                    ring.verify(&q.join("."), &access(), NOW),
                    Err(JwtError::Malformed)
                );
            }
        }
        assert_eq!(
            ring.verify(&format!(" {token}"), &access(), NOW),
            Err(JwtError::Malformed)
        );
    }

    #[test]
    fn non_canonical_trailing_bits_are_malformed() {
        let ring = shared_ring(Algorithm::EdDSA);
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let mut p = segments(&token);
        // A 64-byte Ed25519 signature is 86 chars: the last one carries 4
        // unused bits. Setting one keeps the decoded bytes identical.
        let last = p[2].pop().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(last).unwrap();
        assert_eq!(idx % 16, 0, "canonical: the 4 unused bits are zero");
        p[2].push(alphabet.as_bytes()[idx | 1] as char);
        assert_eq!(
            ring.verify(&p.join("."), &access(), NOW),
            Err(JwtError::Malformed)
        );
    }

    #[test]
    fn oversized_tokens_are_malformed_before_decoding() {
        let ring = shared_ring(Algorithm::HS256);
        let mut payload = payload_value();
        payload["pad"] = json!("x".repeat(MAX_TOKEN_LEN));
        let huge = format!(
            "{}.{}.{}",
            b64(std_header(ring).to_string()),
            b64(payload.to_string()),
            b64([0u8; 32])
        );
        assert_eq!(ring.verify(&huge, &access(), NOW), Err(JwtError::Malformed));
        // And sign refuses to produce one.
        let mut c = claims(TokenKind::Access);
        c.email = Some("x".repeat(MAX_TOKEN_LEN));
        assert!(ring.sign(&c).is_err());
    }

    // ---- header ---------------------------------------------------------

    #[test]
    fn header_must_be_a_json_object() {
        let ring = shared_ring(Algorithm::HS256);
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let p = segments(&token);
        for header in [
            "",
            "null",
            "[]",
            "\"JWT\"",
            "{",
            "{\"alg\":\"HS256\"",
            "not json",
            "{}x",
        ] {
            let bad = format!("{}.{}.{}", b64(header), p[1], p[2]);
            assert_eq!(
                ring.verify(&bad, &access(), NOW),
                Err(JwtError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        for ring in all_rings() {
            let payload = payload_value();
            let body = b64(payload.to_string());
            for alg in [
                "none", "None", "NONE", "nOnE", "", "eddsa", "Ed25519", "HS384", "RS512", "PS256",
                "ES384",
            ] {
                let header = json!({ "alg": alg, "kid": ring.active_kid(), "typ": "JWT" });
                // Unsigned (alg none style) and validly signed variants.
                let unsigned = format!("{}.{}.", b64(header.to_string()), body);
                assert!(ring.verify(&unsigned, &access(), NOW).is_err());
                let unsigned_sig = format!("{}.{}.{}", b64(header.to_string()), body, b64("x"));
                assert!(invalid(ring.verify(&unsigned_sig, &access(), NOW)), "{alg}");
                assert!(
                    invalid(ring.verify(&forge(ring, &header, &payload), &access(), NOW)),
                    "{alg}"
                );
            }
            // Every other algorithm toktok knows, correctly named.
            for other in [
                Algorithm::EdDSA,
                Algorithm::ES256,
                Algorithm::RS256,
                Algorithm::HS256,
            ] {
                if other == ring.algorithm() {
                    continue;
                }
                let header =
                    json!({ "alg": other.as_str(), "kid": ring.active_kid(), "typ": "JWT" });
                assert_eq!(
                    ring.verify(&forge(ring, &header, &payload), &access(), NOW),
                    Err(JwtError::Invalid("algorithm not accepted"))
                );
            }
            // alg missing or not a string.
            for header in [
                json!({ "kid": ring.active_kid(), "typ": "JWT" }),
                json!({ "alg": null, "kid": ring.active_kid() }),
                json!({ "alg": [ring.algorithm().as_str()], "kid": ring.active_kid() }),
            ] {
                assert!(invalid(ring.verify(
                    &forge(ring, &header, &payload),
                    &access(),
                    NOW
                )));
            }
        }
    }

    #[test]
    fn key_carrying_and_critical_headers_are_refused() {
        for ring in all_rings() {
            for name in ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"] {
                let mut header = std_header(ring);
                header[name] = match name {
                    "jwk" => ring.jwks()["keys"]
                        .get(0)
                        .cloned()
                        .unwrap_or(json!({"kty": "oct", "k": "AAAA"})),
                    "x5c" | "crit" => json!(["exp"]),
                    _ => json!("https://attacker.example/keys"),
                };
                assert_eq!(
                    ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
                    Err(JwtError::Invalid("forbidden header parameter")),
                    "{name}"
                );
            }
            // The allow-list also refuses anything unknown.
            for name in ["cty", "zip", "enc", "b64", "foo"] {
                let mut header = std_header(ring);
                header[name] = json!("x");
                assert_eq!(
                    ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
                    Err(JwtError::Invalid("unsupported header parameter"))
                );
            }
        }
    }

    #[test]
    fn header_typ_must_be_at_jwt_on_access_tokens_and_jwt_elsewhere() {
        let ring = shared_ring(Algorithm::ES256);
        // Access tokens as issued now: at+jwt, with client_id.
        let token = ring.sign(&claims(TokenKind::Access)).unwrap();
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(segments(&token)[0].as_str())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["typ"], json!("at+jwt"));
        assert!(ring.verify(&token, &access(), NOW).is_ok());
        // An access token of today's shape without at+jwt is refused...
        let mut no_typ = std_header(ring);
        no_typ.as_object_mut().unwrap().remove("typ");
        let mut jwt_typ = std_header(ring);
        jwt_typ["typ"] = json!("JWT");
        for header in [&no_typ, &jwt_typ] {
            assert_eq!(
                ring.verify(&forge(ring, header, &payload_value()), &access(), NOW),
                Err(JwtError::Invalid("access token without typ at+jwt"))
            );
        }
        // ...but one of the pre-1.1 shape (no client_id) is taken until it
        // expires, so an upgrade signs nobody out.
        let mut legacy = payload_value();
        for claim in ["client_id", "auth_time", "amr", "aal"] {
            legacy.as_object_mut().unwrap().remove(claim);
        }
        for header in [&no_typ, &jwt_typ] {
            assert!(ring
                .verify(&forge(ring, header, &legacy), &access(), NOW)
                .is_ok());
        }
        // at+jwt on anything that is not an access token is refused.
        for kind in [TokenKind::Refresh, TokenKind::Anonymous] {
            let payload = serde_json::to_value(claims(kind)).unwrap();
            assert!(ring
                .verify(&forge(ring, &jwt_typ, &payload), &validation(kind), NOW)
                .is_ok());
            assert_eq!(
                ring.verify(
                    &forge(ring, &std_header(ring), &payload),
                    &validation(kind),
                    NOW
                ),
                Err(JwtError::Invalid("at+jwt on a token that is not access"))
            );
        }
        for typ in [
            json!("jwt"),
            json!("AT+JWT"),
            json!("application/at+jwt"),
            json!("JWS"),
            json!(""),
            json!(null),
            json!(1),
        ] {
            let mut header = std_header(ring);
            header["typ"] = typ;
            assert!(invalid(ring.verify(
                &forge(ring, &header, &payload_value()),
                &access(),
                NOW
            )));
        }
    }

    #[test]
    fn anonymous_tokens_have_an_audience_of_their_own() {
        let ring = shared_ring(Algorithm::EdDSA);
        let mut anon = claims(TokenKind::Anonymous);
        anon.aud = anonymous_audience("toktok-api");
        assert_eq!(anon.aud, "toktok-api:anonymous");
        let token = ring.sign(&anon).unwrap();
        let v = validation(TokenKind::Anonymous);
        assert_eq!(
            ring.verify(&token, &v, NOW).unwrap().aud,
            "toktok-api:anonymous"
        );
        // The pre-1.1 shape (aud = the audience) until it expires.
        let legacy = ring.sign(&claims(TokenKind::Anonymous)).unwrap();
        assert!(ring.verify(&legacy, &v, NOW).is_ok());
        // Never as an access token, whatever the audience says.
        assert!(invalid(ring.verify(&token, &access(), NOW)));
        assert!(invalid(ring.verify(&legacy, &access(), NOW)));
        // And an access token whose aud is the anonymous one is no access token.
        let mut odd = claims(TokenKind::Access);
        odd.aud = anonymous_audience("toktok-api");
        assert!(invalid(ring.verify(
            &ring.sign(&odd).unwrap(),
            &access(),
            NOW
        )));
    }

    #[test]
    fn duplicate_header_members_are_refused() {
        let ring = shared_ring(Algorithm::EdDSA);
        let header = format!(
            r#"{{"alg":"EdDSA","kid":"{}","typ":"JWT","alg":"EdDSA"}}"#,
            ring.active_kid()
        );
        let token = ring
            .sign_parts(&b64(header), payload_value().to_string().as_bytes())
            .unwrap();
        assert_eq!(
            ring.verify(&token, &access(), NOW),
            Err(JwtError::Invalid("duplicate JSON member"))
        );
    }

    #[test]
    fn kid_is_required_for_asymmetric_keys_and_must_be_known() {
        for alg in ALL_ASYMMETRIC {
            let ring = shared_ring(alg);
            let mut header = std_header(ring);
            header.as_object_mut().unwrap().remove("kid");
            assert_eq!(
                ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
                Err(JwtError::Invalid("missing kid"))
            );
            for kid in [json!("nope"), json!(""), json!(null), json!(7)] {
                header["kid"] = kid;
                assert!(invalid(ring.verify(
                    &forge(ring, &header, &payload_value()),
                    &access(),
                    NOW
                )));
            }
        }
    }

    #[test]
    fn hs256_kid_is_optional_but_checked_when_present() {
        let ring = shared_ring(Algorithm::HS256);
        let mut header = std_header(ring);
        header.as_object_mut().unwrap().remove("kid");
        assert!(ring
            .verify(&forge(ring, &header, &payload_value()), &access(), NOW)
            .is_ok());
        header["kid"] = json!("hs-00000000");
        assert_eq!(
            ring.verify(&forge(ring, &header, &payload_value()), &access(), NOW),
            Err(JwtError::Invalid("unknown kid"))
        );
    }

    // ---- signature ------------------------------------------------------

    #[test]
    fn hs256_signed_with_a_public_key_is_refused() {
        for alg in ALL_ASYMMETRIC {
            let ring = shared_ring(alg);
            let jwk = ring.jwks()["keys"][0].clone();
            // Candidate "secrets" an attacker could derive from public data.
            let mut secrets: Vec<Vec<u8>> = vec![jwk.to_string().into_bytes()];
            for member in ["x", "y", "n"] {
                if let Some(s) = jwk[member].as_str() {
                    secrets.push(URL_SAFE_NO_PAD.decode(s).unwrap());
                    secrets.push(s.as_bytes().to_vec());
                }
            }
            for secret in secrets {
                let attacker = Keyring::hs256(&secret);
                for header in [
                    json!({ "alg": "HS256", "kid": ring.active_kid(), "typ": "JWT" }),
                    json!({ "alg": "HS256", "typ": "JWT" }),
                ] {
                    let token = forge(&attacker, &header, &payload_value());
                    assert_eq!(
                        ring.verify(&token, &access(), NOW),
                        Err(JwtError::Invalid("algorithm not accepted")),
                        "{alg:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn stripped_truncated_or_foreign_signatures_are_refused() {
        for ring in all_rings() {
            let token = ring.sign(&claims(TokenKind::Access)).unwrap();
            let p = segments(&token);
            let stripped = format!("{}.{}.", p[0], p[1]);
            assert!(ring.verify(&stripped, &access(), NOW).is_err());
            let sig = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
            for bad_sig in [
                sig[..sig.len() - 1].to_vec(),
                sig[..1].to_vec(),
                [sig.clone(), vec![0]].concat(),
                vec![0; sig.len()],
            ] {
                let bad = format!("{}.{}.{}", p[0], p[1], b64(bad_sig));
                assert_eq!(
                    ring.verify(&bad, &access(), NOW),
                    Err(JwtError::Invalid("bad signature"))
                );
            }
            // Changed claims under the old signature.
            let mut payload = payload_value();
            payload["role"] = json!("admin");
            let tampered = format!("{}.{}.{}", p[0], b64(payload.to_string()), p[2]);
            assert_eq!(
                ring.verify(&tampered, &access(), NOW),
                Err(JwtError::Invalid("bad signature"))
            );
        }
        // Same algorithm and kid, different key.
        let a = key_for(Algorithm::ES256);
        let mut b = key_for(Algorithm::ES256);
        b.kid = a.kid.clone();
        b.public_jwk["kid"] = json!(a.kid);
        let ring_a = Keyring::new(Algorithm::ES256, &a, &[]).unwrap();
        let ring_b = Keyring::new(Algorithm::ES256, &b, &[]).unwrap();
        let token = ring_b.sign(&claims(TokenKind::Access)).unwrap();
        assert_eq!(
            ring_a.verify(&token, &access(), NOW),
            Err(JwtError::Invalid("bad signature"))
        );
        let hs = Keyring::hs256(b"a-different-secret-of-at-least-32-bytes");
        let token = hs.sign(&claims(TokenKind::Access)).unwrap();
        assert!(invalid(shared_ring(Algorithm::HS256).verify(
            &token,
            &access(),
            NOW
        )));
    }

    #[test]
    fn claims_are_not_examined_before_the_signature() {
        // A bad signature on an expired token with a wrong issuer is a
        // signature failure, not Expired.
        let ring = shared_ring(Algorithm::EdDSA);
        let mut c = claims(TokenKind::Access);
        c.exp = NOW - 10_000;
        c.iss = "evil".into();
        let token = ring.sign(&c).unwrap();
        let p = segments(&token);
        let other = ring_for(Algorithm::EdDSA);
        let foreign_sig = segments(&other.sign(&c).unwrap())[2].clone();
        let bad = format!("{}.{}.{}", p[0], p[1], foreign_sig);
        assert_eq!(
            ring.verify(&bad, &access(), NOW),
            Err(JwtError::Invalid("bad signature"))
        );
    }

    // ---- claims -----------------------------------------------------------

    #[test]
    fn time_claims_must_be_json_integers() {
        let ring = shared_ring(Algorithm::HS256);
        for name in ["exp", "iat", "nbf"] {
            let good = payload_value()[name].as_i64().unwrap();
            for bad in [
                json!(good.to_string()),
                json!("9999999999"),
                json!(good as f64 + 0.5),
                json!(good as f64),
                json!(null),
                json!(true),
                json!([good]),
                json!({ "value": good }),
                json!(u64::MAX),
            ] {
                let mut payload = payload_value();
                payload[name] = bad.clone();
                assert_eq!(
                    ring.verify(&forge(ring, &std_header(ring), &payload), &access(), NOW),
                    Err(JwtError::Invalid("claims missing or of the wrong type")),
                    "{name}: {bad}"
                );
            }
            // Exponent notation is a float in JSON, even when integral.
            let raw = payload_value()
                .to_string()
                .replace(&good.to_string(), "1.7000009e9");
            let token = ring
                .sign_parts(&b64(std_header(ring).to_string()), raw.as_bytes())
                .unwrap();
            assert!(invalid(ring.verify(&token, &access(), NOW)));
        }
    }

    #[test]
    fn required_claims_must_be_present() {
        let ring = shared_ring(Algorithm::HS256);
        for name in ["iss", "aud", "sub", "exp", "iat", "nbf", "jti", "typ"] {
            let mut payload = payload_value();
            payload.as_object_mut().unwrap().remove(name);
            assert!(
                invalid(ring.verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)),
                "{name}"
            );
        }
    }

    #[test]
    fn payload_must_be_a_json_object_without_duplicates() {
        let ring = shared_ring(Algorithm::HS256);
        let header = b64(std_header(ring).to_string());
        // A struct may also deserialise from a JSON array; we must not.
        let c = claims(TokenKind::Access);
        let as_array = json!([
            c.iss,
            c.aud,
            c.sub,
            c.exp,
            c.iat,
            c.nbf,
            c.jti,
            c.sid,
            "access",
            c.email,
            c.email_verified,
            c.role
        ]);
        for payload in [
            as_array.to_string(),
            "null".into(),
            "{".into(),
            "\"x\"".into(),
        ] {
            let token = ring.sign_parts(&header, payload.as_bytes()).unwrap();
            assert_eq!(
                ring.verify(&token, &access(), NOW),
                Err(JwtError::Malformed),
                "{payload}"
            );
        }
        let body = payload_value().to_string();
        let dup = format!("{},\"iss\":\"evil\"}}", &body[..body.len() - 1]);
        let token = ring.sign_parts(&header, dup.as_bytes()).unwrap();
        assert_eq!(
            ring.verify(&token, &access(), NOW),
            Err(JwtError::Invalid("duplicate JSON member"))
        );
    }

    #[test]
    fn unknown_claims_are_ignored() {
        let ring = shared_ring(Algorithm::EdDSA);
        let mut payload = payload_value();
        payload["scope"] = json!("everything");
        payload["nested"] = json!({ "a": [1, 2, { "b": null }] });
        let got = ring
            .verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)
            .unwrap();
        assert_eq!(got, claims(TokenKind::Access));
    }

    #[test]
    fn issuer_must_match() {
        let ring = shared_ring(Algorithm::EdDSA);
        for iss in [
            json!("evil"),
            json!("TOKTOK"),
            json!(""),
            json!(["toktok"]),
            json!(null),
        ] {
            let mut payload = payload_value();
            payload["iss"] = iss;
            assert!(invalid(ring.verify(
                &forge(ring, &std_header(ring), &payload),
                &access(),
                NOW
            )));
        }
    }

    #[test]
    fn audience_may_be_a_string_or_an_array_containing_ours() {
        let ring = shared_ring(Algorithm::EdDSA);
        let expected = claims(TokenKind::Access);
        for aud in [json!(["other", "toktok-api"]), json!(["toktok-api"])] {
            let mut payload = payload_value();
            payload["aud"] = aud;
            let got = ring
                .verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)
                .unwrap();
            assert_eq!(got, expected);
        }
        for aud in [
            json!("other"),
            json!([]),
            json!(["other"]),
            json!("toktok-api "),
            json!([1]),
            json!(null),
            json!({"aud": "toktok-api"}),
        ] {
            let mut payload = payload_value();
            payload["aud"] = aud.clone();
            assert!(
                invalid(ring.verify(&forge(ring, &std_header(ring), &payload), &access(), NOW)),
                "{aud}"
            );
        }
    }

    #[test]
    fn token_kinds_cannot_stand_in_for_each_other() {
        let ring = shared_ring(Algorithm::EdDSA);
        let mut wrong_pairs = 0;
        for issued in ALL_KINDS {
            let token = ring.sign(&claims(issued)).unwrap();
            for expected in ALL_KINDS {
                let got = ring.verify(&token, &validation(expected), NOW);
                if issued == expected {
                    assert!(got.is_ok());
                } else {
                    wrong_pairs += 1;
                    assert_eq!(
                        got,
                        Err(JwtError::Invalid("wrong token kind")),
                        "{issued:?} as {expected:?}"
                    );
                }
            }
        }
        assert_eq!(wrong_pairs, 6);
        for typ in [
            json!("Access"),
            json!("id"),
            json!(""),
            json!(null),
            json!(1),
        ] {
            let mut payload = payload_value();
            payload["typ"] = typ;
            assert!(invalid(ring.verify(
                &forge(ring, &std_header(ring), &payload),
                &access(),
                NOW
            )));
        }
    }

    #[test]
    fn expiry_honours_leeway_exactly() {
        let ring = shared_ring(Algorithm::EdDSA);
        let c = claims(TokenKind::Access);
        let token = ring.sign(&c).unwrap();
        let v = access(); // leeway 30
        assert!(ring.verify(&token, &v, c.exp - 1).is_ok());
        assert!(ring.verify(&token, &v, c.exp).is_ok());
        assert!(ring.verify(&token, &v, c.exp + 29).is_ok());
        assert_eq!(ring.verify(&token, &v, c.exp + 30), Err(JwtError::Expired));
        assert_eq!(
            ring.verify(&token, &v, c.exp + 10_000),
            Err(JwtError::Expired)
        );
        let strict = Validation {
            leeway: 0,
            ..access()
        };
        assert_eq!(ring.verify(&token, &strict, c.exp), Err(JwtError::Expired));
    }

    #[test]
    fn leeway_is_clamped_to_sixty_seconds() {
        let ring = shared_ring(Algorithm::EdDSA);
        let c = claims(TokenKind::Access);
        let token = ring.sign(&c).unwrap();
        let lax = Validation {
            leeway: 3600,
            ..access()
        };
        assert!(ring.verify(&token, &lax, c.exp + 59).is_ok());
        assert_eq!(
            ring.verify(&token, &lax, c.exp + 60),
            Err(JwtError::Expired)
        );
        let negative = Validation {
            leeway: -100,
            ..access()
        };
        assert_eq!(
            ring.verify(&token, &negative, c.exp),
            Err(JwtError::Expired)
        );
        assert!(ring.verify(&token, &negative, c.exp - 1).is_ok());
    }

    #[test]
    fn expired_is_reported_only_for_otherwise_valid_tokens() {
        let ring = shared_ring(Algorithm::EdDSA);
        let late = NOW + 100_000;
        let mut wrong_iss = claims(TokenKind::Access);
        wrong_iss.iss = "evil".into();
        assert!(invalid(ring.verify(
            &ring.sign(&wrong_iss).unwrap(),
            &access(),
            late
        )));
        let mut wrong_aud = claims(TokenKind::Access);
        wrong_aud.aud = "evil".into();
        assert!(invalid(ring.verify(
            &ring.sign(&wrong_aud).unwrap(),
            &access(),
            late
        )));
        let refresh = ring.sign(&claims(TokenKind::Refresh)).unwrap();
        assert!(invalid(ring.verify(&refresh, &access(), late)));
        let mut header = std_header(ring);
        header["jku"] = json!("https://attacker.example");
        assert!(invalid(ring.verify(
            &forge(ring, &header, &payload_value()),
            &access(),
            late
        )));
        let good = ring.sign(&claims(TokenKind::Access)).unwrap();
        assert_eq!(ring.verify(&good, &access(), late), Err(JwtError::Expired));
    }

    #[test]
    fn not_before_and_issued_at_in_the_future_are_refused() {
        let ring = shared_ring(Algorithm::EdDSA);
        for field in ["nbf", "iat"] {
            let mut c = claims(TokenKind::Access);
            let set = |c: &mut Claims, t: i64| match field {
                "nbf" => c.nbf = t,
                _ => c.iat = t,
            };
            set(&mut c, NOW + 30); // within leeway
            assert!(
                ring.verify(&ring.sign(&c).unwrap(), &access(), NOW).is_ok(),
                "{field}"
            );
            set(&mut c, NOW + 31);
            assert!(
                invalid(ring.verify(&ring.sign(&c).unwrap(), &access(), NOW)),
                "{field}"
            );
            set(&mut c, NOW + 31);
            assert!(
                ring.verify(&ring.sign(&c).unwrap(), &access(), NOW + 1)
                    .is_ok(),
                "{field}"
            );
        }
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let ring = shared_ring(Algorithm::HS256);
        let mut c = claims(TokenKind::Access);
        c.exp = i64::MAX;
        c.nbf = i64::MIN;
        c.iat = i64::MIN;
        let token = ring.sign(&c).unwrap();
        let lax = Validation {
            leeway: 60,
            ..access()
        };
        assert_eq!(ring.verify(&token, &lax, NOW).unwrap(), c);
        assert!(ring.verify(&token, &lax, i64::MAX).is_err());
        assert!(ring.verify(&token, &lax, i64::MIN).is_ok());
        c.exp = i64::MIN;
        assert_eq!(
            ring.verify(&ring.sign(&c).unwrap(), &lax, NOW),
            Err(JwtError::Expired)
        );
        c.exp = NOW + 10;
        c.nbf = i64::MAX;
        assert!(invalid(ring.verify(&ring.sign(&c).unwrap(), &lax, NOW)));
    }

    // ---- JWKS -------------------------------------------------------------

    #[test]
    fn jwks_publishes_public_members_only() {
        let expected: [(Algorithm, &[&str]); 3] = [
            (Algorithm::EdDSA, &["alg", "crv", "kid", "kty", "use", "x"]),
            (
                Algorithm::ES256,
                &["alg", "crv", "kid", "kty", "use", "x", "y"],
            ),
            (Algorithm::RS256, &["alg", "e", "kid", "kty", "n", "use"]),
        ];
        for (alg, members) in expected {
            let ring = shared_ring(alg);
            let jwks = ring.jwks();
            let keys = jwks["keys"].as_array().unwrap();
            assert_eq!(keys.len(), 1);
            let jwk = keys[0].as_object().unwrap();
            let mut names: Vec<&str> = jwk.keys().map(String::as_str).collect();
            names.sort_unstable();
            assert_eq!(names, members, "{alg:?}");
            assert_eq!(jwk["kid"], json!(ring.active_kid()));
            assert_eq!(jwk["alg"], json!(alg.as_str()));
            assert_eq!(jwk["use"], json!("sig"));
            match alg {
                Algorithm::EdDSA => {
                    assert_eq!(
                        (&jwk["kty"], &jwk["crv"]),
                        (&json!("OKP"), &json!("Ed25519"))
                    );
                    assert_eq!(
                        URL_SAFE_NO_PAD
                            .decode(jwk["x"].as_str().unwrap())
                            .unwrap()
                            .len(),
                        32
                    );
                }
                Algorithm::ES256 => {
                    assert_eq!((&jwk["kty"], &jwk["crv"]), (&json!("EC"), &json!("P-256")));
                    for c in ["x", "y"] {
                        assert_eq!(
                            URL_SAFE_NO_PAD
                                .decode(jwk[c].as_str().unwrap())
                                .unwrap()
                                .len(),
                            32
                        );
                    }
                }
                _ => {
                    assert_eq!(jwk["kty"], json!("RSA"));
                    assert_eq!(
                        URL_SAFE_NO_PAD
                            .decode(jwk["n"].as_str().unwrap())
                            .unwrap()
                            .len(),
                        256
                    );
                    assert_eq!(jwk["e"], json!("AQAB"));
                }
            }
            for private in PRIVATE_JWK_MEMBERS {
                assert!(!jwk.contains_key(*private));
            }
        }
        assert_eq!(shared_ring(Algorithm::HS256).jwks(), json!({ "keys": [] }));
    }

    #[test]
    fn jwks_lists_active_and_retired_keys_and_matches_storage() {
        let active = key_for(Algorithm::ES256);
        let retired = [key_for(Algorithm::ES256), key_for(Algorithm::ES256)];
        let ring = Keyring::new(Algorithm::ES256, &active, &retired).unwrap();
        let jwks = ring.jwks();
        let keys = jwks["keys"].as_array().unwrap();
        let stored: Vec<&Value> = std::iter::once(&active)
            .chain(&retired)
            .map(|k| &k.public_jwk)
            .collect();
        assert_eq!(keys.iter().collect::<Vec<_>>(), stored);
        let rs = rs256_key();
        assert_eq!(
            shared_ring(Algorithm::RS256).jwks()["keys"][0],
            rs.public_jwk
        );
    }

    /// What another service does: verify with nothing but the JWK.
    fn verify_with_jwk(token: &str, jwk: &Value) -> bool {
        let p = segments(token);
        let signing_input = format!("{}.{}", p[0], p[1]);
        let sig = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
        let member = |m: &str| URL_SAFE_NO_PAD.decode(jwk[m].as_str().unwrap()).unwrap();
        match jwk["kty"].as_str().unwrap() {
            "OKP" => UnparsedPublicKey::new(&signature::ED25519, member("x"))
                .verify(signing_input.as_bytes(), &sig)
                .is_ok(),
            "EC" => {
                let point = [vec![0x04], member("x"), member("y")].concat();
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(signing_input.as_bytes(), &sig)
                    .is_ok()
            }
            "RSA" => RsaPublicKeyComponents {
                n: member("n"),
                e: member("e"),
            }
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                signing_input.as_bytes(),
                &sig,
            )
            .is_ok(),
            _ => false,
        }
    }

    #[test]
    fn other_services_can_verify_from_the_jwks_alone() {
        for alg in ALL_ASYMMETRIC {
            let ring = shared_ring(alg);
            let token = ring.sign(&claims(TokenKind::Access)).unwrap();
            let header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(&token)[0]).unwrap())
                    .unwrap();
            let jwks = ring.jwks();
            let jwk = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == header["kid"])
                .unwrap();
            assert!(verify_with_jwk(&token, jwk), "{alg:?}");
            let mut tampered = payload_value();
            tampered["role"] = json!("admin");
            let p = segments(&token);
            let forged = format!("{}.{}.{}", p[0], b64(tampered.to_string()), p[2]);
            assert!(!verify_with_jwk(&forged, jwk), "{alg:?}");
        }
    }

    // ---- properties ---------------------------------------------------------

    fn algorithm() -> impl Strategy<Value = Algorithm> {
        prop_oneof![
            Just(Algorithm::EdDSA),
            Just(Algorithm::ES256),
            Just(Algorithm::RS256),
            Just(Algorithm::HS256),
        ]
    }

    fn kind() -> impl Strategy<Value = TokenKind> {
        prop_oneof![
            Just(TokenKind::Access),
            Just(TokenKind::Refresh),
            Just(TokenKind::Anonymous)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn flipping_any_byte_never_yields_other_claims(
            alg in algorithm(),
            position in any::<prop::sample::Index>(),
            mask in 1u8..=255,
        ) {
            let ring = shared_ring(alg);
            let original = claims(TokenKind::Access);
            let token = ring.sign(&original).unwrap();
            let mut bytes = token.into_bytes();
            let i = position.index(bytes.len());
            bytes[i] ^= mask;
            let flipped = String::from_utf8_lossy(&bytes);
            match ring.verify(&flipped, &access(), NOW) {
                Err(_) => {}
                Ok(got) => prop_assert_eq!(got, original),
            }
        }

        #[test]
        fn round_trip_sign_verify(
            alg in algorithm(),
            kind in kind(),
            sub in "[a-z0-9:-]{1,40}",
            jti in "[A-Za-z0-9_-]{1,32}",
            sid in proptest::option::of("[a-f0-9-]{1,36}"),
            email in proptest::option::of("\\PC{0,40}"),
            email_verified in proptest::option::of(any::<bool>()),
            role in proptest::option::of("[a-z]{1,12}"),
            age in 0i64..600,
            ttl in 1i64..100_000,
        ) {
            let ring = shared_ring(alg);
            let now = NOW;
            let c = Claims {
                iss: "toktok".into(),
                aud: "toktok-api".into(),
                sub,
                exp: now - age + ttl + 1,
                iat: now - age,
                nbf: now - age,
                jti,
                client_id: (kind == TokenKind::Access).then(|| FIRST_PARTY_CLIENT_ID.into()),
                sid,
                typ: kind,
                email,
                email_verified,
                role,
                auth_time: Some(now - age),
                amr: Some(vec!["pwd".into()]),
                aal: Some(1),
            };
            let token = ring.sign(&c).unwrap();
            let v = Validation { leeway: 0, ..validation(kind) };
            if c.exp > now {
                prop_assert_eq!(ring.verify(&token, &v, now).unwrap(), c);
            } else {
                prop_assert_eq!(ring.verify(&token, &v, now), Err(JwtError::Expired));
            }
        }
    }
}
