//! The values the store keeps and hands back, whichever backend holds
//! them: users, sessions, keys, audit events, queued mail, challenge rows.
//!
//! They live below both backends (and below the engines that use them), so
//! `sqlite/` and `postgres/` share one definition, and the store imports
//! nothing from the layers above it: a persisted type belongs to the store,
//! and `crate::challenge::row` and friends re-export it. What a value looks
//! like in a column (amr as text, scopes and mail vars as JSON, clipped
//! errors) is here too, for the same reason.

use serde_json::Value;

use super::StoreError;
use crate::domain::locale::Locale;
use crate::domain::mail::{LinkSpec, MailKind, OutgoingMail};
use crate::domain::scope::Scope;

// The audit log.
/// One security event. `detail` is small JSON and never holds a secret.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub at: i64,
    pub kind: &'static str,
    pub user_id: Option<String>,
    /// Who acted, when not the user themself (an admin, an API key).
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Value,
}

/// The tracing target of audit events. JSON logs write their `detail` as
/// an object (`crate::telemetry`), and every line carries the spans it
/// happened in, the request's `request_id` among them.
pub const AUDIT_TARGET: &str = "toktok::audit";

/// The tracing half of an audit event (both backends).
pub(crate) fn trace(e: &AuditEvent) {
    tracing::info!(
        target: AUDIT_TARGET,
        kind = e.kind,
        user_id = e.user_id.as_deref(),
        actor = e.actor.as_deref(),
        ip = e.ip.as_deref(),
        detail = %e.detail,
        "audit"
    );
}

// Users.
/// A user as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub email_confirmed_at: Option<i64>,
    pub name: Option<String>,
    pub role: String,
    pub metadata: Value,
    pub app_metadata: Value,
    /// PHC string; `None` for an account created without a password.
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    /// The user's own language (`crate::domain::locale::Locale::as_str`),
    /// `None` when they chose none.
    pub locale: Option<String>,
}

/// A user's own profile edit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// `Some(None)` clears the name.
    pub name: Option<Option<String>>,
    pub metadata: Option<Value>,
    /// `Some(None)` clears the locale.
    pub locale: Option<Option<String>>,
}

/// A throttle slot that queueing mail claims: one mail of a kind per slot
/// until the slot's time runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailSlot {
    /// Per account (`mail_slots`).
    User { user_id: String, kind: MailKind },
    /// Per address, with or without an account (`mail_address_slots`):
    /// the SHA-256 (hex) of the address's key.
    Address { hash: String, kind: MailKind },
}

impl MailSlot {
    /// The address slot of an email key (`Email::normalized`).
    pub fn address(email_key: &str, kind: MailKind) -> MailSlot {
        MailSlot::Address {
            hash: crate::domain::digest::sha256_hex(email_key),
            kind,
        }
    }
}

// Sessions.
/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    /// SHA-256 (hex) of the current refresh token's secret (the part after
    /// `rt_`, or a pre-1.1 token's `jti`).
    pub refresh_hash: String,
    /// SHA-256 (hex) of the refresh token it replaced, if any.
    pub prev_refresh_hash: Option<String>,
    /// When the current refresh token was issued, in unix milliseconds: the
    /// start of the reuse grace, which is counted exactly.
    pub rotated_at_ms: i64,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub revoked_at: Option<i64>,
    /// When the user signed in (the access tokens' `auth_time`).
    pub auth_time: i64,
    /// How (the access tokens' `amr`, RFC 8176), e.g. `["pwd"]`.
    pub amr: Vec<String>,
    /// Authenticator assurance level (the access tokens' `aal`): 1, or 2
    /// after a second factor or a user-verified passkey.
    pub aal: u8,
    /// The factor that raised the session to `aal` 2 (`"totp"`,
    /// `"recovery_code"`, `"passkey:<id>"`), so that removing it ends the
    /// session; `None` at `aal` 1.
    pub factor: Option<String>,
    /// The OAuth client this session was granted to (OpenID Connect, issue
    /// 19); `None` for toktok's own sign-ins. toktok's own `/v1` API
    /// refuses a client's refresh and access tokens.
    pub client_id: Option<String>,
    /// The scopes a client's session was granted, space-separated; `None`
    /// for toktok's own sign-ins.
    pub scope: Option<String>,
    /// The browser session a client's session was issued from (its ID
    /// tokens' `sid`; RP-initiated logout ends both); `None` otherwise.
    pub parent_id: Option<String>,
}

