//! Issue 23: a 100,000-user import killed half-way (SIGKILL) and run again
//! finishes the job — every user once, none half written — on whichever
//! store the suite runs on (tests/postgres/run.sh for PostgreSQL).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::config_with;
use crate::helpers::sql_in;

const USERS: usize = 100_000;
const HASH: &str = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

fn count(dir: &std::path::Path, sql: &str) -> i64 {
    sql_in(dir, sql)
        .first()
        .and_then(|row| row.first())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn import(dir: &std::path::Path, file: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_toktok"));
    command
        .arg("--config")
        .arg(dir.join("toktok.toml"))
        .args(["users", "import"])
        .arg(file)
        .env_remove("TOKTOK_CONFIG");
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_half_way_is_finished_by_running_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_owned();
    config_with(&dir, "");
    let file = dir.join("users.ndjson");
    let mut text = String::with_capacity(USERS * 140);
    for i in 0..USERS {
        text.push_str(&format!(
            "{{\"email\":\"user{i}@example.com\",\"password_hash\":\"{HASH}\",\
             \"email_confirmed\":true,\"metadata\":{{\"i\":{i}}}}}\n"
        ));
    }
    std::fs::write(&file, text).unwrap();

    tokio::task::spawn_blocking(move || {
        // An export of nobody first: it creates the schema, so counting can
        // start at once.
        let out = Command::new(env!("CARGO_BIN_EXE_toktok"))
            .arg("--config")
            .arg(dir.join("toktok.toml"))
            .args(["users", "export"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        let mut child = import(&dir, &file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let mut seen = 0;
        while seen < (USERS / 2) as i64 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "finished before the kill"
            );
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "too slow: {seen}"
            );
            std::thread::sleep(Duration::from_millis(10));
            seen = count(&dir, "SELECT count(*) FROM users");
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let before = count(&dir, "SELECT count(*) FROM users");
        assert!(before > 0 && before < USERS as i64, "killed at {before}");

        let out = import(&dir, &file).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["created"], USERS as i64 - before, "{report:#}");
        assert_eq!(report["skipped"], before);
        assert_eq!(report["failed_total"], before, "only `exists`");

        assert_eq!(count(&dir, "SELECT count(*) FROM users"), USERS as i64);
        assert_eq!(
            count(&dir, "SELECT count(DISTINCT email_key) FROM users"),
            USERS as i64
        );
        // Whole users only: every field the file gave is there.
        let whole = format!(
            "SELECT count(*) FROM users WHERE password_hash = '{HASH}' \
             AND email_confirmed_at IS NOT NULL AND metadata LIKE '{{\"i\":%'"
        );
        assert_eq!(count(&dir, &whole), USERS as i64);
        // The audit events of the committed batches add up to the users.
        let created: i64 = sql_in(
            &dir,
            "SELECT detail FROM audit_events WHERE kind = 'users.imported'",
        )
        .iter()
        .map(|row| {
            serde_json::from_str::<Value>(&row[0]).unwrap()["created"]
                .as_i64()
                .unwrap()
        })
        .sum();
        assert_eq!(created, USERS as i64);
    })
    .await
    .unwrap();
}
