//! The `toktok` binary's commands, run as a user would run them.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::helpers::{spawn_in, PASSWORD};

fn toktok(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let config = dir.join("toktok.toml");
    if !config.exists() {
        std::fs::write(
            &config,
            format!(
                "[database]\npath = {:?}\n[password]\npbkdf2_iterations = 1000\n",
                dir.join("toktok.db").to_string_lossy()
            ),
        )
        .unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("TOKTOK_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the toktok binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[tokio::test]
async fn user_create_makes_a_first_admin_who_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = toktok(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "root@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(user["role"], "admin");
    assert_eq!(user["email_confirmed"], true);
    let app = spawn_in(dir, "").await;
    let t = app.signed_in("root@example.com").await;
    assert_eq!(t.body["user"]["role"], "admin");
    // The same address twice is refused with a clear message.
    let out = toktok(
        app.dir.path(),
        &["user", "create", "--email", "root@example.com"],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_bad_config_value_stops_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("toktok.toml"),
        "[jwt]\nalgorithm = \"HS256\"\nsecret = \"short\"\n",
    )
    .unwrap();
    let out = toktok(dir.path(), &["check"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("jwt.secret"), "{err}");
    std::fs::write(dir.path().join("toktok.toml"), "[server]\nlisen = \"x\"\n").unwrap();
    let err = text(&toktok(dir.path(), &["check"], None).stderr);
    assert!(err.contains("server.lisen"), "{err}");
}

#[tokio::test]
async fn check_reports_a_missing_database_as_to_be_created_then_ok() {
    let dir = tempfile::tempdir().unwrap();
    let out = toktok(dir.path(), &["check"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("will be created"),
        "{}",
        text(&out.stdout)
    );
    let out = toktok(
        dir.path(),
        &["user", "create", "--email", "c@example.com"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toktok(dir.path(), &["check"], None);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("ok (schema"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn a_database_from_a_newer_toktok_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("toktok.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let out = toktok(dir.path(), &["check"], None);
    assert!(!out.status.success());
    assert!(text(&out.stdout).contains("newer"), "{}", text(&out.stdout));
    let out = toktok(
        dir.path(),
        &["user", "create", "--email", "c@example.com"],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("newer toktok"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn keys_rotate_adds_a_key_that_the_next_start_signs_with() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_in(dir, "").await;
    let t = app.signed_up("k@example.com").await;
    let out = toktok(app.dir.path(), &["keys", "rotate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = app.stop().await;
    let app = spawn_in(dir, "").await;
    let jwks: serde_json::Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert_eq!(app.get_auth("/v1/users/me", &t.access).await.status(), 200);
}

#[tokio::test]
async fn backup_copies_the_live_database() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_in(dir, "").await;
    app.signed_up("b@example.com").await;
    let dest = app.dir.path().join("copy.db");
    let out = toktok(app.dir.path(), &["backup", dest.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let conn = rusqlite::Connection::open(&dest).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    // Never over an existing file.
    let out = toktok(app.dir.path(), &["backup", dest.to_str().unwrap()], None);
    assert!(!out.status.success());
}

#[tokio::test]
async fn init_writes_a_config_once() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("etc");
    let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .args(["init", "--hs256", "--dir", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(target.join("toktok.toml")).unwrap();
    assert!(written.contains("algorithm = \"HS256\""));
    let config = toktok::Config::from_sources(Some(&written), std::iter::empty()).unwrap();
    assert!(config.jwt.secret.expose().len() >= 32);
    let again = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .args(["init", "--dir", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
}
