//! The `toktok` binary's commands, run as a user would run them.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::helpers::{spawn_in, PASSWORD};

pub(crate) fn toktok(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let config = dir.join("toktok.toml");
    if !config.exists() {
        config_with(dir, "");
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

pub(crate) fn text(out: &[u8]) -> String {
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

/// TT-11: accounts stored before addresses were NFKC-normalised and that
/// the re-key had to leave alone are named by `check`, on both stores.
#[tokio::test]
async fn check_names_accounts_the_nfkc_rule_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = toktok(
        dir.path(),
        &["user", "create", "--email", "kate@example.com"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toktok(dir.path(), &["check"], None);
    assert!(
        !text(&out.stdout).contains("database warning"),
        "{}",
        text(&out.stdout)
    );
    // A squatter's row as an older toktok stored it: the Kelvin sign.
    crate::helpers::sql_in(
        dir.path(),
        "INSERT INTO users (id, email, email_key, role, created_at, updated_at)
         VALUES ('squatter', '\u{212A}ate@example.org', '\u{212A}ate@example.org', 'user', 1, 1)",
    );
    let out = toktok(dir.path(), &["check"], None);
    assert!(out.status.success(), "a warning, not a failure");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("database warning: 1 account(s) have an address with compatibility")
            && stdout.contains("squatter"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_database_from_a_newer_toktok_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    if crate::helpers::postgres_server().is_some() {
        crate::helpers::sql_in(
            dir.path(),
            "CREATE TABLE schema_version (version BIGINT NOT NULL);
             INSERT INTO schema_version VALUES (999)",
        );
    } else {
        let conn = rusqlite::Connection::open(dir.path().join("toktok.db")).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
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
async fn keys_rotate_also_rotates_the_id_token_key_when_oidc_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let oidc = "[oidc]\nenabled = true\n";
    let app = spawn_in(dir, oidc).await;
    config_with(app.dir.path(), oidc);
    let out = toktok(app.dir.path(), &["keys", "rotate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("RS256 ID-token key"),
        "{}",
        text(&out.stdout)
    );
    let dir = app.stop().await;
    let app = spawn_in(dir, oidc).await;
    let jwks: serde_json::Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["EdDSA", "EdDSA", "RS256", "RS256"]);
}

#[tokio::test]
async fn backup_copies_the_live_database() {
    if crate::helpers::sqlite_only("toktok backup copies the SQLite file") {
        return;
    }
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

/// D5: `toktok backup` while registrations keep coming. The copy opens,
/// passes `PRAGMA integrity_check`, and holds every user acknowledged
/// (201) before the backup started.
#[tokio::test]
async fn backup_under_write_load_holds_every_acknowledged_user() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    if crate::helpers::sqlite_only("toktok backup copies the SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(spawn_in(dir, "").await);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2 {
        let (app, acked, stop) = (app.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 2000 {
                let email = format!("w{w}-{i}@example.com");
                let res = app.register(&email, PASSWORD).await;
                assert_eq!(res.status(), 201, "register {email}");
                acked.lock().unwrap().push(email);
                i += 1;
            }
        }));
    }
    // Let the writers get going, then back up while they write.
    while acked.lock().unwrap().len() < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before = acked.lock().unwrap().clone();
    let dest = app.dir.path().join("live-copy.db");
    let (dir_path, dest_arg) = (app.dir.path().to_owned(), dest.clone());
    let out = tokio::task::spawn_blocking(move || {
        toktok(&dir_path, &["backup", dest_arg.to_str().unwrap()], None)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let during = acked.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    let conn = rusqlite::Connection::open(&dest).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut stmt = conn.prepare("SELECT email FROM users").unwrap();
    let in_copy: std::collections::HashSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let missing: Vec<&String> = before.iter().filter(|e| !in_copy.contains(*e)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but missing: {missing:?}"
    );
    eprintln!(
        "backup: {} users acknowledged before, {during} during; {} in the copy",
        before.len(),
        in_copy.len()
    );
}

/// A config in `dir` sending mail through a relay on loopback `port`.
fn smtp_config_in(dir: &std::path::Path, port: u16) {
    std::fs::write(
        dir.join("toktok.toml"),
        format!(
            "[database]\npath = {:?}\n[email]\nmode = \"smtp\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout = \"1s\"\n",
            dir.join("toktok.db").to_string_lossy()
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn check_reaches_the_smtp_relay() {
    use crate::smtp::{Mode, SmtpSink};
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start().await;
    smtp_config_in(dir.path(), sink.port());
    let path = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || toktok(&path, &["check"], None))
        .await
        .unwrap();
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    assert!(
        report.contains(&format!(
            "smtp: 127.0.0.1:{} (tls none) answered EHLO and NOOP",
            sink.port()
        )),
        "{report}"
    );
    assert!(sink.connections() >= 1);

    // A relay that accepts the connection and never answers: smtp.timeout.
    sink.set_mode(Mode::Stall);
    let path = dir.path().to_owned();
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || toktok(&path, &["check"], None))
        .await
        .unwrap();
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("smtp: PROBLEM"), "{report}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    sink.stop().await;
}

#[tokio::test]
async fn check_fails_with_a_reason_when_the_smtp_relay_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let sink = crate::smtp::SmtpSink::start().await;
    let port = sink.port();
    sink.stop().await; // nothing listens there now
    smtp_config_in(dir.path(), port);
    let out = toktok(dir.path(), &["check"], None);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let line = report
        .lines()
        .find(|l| l.starts_with("smtp: PROBLEM"))
        .unwrap_or_else(|| panic!("no smtp problem in {report}"));
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(line.to_lowercase().contains("refused"), "{line}");
    assert!(!report.contains("all checks passed"), "{report}");
}

#[tokio::test]
async fn init_names_an_absolute_data_directory_and_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .current_dir(dir.path())
        .args(["init", "--dir", "etc"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let etc = dir.path().join("etc");
    let written = std::fs::read_to_string(etc.join("toktok.toml")).unwrap();
    let config = toktok::Config::from_sources(Some(&written), std::iter::empty()).unwrap();
    // Absolute, so the server finds its data from any working directory.
    assert!(config.database.path.is_absolute());
    assert_eq!(config.database.path, etc.join("data").join("toktok.db"));
    assert_eq!(config.email.outbox_dir, etc.join("data").join("outbox"));
    assert!(etc.join("data").is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&etc.join("data")), 0o700);
        assert_eq!(mode(&etc.join("toktok.toml")), 0o600);
    }
    // No secret in the file by default: keys are generated into the database.
    assert!(written.contains("secret = \"\""));
    // The config is usable as written: check passes, serve would create the database.
    let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .args([
            "--config",
            etc.join("toktok.toml").to_str().unwrap(),
            "check",
        ])
        .env_remove("TOKTOK_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("will be created"));

    // --data-dir puts the data elsewhere; a second init refuses and leaves
    // the first file alone.
    let data = dir.path().join("var-lib-toktok");
    let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .args([
            "init",
            "--dir",
            etc.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("will not overwrite"),
        "{}",
        text(&out.stderr)
    );
    assert!(!data.exists(), "a refused init creates nothing");
    assert_eq!(
        std::fs::read_to_string(etc.join("toktok.toml")).unwrap(),
        written
    );
    let other = dir.path().join("other");
    let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .args([
            "init",
            "--dir",
            other.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = toktok::Config::load(Some(&other.join("toktok.toml"))).unwrap();
    assert_eq!(config.database.path, data.join("toktok.db"));
    assert!(data.is_dir());
}

/// The restore of docs/operating.md: stop toktok, put the copy in place of the database
/// (without the old -wal/-shm files), start again.
#[tokio::test]
async fn restore_is_the_backup_put_back_while_stopped() {
    if crate::helpers::sqlite_only("toktok backup copies the SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_in(dir, "").await;
    app.signed_up("kept@example.com").await;
    let copy = app.dir.path().join("copy.db");
    let out = toktok(app.dir.path(), &["backup", copy.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    app.signed_up("lost@example.com").await;
    let dir = app.stop().await;
    let db = dir.path().join("toktok.db");
    for stale in ["toktok.db-wal", "toktok.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(stale));
    }
    // As `install` does: a new file, not the old one overwritten in place
    // (this test's server ran in-process, and a connection it left open
    // would otherwise checkpoint into the restored file).
    std::fs::remove_file(&db).unwrap();
    std::fs::copy(&copy, &db).unwrap();
    let out = toktok(dir.path(), &["check"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let app = spawn_in(dir, "").await;
    app.signed_in("kept@example.com").await;
    let res = app.login("lost@example.com", PASSWORD).await;
    assert_eq!(res.status(), 401, "written after the backup: gone");
}

/// The default build is SQLite-only (the `postgres` feature adds the other
/// store): a PostgreSQL `url` is refused at start, by `check` and by
/// `migrate-to`, each saying how to get a binary that takes it.
#[cfg(not(feature = "postgres"))]
#[test]
fn without_the_postgres_feature_a_database_url_says_to_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("toktok.toml"),
        "[database]\nurl = \"postgres://toktok:hunter2@127.0.0.1:1/toktok\"\n",
    )
    .unwrap();
    for args in [&["serve"][..], &["check"], &["keys", "rotate"]] {
        let out = toktok(dir.path(), args, None);
        assert!(!out.status.success(), "{args:?}");
        let said = text(&out.stdout) + &text(&out.stderr);
        assert!(said.contains("--features postgres"), "{args:?}: {said}");
        assert!(!said.contains("hunter2"), "{args:?}: {said}");
    }
    // migrate-to reads an SQLite config and names the target on the line.
    std::fs::write(
        dir.path().join("toktok.toml"),
        format!(
            "[database]\npath = {:?}\n",
            dir.path().join("toktok.db").to_string_lossy()
        ),
    )
    .unwrap();
    let out = toktok(dir.path(), &["keys", "rotate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toktok(
        dir.path(),
        &["migrate-to", "postgres://toktok:hunter2@127.0.0.1:1/toktok"],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--features postgres"),
        "{}",
        text(&out.stderr)
    );
}

/// Runs the binary in `cwd` without `--config` (and without
/// `TOKTOK_CONFIG`), with extra environment variables.
fn toktok_here(cwd: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_toktok"));
    command
        .current_dir(cwd)
        .args(args)
        .env_remove("TOKTOK_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the toktok binary runs")
}

/// A config file in `dir` with `extra` TOML after a database in `dir`.
pub(crate) fn config_with(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("toktok.toml");
    std::fs::write(
        &path,
        format!(
            "{}[password]\npbkdf2_iterations = 1000\n{extra}",
            crate::helpers::database_toml(dir)
        ),
    )
    .unwrap();
    path
}

/// TT-14: what `serve` refuses, `check` reports, by building the same
/// things: the templates, the `from` mailbox, and the directories it
/// writes to.
#[tokio::test]
async fn check_catches_what_serve_then_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("reset_password.txt"),
        "Hi {{nme}}\n{{link}}\n",
    )
    .unwrap();
    let outbox = format!("{:?}", dir.path().join("outbox").to_string_lossy());
    // (config, environment, what check says, what serve says when it
    // refuses to start; an unwritable outbox does not stop serve, whose
    // mail then waits and retries, but check still says so.)
    type Case<'a> = (String, Vec<(&'a str, String)>, &'a str, Option<&'a str>);
    let mut cases: Vec<Case> = vec![
        (
            format!("[email]\noutbox_dir = {outbox}\ntemplates_dir = \"/nonexistent/toktok\"\n"),
            vec![],
            "mail: PROBLEM: email.templates_dir /nonexistent/toktok",
            Some("email.templates_dir /nonexistent/toktok"),
        ),
        (
            format!(
                "[email]\noutbox_dir = {outbox}\ntemplates_dir = {:?}\n",
                templates.to_string_lossy()
            ),
            vec![],
            "unknown variable {{nme}}",
            Some("unknown variable {{nme}}"),
        ),
        (
            format!("[email]\noutbox_dir = {outbox}\n"),
            vec![(
                "TOKTOK_EMAIL__FROM",
                "toktok <a@b.example>\r\nBcc: evil@example.com".to_owned(),
            )],
            "mail: PROBLEM: email.from",
            Some("email.from"),
        ),
        (
            format!(
                "[email]\noutbox_dir = {:?}\n",
                file.join("outbox").to_string_lossy()
            ),
            vec![],
            "outbox: PROBLEM: email.outbox_dir",
            None,
        ),
        (
            format!(
                "[email]\noutbox_dir = {outbox}\n[branding]\nlogo = {:?}\n",
                dir.path().join("missing-logo.png").to_string_lossy()
            ),
            vec![],
            "logo: PROBLEM: branding.logo: cannot read",
            Some("branding.logo: cannot read"),
        ),
        (
            format!("[email]\noutbox_dir = {outbox}\n"),
            vec![(
                "TOKTOK_DATABASE__PATH",
                file.join("data/toktok.db").to_string_lossy().into_owned(),
            )],
            "cannot be created",
            Some("while creating the directory"),
        ),
    ];
    if crate::helpers::postgres_server().is_some() {
        // On PostgreSQL there is no database file whose directory could be
        // unwritable (and a path beside the URL is a configuration error).
        cases.pop();
    }
    // serve gets a port that is taken, so it stops even where it would
    // start: what it says before that is what counts.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = busy.local_addr().unwrap().to_string();
    for (extra, env, expected, refused) in cases {
        let config = config_with(dir.path(), &extra);
        let config = config.to_string_lossy().into_owned();
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let check = toktok_here(dir.path(), &["--config", &config, "check"], &env);
        let report = text(&check.stdout);
        assert_eq!(check.status.code(), Some(1), "{extra}: {report}");
        assert!(report.contains(expected), "{extra}: {report}");
        assert!(!report.contains("all checks passed"), "{report}");
        // And serve does refuse it: the two agree.
        let Some(refused) = refused else { continue };
        let mut env = env.clone();
        env.push(("TOKTOK_SERVER__LISTEN", &listen));
        let serve = toktok_here(dir.path(), &["--config", &config, "serve"], &env);
        let log = text(&serve.stderr);
        assert!(!serve.status.success(), "{extra}: serve started");
        assert!(log.contains(refused), "{extra}: {log}");
        assert!(!log.contains("cannot listen"), "{extra}: {log}");
    }
    // The same directory with nothing wrong passes.
    let config = config_with(dir.path(), &format!("[email]\noutbox_dir = {outbox}\n"));
    let check = toktok_here(
        dir.path(),
        &["--config", &config.to_string_lossy(), "check"],
        &[],
    );
    let report = text(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(
        report.contains("mail: templates and email.from ok"),
        "{report}"
    );
    assert!(report.contains("is writable"), "{report}");
}

/// A bad mail template is a configuration error: `serve` (and `user
/// create`, which builds the same mailer) stop with exit code 2 and one
/// line saying so, as for a bad value (docs/configuration.md, "Exit codes"), not 1 as for
/// a failure while starting.
#[test]
fn a_bad_mail_template_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("reset_password.txt"),
        "Hi {{nme}}\n{{link}}\n",
    )
    .unwrap();
    let config = config_with(
        dir.path(),
        &format!(
            "[email]\ntemplates_dir = {:?}\n",
            templates.to_string_lossy()
        ),
    );
    let config = config.to_string_lossy().into_owned();
    // A port that is taken: were the template let through, serve would
    // still stop (exit 1, "cannot listen").
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = busy.local_addr().unwrap().to_string();
    let commands: [&[&str]; 2] = [&["serve"], &["user", "create", "--email", "a@example.com"]];
    for command in commands {
        let args = [&["--config", config.as_str()][..], command].concat();
        let out = toktok_here(dir.path(), &args, &[("TOKTOK_SERVER__LISTEN", &listen)]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("toktok: configuration error: "),
            "{stderr}"
        );
        assert!(stderr.contains("unknown variable {{nme}}"), "{stderr}");
    }
}

#[tokio::test]
async fn without_config_a_toktok_toml_in_the_working_directory_is_used() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing here: the built-in defaults, and check says so.
    let out = toktok_here(dir.path(), &["check"], &[]);
    let report = text(&out.stdout);
    assert!(
        report.starts_with(
            "config: ok (built-in defaults (no --config, no TOKTOK_CONFIG, no ./toktok.toml))"
        ),
        "{report}"
    );
    // After `init`, the file beside it is read.
    let init = toktok_here(dir.path(), &["init"], &[]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    let out = toktok_here(dir.path(), &["check"], &[]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(
        report.starts_with("config: ok (read toktok.toml)"),
        "{report}"
    );
    let database = dir.path().join("data").join("toktok.db");
    assert!(
        report.contains(&format!(
            "database: {} does not exist yet",
            database.display()
        )),
        "{report}"
    );
    // serve says which file it read, too (it stops at once: port in use).
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = busy.local_addr().unwrap().to_string();
    let out = toktok_here(
        dir.path(),
        &["serve"],
        &[("TOKTOK_SERVER__LISTEN", &listen)],
    );
    let log = text(&out.stderr);
    assert!(!out.status.success());
    assert!(log.contains("configuration: read toktok.toml"), "{log}");
    // --config still wins.
    let other = tempfile::tempdir().unwrap();
    let named = config_with(other.path(), "");
    let out = toktok_here(
        dir.path(),
        &["--config", &named.to_string_lossy(), "check"],
        &[],
    );
    assert!(
        text(&out.stdout).starts_with(&format!("config: ok (read {})", named.display())),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn check_and_serve_warn_about_a_weak_secret_and_a_forgotten_public_url() {
    let dir = tempfile::tempdir().unwrap();
    // A port that is taken: serve logs its warnings, then stops.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = config_with(
        dir.path(),
        &format!("[server]\nlisten = \"{}\"\n", busy.local_addr().unwrap()),
    );
    let env = [
        ("TOKTOK_JWT__ALGORITHM", "HS256"),
        ("TOKTOK_JWT__SECRET", "passwordpasswordpasswordpassword"),
    ];
    let out = toktok_here(
        dir.path(),
        &["--config", &config.to_string_lossy(), "check"],
        &env,
    );
    let report = text(&out.stdout);
    assert!(
        report.contains("config warning: jwt.secret looks guessable"),
        "{report}"
    );
    assert!(
        report.contains("config warning: server.public_url is the default"),
        "{report}"
    );
    let out = toktok_here(
        dir.path(),
        &["--config", &config.to_string_lossy(), "serve"],
        &env,
    );
    let log = text(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("cannot listen"), "{log}");
    assert!(log.contains("jwt.secret looks guessable"), "{log}");
    assert!(log.contains("server.public_url is the default"), "{log}");
}

#[tokio::test]
async fn cli_errors_are_printed_once_and_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    // Twice `init`: one line, not a log line and the same again.
    assert!(toktok_here(dir.path(), &["init"], &[]).status.success());
    let out = toktok_here(dir.path(), &["init"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("toktok: will not overwrite"), "{stderr}");

    // user create: which field, and why.
    let out = toktok(
        dir.path(),
        &["user", "create", "--email", "notanemail"],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.starts_with("toktok: --email: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // --role takes known roles only, and says which.
    let out = toktok(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "a@example.com",
            "--role",
            "amdin",
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("[possible values: user, admin]"),
        "{stderr}"
    );
    // A one-off command prints its result, not INFO log lines (audit
    // events, key generation).
    let out = toktok(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "a@example.com",
            "--role",
            "admin",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "no log noise");

    // backup into a directory that does not exist says so.
    let target = dir.path().join("backups/today.db");
    let out = toktok(dir.path(), &["backup", &target.to_string_lossy()], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with(&format!(
            "toktok: the directory {} does not exist",
            dir.path().join("backups").display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("storage unavailable"), "{stderr}");

    // Help texts for the flags a newcomer needs.
    let help = toktok_here(dir.path(), &["user", "create", "--help"], &[]);
    let help = text(&help.stdout);
    assert!(help.contains("The user's email address"), "{help}");
    assert!(help.contains("may use the admin API"), "{help}");
    let help = toktok_here(dir.path(), &["backup", "--help"], &[]);
    assert!(
        text(&help.stdout).contains("its directory must"),
        "{}",
        text(&help.stdout)
    );
}

#[test]
fn openapi_into_a_closed_pipe_exits_quietly() {
    use std::io::Read as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("openapi")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, like `head -c 150`, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut start = [0u8; 150];
    stdout.read_exact(&mut start).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

#[tokio::test]
async fn check_fetches_each_providers_discovery_document() {
    // A reachable OpenID provider (a toktok with [oidc] on), the same one
    // under another name (its document names another issuer), and one
    // where nothing listens.
    let up = crate::helpers::spawn_public(|_| "[oidc]\nenabled = true\n".to_owned()).await;
    let dir = tempfile::tempdir().unwrap();
    let provider = |id: &str, issuer: &str| {
        format!(
            "[[providers]]\nid = \"{id}\"\nkind = \"oidc\"\nissuer = \"{issuer}\"\n\
             client_id = \"c\"\nclient_secret = \"s\"\n"
        )
    };
    let ok = format!("http://{}", up.addr);
    std::fs::write(
        dir.path().join("toktok.toml"),
        format!(
            "[database]\npath = {:?}\n{}{}{}",
            dir.path().join("toktok.db").to_string_lossy(),
            provider("good", &ok),
            provider("renamed", &format!("http://localhost:{}", up.addr.port())),
            provider("down", "http://127.0.0.1:9"),
        ),
    )
    .unwrap();
    let path = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || toktok(&path, &["check"], None))
        .await
        .unwrap();
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!("provider good: ok, discovery of {ok}")),
        "{report}"
    );
    let renamed = report
        .lines()
        .find(|l| l.starts_with("provider renamed: PROBLEM"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(renamed.contains("not the configured"), "{renamed}");
    assert!(report.contains("provider down: PROBLEM"), "{report}");
}
