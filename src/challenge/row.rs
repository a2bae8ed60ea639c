//! The shape in which a challenge is persisted, shared with
//! `crate::store` (whose `challenges` module is private to the store, so the
//! types it takes and returns live here).
//!
//! The store owns the SQL; the engine owns the rules. Every operation that
//! must be atomic is one [`Step`]: the store reads the live row inside a
//! `BEGIN IMMEDIATE` transaction, hands it to a closure written by the engine,
//! and applies the [`RowChange`] (and audit event) the closure decided on,
//! before committing.

use serde_json::Value;

use crate::store::AuditEvent;

/// Whose challenge it is (TT-01): toktok's own email links, or the
/// services' challenges of `/v1/challenges*`. Part of the row's key and of
/// a token's authenticated data, so neither side can name or open the
/// other's challenges, whatever the action is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// `/v1/challenges*`, for services holding a `challenges` API key.
    Api,
    /// toktok's email links (`crate::mail`): reset, email change, confirm.
    Toktok,
}

impl Namespace {
    /// The value of the `namespace` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::Api => "api",
            Namespace::Toktok => "toktok",
        }
    }

    /// The namespace named by a `namespace` column value.
    pub fn parse(text: &str) -> Option<Namespace> {
        match text {
            "api" => Some(Namespace::Api),
            "toktok" => Some(Namespace::Toktok),
            _ => None,
        }
    }

    /// Where a challenge of `action` lived before namespaces existed
    /// (schema migration 8, and tokens of format version 1): toktok's links
    /// were the actions starting `toktok:`.
    pub fn of_legacy_action(action: &str) -> Namespace {
        if action.starts_with(LINK_PREFIX) {
            Namespace::Toktok
        } else {
            Namespace::Api
        }
    }
}

/// The prefix of toktok's own link actions, refused by `/v1/challenges`.
pub const LINK_PREFIX: &str = "toktok:";

/// One `challenges` row, as stored. Raw types: the engine parses what it
/// needs (the secret settings) when it needs them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChallengeRow {
    pub namespace: Namespace,
    pub action: String,
    pub id: String,
    /// Set when `regenerate` was asked for: a handle that needs no secret.
    pub uid: Option<String>,
    /// The secret's kind and settings (`{"type",..,"encrypt"}`), or `false`.
    pub settings: Value,
    /// HMAC-SHA256 (hex) of the raw secret; `None` without a secret.
    pub secret_hash: Option<String>,
    pub metadata: Value,
    pub created_at: i64,
    pub verified_at: Option<i64>,
    pub ttl: i64,
    /// `None`: never expires.
    pub expires_at: Option<i64>,
    pub throttle: i64,
    /// No new challenge for this pair before this time.
    pub throttle_until: Option<i64>,
    /// Wrong secrets so far (E8).
    pub attempts: i64,
}

/// How a step finds its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowKey {
    Pair {
        namespace: Namespace,
        action: String,
        id: String,
    },
    Uid {
        namespace: Namespace,
        uid: String,
    },
}

/// What a step does to the row it read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RowChange {
    /// Nothing.
    Keep,
    /// Deletes the row that was read.
    Delete,
    /// Deletes any row of the new row's (action, id), expired or not, and
    /// inserts the new one.
    Replace(Box<ChallengeRow>),
    /// Overwrites the mutable columns of the row that was read.
    Update {
        secret_hash: Option<String>,
        verified_at: Option<i64>,
        attempts: i64,
    },
}

/// The engine's decision for one atomic step, and what it answers.
#[derive(Debug)]
pub(crate) struct Step<R> {
    pub change: RowChange,
    /// Written in the same transaction as the change.
    pub audit: Option<AuditEvent>,
    pub out: R,
}

impl<R> Step<R> {
    pub fn new(change: RowChange, out: R) -> Step<R> {
        Step {
            change,
            audit: None,
            out,
        }
    }

    pub fn audited(mut self, audit: Option<AuditEvent>) -> Step<R> {
        self.audit = audit;
        self
    }
}
