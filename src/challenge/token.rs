//! Encrypted secrets ("tokens"): the string that alone verifies a challenge.
//!
//! Layout, then base64url without padding:
//!
//! ```text
//! version (1 byte = 2) ‖ kid (8 bytes) ‖ nonce (12 bytes) ‖ AES-256-GCM(ciphertext ‖ tag)
//! ```
//!
//! The plaintext is the JSON object `{action, id, uid, secret}`; the
//! associated data is `version ‖ kid ‖ namespace` (the namespace's name,
//! `api` or `toktok`, which the token does not carry), so none can be
//! swapped without the tag failing: a token minted for one of toktok's own
//! email links does not open in the challenge API, nor the other way round
//! (TT-01), whatever its action says. Version 1 tokens (before namespaces,
//! associated data `version ‖ kid`) still open, in the namespace their
//! action had before the upgrade (`toktok:…` = toktok's links), so links
//! mailed before it keep working. ms-token used unauthenticated AES-CBC/CTR with a shared
//! secret: a flipped bit went unnoticed. Here any change to any byte, a
//! truncation, an unknown version or kid is refused before anything is
//! looked up.
//!
//! Keys live in `challenge_keys`; the newest encrypts and every key decrypts,
//! so rotation never breaks outstanding tokens. Nonces are random: AES-GCM
//! stays safe for about 2^32 tokens per key, and rotation resets that count.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::error::Unspecified;
use serde::{Deserialize, Serialize};

use super::row::Namespace;
use super::secret::FillRandom;

/// The token format's version byte.
const VERSION: u8 = 2;
/// Tokens sealed before namespaces: still opened (see the module docs).
const VERSION_1: u8 = 1;
/// Raw length of a key id inside a token.
pub const KID_LEN: usize = 8;
/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + KID_LEN;
/// No legitimate token comes near this (action and id are ≤ 256 bytes, a
/// secret ≤ 256 characters); longer input is refused before decoding.
const MAX_TOKEN_CHARS: usize = 8192;

/// What a token carries.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Claims {
    pub action: String,
    pub id: String,
    pub uid: Option<String>,
    pub secret: String,
}

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("action", &self.action)
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// A key id, as stored (`challenge_keys.kid`: base64url of 8 bytes) and as
/// written into tokens (the 8 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Kid([u8; KID_LEN]);

impl Kid {
    pub fn random(rng: &dyn FillRandom) -> Result<Kid, Unspecified> {
        let mut raw = [0u8; KID_LEN];
        rng.fill_random(&mut raw)?;
        Ok(Kid(raw))
    }

    pub fn parse(text: &str) -> Option<Kid> {
        let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
        Some(Kid(raw.try_into().ok()?))
    }

    pub fn text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

/// The AEAD keys: the last one encrypts, all decrypt.
pub(crate) struct Keyring {
    keys: Vec<(Kid, LessSafeKey)>,
}

impl Keyring {
    /// From `(kid, key)` rows, oldest first. Refuses damaged rows.
    pub fn from_rows(rows: &[(String, Vec<u8>)]) -> Result<Keyring, String> {
        let mut keys = Vec::with_capacity(rows.len());
        for (kid_text, key) in rows {
            let kid = Kid::parse(kid_text)
                .ok_or_else(|| format!("challenge key id {kid_text:?} is not 8 bytes base64url"))?;
            let unbound = UnboundKey::new(&AES_256_GCM, key)
                .map_err(|_| format!("challenge key {kid_text:?} is not {KEY_LEN} bytes"))?;
            keys.push((kid, LessSafeKey::new(unbound)));
        }
        if keys.is_empty() {
            return Err("no challenge key".to_owned());
        }
        Ok(Keyring { keys })
    }

    #[cfg(any(test, feature = "testing"))]
    /// Makes `key` the encrypting key.
    pub fn push(&mut self, kid: Kid, key: &[u8]) -> Result<(), Unspecified> {
        let unbound = UnboundKey::new(&AES_256_GCM, key)?;
        self.keys.push((kid, LessSafeKey::new(unbound)));
        Ok(())
    }

