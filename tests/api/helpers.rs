//! `spawn_app()`: the real server, in-process, on port 0, with a fresh SQLite
//! file in a temp dir and a clock the test controls.
//!
//! With `TOKTOK_TEST_POSTGRES=postgres://user@host:port/db` (a server the
//! tests may create databases on; `tests/postgres/run.sh` starts one), every
//! test directory gets its own fresh PostgreSQL database instead, created on
//! first use and named in the directory (`pg-database`), so a restart in the
//! same directory finds the same data. Tests that are about the SQLite file
//! itself call [`sqlite_only`] and skip.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use toktok::clock::ManualClock;
use toktok::{App, AppState, Config};

/// Iterations for tests: fast, but the same code path as production.
pub const TEST_ITERATIONS: u32 = 1000;
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `/metrics` is served (its own listener, `metrics.listen`).
    pub metrics_addr: SocketAddr,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The PostgreSQL server the suite runs against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("TOKTOK_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// True (and says why on stderr) when the suite runs on PostgreSQL: for the
/// few tests about the SQLite file itself (backup, file modes, raw SQL).
pub fn sqlite_only(why: &str) -> bool {
    if postgres_server().is_some() {
        eprintln!("skipped on PostgreSQL: {why}");
        return true;
    }
    false
}

/// The `[database]` lines for a test directory: its SQLite file, or its own
/// PostgreSQL database (created on first use).
pub fn database_toml(dir: &std::path::Path) -> String {
    match postgres_server() {
        Some(server) => format!("[database]\nurl = {:?}\n", postgres_database(&server, dir)),
        None => format!(
            "[database]\npath = {:?}\n",
            dir.join("toktok.db").to_string_lossy()
        ),
    }
}

/// The URL of `dir`'s own database on `server`, creating it the first time.
pub fn postgres_database(server: &str, dir: &std::path::Path) -> String {
    let marker = dir.join("pg-database");
    let name = match std::fs::read_to_string(&marker) {
        Ok(name) => name,
        Err(_) => {
            let name = format!("toktok_test_{}", uuid::Uuid::new_v4().simple());
            let (server, create) = (server.to_owned(), name.clone());
            // The sync client runs its own runtime: off this one's threads.
            std::thread::spawn(move || {
                let mut client =
                    pg_connect(&server).expect("TOKTOK_TEST_POSTGRES accepts connections");
                client
                    .batch_execute(&format!("CREATE DATABASE {create}"))
                    .expect("CREATE DATABASE");
            })
            .join()
            .expect("database creation thread");
            std::fs::write(&marker, &name).expect("write pg-database");
            name
        }
    };
    with_database(server, &name)
}

/// Runs SQL (one or more statements; rows of the last) on the database of
/// test directory `dir`, whichever backend, outside any server: rows as
/// text, NULL as "NULL". Blocking; for tests of the command-line tools.
pub fn sql_in(dir: &std::path::Path, sql: &str) -> Vec<Vec<String>> {
    match postgres_server() {
        Some(server) => sql_postgres(&postgres_database(&server, dir), sql),
        None => sql_sqlite(&dir.join("toktok.db"), sql),
    }
}

/// A direct connection to `url`, the way toktok connects (its `sslmode` and
/// `sslrootcert` included). Blocking.
#[cfg(feature = "postgres")]
fn pg_connect(url: &str) -> Result<postgres::Client, impl std::fmt::Debug> {
    toktok::store::postgres::connect(url)
}

/// Without the feature the suite cannot run on PostgreSQL at all.
#[cfg(not(feature = "postgres"))]
fn pg_connect(_: &str) -> Result<postgres::Client, &'static str> {
    Err("TOKTOK_TEST_POSTGRES needs the suite built with --features postgres")
}

/// [`sql_in`] on the PostgreSQL database at `url`.
pub fn sql_postgres(url: &str, sql: &str) -> Vec<Vec<String>> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = pg_connect(&url).expect("connect");
        client
            .simple_query(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => Some(
                    (0..r.len())
                        .map(|i| r.get(i).unwrap_or("NULL").to_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    })
    .join()
    .expect("sql thread")
}

