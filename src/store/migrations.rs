//! Numbered migrations, read from `schema.sql` and tracked in `user_version`.
//!
//! `schema.sql` is both the readable schema and the migration list: each
//! `-- migration: N` line starts migration N. Each runs in its own
//! transaction; a database whose `user_version` is newer than this binary
//! knows is refused rather than guessed at.

use anyhow::{bail, Context as _};
use rusqlite::{Connection, TransactionBehavior};

const SCHEMA: &str = include_str!("../../schema.sql");
const MARKER: &str = "-- migration: ";

/// The highest migration this binary knows.
pub const SCHEMA_VERSION: i64 = count_markers(SCHEMA);

const fn count_markers(text: &str) -> i64 {
    let bytes = text.as_bytes();
    let marker = MARKER.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i + marker.len() <= bytes.len() {
        let mut j = 0;
        while j < marker.len() && bytes[i + j] == marker[j] {
            j += 1;
        }
        if j == marker.len() && (i == 0 || bytes[i - 1] == b'\n') {
            count += 1;
        }
        i += 1;
    }
    count
}

/// Splits `schema.sql` into (number, sql) pairs at lines that start with
/// the marker, checking they count 1, 2, 3…
fn migrations() -> anyhow::Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for line in SCHEMA.lines() {
        if let Some(number) = line.strip_prefix(MARKER) {
            let number: i64 = number
                .trim()
                .parse()
                .context("schema.sql: a migration marker without a number")?;
            if number != out.len() as i64 + 1 {
                bail!("schema.sql: migration {number} is out of order");
            }
            out.push((number, String::new()));
        } else if let Some((_, sql)) = out.last_mut() {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    Ok(out)
}

/// The database's schema version, or 0 for a new, empty file.
pub fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies every migration newer than the database's `user_version`.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current = schema_version(conn)?;
    if current > SCHEMA_VERSION {
        bail!(
            "the database has schema version {current}, but this toktok knows only up to \
             {SCHEMA_VERSION}: it was written by a newer toktok; run that version or restore a backup"
        );
    }
    for (number, sql) in migrations()? {
        if number <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(&sql)
            .with_context(|| format!("while applying migration {number}"))?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(migration = number, "database migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_numbered_in_order() {
        let list = migrations().unwrap();
        assert_eq!(list.len() as i64, SCHEMA_VERSION);
        const { assert!(SCHEMA_VERSION >= 1) };
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn migration_7_keeps_sessions_of_before_the_token_shapes_of_v1_1() {
        // A database of schema 5 with a live session, as a pre-1.1 toktok
        // left it: its JWT refresh tokens must keep working (issue 16).
        let mut conn = Connection::open_in_memory().unwrap();
        for (number, sql) in migrations().unwrap().into_iter().take(5) {
            conn.execute_batch(&sql).unwrap();
            conn.pragma_update(None, "user_version", number).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO users (id, email, email_key, created_at, updated_at)
                 VALUES ('u', 'a@b.io', 'a@b.io', 1, 1);
             INSERT INTO sessions (id, user_id, refresh_hash, prev_refresh_hash, rotated_at,
                 created_at, last_used_at, expires_at)
                 VALUES ('s', 'u', 'h1', 'h0', 1700000123, 1700000000, 1700000123, 1800000000);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let row: (String, i64, i64, String) = conn
            .query_row(
                "SELECT refresh_hash, rotated_at_ms, auth_time, amr FROM sessions WHERE id = 's'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "h1".into(),
                1_700_000_123_000,
                1_700_000_000,
                "[\"pwd\"]".into()
            )
        );
        // Spent hashes go with their session.
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO spent_refresh_tokens (hash, session_id) VALUES ('h0', 's');
             DELETE FROM sessions WHERE id = 's';",
        )
        .unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM spent_refresh_tokens", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer toktok"), "{err}");
    }
}