    /// Encrypts `claims` of a challenge in `namespace` under the newest key.
    pub fn seal(
        &self,
        claims: &Claims,
        namespace: Namespace,
        rng: &dyn FillRandom,
    ) -> Result<String, Unspecified> {
        let (kid, key) = self.keys.last().ok_or(Unspecified)?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_random(&mut nonce)?;
        let mut header = [0u8; HEADER_LEN];
        header[0] = VERSION;
        header[1..].copy_from_slice(&kid.0);
        let mut body = serde_json::to_vec(claims).map_err(|_| Unspecified)?;
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(associated_data(&header, namespace)),
            &mut body,
        )?;
        let mut raw = Vec::with_capacity(HEADER_LEN + NONCE_LEN + body.len());
        raw.extend_from_slice(&header);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&body);
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Decrypts a token of a challenge in `namespace`; `None` for anything
    /// that is not a genuine token of one of these keys for that namespace.
    pub fn open(&self, token: &str, namespace: Namespace) -> Option<Claims> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let mut raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
            return None;
        }
        let version = raw[0];
        if version != VERSION && version != VERSION_1 {
            return None;
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&raw[..HEADER_LEN]);
        let kid = Kid(header[1..].try_into().ok()?);
        let (_, key) = self.keys.iter().find(|(k, _)| *k == kid)?;
        let nonce =
            Nonce::try_assume_unique_for_key(&raw[HEADER_LEN..HEADER_LEN + NONCE_LEN]).ok()?;
        let aad = if version == VERSION_1 {
            header.to_vec()
        } else {
            associated_data(&header, namespace)
        };
        let plain = key
            .open_in_place(nonce, Aad::from(aad), &mut raw[HEADER_LEN + NONCE_LEN..])
            .ok()?;
        let claims: Claims = serde_json::from_slice(plain).ok()?;
        if version == VERSION_1 && Namespace::of_legacy_action(&claims.action) != namespace {
            return None;
        }
        Some(claims)
    }
}