/// [`sql_in`] on the SQLite file at `path`.
pub fn sql_sqlite(path: &std::path::Path, sql: &str) -> Vec<Vec<String>> {
    use rusqlite::types::Value as V;
    let conn = rusqlite::Connection::open(path).expect("open");
    let (head, last) = match sql.trim().trim_end_matches(';').rsplit_once(';') {
        Some((head, last)) => (head.to_owned(), last.to_owned()),
        None => (String::new(), sql.to_owned()),
    };
    if !head.trim().is_empty() {
        conn.execute_batch(&head).expect("sql");
    }
    let mut stmt = conn.prepare(&last).expect("prepare");
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get::<_, V>(i)? {
                    V::Null => "NULL".to_owned(),
                    V::Integer(v) => v.to_string(),
                    V::Real(v) => v.to_string(),
                    V::Text(v) => v,
                    V::Blob(v) => format!("{v:02x?}"),
                })
            })
            .collect::<rusqlite::Result<Vec<String>>>()
    })
    .expect("query")
    .collect::<Result<Vec<_>, _>>()
    .expect("rows")
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// The settings every test starts from; `extra` TOML is appended.
/// Admins need no second factor here (`mfa.required_roles` defaults to
/// `["admin"]`): tests that sign admins in with a password alone predate
/// it; tests/api/assurance.rs sets it back.
pub fn test_config(dir: &std::path::Path, extra: &str) -> Config {
    let outbox = dir.join("outbox");
    let toml = format!(
        "{}[password]\npbkdf2_iterations = {TEST_ITERATIONS}\n\
         [rate_limit]\nenabled = false\n[mfa]\nrequired_roles = []\n\
         [email]\noutbox_dir = {:?}\n{extra}",
        database_toml(dir),
        outbox.to_string_lossy()
    );
    Config::from_sources(Some(&merge_sections(&toml)), std::iter::empty())
        .unwrap_or_else(|e| panic!("test config: {e}"))
}

/// TOML forbids a section twice; fold repeated `[section]` headers together
/// so tests can override any key with a plain snippet. Each `[[array]]`
/// table stays an entry of its own.
fn merge_sections(toml: &str) -> String {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    let mut current = String::new();
    let mut tables = 0;
    for line in toml.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("[[") && trimmed.ends_with("]]") {
            // A unique key per entry; the header is written back as is.
            tables += 1;
            current = format!("{trimmed}#{tables}");
            sections.push((current.clone(), Vec::new()));
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            current = trimmed.to_owned();
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        let key = trimmed.split('=').next().unwrap_or("").trim().to_owned();
        match sections.iter_mut().find(|(name, _)| *name == current) {
            Some((_, lines)) => {
                lines.retain(|l| l.split('=').next().unwrap_or("").trim() != key);
                lines.push(trimmed.to_owned());
            }
            None => sections.push((current.clone(), vec![trimmed.to_owned()])),
        }
    }
    let mut out = String::new();
    for (name, lines) in sections {
        out.push_str(name.split('#').next().unwrap_or(&name));
        out.push('\n');
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with("").await
}

pub async fn spawn_app_with(extra: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_in(dir, extra).await
}

/// Starts a server on an existing directory (to restart on the same database).
pub async fn spawn_in(dir: tempfile::TempDir, extra: &str) -> TestApp {
    let config = test_config(dir.path(), extra);
    spawn_config(dir, config).await
}

/// Starts a server with exactly `config` (e.g. SQLite whatever the suite
/// runs on), keeping `dir` with it.
pub async fn spawn_config(dir: tempfile::TempDir, config: Config) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    spawn_on(listener, dir, config).await
}

/// Starts a server whose `server.public_url` is its own address (an
/// OpenID provider's issuer must be reachable): `extra(url)` is the TOML
/// appended to the test settings.
pub async fn spawn_public(extra: impl FnOnce(&str) -> String) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = format!("[server]\npublic_url = \"{url}\"\n{}", extra(&url));
    let config = test_config(dir.path(), &toml);
    spawn_on(listener, dir, config).await
}