impl SessionRecord {
    /// Alive: not revoked, within its absolute lifetime.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// What a user has enrolled besides a password (`Factors::factor_summary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactorSummary {
    /// A confirmed TOTP secret.
    pub totp: bool,
    pub passkeys: u32,
    /// Unused recovery codes.
    pub recovery_codes: u32,
}

impl FactorSummary {
    /// A second factor a password sign-in must be followed by: TOTP or a
    /// passkey (recovery codes stand in for them, never alone).
    pub fn has_second_factor(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// The query behind `Factors::factor_summary`, the same on both stores
/// (`?1` is the user id; PostgreSQL's `$1` is swapped in).
pub(crate) const FACTOR_SUMMARY_SQL: &str = "SELECT
    (SELECT COUNT(*) FROM totp_factors WHERE user_id = ?1 AND confirmed_at IS NOT NULL),
    (SELECT COUNT(*) FROM passkeys WHERE user_id = ?1),
    (SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL)";

/// How a presented refresh token names its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionKey {
    /// A pre-1.1 JWT refresh token: its `sid` claim.
    Id(String),
    /// An opaque refresh token: the SHA-256 (hex) of its secret, current or
    /// spent.
    RefreshHash(String),
}

/// What to do with a session when a refresh token is presented; decided by
/// the accounts service, carried out atomically by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// The current token: replace it by the successor with this hash.
    Rotate { successor_hash: String },
    /// The predecessor, inside the grace window: hand out the same successor
    /// again; nothing changes but `last_used_at`.
    Replay,
    /// A genuine but spent token outside the grace window: end the family.
    RevokeFamily,
    /// Dead session, expired by inactivity, or not this session's token.
    Reject,
}

/// The stored form of `amr`: a JSON array of strings.
pub(crate) fn amr_to_text(amr: &[String]) -> String {
    serde_json::Value::from(amr.to_vec()).to_string()
}

/// `amr` as stored; anything unreadable counts as a password sign-in, the
/// only way sessions were made before the column existed.
pub(crate) fn amr_from_text(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|_| vec!["pwd".to_owned()])
}

// Service API keys.
/// `last_used_at` is rewritten only when it is older than this (seconds).
pub const TOUCH_EVERY: i64 = 60;

/// An API key as stored, without its hash: nothing outside the store needs
/// the hash once the key is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// UUIDv7, so ids sort by creation time.
    pub id: String,
    /// The operator's label ("billing service"); not unique.
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    /// Last authenticated use, to within `TOUCH_EVERY` seconds.
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiKeyRecord {
    #[cfg(any(test, feature = "testing"))]
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

pub(crate) fn scopes_json(scopes: &[Scope]) -> Result<String, StoreError> {
    serde_json::to_string(scopes)
        .map_err(|e| StoreError::Internal(format!("cannot encode scopes: {e}")))
}

/// Whether a use at `now` should be written to `last_used_at`.
pub(crate) fn touch_due(record: &ApiKeyRecord, now: i64) -> bool {
    record.last_used_at.is_none_or(|at| at < now - TOUCH_EVERY)
}

// Signing keys.
/// A signing key row.
#[derive(Clone)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub private_der: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

// RSA (JWE) keys.
/// One RSA key row.
#[derive(Clone)]
pub struct RsaKeyRow {
    /// RFC 7638 thumbprint of the public key; the JWE `kid`.
    pub kid: String,
    /// PKCS#8 DER of the private key. Secret: never logged (see `Debug`).
    pub private_der: Vec<u8>,
    pub created_at: i64,
    /// When a newer key replaced this one; `None` for the current key.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for RsaKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKeyRow")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

// The mail outbox.
/// The audit kind written when the worker gives a message up.
pub const AUDIT_MAIL_FAILED: &str = "mail.failed";

/// Longest `last_error` kept; transport errors are short, this is a guard.
pub(crate) const MAX_ERROR_CHARS: usize = 500;

/// A claimed row, as the worker sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMail {
    pub id: String,
    pub created_at: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    pub user_id: Option<String>,
    /// The stored kind's name, even when it no longer parses.
    pub kind: String,
    /// The message, or why the row cannot be read (a damaged row, or a kind
    /// this binary does not know): the worker gives such a row up.
    pub mail: Result<OutgoingMail, String>,
    pub last_error: Option<String>,
}

/// A row as stored, for inspection (tests, the admin console).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub user_id: Option<String>,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub failed_at: Option<i64>,
}