/// `version ‖ kid ‖ namespace name`: what the tag of a version 2 token covers
/// besides the ciphertext.
fn associated_data(header: &[u8; HEADER_LEN], namespace: Namespace) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(namespace.as_str().as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const API: Namespace = Namespace::Api;

    fn ring_of(n: usize) -> Keyring {
        let rng = ring::rand::SystemRandom::new();
        let rows: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| {
                (
                    Kid::random(&rng).unwrap().text(),
                    vec![i as u8 + 1; KEY_LEN],
                )
            })
            .collect();
        Keyring::from_rows(&rows).unwrap()
    }

    fn claims() -> Claims {
        Claims {
            action: "reset".into(),
            id: "a@b.c".into(),
            uid: None,
            secret: "123456".into(),
        }
    }

    #[test]
    fn a_token_round_trips_and_hides_its_contents() {
        let rng = ring::rand::SystemRandom::new();
        let keys = ring_of(1);
        let token = keys.seal(&claims(), API, &rng).unwrap();
        assert_eq!(keys.open(&token, API), Some(claims()));
        let raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("123456"));
        // Two seals of the same claims differ (random nonce).
        assert_ne!(token, keys.seal(&claims(), API, &rng).unwrap());
    }

    #[test]
    fn every_single_byte_change_is_refused() {
        let rng = ring::rand::SystemRandom::new();
        let keys = ring_of(1);
        let raw = URL_SAFE_NO_PAD
            .decode(keys.seal(&claims(), API, &rng).unwrap())
            .unwrap();
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                keys.open(&URL_SAFE_NO_PAD.encode(&bad), API),
                None,
                "byte {i}"
            );
        }
        for cut in 0..raw.len() {
            assert_eq!(
                keys.open(&URL_SAFE_NO_PAD.encode(&raw[..cut]), API),
                None,
                "cut {cut}"
            );
        }
        assert_eq!(keys.open("", API), None);
        assert_eq!(keys.open("garbage!", API), None);
        assert_eq!(keys.open(&"A".repeat(MAX_TOKEN_CHARS + 4), API), None);
    }

    #[test]
    fn old_keys_decrypt_and_the_newest_encrypts() {
        let rng = ring::rand::SystemRandom::new();
        let mut keys = ring_of(1);
        let old = keys.seal(&claims(), API, &rng).unwrap();
        let kid = Kid::random(&rng).unwrap();
        keys.push(kid, &[9; KEY_LEN]).unwrap();
        let new = keys.seal(&claims(), API, &rng).unwrap();
        assert_eq!(
            &URL_SAFE_NO_PAD.decode(&new).unwrap()[1..HEADER_LEN],
            &kid.0
        );
        assert_eq!(keys.open(&old, API), Some(claims()));
        assert_eq!(keys.open(&new, API), Some(claims()));
        // A keyring without the new key does not know it.
        assert_eq!(ring_of(1).open(&new, API), None);
    }

    #[test]
    fn a_token_opens_only_in_its_namespace() {
        // TT-01: the namespace is authenticated, whatever the action says.
        let rng = ring::rand::SystemRandom::new();
        let keys = ring_of(1);
        let link = Claims {
            action: "toktok:password-reset".into(),
            ..claims()
        };
        let token = keys.seal(&link, Namespace::Toktok, &rng).unwrap();
        assert_eq!(keys.open(&token, Namespace::Toktok), Some(link.clone()));
        assert_eq!(keys.open(&token, Namespace::Api), None);
        let token = keys.seal(&link, Namespace::Api, &rng).unwrap();
        assert_eq!(keys.open(&token, Namespace::Toktok), None);
        assert_eq!(keys.open(&token, Namespace::Api), Some(link));
    }

    /// A token as version 1 sealed it: associated data `version ‖ kid`.
    fn seal_v1(keys: &Keyring, claims: &Claims) -> String {
        let (kid, key) = keys.keys.last().unwrap();
        let mut header = [0u8; HEADER_LEN];
        header[0] = VERSION_1;
        header[1..].copy_from_slice(&kid.0);
        let nonce = [7u8; NONCE_LEN];
        let mut body = serde_json::to_vec(claims).unwrap();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&header),
            &mut body,
        )
        .unwrap();
        URL_SAFE_NO_PAD.encode([&header[..], &nonce[..], &body[..]].concat())
    }

    #[test]
    fn version_1_tokens_open_in_the_namespace_their_action_had() {
        // Links mailed before the upgrade keep working, and only there.
        let keys = ring_of(1);
        let link = Claims {
            action: "toktok:email-change".into(),
            ..claims()
        };
        let old_link = seal_v1(&keys, &link);
        assert_eq!(keys.open(&old_link, Namespace::Toktok), Some(link));
        assert_eq!(keys.open(&old_link, Namespace::Api), None);
        let old_api = seal_v1(&keys, &claims());
        assert_eq!(keys.open(&old_api, Namespace::Api), Some(claims()));
        assert_eq!(keys.open(&old_api, Namespace::Toktok), None);
    }

    #[test]
    fn damaged_key_rows_are_refused() {
        assert!(Keyring::from_rows(&[]).is_err());
        assert!(Keyring::from_rows(&[("short".into(), vec![0; KEY_LEN])]).is_err());
        assert!(Keyring::from_rows(&[("AAAAAAAAAAA".into(), vec![0; 16])]).is_err());
        assert!(Keyring::from_rows(&[("AAAAAAAAAAA".into(), vec![0; KEY_LEN])]).is_ok());
    }

    proptest! {
        #[test]
        fn claims_of_any_text_round_trip(action in "\\PC{1,40}", id in "\\PC{1,40}", secret in "\\PC{1,60}") {
            let rng = ring::rand::SystemRandom::new();
            let keys = ring_of(2);
            let c = Claims { action, id, uid: Some("u".into()), secret };
            let token = keys.seal(&c, API, &rng).unwrap();
            prop_assert_eq!(keys.open(&token, API), Some(c));
        }
    }
}