async fn spawn_on(
    listener: tokio::net::TcpListener,
    dir: tempfile::TempDir,
    config: Config,
) -> TestApp {
    let clock = ManualClock::new();
    let app = App::builder(config)
        .clock(clock.clone())
        .build()
        .await
        .expect("app builds");
    let state = app.state().clone();
    let addr = listener.local_addr().expect("local addr");
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let metrics_addr = metrics.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(toktok::serve_with(
        listener,
        Some(metrics),
        app,
        async move {
            let _ = stopped.await;
        },
    ));
    TestApp {
        addr,
        metrics_addr,
        client: reqwest::Client::new(),
        clock,
        state,
        dir,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    /// Runs one SQL statement on the app's database, whichever backend, and
    /// returns its rows as text (NULL as "NULL"): for tests that look under
    /// the API. Write SQL both dialects accept (`TRUE` for flags, values
    /// inline rather than `?` parameters).
    pub async fn sql(&self, sql: &str) -> Vec<Vec<String>> {
        let sql = sql.to_owned();
        let sqlite = self.state.store.sqlite().map(|db| db.path().to_owned());
        let dir = self.dir.path().to_owned();
        tokio::task::spawn_blocking(move || match sqlite {
            Some(path) => sql_sqlite(&path, &sql),
            None => sql_in(&dir, &sql),
        })
        .await
        .expect("sql task")
    }

    /// The one number a `SELECT count(*) …` answers.
    pub async fn sql_count(&self, sql: &str) -> i64 {
        self.sql(sql).await[0][0].parse().expect("a count")
    }

    /// The names of the database's tables, sorted.
    pub async fn tables(&self) -> Vec<String> {
        let sql = if self.state.store.sqlite().is_none() {
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        };
        self.sql(sql)
            .await
            .into_iter()
            .map(|mut r| r.remove(0))
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The URL of `/metrics` on the metrics listener.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics_addr)
    }

    /// The text `/metrics` answers.
    pub async fn metrics(&self) -> String {
        let res = self.client.get(self.metrics_url()).send().await.unwrap();
        res.text().await.unwrap()
    }

    /// Stops the server gracefully and hands back its directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ends cleanly");
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request is answered")
    }

    /// A request whose JSON body is sent as written: for bodies a `Value`
    /// cannot hold, such as a key given twice.
    pub async fn request_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: String,
    ) -> Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request is answered")
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path, None, Some(body)).await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post(
            "/v1/auth/register",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            "/v1/auth/refresh",
            json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    /// A new API key with these scopes (e.g. `&["challenges"]`).
    pub async fn api_key(&self, scopes: &[&str]) -> String {
        use toktok::auth::api_keys::{generate, Scope};
        let (key, hash) = generate().expect("random key");
        let now = self.state.now();
        let record = toktok::store::ApiKeyRecord {
            id: uuid::Uuid::now_v7().to_string(),
            name: "test".into(),
            scopes: scopes
                .iter()
                .map(|s| s.parse::<Scope>().expect("scope"))
                .collect(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let event = toktok::store::AuditEvent {
            at: now,
            kind: "api_key.created",
            user_id: None,
            actor: Some("test".into()),
            ip: None,
            user_agent: None,
            detail: json!({}),
        };
        self.state
            .store
            .insert_api_key(record, hash, event)
            .await
            .expect("api key stored");
        key
    }

    /// Registers a user and returns the token response.
    pub async fn signed_up(&self, email: &str) -> Tokens {
        let res = self.register(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        Tokens::from(res.json::<Value>().await.expect("json"))
    }

    /// Logs in (a new session) and returns the token response.
    pub async fn signed_in(&self, email: &str) -> Tokens {
        let res = self.login(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login {email}");
        Tokens::from(res.json::<Value>().await.expect("json"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub body: Value,
}

impl From<Value> for Tokens {
    fn from(body: Value) -> Self {
        Tokens {
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
            body,
        }
    }
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "code in {body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], format!("urn:toktok:{code}"));
    body
}
