//! The PostgreSQL backend: the storage contract (`super::backend`) on a
//! shared server, so several toktok instances can serve one database
//! (docs/scaling-out.md).
//!
//! It mirrors the SQLite side on purpose: the sync `postgres` client behind an
//! r2d2 pool, and [`PgDb::call`] running the checkout and the queries together
//! on tokio's blocking pool, so a connection is never held across an `.await`
//! and a panic becomes an error. Each sibling module implements the
//! contract's trait of its table, as the SQLite module of the same name
//! does; writes both backends make alike are `super::flows`, run here over
//! [`flows::Tx`](super::flows::Tx) (`tx.rs`).
//!
//! What differs, because several processes share the data:
//! - read-decide-write sequences lock what they decide on (`FOR UPDATE`, or a
//!   transaction-scoped advisory lock where the row may not exist yet),
//!   instead of relying on SQLite's single writer;
//! - first-start generation of keys and secrets takes an advisory lock, so two
//!   instances starting together agree on one key;
//! - sweeps run only where `pg_try_advisory_xact_lock` succeeds: one instance
//!   sweeps at a time, the others skip that round;
//! - there is no session cache (its exactness relies on SQLite's update hook,
//!   which sees only one process's writes): every check reads the database.
//!
//! Durability: every connection runs with `synchronous_commit = on`, so a
//! commit has reached the server's WAL on disk before any 2xx (D1).
//!
//! Every connection is made from one [`Target`]: plain TCP, or TLS with the
//! server's certificate verified, as `database.url`'s `sslmode` says
//! (`tls.rs`; docs/scaling-out.md).

mod admin;
mod api_keys;
mod audit;
mod challenges;
mod conn;
mod copy;
mod factors;
mod keys;
mod lockout;
mod migrations;
mod outbox;
mod ratelimit;
mod sessions;
mod tls;
mod tx;
mod users;

use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::backend::{Backend, Erased, Flow};
use super::StoreError;
use async_trait::async_trait;
use conn::{Conn, Manager, Sql, Tx};

pub use copy::copy_from_sqlite;
pub use migrations::schema_version;

type Pool = r2d2::Pool<Manager>;

/// Advisory-lock keys (one namespace per purpose; arbitrary constants).
pub(crate) mod lock {
    /// Held while migrating, so two instances starting together do not both.
    pub const MIGRATE: i64 = 0x746f_6b74_6f6b_0001;
    /// Held while generating first keys and secrets.
    pub const KEYS: i64 = 0x746f_6b74_6f6b_0002;
    /// Tried by each sweep: only one instance sweeps at a time.
    pub const SWEEP: i64 = 0x746f_6b74_6f6b_0003;
}

#[cfg(any(test, feature = "testing"))]
/// The advisory-lock key every sweep tries (an instance that finds it held
/// skips that round); public for the multi-instance test.
pub const SWEEP_LOCK: i64 = lock::SWEEP;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        let why = describe(&e);
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            if *code == SqlState::UNIQUE_VIOLATION {
                if db.constraint().is_some_and(|c| c.contains("email_key")) {
                    return StoreError::Conflict("email");
                }
                return StoreError::Internal(why);
            }
            let class = &code.code()[..2];
            // 08 connection, 53 insufficient resources, 57 operator
            // intervention (shutdown), 40 rollback (serialisation, deadlock).
            if matches!(class, "08" | "53" | "57" | "40") || *code == SqlState::LOCK_NOT_AVAILABLE {
                return StoreError::Unavailable(why);
            }
            return StoreError::Internal(why);
        }
        // Closed, or no server answer at all: I/O or protocol trouble.
        StoreError::Unavailable(why)
    }
}

/// The whole story of a client error, for the log: the driver's own
/// `Display` is only its kind ("db error"), so the server's message and
/// SQLSTATE, or the I/O cause, are added.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        // Not its DETAIL, which may quote row values (an address).
        Some(db) => format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        ),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// The pooled PostgreSQL handle. Cheap to clone.
