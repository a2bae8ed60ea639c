//! The [`Keyring`]: the parsed keys of one algorithm, signing, verifying,
//! the JWKS, and the verify memo (see the module doc of `super`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, PoisonError};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::{digest, hmac};
use serde_json::{json, Map, Value};

use super::compact::{
    check_claims, check_header, check_typ, encode_header, parse_claims, parse_object, split,
    WireClaims,
};
use super::keys::{check_stored_jwk, KeyMaterial, Signer, Verifier, VerifyKey};
use super::{Algorithm, Claims, JwtError, TokenKind, Validation, ACCESS_TOKEN_TYP, MAX_TOKEN_LEN};

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
    /// HS256 accepts tokens without `kid` (docs/API.md, "Token responses").
    kid_optional: bool,
    rng: SystemRandom,
    /// Tokens whose signature this keyring has checked (see the module doc).
    memo: Mutex<VerifyMemo>,
}

/// Tokens kept per generation of [`VerifyMemo`]; at most twice this many
/// are remembered (about 1 KiB each).
pub(super) const MEMO_CAPACITY: usize = 2048;

/// The claims of tokens whose signature checked out, by the exact token
/// text. Two generations: when `current` is full it becomes `previous`
/// and a new one starts, so tokens in use stay while unused ones age out.
/// Only tokens that verified are ever put here, so a caller without a key
/// cannot fill it. Refresh tokens are left out: each is used once.
#[derive(Default)]
pub(super) struct VerifyMemo {
    pub(super) current: HashMap<String, WireClaims>,
    pub(super) previous: HashMap<String, WireClaims>,
}

impl VerifyMemo {
    pub(super) fn get(&mut self, token: &str) -> Option<WireClaims> {
        if let Some(claims) = self.current.get(token) {
            return Some(claims.clone());
        }
        let (token, claims) = self.previous.remove_entry(token)?;
        self.insert(token, claims.clone());
        Some(claims)
    }

    pub(super) fn insert(&mut self, token: String, claims: WireClaims) {
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

    /// Signs an arbitrary claims object with header `typ: JWT`: OpenID
    /// Connect ID tokens, whose claims are not toktok's [`Claims`] (they
    /// carry no `typ` claim, so no verifier of toktok's own tokens ever
    /// accepts one).
    pub fn sign_json(&self, claims: &Value) -> Result<String, JwtError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|_| JwtError::Key("claims could not be serialised".into()))?;
        self.sign_parts(&self.header_b64, &payload)
    }

    /// Signs an access token whose claims were extended beyond [`Claims`]
    /// (`[claims]`, the access-token hook): header `typ: at+jwt`.
    pub fn sign_access_json(&self, claims: &Value) -> Result<String, JwtError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|_| JwtError::Key("claims could not be serialised".into()))?;
        self.sign_parts(&self.access_header_b64, &payload)
    }

    pub(super) fn sign_parts(
        &self,
        header_b64: &str,
        payload_json: &[u8],
    ) -> Result<String, JwtError> {
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

    pub(super) fn memo(&self) -> std::sync::MutexGuard<'_, VerifyMemo> {
        self.memo.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything of `verify` but the claims check: the claims of a token
    /// whose form, header and signature are good.
    pub(super) fn verify_signature(&self, token: &str) -> Result<WireClaims, JwtError> {
        let parts = split(token)?;
        let header = check_header(&parts.header, self.alg)?;
        let key = self.key(header.kid.as_deref())?;
        key.verifier
            .verify(parts.signing_input, &parts.signature)
            .map_err(|_| JwtError::Invalid("bad signature"))?;

        let claims = parse_claims(&parts.payload)?;
        check_typ(&header, &claims)?;
        Ok(claims)
    }

    /// The claims of a token signed by one of these keys (any `typ`),
    /// checking form, header and signature only: an ID token presented
    /// back as `id_token_hint`, whose expiry does not matter (OIDC
    /// RP-Initiated Logout §2). The caller checks the claims it uses.
    pub fn verify_json_signature(&self, token: &str) -> Result<Map<String, Value>, JwtError> {
        let parts = split(token)?;
        let header = check_header(&parts.header, self.alg)?;
        let key = self.key(header.kid.as_deref())?;
        key.verifier
            .verify(parts.signing_input, &parts.signature)
            .map_err(|_| JwtError::Invalid("bad signature"))?;
        parse_object(&parts.payload)
    }

    /// `{"keys":[public JWKs]}` — empty list for HS256; never any private part.
    pub fn jwks(&self) -> Value {
        self.jwks.clone()
    }

    /// The key named by `kid` (a header that passed [`check_header`]);
    /// without one, the only key of an HS256 keyring.
    fn key(&self, kid: Option<&str>) -> Result<&VerifyKey, JwtError> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid == kid)
                .ok_or(JwtError::Invalid("unknown kid")),
            None if self.kid_optional => self
                .keys
                .first()
                .ok_or(JwtError::Invalid("no verification key")),
            None => Err(JwtError::Invalid("missing kid")),
        }
    }
}
