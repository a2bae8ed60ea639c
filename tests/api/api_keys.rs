//! Service API keys (issue 3, docs/API.md "Command line"): `toktok api-key
//! create/list/revoke` run as an operator would, the database holding only
//! hashes, and `authenticate` — the check the challenge and admin routes
//! use — against the store of a running server.

use std::path::Path;
use std::process::{Command, Output};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use toktok::auth::api_keys::{self, authenticate, ApiKeyError, Scope};
use toktok::store::{ApiKeyRecord, AuditEvent};

use crate::helpers::{spawn_app, spawn_in, TestApp};

/// Runs the binary against the database in `dir` (the one `spawn_in` uses).
fn toktok(dir: &Path, args: &[&str]) -> Output {
    let config = dir.join("toktok.toml");
    if !config.exists() {
        std::fs::write(&config, crate::helpers::database_toml(dir)).unwrap();
    }
    Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("TOKTOK_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("the toktok binary runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// `api-key create`, asserting success; returns the key.
fn create(dir: &Path, name: &str, scopes: &[&str]) -> String {
    let mut args = vec!["api-key", "create", "--name", name];
    for scope in scopes {
        args.extend(["--scope", scope]);
    }
    let out = toktok(dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1,
        "{stdout:?}"
    );
    stdout.trim_end().to_owned()
}

/// The (single) line of `api-key list` naming `name`.
fn list_line(dir: &Path, name: &str) -> String {
    let out = toktok(dir, &["api-key", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(name)).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    lines[0].to_owned()
}

/// Every byte of the database and its WAL, as text (lossy); on PostgreSQL
/// every row of every table, as text.
fn database_bytes(dir: &Path) -> String {
    if crate::helpers::postgres_server().is_some() {
        let tables = crate::helpers::sql_in(
            dir,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        );
        let mut all = String::new();
        for table in tables {
            for row in crate::helpers::sql_in(dir, &format!("SELECT * FROM \"{}\"", table[0])) {
                all.push_str(&row.join("|"));
                all.push('\n');
            }
        }
        return all;
    }
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file.starts_with("toktok.db") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

fn key_rows(dir: &Path) -> Vec<(String, String, String, String)> {
    crate::helpers::sql_in(
        dir,
        "SELECT id, name, key_hash, scopes FROM api_keys ORDER BY created_at, id",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
    .collect()
}

#[tokio::test]
async fn create_prints_only_a_fresh_key_and_the_database_keeps_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let key = create(dir.path(), "billing", &["challenges", "admin"]);
    let body = key.strip_prefix("tk_").expect("starts with tk_");
    let random = URL_SAFE_NO_PAD.decode(body).expect("base64url");
    assert!(random.len() * 8 >= 128, "{} bits", random.len() * 8);
    let other = create(dir.path(), "billing", &["admin"]);
    assert_ne!(key, other);

    let rows = key_rows(dir.path());
    assert_eq!(rows.len(), 2);
    let (id, name, hash, scopes) = &rows[0];
    assert_eq!(name, "billing");
    assert_eq!(*hash, api_keys::hash(&key));
    assert_eq!(scopes, r#"["challenges","admin"]"#);
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);

    // Neither key, nor its random part, is anywhere in the files.
    let stored = database_bytes(dir.path());
    assert!(stored.contains(hash.as_str()), "the hash is stored");
    for secret in [key.as_str(), body, other.as_str()] {
        assert!(!stored.contains(secret), "a raw key is in the database");
    }
}

#[tokio::test]
async fn list_shows_each_key_without_the_key_or_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = toktok(dir.path(), &["api-key", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "an empty list prints nothing");

    let key = create(dir.path(), "mailer", &["challenges"]);
    create(dir.path(), "ops console", &["admin", "challenges"]);
    let rows = key_rows(dir.path());
    let line = list_line(dir.path(), "mailer");
    assert!(line.contains(&rows[0].0), "the id: {line}");
    assert!(line.contains("challenges"), "{line}");
    assert!(!line.contains("admin"), "{line}");
    let line = list_line(dir.path(), "ops console");
    assert!(line.contains("admin,challenges"), "{line}");

    let all = text(&toktok(dir.path(), &["api-key", "list"]).stdout);
    assert!(all.starts_with("ID"), "a header: {all}");
    assert!(!all.contains(&key) && !all.contains(&key[3..]), "{all}");
    assert!(!all.contains("tk_"), "{all}");
    for (_, _, hash, _) in &rows {
        assert!(!all.contains(hash.as_str()), "{all}");
    }
    // Newest first.
    let mailer = all.find("mailer").unwrap();
    assert!(all.find("ops console").unwrap() < mailer, "{all}");
}

#[tokio::test]
async fn revoke_works_once_and_then_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    create(dir.path(), "old", &["admin"]);
    let id = key_rows(dir.path()).remove(0).0;
    let line = list_line(dir.path(), "old");
    assert!(line.trim_end().ends_with('-'), "not revoked yet: {line}");

    let out = toktok(dir.path(), &["api-key", "revoke", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let line = list_line(dir.path(), "old");
    assert!(line.trim_end().ends_with('Z'), "a revocation time: {line}");

    let out = toktok(dir.path(), &["api-key", "revoke", &id]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already revoked"),
        "{}",
        text(&out.stderr)
    );
    let out = toktok(dir.path(), &["api-key", "revoke", "no-such-id"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no API key with id no-such-id"),
        "{}",
        text(&out.stderr)
    );

    let events: Vec<(String, String)> = crate::helpers::sql_in(
        dir.path(),
        "SELECT kind, actor FROM audit_events WHERE kind LIKE 'api_key.%' ORDER BY id",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect();
    assert_eq!(
        events,
        [
            ("api_key.created".to_owned(), "cli".to_owned()),
            ("api_key.revoked".to_owned(), "cli".to_owned()),
        ]
    );
}

#[tokio::test]
async fn create_refuses_unknown_or_missing_scopes_and_empty_names() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 4] = [
        &["api-key", "create", "--name", "x", "--scope", "root"],
        &[
            "api-key", "create", "--name", "x", "--scope", "admin", "--scope", "Admin",
        ],
        &["api-key", "create", "--name", "x"],
        &["api-key", "create", "--name", "  ", "--scope", "admin"],
    ];
    for (i, args) in cases.iter().enumerate() {
        let out = toktok(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
        let err = text(&out.stderr);
        if i < 2 {
            assert!(err.contains("challenges") && err.contains("admin"), "{err}");
        }
    }
    if dir.path().join("toktok.db").exists() {
        assert!(key_rows(dir.path()).is_empty());
    }
}

/// A key made through the store, as the CLI makes it.
async fn new_key(app: &TestApp, scopes: &[Scope]) -> (String, ApiKeyRecord) {
    let (key, hash) = api_keys::generate().unwrap();
    let now = app.state.now();
    let record = ApiKeyRecord {
        id: uuid::Uuid::now_v7().to_string(),
        name: "test".into(),
        scopes: scopes.to_vec(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let event = AuditEvent {
        at: now,
        kind: "api_key.created",
        user_id: None,
        actor: Some("cli".into()),
        ip: None,
        user_agent: None,
        detail: serde_json::json!({ "id": record.id }),
    };
    app.state
        .store
        .insert_api_key(record.clone(), hash, event)
        .await
        .unwrap();
    (key, record)
}

async fn last_used(app: &TestApp, id: &str) -> Option<i64> {
    let keys = app.state.store.list_api_keys().await.unwrap();
    keys.into_iter()
        .find(|k| k.id == id)
        .expect("key listed")
        .last_used_at
}

async fn auth(app: &TestApp, token: &str, needed: Scope) -> Result<ApiKeyRecord, ApiKeyError> {
    authenticate(&app.state.store, app.state.now(), token, needed).await
}

#[tokio::test]
async fn unknown_and_malformed_keys_are_unknown() {
    let app = spawn_app().await;
    let (key, _) = new_key(&app, &[Scope::Admin]).await;
    let access = app.signed_up("jwt@example.com").await.access;
    let almost = format!("{}x", &key[..key.len() - 1]);
    for token in ["", "tk_", "tk_nope", &almost, &key[3..], access.as_str()] {
        let result = auth(&app, token, Scope::Admin).await;
        assert!(matches!(result, Err(ApiKeyError::Unknown)), "{token}");
    }
}

#[tokio::test]
async fn a_key_needs_the_scope_of_the_route() {
    let app = spawn_app().await;
    let (challenges, _) = new_key(&app, &[Scope::Challenges]).await;
    let (both, _) = new_key(&app, &[Scope::Admin, Scope::Challenges]).await;
    let result = auth(&app, &challenges, Scope::Admin).await;
    assert!(matches!(result, Err(ApiKeyError::MissingScope)));
    let ok = auth(&app, &challenges, Scope::Challenges).await.unwrap();
    assert_eq!(ok.scopes, [Scope::Challenges]);
    for scope in Scope::ALL {
        assert!(auth(&app, &both, scope).await.is_ok(), "{scope}");
    }
}

#[tokio::test]
async fn a_good_key_records_its_use_at_most_once_a_minute() {
    let app = spawn_app().await;
    let (key, record) = new_key(&app, &[Scope::Challenges]).await;
    assert_eq!(last_used(&app, &record.id).await, None);

    let first = app.state.now();
    let found = auth(&app, &key, Scope::Challenges).await.unwrap();
    assert_eq!(found.id, record.id);
    assert_eq!(found.last_used_at, Some(first));
    assert_eq!(last_used(&app, &record.id).await, Some(first));

    // Within the minute: answered from the read, no write.
    app.clock.advance(30);
    let again = auth(&app, &key, Scope::Challenges).await.unwrap();
    assert_eq!(again.last_used_at, Some(first));
    app.clock.advance(30);
    auth(&app, &key, Scope::Challenges).await.unwrap();
    assert_eq!(last_used(&app, &record.id).await, Some(first));

    // Past it: recorded again.
    app.clock.advance(1);
    let later = auth(&app, &key, Scope::Challenges).await.unwrap();
    assert_eq!(later.last_used_at, Some(first + 61));
    assert_eq!(last_used(&app, &record.id).await, Some(first + 61));

    // A refused scope still finds the key; within the minute, no write.
    app.clock.advance(10);
    let result = auth(&app, &key, Scope::Admin).await;
    assert!(matches!(result, Err(ApiKeyError::MissingScope)));
    assert_eq!(last_used(&app, &record.id).await, Some(first + 61));
}

#[tokio::test]
async fn a_key_from_the_command_line_works_until_revoked_there() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_in(dir, "").await;
    let key = create(app.dir.path(), "svc", &["challenges"]);
    let record = auth(&app, &key, Scope::Challenges).await.unwrap();
    assert_eq!(record.name, "svc");
    // Created and last used are shown, revoked is not.
    let line = list_line(app.dir.path(), "svc");
    assert_eq!(line.matches('Z').count(), 2, "{line}");
    assert!(line.trim_end().ends_with('-'), "{line}");

    let out = toktok(app.dir.path(), &["api-key", "revoke", &record.id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The running server caches keys: a revoke by another process is seen
    // from the next clock second on (docs/security-notes.md).
    app.clock.advance(1);
    let result = auth(&app, &key, Scope::Challenges).await;
    assert!(matches!(result, Err(ApiKeyError::Unknown)));
    let revoked = app.state.store.list_api_keys().await.unwrap();
    assert!(revoked[0].revoked_at.is_some());
}

#[tokio::test]
async fn a_key_revoked_in_the_server_process_is_refused_by_the_very_next_request() {
    let app = spawn_app().await;
    let (key, record) = new_key(&app, &[Scope::Challenges]).await;
    let create = |id: &'static str| {
        let body = serde_json::json!({ "action": "revoke-test", "id": id });
        app.request(Method::POST, "/v1/challenges", Some(&key), Some(body))
    };
    // The first records the key's use, the second caches the key, the
    // third is answered from the cache.
    for id in ["a", "b", "c"] {
        assert_eq!(create(id).await.status(), 201);
    }
    let now = app.state.now();
    let event = AuditEvent {
        at: now,
        kind: "api_key.revoked",
        user_id: None,
        actor: Some("test".into()),
        ip: None,
        user_agent: None,
        detail: serde_json::json!({ "id": record.id }),
    };
    assert!(app
        .state
        .store
        .revoke_api_key(&record.id, now, event)
        .await
        .unwrap());
    // Same clock second, so only the change generation can refuse it.
    assert_eq!(create("d").await.status(), 401);
}