#[derive(Clone)]
pub struct PgDb {
    pool: Arc<Connections>,
    /// Host and database name, for messages (never the password).
    target: String,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb")
            .field("target", &self.target)
            .finish()
    }
}

/// The pool, dropped off the async runtime: a sync `postgres::Client` says
/// goodbye to the server on its own little runtime when dropped, which must
/// not happen on one of tokio's worker threads (it would panic).
struct Connections(Option<Pool>);

impl Connections {
    fn get(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        match &self.0 {
            Some(pool) => Ok(pool.get()?),
            None => Err(StoreError::Unavailable("the pool is closed".to_owned())),
        }
    }
}

impl Drop for Connections {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(pool));
            }
        }
    }
}

/// How long a request waits for a pooled connection before 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);
/// Statements running longer than this are cancelled by the server (503):
/// a stuck lock must not hang a request forever.
const STATEMENT_TIMEOUT_MS: u32 = 15_000;

/// A parsed `database.url`: the client config with toktok's per-session
/// settings, and the TLS its `sslmode` asks for. Every connection toktok
/// makes (the pool, `check`, `migrate-to`) goes through [`Target::connect`]
/// or the same config and connector.
pub struct Target {
    config: postgres::Config,
    tls: tls::Tls,
    connector: MakeRustlsConnect,
    /// The first host, for messages.
    host: String,
    /// Host and database name, for messages (never the password).
    name: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Target {
    /// Host and database name (no credentials), for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One connection; a failure says why in words an operator can act on
    /// (a TLS failure names its cause and the fix).
    pub fn connect(&self) -> anyhow::Result<postgres::Client> {
        self.config.connect(self.connector.clone()).map_err(|e| {
            let why = tls::explain(&e, &self.tls, &self.host);
            let e = anyhow::Error::new(e);
            match why {
                Some(why) => e.context(why),
                None => e,
            }
            .context(format!("cannot connect to PostgreSQL at {}", self.name))
        })
    }
}

/// Parses `url` (URL or key=value form, libpq's parameter names, with
/// `sslmode` and `sslrootcert` as in docs/scaling-out.md) into a
/// [`Target`] with toktok's per-session settings.
pub fn client_config(url: &str) -> anyhow::Result<Target> {
    let (rest, tls_params) = tls::split(url)?;
    let mut config: postgres::Config = rest
        .parse()
        .map_err(|e| anyhow::anyhow!("database.url is not a valid PostgreSQL URL: {e}"))?;
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let name = format!("{host}/{}", config.get_dbname().unwrap_or("(default)"));
    let options = format!(
        "-c synchronous_commit=on -c statement_timeout={STATEMENT_TIMEOUT_MS} \
         -c lock_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC"
    );
    config.options(&options);
    if config.get_application_name().is_none() {
        config.application_name("toktok");
    }
    config.connect_timeout(Duration::from_secs(10));
    let tls = tls_params.tls()?;
    let connector = tls.apply(&mut config)?;
    Ok(Target {
        config,
        tls,
        connector,
        host,
        name,
    })
}

#[cfg(any(test, feature = "testing"))]
/// Connects once to `url` exactly as toktok does (TLS included), for tools
/// and tests. Blocking: call it off the async runtime.
pub fn connect(url: &str) -> anyhow::Result<postgres::Client> {
    client_config(url)?.connect()
}

impl PgDb {
    /// Connects to `url`, applies pending migrations, and refuses a database
    /// written by a newer toktok. Blocking: call it off the async runtime.
    pub fn open(url: &str) -> anyhow::Result<PgDb> {
        use anyhow::Context as _;
        let target = client_config(url)?;
        // One direct connection first: its error says why (refused, no such
        // database, bad password, untrusted certificate), where the pool's
        // would only time out.
        let mut first = target.connect()?;
        migrations::migrate(&mut first)
            .with_context(|| format!("while migrating the database at {}", target.name))?;
        drop(first);
        let Target {
            config,
            connector,
            name: target,
            tls,
            host,
        } = target;
        let manager = Manager {
            inner: PostgresConnectionManager::new(config, connector),
            tls,
            host,
        };
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            // No `SELECT ''` on every checkout: that was a round trip per
            // request. A connection the server closed is dropped when it
            // comes back (`has_broken`); the one request that found it
            // closed gets 503, as it would had the server gone mid-query.
            .test_on_check_out(false)
            .build(manager)
            .with_context(|| format!("while connecting to PostgreSQL at {target}"))?;
        Ok(PgDb {
            pool: Arc::new(Connections(Some(pool))),
            target,
        })
    }

