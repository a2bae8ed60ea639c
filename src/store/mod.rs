//! The store: everything toktok keeps, in one SQLite file ([`sqlite`]) or,
//! for several instances, a PostgreSQL database (`postgres`).
//!
//! [`Store`] is what the rest of the program sees: async methods named after
//! what they do. Handlers and services never write SQL. Each method hands
//! its arguments to the backend chosen in [`Store::open`], an
//! `Arc<dyn Backend>`: the contract every backend implements, and the one
//! place its operations are documented, is `backend.rs`. `Store` itself adds
//! only what is not the database's business: the session and API-key caches
//! (`cache.rs`), which serve while the backend's change generation says
//! nothing they hold has changed (SQLite; on PostgreSQL they are off).
//!
//! The PostgreSQL backend is compiled only with the `postgres` feature; the
//! feature's `cfg` appears where the backend is chosen (here) and nowhere
//! in the methods.

mod assurance;
mod backend;
mod cache;
mod console;
mod dispatch;
mod flows;
mod identities;
mod imports;
mod mfa;
mod migrations;
mod oauth;
mod oauth_codes;
mod passkeys;
#[cfg(feature = "postgres")]
pub mod postgres;
pub(crate) mod records;
pub mod sqlite;
mod totp;
pub(crate) mod webhooks;

use std::sync::Arc;

pub use assurance::Reauthentication;
pub use identities::{IdentityRow, Link, ProviderFlowRow, Unlink, WaysIn};
pub use imports::{ImportOutcome, ImportRow};
pub use mfa::MfaFlow;
pub use oauth::{ConsentRow, OAuthClientChange, OAuthClientRow};
#[allow(unused_imports)] // the authorize endpoint, landing next
pub use oauth_codes::{CodeCheck, CodeRow, CodeUse};
pub use passkeys::{PasskeyRow, PasskeyUse, Removal};
pub use records::OutboxRow;
pub use records::{
    AdminChange, ApiKeyRecord, AuditEvent, AuditRow, FactorSummary, KeyRow, LoginClient, MailSlot,
    ProfileChange, QueuedMail, RefreshDecision, RsaKeyRow, SessionKey, SessionRecord, UserRecord,
    AUDIT_MAIL_FAILED, AUDIT_TARGET,
};
pub use sqlite::migrations::{schema_version, SCHEMA_VERSION};
pub use sqlite::Db;
pub use totp::Confirmation;

/// The failed-sign-in types at the path they had before `records.rs`.
pub mod lockout {
    pub use super::records::LockRule;
}

use backend::{Backend, DecideRefresh, DecideStep, Erased, Flow, LockRuleBox, ReuseEvent};
use records::{ChallengeRow, RowKey, Step};

/// Why a store operation failed. Mapped to HTTP once, in `crate::error`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the text names which (e.g. "email").
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The database cannot take writes right now: disk full, read-only, or
    /// locked longer than the busy timeout. Clients may retry later (503).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a damaged database. Logged, answered with 500.
    #[error("storage failure: {0}")]
    Internal(String),
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(format!("no database connection: {e}"))
    }
}

/// What the rest of toktok uses to read and write its data.
#[derive(Clone, Debug)]
pub struct Store {
    /// Where the data lives (`backend.rs`).
    backend: Arc<dyn Backend>,
    /// Live sessions with their users, for the token check (`cache.rs`;
    /// only while the backend has a generation).
    sessions: Arc<cache::SessionCache>,
    /// Live API keys by hash, for the key check (`cache.rs`; likewise).
    api_keys: Arc<cache::ApiKeyCache>,
}

/// What `[database] url` gets from a binary built without PostgreSQL.
#[cfg(not(feature = "postgres"))]
pub const NO_POSTGRES: &str = "database.url names a PostgreSQL database, but this toktok was \
     built without PostgreSQL support: rebuild it with `cargo build --release --features \
     postgres`, or set database.path for SQLite";

impl Store {
    /// A store on an SQLite file.
    pub fn new(db: Db) -> Store {
        Store::with(Arc::new(sqlite::Sqlite::new(db)))
    }

    /// A store on a PostgreSQL database (`[database] url`).
    #[cfg(feature = "postgres")]
    pub fn postgres(pg: postgres::PgDb) -> Store {
        Store::with(Arc::new(pg))
    }

