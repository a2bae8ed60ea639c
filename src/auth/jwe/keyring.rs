//! The [`RsaKeyring`]: the keys that decrypt (the served one and those
//! within the grace period), loaded from and rotated in the store, swapped
//! whole on reload, and the bounded pool decryption runs on.

use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use serde_json::Value;

use super::keys::{generate_key, DecryptionKey};
use super::{DecryptError, GRACE_PERIOD, MAX_JWE_LEN};
#[cfg(any(test, feature = "testing"))]
use super::{InvalidEncryption, RsaKeyError};
use crate::auth::pool::{BlockingPool, RunError};
use crate::auth::rotation::{self, KeyTimes};
use crate::store::{RsaKeyRow, Store};

/// The keys one decryption may use, swapped whole on reload.
pub(super) struct KeySet {
    /// The served key: what clients encrypt to, and what a JWE without
    /// `kid` is opened with.
    pub(super) current: DecryptionKey,
    /// The other keys that decrypt by `kid`: a rotated-in key not served
    /// yet, and rotated-out keys still within [`GRACE_PERIOD`].
    pub(super) previous: Vec<DecryptionKey>,
}

impl KeySet {
    /// The ids of every key that decrypts, the served one first.
    fn kids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| k.kid.as_str())
    }

    /// A `kid` names any live key; without one only the current key is tried.
    pub(super) fn find(&self, kid: Option<&str>) -> Option<&DecryptionKey> {
        match kid {
            None => Some(&self.current),
            Some(kid) => std::iter::once(&self.current)
                .chain(&self.previous)
                .find(|k| k.kid == kid),
        }
    }
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
    pub(super) pool: BlockingPool,
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

    /// What `GET /v1/auth/public-key` serves (docs/API.md):
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
