//! The storage contract: every operation the rest of toktok may ask of a
//! store, declared once and documented here, whatever the backend.
//!
//! [`Backend`] is the whole contract; it is split by table into the traits
//! below (as lldap splits its backend handler), so each backend can
//! implement one of them per file: `sqlite/users.rs` and
//! `postgres/users.rs` each hold `impl Users for …`. `Store`
//! (`mod.rs`) holds an `Arc<dyn Backend>` chosen once in `Store::open`, and
//! adds only what is not the database's business: the session and API-key
//! caches (`cache.rs`).
//!
//! The traits are `#[async_trait]`: native `async fn` in traits is not
//! object-safe, and one boxed future per call costs nothing measurable next
//! to the `spawn_blocking` hop every store call already makes (atuin's
//! `Database` trait does the same). Operations the engines parametrise by a
//! closure take it boxed ([`DecideRefresh`], [`DecideStep`],
//! [`LockRuleBox`]) for the same reason; `Store` keeps its generic
//! signatures and boxes on the way in.
//!
//! What every implementation promises: a write returns `Ok` only once it
//! is durable (D1); the changes of one call, its audit event and the mail
//! it queues commit together or not at all; and a read-decide-write sees no
//! interleaved writer (SQLite: one writer at a time; PostgreSQL: the locks
//! each method's notes name).

use std::any::Any;

use async_trait::async_trait;

use super::records::FactorSummary;
use super::{
    ApiKeyRecord, AuditEvent, AuditRow, KeyRow, LoginClient, MailSlot, QueuedMail, RefreshDecision,
    RsaKeyRow, SessionKey, SessionRecord, StoreError, UserRecord,
};
use crate::domain::mail::OutgoingMail;
use crate::store::records::{ChallengeRow, RowKey, Step};

/// How `Sessions::refresh_session` decides on the session it locked.
pub(crate) type DecideRefresh =
    Box<dyn FnOnce(&SessionRecord, &UserRecord) -> RefreshDecision + Send>;
/// The audit event `Sessions::refresh_session` writes for a reused family.
pub(crate) type ReuseEvent = Box<dyn FnOnce(&SessionRecord) -> AuditEvent + Send>;
/// A challenge step's answer, type-erased (see `Challenges::challenge_step`).
pub(crate) type Erased = Box<dyn Any + Send>;
/// The engine's decision for one challenge step, answer type-erased.
pub(crate) type DecideStep = Box<dyn FnOnce(Option<&ChallengeRow>) -> Step<Erased> + Send>;
/// A shared write (`flows.rs`), answer type-erased (see `Backend::write_flow`).
pub(crate) type Flow =
    Box<dyn FnOnce(&mut dyn super::flows::Tx) -> Result<Erased, StoreError> + Send>;
/// The lockout rule `Lockout::take_login_attempt` judges by.
pub(crate) type LockRuleBox = Box<dyn Fn(u32, i64) -> Option<u64> + Send>;

/// The whole contract: one value of this is where toktok's data lives.
#[async_trait]
pub(crate) trait Backend:
    Users
    + Sessions
    + ApiKeys
    + Challenges
    + ChallengeKeys
    + SigningKeys
    + RsaKeys
    + Lockout
    + Outbox
    + Admin
    + Audit
    + Factors
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The change generation the caches key on (see `cache.rs`): `Some`
    /// where this process sees every write to `users`, `sessions` and
    /// `api_keys` (SQLite, through its update hook), `None` where other
    /// processes write unseen (PostgreSQL), which turns the caches off.
    fn generation(&self) -> Option<u64>;

    /// Runs `flow` (one of `flows.rs`) in one write transaction, durable
    /// before it answers. The answer is type-erased, as for challenge
    /// steps, so the trait stays object-safe.
    async fn write_flow(&self, flow: Flow) -> Result<Erased, StoreError>;

    /// Runs `flow`, which only reads, in one read transaction: on SQLite on
    /// a pooled reader, never queued behind the writer.
    async fn read_flow(&self, flow: Flow) -> Result<Erased, StoreError>;

    /// Answers whether the database responds (for `/ready`).
    async fn ping(&self) -> bool;

    #[cfg(any(test, feature = "testing"))]
    /// The schema version of the open database.
    async fn schema_version(&self) -> Result<i64, StoreError>;

    /// The concrete backend, for the accessors that hand out its handle
    /// (`Store::sqlite`, `Store::pg`).
    fn as_any(&self) -> &dyn Any;
}