    fn with(backend: Arc<dyn Backend>) -> Store {
        Store {
            backend,
            sessions: Arc::default(),
            api_keys: Arc::default(),
        }
    }

    /// Opens the database `config` names: PostgreSQL when `url` is set,
    /// else the SQLite file at `path`. Blocking (connects and migrates):
    /// call it off the async runtime.
    pub fn open(config: &crate::config::DatabaseConfig) -> anyhow::Result<Store> {
        match &config.url {
            #[cfg(feature = "postgres")]
            Some(url) => Ok(Store::postgres(postgres::PgDb::open(url.expose())?)),
            #[cfg(not(feature = "postgres"))]
            Some(_) => anyhow::bail!(NO_POSTGRES),
            None => Ok(Store::new(Db::open(&config.path)?)),
        }
    }

    #[cfg(any(test, feature = "testing"))]
    /// The SQLite handle, for tests and tools that reach into the file.
    ///
    /// # Panics
    /// On PostgreSQL, which has no such handle; request paths never call it
    /// (`Store::sqlite` is the version that does not panic).
    #[allow(clippy::panic)] // documented above; tests and tools only
    pub fn db(&self) -> &Db {
        match self.sqlite() {
            Some(db) => db,
            None => panic!("Store::db() is SQLite only; this store is on PostgreSQL"),
        }
    }

    /// The SQLite handle, if the store is on SQLite.
    pub fn sqlite(&self) -> Option<&Db> {
        self.sqlite_backend().map(sqlite::Sqlite::db)
    }

    fn sqlite_backend(&self) -> Option<&sqlite::Sqlite> {
        self.backend.as_any().downcast_ref::<sqlite::Sqlite>()
    }

    /// The PostgreSQL handle, if the store is on PostgreSQL.
    #[cfg(feature = "postgres")]
    pub fn pg(&self) -> Option<&postgres::PgDb> {
        self.backend.as_any().downcast_ref::<postgres::PgDb>()
    }

