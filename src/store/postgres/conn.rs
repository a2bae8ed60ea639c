//! Pooled connections that keep their prepared statements.
//!
//! The sync client's `execute("…")` prepares the text on the server first and
//! waits for the answer, so every statement cost two round trips. Each pooled
//! connection here remembers what it prepared, keyed by the SQL text: after a
//! connection's first use of a statement, running it again is one round trip.
//! The texts are toktok's own (a few dozen distinct ones), never user input;
//! the bound on the cache only guards against a future caller that builds
//! text dynamically.
//!
//! Server-side prepared statements belong to the session, not to a
//! transaction: a rollback keeps them, and a connection that breaks takes its
//! cache with it when the pool drops it. The schema only changes while
//! migrating, before the pool exists, so a cached plan never goes stale.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Error, GenericClient, Row, Statement, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls::Tls;

/// Past this many distinct texts on one connection the cache starts over.
const MAX_STATEMENTS: usize = 256;

type Cache = HashMap<String, Statement>;
type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// A pooled connection and the statements prepared on it.
pub struct Conn {
    client: Client,
    cache: Cache,
}

/// A transaction on a [`Conn`], sharing its statement cache.
pub struct Tx<'a> {
    tx: Transaction<'a>,
    cache: &'a mut Cache,
}

impl Conn {
    /// Starts a transaction (`BEGIN`).
    pub fn transaction(&mut self) -> Result<Tx<'_>, Error> {
        Ok(Tx {
            tx: self.client.transaction()?,
            cache: &mut self.cache,
        })
    }

    /// The plain client, for statements that are not worth caching.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// The plain client underneath, as `PgDb::call` handed out before the cache:
/// callers that do not import [`Sql`] (tests) get the uncached methods.
impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Tx<'_> {
    /// Commits (`COMMIT`); with `synchronous_commit = on` it returns once
    /// the commit is on disk.
    pub fn commit(self) -> Result<(), Error> {
        self.tx.commit()
    }

    /// Runs one or more statements as a simple query (not cached).
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        self.tx.batch_execute(sql)
    }
}

/// The query methods of the client, with every statement prepared once per
/// connection. Implemented by [`Conn`] and [`Tx`], so helpers take either.
pub trait Sql {
    /// The client the statements run on.
    type Inner: GenericClient;
    /// That client and the connection's cache.
    fn parts(&mut self) -> (&mut Self::Inner, &mut Cache);

    /// The prepared statement for `sql`, preparing it on first use.
    fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        let (client, cache) = self.parts();
        if let Some(statement) = cache.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        if cache.len() >= MAX_STATEMENTS {
            cache.clear();
        }
        cache.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let statement = self.statement(sql)?;
        self.parts().0.execute(&statement, params)
    }

    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        let statement = self.statement(sql)?;
        self.parts().0.query(&statement, params)
    }

    fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        let statement = self.statement(sql)?;
        self.parts().0.query_one(&statement, params)
    }

    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        let statement = self.statement(sql)?;
        self.parts().0.query_opt(&statement, params)
    }
}

impl Sql for Conn {
    type Inner = Client;
    fn parts(&mut self) -> (&mut Client, &mut Cache) {
        (&mut self.client, &mut self.cache)
    }
}

impl<'a> Sql for Tx<'a> {
    type Inner = Transaction<'a>;
    fn parts(&mut self) -> (&mut Transaction<'a>, &mut Cache) {
        (&mut self.tx, self.cache)
    }
}

/// r2d2's manager for [`Conn`]: `r2d2_postgres`'s, plus an empty cache.
/// Its connector is the one `client_config` built for the URL's `sslmode`
/// (never used when that is plain).
pub struct Manager {
    pub inner: PostgresConnectionManager<MakeRustlsConnect>,
    /// For saying why a connection opened after start-up failed (an
    /// expired certificate, say) in the words start-up would use.
    pub tls: Tls,
    pub host: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = Error;

    fn connect(&self) -> Result<Conn, Error> {
        let client = self.inner.connect().inspect_err(|e| {
            if let Some(why) = super::tls::explain(e, &self.tls, &self.host) {
                tracing::warn!(%why, "cannot open a PostgreSQL connection");
            }
        })?;
        Ok(Conn {
            client,
            cache: Cache::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Error> {
        self.inner.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        self.inner.has_broken(&mut conn.client)
    }
}
