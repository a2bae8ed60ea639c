//! The engine's state and the rules every operation shares: drawing and
//! sealing secrets, opening tokens, judging a presented secret against a
//! row (and counting wrong ones, E8), the record shown for a row; plus
//! loading the keys, rotating them and the sweep.

use std::sync::{Arc, PoisonError, RwLock};

use ring::rand::SystemRandom;
use serde_json::{json, Value};

use super::row::{ChallengeRow, RowChange};
use super::secret::{self, FillRandom, SecretHasher};
use super::step_runner::StepRunner;
use super::token::{Claims, Keyring, Kid, KEY_LEN};
use super::{random_failure, ChallengeError, Engine, Namespace, Record, SecretSpec};
use crate::clock::{rfc3339, SharedClock};
use crate::store::{Store, StoreError};

pub(super) struct Inner {
    pub(super) store: Store,
    /// Runs every read-decide-write step on the store's group-commit writer.
    pub(super) steps: StepRunner,
    /// Every expiry and throttle decision asks this clock (E3).
    pub(super) clock: SharedClock,
    /// Wrong secrets after which a challenge is deleted (E8), ≥ 1.
    pub(super) max_attempts: u32,
    /// Keyed hash of secrets; the key is a server secret in the database.
    pub(super) hasher: SecretHasher,
    /// AEAD keys of tokens; a lock because `rotate_key` adds one at run time.
    pub(super) keys: RwLock<Keyring>,
    pub(super) rng: SystemRandom,
}

/// A secret presented for checking: from a token (which also fixes the uid)
/// or given plainly with its action and id.
pub(super) struct Presented {
    pub(super) action: String,
    pub(super) id: String,
    /// `Some` when the secret came from a token: the row's uid must match.
    pub(super) uid: Option<Option<String>>,
    pub(super) secret: String,
}

/// What checking a presented secret against a row found.
pub(super) enum Judgement {
    Right,
    /// Wrong; the change records the attempt (or burns the challenge).
    Wrong(RowChange),
}

impl Inner {
    fn keys(&self) -> std::sync::RwLockReadGuard<'_, Keyring> {
        // A panic while holding the lock cannot leave a keyring half-built
        // (push is one Vec::push), so a poisoned lock is still sound.
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn new_uid(&self) -> Result<String, ChallengeError> {
        let mut bytes = [0u8; 16];
        self.rng
            .fill_random(&mut bytes)
            .map_err(|_| random_failure())?;
        Ok(uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string())
    }

    /// Draws a secret of `spec` for a challenge: its stored hash, and what
    /// is handed out (the secret, or the token).
    pub(super) fn issue(
        &self,
        spec: &SecretSpec,
        namespace: Namespace,
        action: &str,
        id: &str,
        uid: Option<&str>,
    ) -> Result<(String, String), ChallengeError> {
        let secret = secret::generate(&spec.kind, &self.rng).map_err(|_| random_failure())?;
        let hash = self.hasher.hash(action, id, &secret);
        let handed_out = if spec.encrypt {
            let claims = Claims {
                action: action.to_owned(),
                id: id.to_owned(),
                uid: uid.map(str::to_owned),
                secret: secret.into_inner(),
            };
            self.keys()
                .seal(&claims, namespace, &self.rng)
                .map_err(|_| random_failure())?
        } else {
            secret.into_inner()
        };
        Ok((hash, handed_out))
    }

    /// Decrypts a token of a challenge in `namespace`.
    pub(super) fn open(
        &self,
        token: &str,
        namespace: Namespace,
    ) -> Result<Presented, ChallengeError> {
        let claims = self
            .keys()
            .open(token, namespace)
            .ok_or(ChallengeError::MalformedToken)?;
        Ok(Presented {
            action: claims.action,
            id: claims.id,
            uid: Some(claims.uid),
            secret: claims.secret,
        })
    }

    /// Checks a presented secret against a live row. A wrong one counts as
    /// an attempt when `count` (verify, info), and the attempt that reaches
    /// `max_attempts` deletes the challenge.
    pub(super) fn judge(
        &self,
        row: &ChallengeRow,
        presented: &Presented,
        count: bool,
    ) -> Judgement {
        let Some(stored) = &row.secret_hash else {
            // Nothing to guess: a challenge without a secret never verifies.
            return Judgement::Wrong(RowChange::Keep);
        };
        let uid_ok = presented.uid.as_ref().is_none_or(|uid| *uid == row.uid);
        if uid_ok
            && self
                .hasher
                .matches(&row.action, &row.id, &presented.secret, stored)
        {
            return Judgement::Right;
        }
        if !count {
            return Judgement::Wrong(RowChange::Keep);
        }
        let attempts = row.attempts.saturating_add(1);
        if attempts >= i64::from(self.max_attempts) {
            Judgement::Wrong(RowChange::Delete)
        } else {
            Judgement::Wrong(RowChange::Update {
                secret_hash: row.secret_hash.clone(),
                verified_at: row.verified_at,
                attempts,
            })
        }
    }
}