    /// Runs a shared write (`flows.rs`) on the backend, in one durable
    /// transaction.
    async fn write<R, F>(&self, flow: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut dyn flows::Tx) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let flow: Flow = Box::new(move |tx| Ok(Box::new(flow(tx)?) as Erased));
        let out = self.backend.write_flow(flow).await?;
        out.downcast::<R>()
            .map(|out| *out)
            .map_err(|_| StoreError::Internal("a write answered with another type".to_owned()))
    }

    /// Runs a shared read (`flows.rs`) in one read transaction: on SQLite
    /// on a pooled reader, beside the writer rather than behind it.
    async fn read<R, F>(&self, flow: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut dyn flows::Tx) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let flow: Flow = Box::new(move |tx| Ok(Box::new(flow(tx)?) as Erased));
        let out = self.backend.read_flow(flow).await?;
        out.downcast::<R>()
            .map(|out| *out)
            .map_err(|_| StoreError::Internal("a read answered with another type".to_owned()))
    }

    /// Answers whether the database responds (for `/ready`).
    pub async fn ping(&self) -> bool {
        self.backend.ping().await
    }

    #[cfg(any(test, feature = "testing"))]
    /// The schema version of the open database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.backend.schema_version().await
    }

    /// The session and its user, when the session is live and the user
    /// enabled: the check behind every access token on toktok's own routes.
    ///
    /// Answered from the session cache while nothing in `users` or
    /// `sessions` has changed since the answer was read (see `cache.rs`);
    /// the expiry is checked against `now` either way.
    pub async fn live_session(
        &self,
        sid: &str,
        now: i64,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        // Loaded before the read: a write that ends after this moves it on.
        let Some(generation) = self.backend.generation() else {
            return self.backend.live_session(sid, now).await;
        };
        if let Some(live) = self.sessions.get(sid, generation) {
            let (session, user) = &*live;
            return Ok(
                (session.is_live(now) && !user.disabled).then(|| (session.clone(), user.clone()))
            );
        }
        let found = self.backend.live_session(sid, now).await?;
        if let Some((session, user)) = &found {
            self.sessions
                .insert(generation, session.clone(), user.clone());
        }
        Ok(found)
    }

    /// The live key with this hash, recording its use at most once a
    /// minute (see `ApiKeys::api_key_by_hash`).
    ///
    /// Answered from the key cache while none of the watched tables has
    /// changed since the key was read and the clock is still in the second
    /// it was read in: a revoke made through this store is seen by the very
    /// next call, one made by another process (`toktok api-key revoke`)
    /// from the next second on. A hit whose `last_used_at` is due for its
    /// touch goes to the database like a miss, so the use is still recorded
    /// once a minute.
    pub async fn api_key_by_hash(
        &self,
        key_hash: &str,
        now: i64,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        // Loaded before the read: a write that ends after this moves it on.
        let Some(generation) = self.backend.generation() else {
            // No cache on PostgreSQL: other instances write without telling.
            return self.backend.api_key_by_hash(key_hash, now).await;
        };
        if let Some(key) = self.api_keys.get(key_hash, generation, now) {
            if !records::touch_due(&key, now) {
                return Ok(Some((*key).clone()));
            }
        }
        let found = self.backend.api_key_by_hash(key_hash, now).await?;
        if let Some(record) = &found {
            // A touch just written bumps the generation past `generation`,
            // so that entry serves nobody; the next call caches afresh.
            self.api_keys
                .insert(key_hash.to_owned(), generation, now, record.clone());
        }
        Ok(found)
    }

    /// Locks the session, lets `decide` look at it and its user, and
    /// applies the decision before anyone else can look (see
    /// `Sessions::refresh_session`).
    pub async fn refresh_session<F, E>(
        &self,
        key: SessionKey,
        now_ms: i64,
        reuse_event: E,
        decide: F,
    ) -> Result<Option<(RefreshDecision, SessionRecord, UserRecord)>, StoreError>
    where
        F: FnOnce(&SessionRecord, &UserRecord) -> RefreshDecision + Send + 'static,
        E: FnOnce(&SessionRecord) -> AuditEvent + Send + 'static,
    {
        let reuse_event: ReuseEvent = Box::new(reuse_event);
        let decide: DecideRefresh = Box::new(decide);
        self.backend
            .refresh_session(key, now_ms, reuse_event, decide)
            .await
    }

    /// One read-decide-write on the live challenge found by `key`, durable
    /// before it answers (see `Challenges::challenge_step`).
    pub(crate) async fn challenge_step<R, F>(
        &self,
        key: RowKey,
        now: i64,
        decide: F,
    ) -> Result<R, StoreError>
    where
        F: FnOnce(Option<&ChallengeRow>) -> Step<R> + Send + 'static,
        R: Send + 'static,
    {
        let decide: DecideStep = Box::new(move |row| {
            let step = decide(row);
            Step {
                change: step.change,
                audit: step.audit,
                out: Box::new(step.out) as Erased,
            }
        });
        let out = self.backend.challenge_step(key, now, decide).await?;
        out.downcast::<R>().map(|out| *out).map_err(|_| {
            StoreError::Internal("a challenge step answered with another type".to_owned())
        })
    }

    /// Takes one attempt for `email_key` from `client` before the password
    /// is checked (see `Lockout::take_login_attempt`).
    pub async fn take_login_attempt(
        &self,
        email_key: &str,
        client: Option<LoginClient>,
        now: i64,
        known_since: i64,
        locked: impl lockout::LockRule,
    ) -> Result<Result<u32, u64>, StoreError> {
        let locked: LockRuleBox = Box::new(locked);
        self.backend
            .take_login_attempt(email_key, client, now, known_since, locked)
            .await
    }

    /// Queues `mail` unless one of its kind to its user was queued before
    /// `until`'s window began: claims the slot `(user, kind)` until `until`,
    /// writes `event` and queues, all in one transaction. False (and nothing
    /// written) while the slot is taken.
    pub async fn queue_mail_once(
        &self,
        mail: crate::domain::mail::OutgoingMail,
        now: i64,
        until: i64,
        event: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let user_id = mail
            .user_id
            .clone()
            .ok_or_else(|| StoreError::Internal("throttled mail needs its user".to_owned()))?;
        let slot = MailSlot::User {
            user_id,
            kind: mail.kind,
        };
        self.queue_mail_slotted(vec![mail], vec![slot], now, until, event)
            .await
    }
}
