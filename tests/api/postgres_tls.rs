//! TLS to PostgreSQL (docs/scaling-out.md): verified connections work for
//! the server, `check` and `migrate-to`, and every way verification can fail
//! stops start-up with a message that says what to do. Needs the cluster of
//! tests/postgres/run.sh (TLS on, a throwaway CA in
//! `TOKTOK_TEST_POSTGRES_CA`, a server certificate for localhost and
//! 127.0.0.1); skipped without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reqwest::StatusCode;

use crate::helpers::{postgres_database, postgres_server, spawn_config, test_config};

/// A self-signed CA that signed nothing the test cluster presents.
const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBuDCCAV2gAwIBAgIUKso83cHNBucGyKff1uF9HRf4JocwCgYIKoZIzj0EAwIw
KDEmMCQGA1UEAwwddG9rdG9rIHRlc3Q6IGEgQ0Egbm9ib2R5IHVzZXMwIBcNMjYx
MTI0MDM1MjU1WhgPMjEyNjEwMzEwMzUyNTVaMCgxJjAkBgNVBAMMHXRva3RvayB0
ZXN0OiBhIENBIG5vYm9keSB1c2VzMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
9S8hbVy9A/QThMH4YPh3QmOy9fGpkqI6LOhFlIVMzkI+GEHe2dRvSjMhHWCl+7dT
dh0ywq2Lo4d4TMsfpJqULaNjMGEwHQYDVR0OBBYEFN6G5hK9rkTx4jBY+OZyiDtV
ujTLMB8GA1UdIwQYMBaAFN6G5hK9rkTx4jBY+OZyiDtVujTLMA8GA1UdEwEB/wQF
MAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0kAMEYCIQCz5sr5FgGr
3A/0mIVTA5lcnf08N3MPYPMNe/ZR3ME7YAIhAPAo7NniSa/PCsGBHRab9mO+owa/
wl7zHgcdq70eTqlM
-----END CERTIFICATE-----
";

/// The test cluster: where it listens and the CA that signed its
/// certificate.
struct Cluster {
    server: String,
    user: String,
    host: String,
    port: u16,
    ca: PathBuf,
}

impl Cluster {
    fn get() -> Option<Cluster> {
        let (Some(server), Ok(ca)) = (postgres_server(), std::env::var("TOKTOK_TEST_POSTGRES_CA"))
        else {
            eprintln!(
                "skipped: needs TOKTOK_TEST_POSTGRES and TOKTOK_TEST_POSTGRES_CA \
                 (tests/postgres/run.sh)"
            );
            return None;
        };
        let plain = server.split('?').next().unwrap_or(&server);
        let config: postgres::Config = plain.parse().expect("TOKTOK_TEST_POSTGRES parses");
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            _ => panic!("TOKTOK_TEST_POSTGRES names a TCP host"),
        };
        Some(Cluster {
            user: config.get_user().expect("a user").to_owned(),
            port: config.get_ports().first().copied().unwrap_or(5432),
            server,
            host,
            ca: PathBuf::from(ca),
        })
    }

    /// A fresh database for `dir`, created over the suite's own connection.
    fn database(&self, dir: &Path) -> String {
        let url = postgres_database(&self.server, dir);
        let db = url.split('?').next().unwrap().rsplit('/').next().unwrap();
        db.to_owned()
    }

    /// `postgres://user@host:port/db?query`.
    fn url(&self, db: &str, query: &str) -> String {
        format!(
            "postgres://{}@{}:{}/{db}?{query}",
            self.user, self.host, self.port
        )
    }

    /// Verified against the test CA.
    fn verified(&self, db: &str) -> String {
        self.url(
            db,
            &format!("sslmode=verify-full&sslrootcert={}", self.ca.display()),
        )
    }
}

