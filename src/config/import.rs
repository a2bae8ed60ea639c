//! `[import.firebase]` (docs/import.md): a Firebase project's password hash
//! parameters, for users imported with `$firebase-scrypt$` hashes. The
//! values are checked here for the start-up message; `auth::foreign`
//! builds the keys from them.

use super::check::Checker;
use super::{ConfigError, Secret};

/// `[import]`: what imported users' hashes need.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportConfig {
    /// `[import.firebase]`.
    pub firebase: FirebaseConfig,
}

/// `[import.firebase]`, as the Firebase console shows the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct FirebaseConfig {
    /// `base64_signer_key`; Firebase hashes are unchecked while empty.
    pub signer_key: Secret,
    /// `base64_salt_separator`.
    pub salt_separator: String,
    /// `rounds` (scrypt's r).
    pub rounds: u32,
    /// `mem_cost` (scrypt's N = 2^mem_cost).
    pub mem_cost: u32,
}

impl Default for FirebaseConfig {
    fn default() -> Self {
        FirebaseConfig {
            signer_key: Secret::default(),
            salt_separator: "Bw==".to_owned(),
            rounds: 8,
            mem_cost: 14,
        }
    }
}

impl FirebaseConfig {
    /// Whether Firebase hashes can be checked.
    pub fn configured(&self) -> bool {
        !self.signer_key.is_empty()
    }
}

/// scrypt's working memory, 128 · r · 2^mem_cost bytes, is capped at 256 MiB
/// (as in `auth::foreign`).
const MAX_SCRYPT_BYTES: u64 = 256 << 20;

impl Checker<'_> {
    /// Standard base64 (padding optional), as the Firebase console shows it.
    pub(super) fn base64(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        use base64::Engine as _;
        let trimmed = text.trim();
        let bare = trimmed.trim_end_matches('=');
        if base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(bare)
            .is_err()
        {
            return Err(self.fail(key, "is not base64 (copy it from the Firebase console)"));
        }
        *into = trimmed.to_owned();
        Ok(())
    }

    /// [`Checker::base64`] for the signer key, a secret.
    pub(super) fn base64_secret(
        &self,
        key: &str,
        text: String,
        into: &mut Secret,
    ) -> Result<(), ConfigError> {
        let mut plain = String::new();
        if !text.is_empty() {
            self.base64(key, text, &mut plain)?;
        }
        *into = Secret::from(plain);
        Ok(())
    }

    /// The scrypt cost the Firebase parameters imply stays under the cap.
    pub(super) fn cross_check_import(&self, c: &super::Config) -> Result<(), ConfigError> {
        let f = &c.import.firebase;
        let bytes = 128u64
            .saturating_mul(u64::from(f.rounds))
            .saturating_mul(1u64 << f.mem_cost.min(40));
        if bytes > MAX_SCRYPT_BYTES {
            return Err(self.fail(
                "import.firebase.mem_cost",
                format!(
                    "with rounds = {} needs {} MiB per check, more than 256 MiB",
                    f.rounds,
                    bytes >> 20
                ),
            ));
        }
        Ok(())
    }
}
