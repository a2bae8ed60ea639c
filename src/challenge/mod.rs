//! The challenge-token engine: "prove you received this" secrets for an
//! emailed link, an SMS code, an invitation, with a throttle and an expiry.
//!
//! A challenge is keyed by (namespace, action, id), e.g. `(api,
//! "verify-email", "a@b.c")`; creating one replaces the previous challenge
//! of that pair. It may carry a
//! uid (a handle for `regenerate`), a secret (uuid, alphabet, digits or none),
//! handed out plain or encrypted as a token that alone verifies, metadata,
//! a ttl and a throttle. The model and the five operations (create, info,
//! regenerate, verify, remove) are those of the Node library ms-token; the
//! engine has no HTTP in it, so toktok's own email flows and the
//! `/v1/challenges` handlers call the same code.
//!
//! They call it in different [`Namespace`]s (TT-01): the handlers in
//! `Api` (the methods without a namespace argument), the email flows in
//! `Toktok` (the `*_in` methods). The namespace is part of the stored key
//! and of a token's authenticated data, so a service holding a
//! `challenges` key can neither create, read, regenerate, verify nor remove
//! one of toktok's links, by pair, uid or token; `create` in `Api` also
//! refuses the `toktok:` prefix (422 naming `action`), so a service cannot
//! make a challenge that merely looks like one of toktok's.
//!
//! What it fixes relative to ms-token:
//! - Tokens are AES-256-GCM with the version and key id as associated data
//!   (`token.rs`); ms-token's unauthenticated cipher let tampering through.
//!   Keys rotate; old keys keep decrypting.
//! - Every secret kind comes from the OS CSPRNG without modulo bias
//!   ([`secret`]); ms-token drew alphabet and digit secrets from a seeded PRNG.
//! - Only an HMAC of a secret is stored (E1): ms-token kept raw secrets as
//!   Redis keys, and `info` returned them. Here `info` never does.
//! - `regenerate` works for every secret kind, encrypted ones included.
//! - Wrong secrets are counted and burn the challenge after `max_attempts`
//!   (E8); `info` with a secret counts too, so it is no free oracle.
//! - Each operation is one atomic step of a `BEGIN IMMEDIATE` transaction
//!   (`Store::challenge_step_on`), group-committed with whatever else is in
//!   flight (`commit.rs`): N concurrent verifications of one token give
//!   exactly one success (E2), and expired rows are absent before the sweep
//!   (E3).
//!
//! Shape: the store owns SQL and reads the live row inside the transaction;
//! the engine owns every rule and decides, in a closure run inside that
//! transaction, what to change (`row::Step`). Secret generation and
//! encryption happen before the transaction, except for `regenerate`, whose
//! new secret depends on the row it finds.

mod commit;
mod params;
pub(crate) mod row;
pub mod secret;
pub(crate) mod token;

#[cfg(test)]
mod tests;

use std::sync::{Arc, PoisonError, RwLock};

use ring::rand::SystemRandom;
use serde::Serialize;
use serde_json::{json, Value};

pub use params::{
    Action, ChallengeId, ControlParams, CreateParams, LookupParams, NewChallenge,
    MAX_METADATA_BYTES, MAX_NAME_BYTES,
};
pub use row::{Namespace, LINK_PREFIX};
pub use secret::{Secret, SecretKind, SecretSpec};

use crate::clock::{rfc3339, SharedClock};
use crate::error::FieldError;
use crate::store::{AuditEvent, Store, StoreError};
use commit::Committer;
use row::{ChallengeRow, RowChange, RowKey, Step};
use secret::{FillRandom, SecretHasher};
use token::{Claims, Keyring, Kid, KEY_LEN};

/// The audit kind of a verification (API.md "Audit kinds").
pub const AUDIT_KIND: &str = "challenge.verified";

/// How a request names a challenge.
#[derive(Clone, PartialEq, Eq)]
pub enum Lookup {
    Uid(String),
    Pair {
        action: String,
        id: String,
    },
    /// An encrypted secret: it names the challenge and proves possession.
    Token(String),
    /// A plain secret with the challenge it belongs to.
    Secret {
        action: String,
        id: String,
        secret: String,
    },
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Uid(uid) => f.debug_tuple("Uid").field(uid).finish(),
            Lookup::Pair { action, id } => f
                .debug_struct("Pair")
                .field("action", action)
                .field("id", id)
                .finish(),
            Lookup::Token(_) => f.write_str("Token([redacted])"),
            Lookup::Secret { action, id, .. } => f
                .debug_struct("Secret")
                .field("action", action)
                .field("id", id)
                .field("secret", &"[redacted]")
                .finish(),
        }
    }
}

