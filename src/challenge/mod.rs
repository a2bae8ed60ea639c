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
//!   flight (`step_runner.rs`): N concurrent verifications of one token give
//!   exactly one success (E2), and expired rows are absent before the sweep
//!   (E3).
//!
//! Shape: the store owns SQL and reads the live row inside the transaction;
//! the engine owns every rule and decides, in a closure run inside that
//! transaction, what to change (`row::Step`). Secret generation and
//! encryption happen before the transaction, except for `regenerate`, whose
//! new secret depends on the row it finds.
//!
//! Files: this one holds the types of the engine's interface and its
//! error; `engine.rs` the state and the rules the operations share
//! (issuing, opening, judging a secret), loading, key rotation and the
//! sweep; `create.rs`, `info.rs`, `regenerate.rs`, `verify.rs` and
//! `remove.rs` one operation each; `params.rs` validates requests,
//! `secret.rs` draws and hashes secrets, `token.rs` seals them, `row.rs`
//! is the stored shape shared with the store.

mod code;
mod create;
mod engine;
mod info;
mod params;
mod regenerate;
mod remove;
pub(crate) mod row;
pub mod secret;
mod step_runner;
pub(crate) mod token;
mod verify;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

#[cfg(any(test, feature = "testing"))]
pub use params::{Action, ChallengeId, ControlParams, MAX_METADATA_BYTES, MAX_NAME_BYTES};
pub use params::{CreateParams, LookupParams, NewChallenge};
pub use row::{Namespace, LINK_PREFIX};
pub use secret::SecretSpec;
#[cfg(any(test, feature = "testing"))]
pub use secret::{Secret, SecretKind};

use crate::error::FieldError;
use crate::store::StoreError;
use engine::Inner;

/// The audit kind of a verification (docs/API.md "Audit kinds").
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
    /// `random_failure`).
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