    #[cfg(any(test, feature = "testing"))]
    /// Host and database name (no credentials), for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn call<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Conn) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let joined = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(e) => Err(StoreError::Internal(format!("database task failed: {e}"))),
        }
    }

    /// Runs `f` inside a transaction and commits it; the caller hears `Ok`
    /// only once the commit is durable.
    pub async fn write<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        self.call(move |conn| {
            let mut tx = conn.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl Backend for PgDb {
    /// None: other instances write without telling, so no cache is exact.
    fn generation(&self) -> Option<u64> {
        None
    }

    async fn write_flow(&self, flow: Flow) -> Result<Erased, StoreError> {
        self.write(move |tx| flow(tx)).await
    }

    /// A transaction like a write's: on PostgreSQL a reading one takes no
    /// lock anyone waits on.
    async fn read_flow(&self, flow: Flow) -> Result<Erased, StoreError> {
        self.write(move |tx| flow(tx)).await
    }

    async fn ping(&self) -> bool {
        self.call(|conn| Ok(conn.client().simple_query("SELECT 1").map(|_| ())?))
            .await
            .is_ok()
    }

    #[cfg(any(test, feature = "testing"))]
    async fn schema_version(&self) -> Result<i64, StoreError> {
        self.call(|conn| schema_version(conn.client())).await
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `toktok check`: connects to `url` (without migrating) and reports the
/// schema version. Blocking.
pub fn check(url: &str) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let target = client_config(url)?;
    let mut client = target.connect()?;
    let target = target.name();
    let version = schema_version(&mut client).context("cannot read the schema version")?;
    let known = super::SCHEMA_VERSION;
    if version > known {
        anyhow::bail!(
            "schema version {version} is newer than this toktok ({known}): it was \
             written by a newer toktok; run that version or restore a backup"
        );
    }
    if version == 0 {
        return Ok(format!(
            "PostgreSQL {target} answers and is empty; toktok's tables will be created at \
             first start"
        ));
    }
    let pending = known - version;
    let mut report =
        format!("PostgreSQL {target} ok (schema {version}, {pending} migration(s) pending)");
    // TT-11: accounts the NFKC address rule leaves for the operator.
    let rows = client
        .query("SELECT id, email, email_key FROM users", &[])
        .context("cannot read the users")?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<Vec<(String, String, String)>, postgres::Error>>()
        .context("cannot read the users")?;
    for problem in crate::domain::email::plan_rekey(&rows).problems() {
        report.push_str("\ndatabase warning: ");
        report.push_str(&problem);
    }
    Ok(report)
}

/// Takes the transaction-scoped advisory lock `key` (waits for it).
pub(crate) fn xact_lock(tx: &mut Tx<'_>, key: i64) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
    Ok(())
}

/// Tries the transaction-scoped advisory lock `key`; false if another
/// session holds it.
pub(crate) fn try_xact_lock(tx: &mut Tx<'_>, key: i64) -> Result<bool, StoreError> {
    Ok(tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key])?
        .try_get(0)?)
}

/// Reads a JSON text column, treating damage as an internal error.
fn json_column(text: String) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("damaged JSON column: {e}")))
}

/// `usize` row counts as the `u64` the client returns.
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