/// The error `App::builder(..).build()` stops with for `url`, all causes.
async fn start_up_error(dir: &Path, url: &str) -> String {
    let config = test_config(dir, &format!("[database]\nurl = {url:?}\n"));
    match toktok::App::builder(config).build().await {
        Ok(_) => panic!("{url} should not connect"),
        Err(e) => {
            let e = format!("{e:#}");
            eprintln!("start-up error, as expected: {e}");
            e
        }
    }
}

fn toktok(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("TOKTOK_CONFIG")
        .output()
        .expect("the toktok binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn verify_full_with_the_right_ca_serves_over_tls() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = cluster.verified(&cluster.database(dir.path()));
    let config = test_config(dir.path(), &format!("[database]\nurl = {url:?}\n"));
    let app = spawn_config(dir, config).await;
    let res = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.signed_up("tls@example.com").await;
    // The pool's own connections are encrypted, several times over (the
    // pool may hand out different ones).
    let pg = app.state.store.pg().expect("a PostgreSQL store");
    for _ in 0..3 {
        let (ssl, version): (bool, String) = pg
            .call(|c| {
                let row = c.query_one(
                    "SELECT ssl, coalesce(version, '') FROM pg_stat_ssl \
                     WHERE pid = pg_backend_pid()",
                    &[],
                )?;
                Ok((row.get(0), row.get(1)))
            })
            .await
            .unwrap();
        assert!(ssl, "the pooled connection is not encrypted");
        assert!(version.starts_with("TLSv1."), "{version}");
    }
}

#[tokio::test]
async fn without_sslrootcert_the_public_roots_refuse_a_private_ca() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = cluster.database(dir.path());
    let err = start_up_error(dir.path(), &cluster.url(&db, "sslmode=verify-full")).await;
    assert!(err.contains("cannot connect to PostgreSQL at"), "{err}");
    assert!(
        err.contains("certificate is not signed by a CA toktok trusts"),
        "{err}"
    );
    assert!(err.contains("give sslrootcert="), "{err}");
    // `require` verifies as well (stricter than libpq, on purpose).
    let err = start_up_error(dir.path(), &cluster.url(&db, "sslmode=require")).await;
    assert!(err.contains("not signed by a CA toktok trusts"), "{err}");
}

#[tokio::test]
async fn a_wrong_ca_is_refused_and_no_password_is_printed() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = cluster.database(dir.path());
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, OTHER_CA).unwrap();
    let url = format!(
        "postgres://tls_scram:hunter2secret@{}:{}/{db}?sslmode=verify-ca&sslrootcert={}",
        cluster.host,
        cluster.port,
        other.display()
    );
    let err = start_up_error(dir.path(), &url).await;
    assert!(
        err.contains(&format!(
            "not signed by a CA toktok trusts (sslrootcert {})",
            other.display()
        )),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "no password in messages");
}

#[tokio::test]
async fn a_host_name_the_certificate_does_not_list_is_refused() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = cluster.database(dir.path());
    // The right address, a name the certificate does not list.
    let url = format!(
        "postgres://{}@wrong-name.invalid:{}/{db}?hostaddr=127.0.0.1&sslmode=verify-full\
         &sslrootcert={}",
        cluster.user,
        cluster.port,
        cluster.ca.display()
    );
    let err = start_up_error(dir.path(), &url).await;
    assert!(
        err.contains("not valid for the host name \"wrong-name.invalid\""),
        "{err}"
    );
    // The same address under the name it is issued for connects.
    let url = format!(
        "postgres://{}@localhost:{}/{db}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
        cluster.user,
        cluster.port,
        cluster.ca.display()
    );
    tokio::task::spawn_blocking(move || toktok::store::postgres::connect(&url).map(drop))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_bad_sslrootcert_file_is_named_at_start_up() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = cluster.database(dir.path());
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "this is not PEM\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for path in [&junk, &missing] {
        let url = cluster.url(
            &db,
            &format!("sslmode=verify-full&sslrootcert={}", path.display()),
        );
        let err = start_up_error(dir.path(), &url).await;
        assert!(
            err.contains(&format!("sslrootcert {}", path.display())),
            "{err}"
        );
    }
    let err = start_up_error(dir.path(), &cluster.url(&db, "sslmode=verify-fully")).await;
    assert!(
        err.contains("sslmode=\"verify-fully\" is not one of"),
        "{err}"
    );
}