/// Options of `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Delete the challenge (and so its throttle) on success. Default true.
    pub erase: bool,
    /// Write a `challenge.verified` audit event, success or not.
    pub log: bool,
    /// Values the challenge must have, else [`ChallengeError::ControlMismatch`].
    pub control: Option<Control>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            erase: true,
            log: false,
            control: None,
        }
    }
}

/// `control` of `verify`: a token for another id or action is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Control {
    pub id: Option<String>,
    pub action: Option<String>,
}

/// Who asked, for the audit event of a logged verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditContext {
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The answer of `create`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChallengeCreated)]
pub struct Created {
    pub action: String,
    pub id: String,
    /// Only when `regenerate` was asked for.
    pub uid: Option<String>,
    /// The raw secret, or the token when encrypted; `None` for `secret: false`.
    pub secret: Option<String>,
}

impl std::fmt::Debug for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Created")
            .field("action", &self.action)
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The answer of `regenerate`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChallengeRegenerated)]
pub struct Regenerated {
    pub secret: String,
    pub uid: Option<String>,
}

impl std::fmt::Debug for Regenerated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Regenerated")
            .field("secret", &"[redacted]")
            .field("uid", &self.uid)
            .finish()
    }
}

/// A challenge as shown by `info` and `verify`: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ChallengeRecord)]
pub struct Record {
    pub action: String,
    pub id: String,
    #[schema(required = true)]
    pub uid: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created: String,
    /// Time of the first verification, RFC 3339.
    #[schema(format = DateTime)]
    #[schema(required = true)]
    pub verified: Option<String>,
    /// True only for the verification that set `verified`.
    pub is_first_verification: bool,
    pub metadata: Value,
    /// `{"ttl","throttle","secret":{type,alphabet?,length?,encrypt}|false,"regenerate"}`.
    #[schema(value_type = Object)]
    pub settings: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    /// 422, naming each bad field.
    #[error("invalid challenge request")]
    Invalid(Vec<FieldError>),
    /// 404: unknown, expired, replaced, or the secret is wrong.
    #[error("no such challenge")]
    NotFound,
    /// 400: the token is not one of ours (tampered, truncated, unknown key).
    #[error("malformed challenge token")]
    MalformedToken,
    /// 403: the challenge is for another id or action than `control` says.
    #[error("the challenge does not match the control values")]
    ControlMismatch,
    /// 429: a throttle of this (action, id) is still running.
    #[error("throttled; retry after {retry_after} s")]
    Throttled { retry_after: u64 },
    /// 404: regenerate on a challenge without a secret.
    #[error("the challenge has no secret")]
    NoSecret,
    /// The database failed (or, rarely, the OS random generator: see
    /// [`random_failure`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: &str) -> ChallengeError {
    ChallengeError::Invalid(vec![FieldError::new(field, message)])
}

/// The OS random generator failed: nothing safe can be issued. Reported as
/// an internal failure (500) rather than a new variant, since no client can
/// act on it differently.
fn random_failure() -> ChallengeError {
    ChallengeError::Store(StoreError::Internal(
        "the operating system's random number generator failed".to_owned(),
    ))
}

/// The challenge engine. Cheap to clone; lives in the application state.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("max_attempts", &self.inner.max_attempts)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    /// The writer task that group-commits every read-decide-write step.
    committer: Committer,
    /// Every expiry and throttle decision asks this clock (E3).
    clock: SharedClock,
    /// Wrong secrets after which a challenge is deleted (E8), ≥ 1.
    max_attempts: u32,
    /// Keyed hash of secrets; the key is a server secret in the database.
    hasher: SecretHasher,
    /// AEAD keys of tokens; a lock because `rotate_key` adds one at run time.
    keys: RwLock<Keyring>,
    rng: SystemRandom,
}

