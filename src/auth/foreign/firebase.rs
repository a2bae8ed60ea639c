//! Firebase Authentication's modified scrypt, written from Firebase's
//! published description (github.com/firebase/scrypt, README and
//! issue #2) and checked against its published test vector (`tests.rs`).
//!
//! For a user's salt and the project's four hash parameters:
//!
//! 1. `key = scrypt(password, salt ‖ salt_separator, N = 2^mem_cost,
//!    r = rounds, p = 1)`, its first 32 bytes;
//! 2. `hash = AES-256-CTR(key, counter starting at zero)` applied to the
//!    project's signer key;
//! 3. the export shows `hash` in base64.
//!
//! The signer key is the secret that makes the hashes useless without the
//! project: it stays in the configuration (`[import.firebase]`), never in
//! the database beside the hashes.

use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::iv::FixedLength;

use super::{b64, scrypt_bytes, Rejected, MAX_SCRYPT_BYTES, WEAK_SCRYPT_BYTES};

/// A Firebase project's password hash parameters (Authentication → Users →
/// ⋮ → Password hash parameters).
#[derive(Clone, PartialEq, Eq)]
pub struct FirebaseKeys {
    signer_key: Vec<u8>,
    salt_separator: Vec<u8>,
    rounds: u32,
    mem_cost: u8,
}

impl std::fmt::Debug for FirebaseKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirebaseKeys")
            .field("signer_key", &"[redacted]")
            .field("rounds", &self.rounds)
            .field("mem_cost", &self.mem_cost)
            .finish_non_exhaustive()
    }
}

impl FirebaseKeys {
    /// The parameters as the Firebase console shows them: `base64_signer_key`,
    /// `base64_salt_separator`, `rounds`, `mem_cost`. The error names what
    /// is wrong, for the start-up message.
    pub fn new(
        signer_key: &str,
        salt_separator: &str,
        rounds: u32,
        mem_cost: u32,
    ) -> Result<FirebaseKeys, String> {
        let signer_key = b64(signer_key.trim(), "signer key")
            .map_err(|_| "signer_key is not base64".to_owned())?;
        if signer_key.is_empty() || signer_key.len() > 1024 {
            return Err("signer_key must hold 1 to 1024 bytes".to_owned());
        }
        let salt_separator = b64(salt_separator.trim(), "salt separator")
            .map_err(|_| "salt_separator is not base64".to_owned())?;
        if !(1..=32).contains(&rounds) {
            return Err(format!(
                "rounds must be 1 to 32 (Firebase uses 8), not {rounds}"
            ));
        }
        let mem_cost = u8::try_from(mem_cost)
            .ok()
            .filter(|m| (1..=24).contains(m))
            .ok_or_else(|| {
                format!("mem_cost must be 1 to 24 (Firebase uses 14), not {mem_cost}")
            })?;
        if scrypt_bytes(mem_cost, rounds) > MAX_SCRYPT_BYTES {
            return Err(format!(
                "rounds = {rounds} and mem_cost = {mem_cost} need more than 256 MiB per check"
            ));
        }
        Ok(FirebaseKeys {
            signer_key,
            salt_separator,
            rounds,
            mem_cost,
        })
    }

    /// The keys `[import.firebase]` configures, if it does.
    pub fn from_config(
        config: &crate::config::FirebaseConfig,
    ) -> Result<Option<FirebaseKeys>, String> {
        if !config.configured() {
            return Ok(None);
        }
        FirebaseKeys::new(
            config.signer_key.expose(),
            &config.salt_separator,
            config.rounds,
            config.mem_cost,
        )
        .map(Some)
    }

    /// Why hashes made with these parameters are too cheap, if they are.
    pub(super) fn weak(&self) -> Option<String> {
        (scrypt_bytes(self.mem_cost, self.rounds) < WEAK_SCRYPT_BYTES).then(|| {
            format!(
                "firebase scrypt memory (mem_cost {}, rounds {}) < 16 MiB",
                self.mem_cost, self.rounds
            )
        })
    }

    /// Whether `password` made `hash` with `salt` under these parameters.
    pub(super) fn verify(&self, password: &[u8], salt: &[u8], hash: &[u8]) -> bool {
        if hash.len() != self.signer_key.len() {
            return false;
        }
        self.hash(password, salt)
            .is_some_and(|ours| verify_slices_are_equal(&ours, hash).is_ok())
    }

    fn hash(&self, password: &[u8], salt: &[u8]) -> Option<Vec<u8>> {
        let params = scrypt::Params::new(self.mem_cost, self.rounds, 1).ok()?;
        let mut salted = Vec::with_capacity(salt.len() + self.salt_separator.len());
        salted.extend_from_slice(salt);
        salted.extend_from_slice(&self.salt_separator);
        let mut key = [0u8; 32];
        scrypt::scrypt(password, &salted, &params, &mut key).ok()?;
        let key = UnboundCipherKey::new(&AES_256, &key).ok()?;
        let key = EncryptingKey::ctr(key).ok()?;
        let mut out = self.signer_key.clone();
        let counter = EncryptionContext::Iv128(FixedLength::from([0u8; 16]));
        key.less_safe_encrypt(&mut out, counter).ok()?;
        Some(out)
    }
}

/// `<salt>$<hash>`, each in base64, after `$firebase-scrypt$`.
pub(super) fn parse(rest: &str) -> Result<(Vec<u8>, Vec<u8>), Rejected> {
    let (salt, hash) = rest
        .split_once('$')
        .ok_or(Rejected::Malformed("firebase scrypt hash"))?;
    let salt = b64(salt, "firebase scrypt salt")?;
    let hash = b64(hash, "firebase scrypt hash")?;
    if salt.is_empty() || salt.len() > 1024 || hash.is_empty() || hash.len() > 1024 {
        return Err(Rejected::Malformed("firebase scrypt salt or hash length"));
    }
    Ok((salt, hash))
}