#[tokio::test]
async fn a_password_login_over_tls_uses_channel_binding() {
    // SCRAM with `channel_binding=require` succeeds only if the client binds
    // the exchange to the server's certificate (SCRAM-SHA-256-PLUS): a man
    // in the middle with another certificate could not relay it.
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = cluster.database(dir.path());
    crate::helpers::sql_in(
        dir.path(),
        "DO $$ BEGIN CREATE ROLE tls_scram LOGIN; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
         ALTER ROLE tls_scram PASSWORD 'hunter2secret'; SELECT 1",
    );
    let url = format!(
        "postgres://tls_scram:hunter2secret@{}:{}/{db}?channel_binding=require\
         &sslmode=verify-full&sslrootcert={}",
        cluster.host,
        cluster.port,
        cluster.ca.display()
    );
    let ssl = connection_is_tls(url).await;
    assert!(ssl);
}

#[tokio::test]
async fn check_and_migrate_to_connect_over_tls() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    // `check` on a verified URL, then with the wrong CA.
    let dir = tempfile::tempdir().unwrap();
    let db = cluster.database(dir.path());
    let config = dir.path().join("pg.toml");
    std::fs::write(
        &config,
        format!("[database]\nurl = {:?}\n", cluster.verified(&db)),
    )
    .unwrap();
    let out = toktok(&config, &["check"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("answers and is empty"),
        "{}",
        text(&out.stdout)
    );
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, OTHER_CA).unwrap();
    let wrong = cluster.url(
        &db,
        &format!("sslmode=verify-full&sslrootcert={}", other.display()),
    );
    std::fs::write(&config, format!("[database]\nurl = {wrong:?}\n")).unwrap();
    let out = toktok(&config, &["check"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("not signed by a CA toktok trusts"),
        "{}",
        text(&out.stdout)
    );

    // `migrate-to` an SQLite database with one user: refused with the
    // wrong CA, copied over TLS with the right one.
    let sqlite = dir.path().join("sqlite.toml");
    std::fs::write(
        &sqlite,
        format!(
            "[database]\npath = {:?}\n[password]\npbkdf2_iterations = 1000\n",
            dir.path().join("toktok.db").to_string_lossy()
        ),
    )
    .unwrap();
    let out = toktok(&sqlite, &["user", "create", "--email", "moved@example.com"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toktok(&sqlite, &["migrate-to", &wrong]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not signed by a CA toktok trusts"),
        "{}",
        text(&out.stderr)
    );
    let out = toktok(&sqlite, &["migrate-to", &cluster.verified(&db)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("users: 1 rows"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn require_refuses_a_server_without_tls_and_prefer_stays_plain() {
    // A second cluster with `ssl = off` (tests/postgres/run.sh).
    let Ok(server) = std::env::var("TOKTOK_TEST_POSTGRES_NO_TLS") else {
        eprintln!("skipped: needs TOKTOK_TEST_POSTGRES_NO_TLS (tests/postgres/run.sh)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let err = start_up_error(dir.path(), &format!("{server}?sslmode=require")).await;
    assert!(err.contains("the server does not support TLS"), "{err}");
    // `prefer` (like no sslmode) is plain text, even where TLS is offered:
    // toktok never settles for TLS it has not verified.
    let url = format!("{server}?sslmode=prefer");
    let ssl = connection_is_tls(url).await;
    assert!(!ssl);
}

/// Whether a connection made to `url` the way toktok connects is
/// encrypted, as the server sees it.
async fn connection_is_tls(url: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let mut client = toktok::store::postgres::connect(&url).unwrap();
        client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get::<_, bool>(0)
    })
    .await
    .unwrap()
}