pub(super) fn record(row: &ChallengeRow, is_first_verification: bool) -> Record {
    Record {
        action: row.action.clone(),
        id: row.id.clone(),
        uid: row.uid.clone(),
        created: rfc3339(row.created_at),
        verified: row.verified_at.map(rfc3339),
        is_first_verification,
        metadata: row.metadata.clone(),
        settings: json!({
            "ttl": row.ttl,
            "throttle": row.throttle,
            "secret": row.settings,
            "regenerate": row.uid.is_some(),
        }),
    }
}

pub(super) fn settings_of(spec: Option<&SecretSpec>) -> Result<Value, ChallengeError> {
    match spec {
        None => Ok(Value::Bool(false)),
        Some(spec) => serde_json::to_value(spec)
            .map_err(|e| StoreError::Internal(format!("secret settings: {e}")).into()),
    }
}

pub(super) fn spec_of(row: &ChallengeRow) -> Result<Option<SecretSpec>, ChallengeError> {
    match &row.settings {
        Value::Bool(false) => Ok(None),
        other => serde_json::from_value(other.clone())
            .map(Some)
            .map_err(|e| {
                StoreError::Internal(format!("damaged secret settings of a challenge: {e}")).into()
            }),
    }
}

/// 32 bytes from the OS for the hash key. `Store::server_secret` takes a
/// plain `fn`, which cannot return an error; a zero key must never be stored,
/// so a failing generator stops the process (as `app::random_32` does).
fn random_hash_key() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    if SystemRandom::new().fill_random(&mut bytes).is_err() {
        tracing::error!("the operating system's random number generator failed");
        std::process::abort();
    }
    bytes
}

fn new_aead_key(rng: &SystemRandom) -> Result<(Kid, Vec<u8>), StoreError> {
    let failed = |_| StoreError::Internal("the OS random number generator failed".to_owned());
    let kid = Kid::random(rng).map_err(failed)?;
    let mut key = vec![0u8; KEY_LEN];
    rng.fill_random(&mut key).map_err(failed)?;
    Ok((kid, key))
}

impl Engine {
    /// Loads (or creates on first start) the AEAD keys from `challenge_keys`
    /// and the HMAC key for secret hashes (server secret `challenge_hash`).
    pub async fn load(
        store: Store,
        clock: SharedClock,
        max_attempts: u32,
    ) -> Result<Engine, StoreError> {
        let now = clock.now();
        let hash_key = store
            .server_secret("challenge_hash", now, random_hash_key)
            .await?;
        if hash_key.len() < 32 {
            return Err(StoreError::Internal(
                "the challenge hash key is shorter than 32 bytes".to_owned(),
            ));
        }
        let rng = SystemRandom::new();
        let (kid, key) = new_aead_key(&rng)?;
        let rows = store
            .challenge_keys_or_insert((kid.text(), key), now)
            .await?;
        let keyring = Keyring::from_rows(&rows).map_err(StoreError::Internal)?;
        Ok(Engine {
            inner: Arc::new(Inner {
                steps: StepRunner::start(&store),
                store,
                clock,
                max_attempts: max_attempts.max(1),
                hasher: SecretHasher::new(&hash_key),
                keys: RwLock::new(keyring),
                rng,
            }),
        })
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn max_attempts(&self) -> u32 {
        self.inner.max_attempts
    }

    /// Deletes expired challenges in batches of `batch` rows, one short
    /// transaction each, yielding between batches; returns the number deleted.
    pub async fn sweep(&self, batch: usize) -> Result<usize, StoreError> {
        let batch = batch.max(1);
        let now = self.inner.clock.now();
        let mut total = 0;
        loop {
            let deleted = self.inner.store.sweep_challenges(now, batch).await?;
            total += deleted;
            if deleted < batch {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    #[cfg(any(test, feature = "testing"))]
    /// Adds a new AEAD key that encrypts from now on; older keys still
    /// decrypt (rotation).
    pub async fn rotate_key(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        let (kid, key) = new_aead_key(&inner.rng)?;
        inner
            .store
            .insert_challenge_key(kid.text(), key.clone(), inner.clock.now())
            .await?;
        inner
            .keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(kid, &key)
            .map_err(|_| StoreError::Internal("a new challenge key was refused".to_owned()))
    }
}
