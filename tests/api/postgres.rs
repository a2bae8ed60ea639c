//! Several toktok instances on one PostgreSQL database (issue 10).
//!
//! Two real `toktok serve` processes share a database, as two instances
//! behind a load balancer would, and the tests check that what one decides
//! holds on the other: refresh rotation and reuse detection, concurrent
//! refreshes, the failed-login lockout, the per-IP rate limit, each queued
//! mail sent once, one sweeper at a time, a rotated key reaching every
//! instance before any of them uses it. They need
//! `TOKTOK_TEST_POSTGRES` (tests/postgres/run.sh sets it) and skip without.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{postgres_server, spawn_app, sql_in, PASSWORD};

/// One `toktok serve` process; killed when dropped.
struct Instance {
    child: Child,
    port: u16,
    outbox: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts an instance on the database of `dir` (shared by every instance
/// started on the same `dir`), with its own dev-mail directory `name`.
async fn instance(dir: &Path, name: &str, extra: &str) -> Instance {
    let port = free_port();
    let outbox = dir.join(format!("outbox-{name}"));
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n{}[password]\npbkdf2_iterations = 1000\n\
             [email]\nmode = \"dev\"\noutbox_dir = {:?}\n[metrics]\nlisten = \"127.0.0.1:0\"\n{extra}",
            crate::helpers::database_toml(dir),
            outbox.to_string_lossy()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_remove("TOKTOK_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the toktok binary runs");
    let instance = Instance {
        child,
        port,
        outbox,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client
            .get(instance.url("/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK);
        if ready {
            return instance;
        }
        assert!(
            Instant::now() < deadline,
            "instance {name} ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("answered")
    }

    async fn register(&self, email: &str) -> Value {
        let res = self
            .post(
                "/v1/auth/register",
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        res.json().await.unwrap()
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    async fn refresh(&self, token: &str) -> reqwest::Response {
        self.post("/v1/auth/refresh", json!({ "refresh_token": token }))
            .await
    }
}

fn refresh_token(body: &Value) -> String {
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// Two instances on one fresh database, or `None` without PostgreSQL.
async fn pair(extra: &str) -> Option<(tempfile::TempDir, Instance, Instance)> {
    if postgres_server().is_none() {
        eprintln!("skipped: needs TOKTOK_TEST_POSTGRES (tests/postgres/run.sh)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    // Both start at once: first-start key generation races, on purpose.
    let (a, b) = tokio::join!(
        instance(dir.path(), "a", extra),
        instance(dir.path(), "b", extra)
    );
    Some((dir, a, b))
}

#[tokio::test]
async fn a_token_rotated_on_one_instance_is_refused_on_the_other() {
    let Some((_dir, a, b)) = pair("").await else {
        return;
    };
    let t0 = refresh_token(&a.register("rot@example.com").await);
    let t1 = refresh_token(&a.refresh(&t0).await.json().await.unwrap());
    // Another rotation, on the other instance: it sees the first.
    let res = b.refresh(&t1).await;
    assert_eq!(res.status(), StatusCode::OK);
    let t2 = refresh_token(&res.json().await.unwrap());
    // t0 is two rotations old: reuse, on either instance; the family ends.
    assert_eq!(b.refresh(&t0).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(a.refresh(&t2).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_refreshes_on_both_instances_rotate_once() {
    // One rotation: the first refresh rotates; the others, serialised
    // behind it by the row lock whichever instance they reach, see the
    // rotated session. Inside `jwt.reuse_grace` (at least 1 s, and these
    // all land within it) the losers replay, which answers with the very
    // same successor by design, so "exactly one success" reads here as
    // "exactly one new token": every 200 carries it, and it is current.
    let Some((_dir, a, b)) = pair("").await else {
        return;
    };
    let t0 = refresh_token(&a.register("race@example.com").await);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let url = if i % 2 == 0 { a.url("") } else { b.url("") };
        let t0 = t0.clone();
        tasks.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(format!("{url}/v1/auth/refresh"))
                .json(&json!({ "refresh_token": t0 }))
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }));
    }
    let mut successors = std::collections::BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::OK {
            successors.insert(refresh_token(&body));
        }
    }
    assert_eq!(successors.len(), 1, "one rotation: {successors:?}");
    let current = successors.into_iter().next().unwrap();
    assert_eq!(b.refresh(&current).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_lockout_reached_through_one_instance_holds_on_the_other() {
    let Some((dir, a, b)) = pair("[rate_limit]\nenabled = true\nper_ip_burst = 1000\n").await
    else {
        return;
    };
    a.register("locked@example.com").await;
    // Five failures, alternating: per instance there would be 3 and 2, and
    // no lockout; shared, the fifth locks the account.
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let res = node.login("locked@example.com", "not the password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let row = sql_in(
        dir.path(),
        "SELECT failures, last_failed_at, (SELECT count(*) FROM audit_events
            WHERE kind = 'login.locked') FROM login_failures",
    );
    assert_eq!(row[0][0], "5");
    assert_eq!(row[0][2], "1", "the lockout was recorded once");
    // The first lockout lasts one second (doubling after): the right
    // password is refused on the other instance unless that second is over.
    let locked_at: u64 = row[0][1].parse().unwrap();
    let res = b.login("locked@example.com", PASSWORD).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if res.status() == StatusCode::OK {
        assert!(now > locked_at, "a 200 only once the lockout has passed");
    } else {
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));
    }
}

#[tokio::test]
async fn the_per_ip_rate_limit_is_shared_by_the_instances() {
    let Some((_dir, a, b)) =
        pair("[rate_limit]\nenabled = true\nper_ip_per_minute = 1\nper_ip_burst = 3\n").await
    else {
        return;
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        statuses.push(node.login("nobody@example.com", PASSWORD).await.status());
    }
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // A burst of 3 for the client across both instances (per instance it
    // would be 3 each, and nothing would be limited).
    assert_eq!(limited, 3, "{statuses:?}");
}

#[tokio::test]
async fn each_queued_mail_is_sent_once() {
    let Some((dir, a, b)) = pair("").await else {
        return;
    };
    let n = 12;
    for i in 0..n {
        let node = if i % 2 == 0 { &a } else { &b };
        node.register(&format!("mail{i}@example.com")).await;
        // A reset mail per address, queued through alternate instances.
        let res = node
            .post(
                "/v1/auth/password/forgot",
                json!({ "email": format!("mail{i}@example.com") }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let queued = |sql: &str| sql_in(dir.path(), sql)[0][0].parse::<i64>().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while queued("SELECT count(*) FROM outbox") > 0 {
        assert!(Instant::now() < deadline, "the outbox drains within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut names = Vec::new();
    for node in [&a, &b] {
        if let Ok(entries) = std::fs::read_dir(&node.outbox) {
            for entry in entries {
                names.push(entry.unwrap().file_name().to_string_lossy().into_owned());
            }
        }
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "no message written twice");
    assert_eq!(names.len(), n, "one mail per request: {names:?}");
}

#[tokio::test]
async fn only_one_instance_sweeps_at_a_time() {
    // The sweeps take the advisory lock `SWEEP` for their transaction; an
    // instance that finds it taken skips that round. Here a second session
    // holds it, as another instance in the middle of its sweep would.
    if postgres_server().is_none() {
        eprintln!("skipped: needs TOKTOK_TEST_POSTGRES (tests/postgres/run.sh)");
        return;
    }
    let app = spawn_app().await;
    let key = app.api_key(&["challenges"]).await;
    for i in 0..5 {
        let res = app
            .client
            .post(app.url("/v1/challenges"))
            .bearer_auth(&key)
            .json(&json!({ "action": "sweep", "id": format!("{i}"), "ttl": 5 }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    app.clock.advance(6);
    let url = crate::helpers::postgres_database(&postgres_server().unwrap(), app.dir.path());
    let (hold, held) = std::sync::mpsc::channel::<()>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut other = toktok::store::postgres::connect(&url).unwrap();
        other
            .execute(
                "SELECT pg_advisory_lock($1)",
                &[&toktok::store::postgres::SWEEP_LOCK],
            )
            .unwrap();
        hold.send(()).unwrap();
        released.recv().unwrap();
        other
            .execute(
                "SELECT pg_advisory_unlock($1)",
                &[&toktok::store::postgres::SWEEP_LOCK],
            )
            .unwrap();
    });
    held.recv().unwrap();
    toktok::server::sweep_once(&app.state).await;
    assert_eq!(
        app.sql_count("SELECT count(*) FROM challenges").await,
        5,
        "another sweeper holds the lock: this one skips"
    );
    release.send(()).unwrap();
    holder.join().unwrap();
    toktok::server::sweep_once(&app.state).await;
    assert_eq!(app.sql_count("SELECT count(*) FROM challenges").await, 0);
}

#[tokio::test]
async fn two_instances_starting_together_share_one_signing_key() {
    let Some((dir, a, b)) = pair("").await else {
        return;
    };
    let keys = sql_in(dir.path(), "SELECT count(*) FROM signing_keys");
    assert_eq!(keys[0][0], "1");
    // A token from one verifies on the other.
    let body = a.register("keys@example.com").await;
    let access = body["access_token"].as_str().unwrap();
    let res = reqwest::Client::new()
        .get(b.url("/v1/users/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_key_reaches_every_instance_before_any_uses_it() {
    // Keys reread every 2 s: a rotated key signs, and is served to encrypt
    // to, 37 s after `keys rotate` (never less than the JWKS max-age plus
    // the 30 s refetch cooldown of jose and PyJWT, plus 5 s).
    let extra = "[jwt]\nkey_reload = \"2s\"\n[rsa]\nenabled = true\nkey_bits = 2048\n\
                 [rate_limit]\nenabled = false\n";
    let Some((dir, a, b)) = pair(extra).await else {
        return;
    };
    a.register("turn@example.com").await;
    let old_kid = header_kid(
        a.login("turn@example.com", PASSWORD)
            .await
            .json::<Value>()
            .await
            .unwrap()["access_token"]
            .as_str()
            .unwrap(),
    );
    let old_rsa = public_key(&a).await["kid"].clone();

    for args in [&["keys", "rotate"][..], &["keys", "rotate", "--rsa"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
            .arg("--config")
            .arg(dir.path().join("a.toml"))
            .args(args)
            .env_remove("TOKTOK_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Throughout the turn-over, whatever one instance signs or serves, the
    // other accepts: a token signed on either verifies on both, and a body
    // encrypted to the key one serves opens on the other.
    let credentials = json!({ "email": "turn@example.com", "password": PASSWORD }).to_string();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut rounds = 0;
    loop {
        rounds += 1;
        let mut new_everywhere = true;
        for (from, to) in [(&a, &b), (&b, &a)] {
            let res = from.login("turn@example.com", PASSWORD).await;
            assert_eq!(res.status(), StatusCode::OK);
            let access = res.json::<Value>().await.unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            let me = client
                .get(to.url("/v1/users/me"))
                .bearer_auth(&access)
                .send()
                .await
                .unwrap();
            assert_eq!(
                me.status(),
                StatusCode::OK,
                "round {rounds}: a token signed with {} is refused on the other instance",
                header_kid(&access)
            );
            let key = public_key(from).await;
            let jwe = crate::rsa_keys::encrypt_body(&key, true, credentials.as_bytes());
            let login = client
                .post(to.url("/v1/auth/login"))
                .header("content-type", "application/jose")
                .body(jwe)
                .send()
                .await
                .unwrap();
            assert_eq!(
                login.status(),
                StatusCode::OK,
                "round {rounds}: a body encrypted to RSA key {} is refused on the other instance",
                key["kid"]
            );
            new_everywhere &= header_kid(&access) != old_kid && key["kid"] != old_rsa;
        }
        if new_everywhere {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "both instances use the new keys within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rounds > 1, "the new keys were not used at once");
}

/// The `kid` in a compact JWT's header.
fn header_kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn public_key(instance: &Instance) -> Value {
    reqwest::get(instance.url("/v1/auth/public-key"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn migrate_to_copies_an_sqlite_database_that_then_serves_on_postgres() {
    let Some(server) = postgres_server() else {
        eprintln!("skipped: needs TOKTOK_TEST_POSTGRES (tests/postgres/run.sh)");
        return;
    };
    // An SQLite deployment with a bit of everything.
    let old = tempfile::tempdir().unwrap();
    let sqlite_toml = format!(
        "[database]\npath = {:?}\n[password]\npbkdf2_iterations = 1000\n\
         [email]\noutbox_dir = {:?}\n",
        old.path().join("toktok.db").to_string_lossy(),
        old.path().join("outbox").to_string_lossy()
    );
    let config = toktok::Config::from_sources(Some(&sqlite_toml), std::iter::empty()).unwrap();
    let app = crate::helpers::spawn_config(old, config).await;
    let t = app.signed_up("moved@example.com").await;
    app.signed_in("moved@example.com").await;
    let res = app
        .request(
            reqwest::Method::PATCH,
            "/v1/users/me",
            Some(&t.access),
            Some(json!({ "locale": "fr" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let key = app.api_key(&["challenges"]).await;
    let res = app
        .client
        .post(app.url("/v1/challenges"))
        .bearer_auth(&key)
        .json(&json!({ "action": "a", "id": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let audit = app.sql_count("SELECT count(*) FROM audit_events").await;
    let old = app.stop().await;
    std::fs::write(old.path().join("sqlite.toml"), &sqlite_toml).unwrap();

    // The empty PostgreSQL database the next server will use.
    let new = tempfile::tempdir().unwrap();
    let url = crate::helpers::postgres_database(&server, new.path());
    let migrate = || {
        Command::new(env!("CARGO_BIN_EXE_toktok"))
            .arg("--config")
            .arg(old.path().join("sqlite.toml"))
            .args(["migrate-to", &url])
            .env_remove("TOKTOK_CONFIG")
            .output()
            .unwrap()
    };
    let out = migrate();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("users: 1 rows"), "{stdout}");
    assert!(stdout.contains("sessions: 2 rows"), "{stdout}");
    // Once is all: a second copy into the now non-empty database is refused.
    let again = migrate();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let app = crate::helpers::spawn_in(new, "").await;
    // The same accounts, sessions, keys and secrets: the old refresh token
    // rotates, the password logs in, the API key works, the audit log is whole.
    assert_eq!(app.refresh(&t.refresh).await.status(), StatusCode::OK);
    app.signed_in("moved@example.com").await;
    let res = app
        .client
        .get(app.url("/v1/challenges/a/1"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the API key was copied"
    );
    assert!(app.sql_count("SELECT count(*) FROM audit_events").await >= audit);
    assert_eq!(app.sql("SELECT locale FROM users").await[0][0], "fr");
    // New audit rows get fresh ids after the copied ones.
    let ids = app
        .sql("SELECT count(*), count(DISTINCT id) FROM audit_events")
        .await;
    assert_eq!(ids[0][0], ids[0][1]);
}

#[tokio::test]
async fn every_pooled_connection_commits_synchronously() {
    // D1 on PostgreSQL: a commit is on disk before any 2xx, whatever the
    // server's default; and a stuck lock cannot hang a request for ever.
    if postgres_server().is_none() {
        eprintln!("skipped: needs TOKTOK_TEST_POSTGRES (tests/postgres/run.sh)");
        return;
    }
    let app = spawn_app().await;
    let pg = app.state.store.pg().expect("the suite runs on PostgreSQL");
    for _ in 0..3 {
        let (sync, timeout): (String, String) = pg
            .call(|c| {
                Ok((
                    c.query_one("SHOW synchronous_commit", &[])?.get(0),
                    c.query_one("SHOW statement_timeout", &[])?.get(0),
                ))
            })
            .await
            .unwrap();
        assert_eq!(sync, "on");
        assert_eq!(timeout, "15s");
    }
}

#[tokio::test]
async fn a_server_that_refuses_is_a_clear_start_up_error() {
    let port = free_port();
    let config = toktok::Config::from_sources(
        Some(&format!(
            "[database]\nurl = \"postgres://toktok:hunter2secret@127.0.0.1:{port}/x\"\n"
        )),
        std::iter::empty(),
    )
    .unwrap();
    let err = match toktok::App::builder(config).build().await {
        Ok(_) => panic!("nothing listens on {port}"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("cannot connect to PostgreSQL at 127.0.0.1/x"),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "no password in messages");
}