#[async_trait]
pub(crate) trait Users: Send + Sync {
    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError>;

    async fn user_by_email_key(&self, key: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Queues `mails` (none at all is allowed: the slots alone are then
    /// claimed) unless one of `slots` is taken: claims every slot until
    /// `until`, writes `event` and queues, all in one transaction. False,
    /// and nothing written, while any slot is taken.
    async fn queue_mail_slotted(
        &self,
        mails: Vec<OutgoingMail>,
        slots: Vec<MailSlot>,
        now: i64,
        until: i64,
        event: Option<AuditEvent>,
    ) -> Result<bool, StoreError>;

    #[cfg(any(test, feature = "testing"))]
    /// The accounts the NFKC address rule (TT-11) has a problem with, as
    /// schema migration 8 logged them: stored addresses with compatibility
    /// characters, groups that are one address under the rule, and keys
    /// not yet re-keyed. For `toktok check` and operators; reads every
    /// user, so not for a request path.
    async fn email_key_report(&self) -> Result<crate::domain::email::Rekey, StoreError>;

    /// Deletes address slots that ran out before `now`; returns how many.
    async fn sweep_mail_slots(&self, now: i64) -> Result<usize, StoreError>;

    #[cfg(any(test, feature = "testing"))]
    /// Consecutive failures and the time of the last one, for an email key.
    async fn login_failures(&self, email_key: &str) -> Result<Option<(u32, i64)>, StoreError>;

    /// Counts one more failed login; returns the new consecutive count.
    async fn record_login_failure(
        &self,
        email_key: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<u32, StoreError>;
}

#[async_trait]
pub(crate) trait Sessions: Send + Sync {
    /// Records a successful sign-in: the new session, the reset of the
    /// failed-login counter, `last_login_at`, and (when the configured hash
    /// parameters rose) the upgraded password hash, in one transaction.
    ///
    /// `verified` is the password hash the sign-in checked. The session is
    /// created only while it is still the user's and the user is enabled;
    /// otherwise nothing is written and the answer is false: a password
    /// change, reset, disable or delete that committed while the password
    /// was being verified wins (its revocation cannot see a session created
    /// after it).
    async fn create_session(
        &self,
        session: SessionRecord,
        email_key: String,
        rehash: Option<String>,
        verified: Option<String>,
        event: AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The session and its user, when the session is live and the user
    /// enabled: the check behind every access token on toktok's own routes.
    ///
    /// Answered from the session cache while nothing in `users` or
    /// `sessions` has changed since the answer was read (see `cache.rs`);
    /// the expiry is checked against `now` either way.
    async fn live_session(
        &self,
        sid: &str,
        now: i64,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;

    /// Locks the session (in a write transaction), lets `decide` look at it
    /// and its user, and applies the decision before anyone else can look:
    /// two concurrent refreshes with one token see one rotation (docs/SECURITY.md
    /// R3). Concurrent refreshes share commits ([`super::GroupCommit`]): each
    /// runs in its own savepoint, in arrival order, answered once durable.
    ///
    /// `now_ms` is the time in milliseconds (the rotation time is kept
    /// exactly); `reuse_event` builds the audit event of a revoked family.
    async fn refresh_session(
        &self,
        key: SessionKey,
        now_ms: i64,
        reuse_event: ReuseEvent,
        decide: DecideRefresh,
    ) -> Result<Option<(RefreshDecision, SessionRecord, UserRecord)>, StoreError>;

    /// Live sessions of a user, newest first.
    async fn list_sessions(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Deletes sessions that ended (revoked or expired) more than `keep`
    /// seconds ago, and failed-login counters idle for a day.
    async fn sweep_sessions(&self, now: i64, keep: i64) -> Result<usize, StoreError>;
}

#[async_trait]
pub(crate) trait ApiKeys: Send + Sync {
    /// Every key, revoked ones included, newest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// The live (not revoked) key with this hash, recording its use: the
    /// lookup is a read, and only a key whose `last_used_at` is unset or
    /// older than [`TOUCH_EVERY`] seconds costs a write.
    ///
    /// Answered from the API-key cache (`cache.rs`) while nothing in the
    /// watched tables has changed since the key was read and the clock is
    /// still in the second it was read in: a revoke made through this store
    /// is seen by the very next call, one made by another process (`toktok
    /// api-key revoke`) from the next second on. A hit whose `last_used_at` is due for
    /// its touch goes to the database like a miss, so the use is still
    /// recorded once a minute.
    async fn api_key_by_hash(
        &self,
        key_hash: &str,
        now: i64,
    ) -> Result<Option<ApiKeyRecord>, StoreError>;
}

#[async_trait]
pub(crate) trait Challenges: Send + Sync {
    /// The live challenge found by `key`, if any (read-only).
    async fn challenge(&self, key: RowKey, now: i64) -> Result<Option<ChallengeRow>, StoreError>;

    /// One read-decide-write on the live challenge found by `key`, durable
    /// before it answers: on SQLite through the group commit (see
    /// `sqlite::challenges::step_on`), on PostgreSQL in its own transaction
    /// that locks the challenge.
    ///
    /// The answer is type-erased (`Store::challenge_step` boxes the
    /// engine's closure and unboxes its answer), so the trait stays
    /// object-safe.
    async fn challenge_step(
        &self,
        key: RowKey,
        now: i64,
        decide: DecideStep,
    ) -> Result<Erased, StoreError>;

    /// Deletes up to `batch` expired challenges in one short transaction;
    /// returns how many went.
    async fn sweep_challenges(&self, now: i64, batch: usize) -> Result<usize, StoreError>;
}

#[async_trait]
pub(crate) trait ChallengeKeys: Send + Sync {
    /// Every challenge AEAD key as `(kid, key)`, oldest first. When there is
    /// none, `first` is inserted (atomically, so two starting processes
    /// cannot both create one) and returned.
    async fn challenge_keys_or_insert(
        &self,
        first: (String, Vec<u8>),
        now: i64,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
}

#[async_trait]
pub(crate) trait SigningKeys: Send + Sync {
    /// Every key of `alg`, newest first.
    async fn signing_keys(&self, alg: &str) -> Result<Vec<KeyRow>, StoreError>;

    /// Adds a key; it becomes the signing key at the next (re)load.
    async fn insert_signing_key(&self, key: KeyRow) -> Result<(), StoreError>;

    /// Inserts `key` only if `key.alg` has no key yet (first start); false
    /// if one exists, which the caller then uses. Atomic, so two processes
    /// starting together end up with one key.
    async fn insert_first_signing_key(&self, key: KeyRow) -> Result<bool, StoreError>;

    /// Marks the keys `retire` of `alg` as retired at `now` (those not yet
    /// retired) and deletes the retired keys `forget`. Which keys is decided
    /// by `crate::auth::rotation`: never one newer than the signing key
    /// (published, not used yet), never the signing key itself.
    async fn retire_signing_keys(
        &self,
        alg: &str,
        retire: Vec<String>,
        forget: Vec<String>,
        now: i64,
    ) -> Result<(), StoreError>;

    /// The named secret, created with `generate` on first use.
    async fn server_secret(
        &self,
        name: &'static str,
        now: i64,
        generate: fn() -> Vec<u8>,
    ) -> Result<Vec<u8>, StoreError>;
}

#[async_trait]
pub(crate) trait RsaKeys: Send + Sync {
    /// Every RSA key, newest first: the first unretired row is the current key.
    async fn rsa_keys(&self) -> Result<Vec<RsaKeyRow>, StoreError>;

    /// Stores the first key, unless a current (unretired) key already exists;
    /// answers whether `key` was stored. Two workers starting together on an
    /// empty database both generate a key, but only one is kept, so they
    /// end up decrypting with the same key.
    async fn insert_first_rsa_key(&self, key: RsaKeyRow) -> Result<bool, StoreError>;

    /// Stores `key` as the new current key and retires every other key at
    /// `now`, in one transaction (`toktok keys rotate --rsa`).
    async fn rotate_rsa_key(&self, key: RsaKeyRow, now: i64) -> Result<(), StoreError>;

    /// Marks the keys `retire` as retired at `now` (those not yet retired)
    /// and deletes the retired keys `forget`; which ones is decided by
    /// `crate::auth::rotation` (never the served or the current key).
    async fn retire_rsa_keys(
        &self,
        retire: Vec<String>,
        forget: Vec<String>,
        now: i64,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub(crate) trait Lockout: Send + Sync {
    /// Takes one attempt for `email_key` from `client` before the password
    /// is checked. Refused (`Err(wait)`, nothing written) when `locked`
    /// says the (account, client) count must wait, or when the account's
    /// count must and the client is not one the account signed in from
    /// since `known_since`. Otherwise both counts grow by one, as failures
    /// at `now`, and the account's new count is returned. A success clears
    /// them ([`Store::login_succeeded`]); an attempt that was no wrong
    /// password is given back ([`Store::return_login_attempt`]).
    async fn take_login_attempt(
        &self,
        email_key: &str,
        client: Option<LoginClient>,
        now: i64,
        known_since: i64,
        locked: LockRuleBox,
    ) -> Result<Result<u32, u64>, StoreError>;

    /// After a correct password: clears the account's count and this
    /// client's, and, when `user_id` signed in (`Some`), remembers the
    /// client as known (at most [`MAX_KNOWN_CLIENTS`] per user).
    async fn login_succeeded(
        &self,
        email_key: &str,
        client: Option<LoginClient>,
        user_id: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Deletes counts by client idle since `idle_before` and known clients
    /// not seen since `known_since` (the sweeper).
    async fn sweep_lockout(&self, idle_before: i64, known_since: i64) -> Result<usize, StoreError>;
}

#[async_trait]
pub(crate) trait Outbox: Send + Sync {
    /// Takes up to `limit` due rows (not failed, `next_attempt_at <= now`),
    /// earliest due first, and leases them until `lease_until`.
    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StoreError>;

    /// Hands claimed rows back unsent (the worker is stopping): due again
    /// at `now`, attempts unchanged.
    async fn release_mail(&self, ids: Vec<String>, now: i64) -> Result<(), StoreError>;

    /// The message was accepted: forget it.
    async fn mail_sent(&self, id: String) -> Result<(), StoreError>;

    /// Whether row `id` is still queued (not deleted with its user).
    async fn mail_queued(&self, id: String) -> Result<bool, StoreError>;

    /// Deletes failed rows given up before `failed_before`.
    async fn sweep_failed_mail(&self, failed_before: i64) -> Result<usize, StoreError>;

    /// When the next unfailed row is due, if any (the worker sleeps until then).
    async fn next_mail_due(&self) -> Result<Option<i64>, StoreError>;

    /// Messages waiting to be sent (not given up on), for the gauge.
    async fn outbox_depth(&self) -> Result<i64, StoreError>;

    #[cfg(any(test, feature = "testing"))]
    /// Every row, queued and failed, in queue order: for tests and operators.
    async fn outbox_rows(&self) -> Result<Vec<crate::store::OutboxRow>, StoreError>;
}

#[async_trait]
pub(crate) trait Admin: Send + Sync {
    /// Up to `limit` users with an id above `after`, in id (creation) order,
    /// optionally only the one with this email key.
    async fn list_users(
        &self,
        email_key: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError>;

    /// Up to `limit` audit events below row id `before`, newest first.
    async fn audit_page(
        &self,
        user_id: Option<String>,
        kind: Option<String>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditRow>, StoreError>;

    /// Deletes up to `batch` audit events older than `cutoff`; returns how
    /// many went. Small batches keep the write lock short.
    async fn sweep_audit(&self, cutoff: i64, batch: usize) -> Result<usize, StoreError>;
}

#[async_trait]
pub(crate) trait Audit: Send + Sync {
    #[cfg(any(test, feature = "testing"))]
    /// Events of one kind, oldest first (tests and the admin API).
    async fn audit_kinds(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
}

/// Second factors and passkeys (tables `totp_factors`, `recovery_codes`,
/// `passkeys`). Each factor's own operations live with their feature
/// (`Totp`, `Passkeys`); this trait holds what every sign-in reads.
#[async_trait]
pub(crate) trait Factors {
    /// What `user_id` has enrolled: a confirmed TOTP secret, how many
    /// passkeys, how many unused recovery codes. A pending TOTP secret
    /// counts for nothing.
    async fn factor_summary(&self, user_id: &str) -> Result<FactorSummary, StoreError>;
}