/// The `link` column of `mail`: its link spec as JSON, or NULL.
pub(crate) fn link_json(mail: &OutgoingMail) -> Result<Option<String>, StoreError> {
    match &mail.link {
        Some(spec) => serde_json::to_string(spec)
            .map(Some)
            .map_err(|e| StoreError::Internal(format!("mail link: {e}"))),
        None => Ok(None),
    }
}

/// The `vars` column of `mail` (`{}` for none), with its language as
/// `"locale"` (a key no template variable has; a binary from before
/// languages ignores it).
pub(crate) fn vars_json(mail: &OutgoingMail) -> String {
    let mut vars = match &mail.vars {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(locale) = mail.locale {
        vars.insert("locale".to_owned(), Value::from(locale.as_str()));
    }
    Value::Object(vars).to_string()
}

/// Rebuilds a queued message from its columns; damage is an `Err` text,
/// so one bad row cannot stop the worker.
pub(crate) fn parse_mail(
    kind: &str,
    recipient: String,
    user_id: Option<String>,
    link: Option<String>,
    vars: &str,
) -> Result<OutgoingMail, String> {
    let parsed_kind = MailKind::parse(kind).ok_or_else(|| format!("unknown mail kind {kind:?}"))?;
    let link = match link {
        Some(text) => Some(
            serde_json::from_str::<LinkSpec>(&text)
                .map_err(|e| format!("damaged link column: {e}"))?,
        ),
        None => None,
    };
    let mut vars: Value =
        serde_json::from_str(vars).map_err(|e| format!("damaged vars column: {e}"))?;
    // Rows queued before languages have none: the default then.
    let locale = vars
        .as_object_mut()
        .and_then(|map| map.remove("locale"))
        .and_then(|tag| tag.as_str().and_then(Locale::from_tag));
    Ok(OutgoingMail {
        kind: parsed_kind,
        to: recipient,
        user_id,
        link,
        vars,
        locale,
    })
}

pub(crate) fn clip(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

// Admin reads and changes.
/// An admin's edit of a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AdminChange {
    pub role: Option<String>,
    /// `true` also ends every session and pending email link, in the same
    /// transaction.
    pub disabled: Option<bool>,
    pub email_confirmed: Option<bool>,
    pub metadata: Option<Value>,
    pub app_metadata: Option<Value>,
    /// `Some(None)` clears the name.
    pub name: Option<Option<String>>,
    /// `Some(None)` clears the locale.
    pub locale: Option<Option<String>>,
}

/// One audit event as stored, with its row id (the pagination key).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub user_id: Option<String>,
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Value,
}

// Failed sign-in counters.
/// The client of a sign-in attempt, for the counters by client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginClient {
    /// The address as the rate limits key it: an IPv4 address or an IPv6
    /// /64 (`crate::ratelimit::client_key`).
    pub key: String,
    /// HMAC of (email key, `key`): its row in `sign_in_clients`.
    pub hash: String,
}

/// How an attempt is judged: the wait (if any) after `failures`
/// consecutive failures, the last at the given time.
pub trait LockRule: Fn(u32, i64) -> Option<u64> + Send + 'static {}

impl<F: Fn(u32, i64) -> Option<u64> + Send + 'static> LockRule for F {}

/// Most known clients kept per user; the least recently seen go first.
pub const MAX_KNOWN_CLIENTS: i64 = 10;

// Challenges: the shape the engine (`crate::challenge`) and the store
// share. The store owns the SQL, the engine the rules: every operation that
// must be atomic is one [`Step`], a closure the engine writes that the store
// runs on the live row inside one write transaction, applying the
// [`RowChange`] (and audit event) it decided on.
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
