//! Numbered migrations, read from `schema.sql` and tracked in `user_version`.
//!
//! `schema.sql` is both the readable schema and the migration list: each
//! `-- migration: N` line starts migration N. Each runs in its own
//! transaction; a database whose `user_version` is newer than this binary
//! knows is refused rather than guessed at.

use anyhow::{bail, Context as _};

use crate::store::migrations::{count_markers, report_rekey, split, REKEY_EMAILS};
use rusqlite::{Connection, TransactionBehavior};

const SCHEMA: &str = include_str!("../../../schema.sql");

/// The highest migration this binary knows.
pub const SCHEMA_VERSION: i64 = count_markers(SCHEMA);

/// `schema.sql` as (number, sql) pairs.
fn migrations() -> anyhow::Result<Vec<(i64, String)>> {
    split("schema.sql", SCHEMA)
}

/// Re-keys stored addresses under the NFKC rule (TT-11): sets the keys
/// that change without colliding, and logs the accounts it leaves alone.
fn rekey_emails(tx: &rusqlite::Transaction<'_>) -> anyhow::Result<()> {
    let rows: Vec<(String, String, String)> = tx
        .prepare("SELECT id, email, email_key FROM users")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let plan = crate::domain::email::plan_rekey(&rows);
    let mut skipped = Vec::new();
    for (id, key) in &plan.updates {
        let n = tx.execute(
            "UPDATE users SET email_key = ?2 WHERE id = ?1
                 AND NOT EXISTS (SELECT 1 FROM users WHERE email_key = ?2)",
            rusqlite::params![id, key],
        )?;
        if n == 0 {
            skipped.push(id.clone());
        }
    }
    report_rekey(&plan, &skipped);
    Ok(())
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
        if sql.contains(REKEY_EMAILS) {
            rekey_emails(&tx).with_context(|| format!("while applying migration {number}"))?;
        }
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

    /// Applies migrations 1 to `last` only, as an older toktok did.
    fn migrate_to(conn: &mut Connection, last: i64) {
        for (number, sql) in migrations().unwrap() {
            if number <= last {
                conn.execute_batch(&sql).unwrap();
                conn.pragma_update(None, "user_version", number).unwrap();
            }
        }
    }

    #[test]
    fn migration_8_puts_existing_links_in_toktoks_namespace() {
        // TT-01: rows stored before namespaces keep every column, and the
        // links toktok mailed land where its email flows look.
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 5);
        conn.execute_batch(
            "INSERT INTO challenges (action, id, uid, secret, secret_hash, metadata,
                 created_at, ttl, expires_at, attempts)
             VALUES ('toktok:password-reset', 'u1', NULL, '{}', 'h1', '{}', 10, 60, 70, 1),
                    ('toktok:email-change', 'u1', NULL, '{}', 'h2', '{\"new_email\":\"n@x.io\"}', 10, 60, 70, 0),
                    ('TOKTOK:lookalike', 'u1', 'uid-1', 'false', NULL, 'null', 10, 0, NULL, 0),
                    ('register', 'a@b.c', 'uid-2', '{}', 'h3', 'null', 10, 0, NULL, 2);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(String, String, String, Option<String>, String, i64)> = conn
            .prepare(
                "SELECT namespace, action, id, secret_hash, metadata, attempts
                 FROM challenges ORDER BY action",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let namespaces: Vec<(&str, &str)> =
            rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        assert_eq!(
            namespaces,
            [
                ("api", "TOKTOK:lookalike"),
                ("api", "register"),
                ("toktok", "toktok:email-change"),
                ("toktok", "toktok:password-reset"),
            ]
        );
        assert_eq!(rows[2].4, "{\"new_email\":\"n@x.io\"}");
        assert_eq!(rows[3].3.as_deref(), Some("h1"));
        assert_eq!(rows[3].5, 1);
        // The same pair may now exist once per namespace.
        conn.execute(
            "INSERT INTO challenges (namespace, action, id, secret, created_at, ttl)
             VALUES ('api', 'toktok:password-reset', 'u1', 'false', 1, 0)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn migration_8_rekeys_stored_addresses_and_keeps_every_row() {
        // TT-11: rows stored under the old lowercase-only rule.
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 5);
        conn.execute_batch(
            "INSERT INTO users (id, email, email_key, created_at, updated_at) VALUES
                ('1', 'Kate@example.com', 'kate@example.com', 1, 1),
                ('2', 'ﬁ@example.com', 'ﬁ@example.com', 1, 1),
                ('3', 'fi@example.com', 'fi@example.com', 1, 1),
                ('4', 'ｂen@example.com', 'ｂen@example.com', 1, 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let keys: Vec<(String, String)> = conn
            .prepare("SELECT id, email_key FROM users ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let keys: Vec<(&str, &str)> = keys.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("1", "kate@example.com"),
                // 2 and 3 collide under NFKC: both kept, reported.
                ("2", "ﬁ@example.com"),
                ("3", "fi@example.com"),
                ("4", "ben@example.com"),
            ]
        );
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
