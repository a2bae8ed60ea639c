//! The one JWE form accepted (O1): compact serialization, `alg`
//! `RSA-OAEP-256`, `enc` `A256GCM`, a header allow-list, and the RFC 7516
//! §11.5 random content key so that a failing RSA step does not show (O2).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::keyring::KeySet;
use super::{InvalidEncryption, JWE_ALG, JWE_ENC, MAX_JWE_LEN};

/// A256GCM: 256-bit content key, 96-bit IV, 128-bit tag.
const CEK_LEN: usize = 32;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;

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

impl KeySet {
    pub(super) fn decrypt_jwe(&self, compact: &[u8]) -> Result<Vec<u8>, InvalidEncryption> {
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