/// A secret presented for checking: from a token (which also fixes the uid)
/// or given plainly with its action and id.
struct Presented {
    action: String,
    id: String,
    /// `Some` when the secret came from a token: the row's uid must match.
    uid: Option<Option<String>>,
    secret: String,
}

/// What checking a presented secret against a row found.
enum Judgement {
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

    fn new_uid(&self) -> Result<String, ChallengeError> {
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
    fn issue(
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
    fn open(&self, token: &str, namespace: Namespace) -> Result<Presented, ChallengeError> {
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
    fn judge(&self, row: &ChallengeRow, presented: &Presented, count: bool) -> Judgement {
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

fn record(row: &ChallengeRow, is_first_verification: bool) -> Record {
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

fn settings_of(spec: Option<&SecretSpec>) -> Result<Value, ChallengeError> {
    match spec {
        None => Ok(Value::Bool(false)),
        Some(spec) => serde_json::to_value(spec)
            .map_err(|e| StoreError::Internal(format!("secret settings: {e}")).into()),
    }
}

fn spec_of(row: &ChallengeRow) -> Result<Option<SecretSpec>, ChallengeError> {
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
                committer: Committer::start(&store),
                store,
                clock,
                max_attempts: max_attempts.max(1),
                hasher: SecretHasher::new(&hash_key),
                keys: RwLock::new(keyring),
                rng,
            }),
        })
    }

    pub fn max_attempts(&self) -> u32 {
        self.inner.max_attempts
    }

    /// Validates `params` and creates the challenge (namespace `Api`).
    pub async fn create(&self, params: CreateParams) -> Result<Created, ChallengeError> {
        self.create_in(Namespace::Api, params).await
    }

    /// Validates `params` and creates the challenge in `namespace`. In
    /// `Api`, an action starting `toktok:` is refused (TT-01).
    pub async fn create_in(
        &self,
        namespace: Namespace,
        params: CreateParams,
    ) -> Result<Created, ChallengeError> {
        let reserved = namespace == Namespace::Api
            && matches!(&params.action, Some(Value::String(a)) if a.starts_with(LINK_PREFIX));
        let new = params.validate().map_err(ChallengeError::Invalid)?;
        if reserved {
            return Err(invalid(
                "action",
                "must not start with \"toktok:\": that prefix is reserved for toktok's own email links",
            ));
        }
        self.create_new_in(namespace, new).await
    }

    /// Creates a challenge (namespace `Api`); see [`Engine::create_new_in`].
    pub async fn create_new(&self, new: NewChallenge) -> Result<Created, ChallengeError> {
        self.create_new_in(Namespace::Api, new).await
    }

    /// Creates a challenge in `namespace`, replacing any previous one of its
    /// (action, id) unless that one's throttle still runs.
    pub async fn create_new_in(
        &self,
        namespace: Namespace,
        new: NewChallenge,
    ) -> Result<Created, ChallengeError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let action = new.action.as_str().to_owned();
        let id = new.id.as_str().to_owned();
        let uid = if new.regenerate {
            Some(inner.new_uid()?)
        } else {
            None
        };
        let (secret_hash, secret) = match &new.secret {
            Some(spec) => {
                let (hash, out) = inner.issue(spec, namespace, &action, &id, uid.as_deref())?;
                (Some(hash), Some(out))
            }
            None => (None, None),
        };
        let row = ChallengeRow {
            namespace,
            action: action.clone(),
            id: id.clone(),
            uid: uid.clone(),
            settings: settings_of(new.secret.as_ref())?,
            secret_hash,
            metadata: new.metadata,
            created_at: now,
            verified_at: None,
            ttl: i64::from(new.ttl),
            expires_at: (new.ttl > 0).then(|| now.saturating_add(i64::from(new.ttl))),
            throttle: i64::from(new.throttle),
            throttle_until: (new.throttle > 0).then(|| now.saturating_add(i64::from(new.throttle))),
            attempts: 0,
        };
        let key = RowKey::Pair {
            namespace,
            action: action.clone(),
            id: id.clone(),
        };
        inner
            .committer
            .step(key, now, move |existing| {
                let running = existing
                    .and_then(|e| e.throttle_until)
                    .filter(|&until| until > now);
                match running {
                    Some(until) => Step::new(
                        RowChange::Keep,
                        Err(ChallengeError::Throttled {
                            retry_after: u64::try_from(until - now).unwrap_or(1).max(1),
                        }),
                    ),
                    None => Step::new(RowChange::Replace(Box::new(row)), Ok(())),
                }
            })
            .await??;
        Ok(Created {
            action,
            id,
            uid,
            secret,
        })
    }

    /// The challenge, without its secret (namespace `Api`).
    pub async fn info(&self, by: Lookup) -> Result<Record, ChallengeError> {
        self.info_in(Namespace::Api, by).await
    }

    /// The challenge in `namespace`, without its secret. By token or
    /// secret, the secret must be right, and a wrong one counts as an
    /// attempt.
    pub async fn info_in(
        &self,
        namespace: Namespace,
        by: Lookup,
    ) -> Result<Record, ChallengeError> {
        let inner = self.inner.clone();
        let now = inner.clock.now();
        let presented = match by {
            Lookup::Uid(uid) => return self.read(RowKey::Uid { namespace, uid }, now).await,
            Lookup::Pair { action, id } => {
                let key = RowKey::Pair {
                    namespace,
                    action,
                    id,
                };
                return self.read(key, now).await;
            }
            Lookup::Token(token) => inner.open(&token, namespace)?,
            Lookup::Secret { action, id, secret } => Presented {
                action,
                id,
                uid: None,
                secret,
            },
        };
        let key = RowKey::Pair {
            namespace,
            action: presented.action.clone(),
            id: presented.id.clone(),
        };
        self.inner
            .committer
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound));
                };
                match inner.judge(row, &presented, true) {
                    Judgement::Right => Step::new(RowChange::Keep, Ok(record(row, false))),
                    Judgement::Wrong(change) => Step::new(change, Err(ChallengeError::NotFound)),
                }
            })
            .await?
    }

    async fn read(&self, key: RowKey, now: i64) -> Result<Record, ChallengeError> {
        let row = self.inner.store.challenge(key, now).await?;
        row.map(|row| record(&row, false))
            .ok_or(ChallengeError::NotFound)
    }

    /// A new secret of the same kind and encryption; the old one is dead at
    /// once. Expiry, metadata, throttle and the attempt count are kept (so
    /// regenerating is no way around `max_attempts`).
    pub async fn regenerate(&self, by: Lookup) -> Result<Regenerated, ChallengeError> {
        let namespace = Namespace::Api;
        let key = match by {
            Lookup::Uid(uid) => RowKey::Uid { namespace, uid },
            Lookup::Pair { action, id } => RowKey::Pair {
                namespace,
                action,
                id,
            },
            Lookup::Token(_) => {
                return Err(invalid("token", "regenerate takes uid, or action and id"))
            }
            Lookup::Secret { .. } => {
                return Err(invalid("secret", "regenerate takes uid, or action and id"))
            }
        };
        let inner = self.inner.clone();
        let now = inner.clock.now();
        self.inner
            .committer
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound));
                };
                let spec = match spec_of(row) {
                    Ok(Some(spec)) if row.secret_hash.is_some() => spec,
                    Ok(_) => return Step::new(RowChange::Keep, Err(ChallengeError::NoSecret)),
                    Err(e) => return Step::new(RowChange::Keep, Err(e)),
                };
                match inner.issue(
                    &spec,
                    row.namespace,
                    &row.action,
                    &row.id,
                    row.uid.as_deref(),
                ) {
                    Ok((hash, secret)) => Step::new(
                        RowChange::Update {
                            secret_hash: Some(hash),
                            verified_at: row.verified_at,
                            attempts: row.attempts,
                        },
                        Ok(Regenerated {
                            secret,
                            uid: row.uid.clone(),
                        }),
                    ),
                    Err(e) => Step::new(RowChange::Keep, Err(e)),
                }
            })
            .await?
    }

    /// Checks a token, or a plain secret with its action and id; on success
    /// marks the challenge verified (the first time) and, with `erase`,
    /// deletes it. One transaction: of N concurrent verifications of one
    /// challenge exactly one consumes it.
    pub async fn verify(
        &self,
        by: Lookup,
        options: VerifyOptions,
        audit: Option<AuditContext>,
    ) -> Result<Record, ChallengeError> {
        self.verify_in(Namespace::Api, by, options, audit).await
    }

    /// [`Engine::verify`] in `namespace`.
    pub async fn verify_in(
        &self,
        namespace: Namespace,
        by: Lookup,
        options: VerifyOptions,
        audit: Option<AuditContext>,
    ) -> Result<Record, ChallengeError> {
        let inner = self.inner.clone();
        let presented = match by {
            Lookup::Token(token) => inner.open(&token, namespace)?,
            Lookup::Secret { action, id, secret } => Presented {
                action,
                id,
                uid: None,
                secret,
            },
            Lookup::Uid(_) => {
                return Err(invalid(
                    "uid",
                    "verify takes a token, or action, id and secret",
                ))
            }
            Lookup::Pair { .. } => return Err(invalid("secret", "is required to verify")),
        };
        let now = inner.clock.now();
        let audit = audit.unwrap_or_default();
        let (action, id) = (presented.action.clone(), presented.id.clone());
        let event = move |success: bool| {
            options.log.then(|| AuditEvent {
                at: now,
                kind: AUDIT_KIND,
                user_id: None,
                actor: audit.actor.clone(),
                ip: audit.ip.clone(),
                user_agent: audit.user_agent.clone(),
                detail: json!({ "action": action, "id": id, "success": success }),
            })
        };
        if let Some(control) = &options.control {
            let id_differs = control.id.as_ref().is_some_and(|c| *c != presented.id);
            let action_differs = control
                .action
                .as_ref()
                .is_some_and(|c| *c != presented.action);
            if id_differs || action_differs {
                if let Some(e) = event(false) {
                    inner.store.audit(e).await?;
                }
                return Err(ChallengeError::ControlMismatch);
            }
        }
        let key = RowKey::Pair {
            namespace,
            action: presented.action.clone(),
            id: presented.id.clone(),
        };
        let erase = options.erase;
        self.inner
            .committer
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound))
                        .audited(event(false));
                };
                match inner.judge(row, &presented, true) {
                    Judgement::Wrong(change) => {
                        Step::new(change, Err(ChallengeError::NotFound)).audited(event(false))
                    }
                    Judgement::Right => {
                        let first = row.verified_at.is_none();
                        let mut verified = row.clone();
                        verified.verified_at = Some(row.verified_at.unwrap_or(now));
                        let change = if erase {
                            RowChange::Delete
                        } else {
                            RowChange::Update {
                                secret_hash: row.secret_hash.clone(),
                                verified_at: verified.verified_at,
                                attempts: row.attempts,
                            }
                        };
                        Step::new(change, Ok(record(&verified, first))).audited(event(true))
                    }
                }
            })
            .await?
    }

    /// Deletes a challenge (and its throttle). By token, the token must be
    /// the challenge's current one.
    pub async fn remove(&self, by: Lookup) -> Result<(), ChallengeError> {
        self.remove_in(Namespace::Api, by).await
    }

    /// [`Engine::remove`] in `namespace`.
    pub async fn remove_in(&self, namespace: Namespace, by: Lookup) -> Result<(), ChallengeError> {
        let inner = self.inner.clone();
        let now = inner.clock.now();
        let (key, presented) = match by {
            Lookup::Uid(uid) => (RowKey::Uid { namespace, uid }, None),
            Lookup::Pair { action, id } => (
                RowKey::Pair {
                    namespace,
                    action,
                    id,
                },
                None,
            ),
            Lookup::Token(token) => {
                let presented = inner.open(&token, namespace)?;
                let key = RowKey::Pair {
                    namespace,
                    action: presented.action.clone(),
                    id: presented.id.clone(),
                };
                (key, Some(presented))
            }
            Lookup::Secret { .. } => {
                return Err(invalid(
                    "secret",
                    "remove takes uid, token, or action and id",
                ))
            }
        };
        self.inner
            .committer
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound));
                };
                match &presented {
                    Some(p) if matches!(inner.judge(row, p, false), Judgement::Wrong(_)) => {
                        Step::new(RowChange::Keep, Err(ChallengeError::NotFound))
                    }
                    _ => Step::new(RowChange::Delete, Ok(())),
                }
            })
            .await?
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
