//! Numbered migrations for PostgreSQL, read from `schema.postgres.sql` and
//! tracked in the one-row table `schema_version` (SQLite's `user_version`).
//!
//! Each migration runs in its own transaction under an advisory lock, so two
//! instances starting at once migrate once; a database newer than this
//! binary is refused, as on SQLite.

use anyhow::{bail, Context as _};
use postgres::GenericClient;

use super::{lock, StoreError};
use crate::store::migrations::{report_rekey, split, REKEY_EMAILS};

const SCHEMA: &str = include_str!("../../../schema.postgres.sql");

/// `schema.postgres.sql` as (number, sql) pairs.
fn migrations() -> anyhow::Result<Vec<(i64, String)>> {
    split("schema.postgres.sql", SCHEMA)
}

/// The database's schema version, or 0 for an empty database.
pub fn schema_version(conn: &mut impl GenericClient) -> Result<i64, StoreError> {
    let exists: bool = conn
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])?
        .try_get(0)?;
    if !exists {
        return Ok(0);
    }
    let row = conn.query_opt("SELECT version FROM schema_version", &[])?;
    Ok(match row {
        Some(row) => row.try_get(0)?,
        None => 0,
    })
}

/// Re-keys stored addresses under the NFKC rule (TT-11), as on SQLite
/// (`crate::store::migrations`).
fn rekey_emails(tx: &mut postgres::Transaction<'_>) -> anyhow::Result<()> {
    let rows: Vec<(String, String, String)> = tx
        .query("SELECT id, email, email_key FROM users", &[])?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, postgres::Error>>()?;
    let plan = crate::domain::email::plan_rekey(&rows);
    let mut skipped = Vec::new();
    for (id, key) in &plan.updates {
        let n = tx.execute(
            "UPDATE users SET email_key = $2 WHERE id = $1
                 AND NOT EXISTS (SELECT 1 FROM users WHERE email_key = $2)",
            &[id, key],
        )?;
        if n == 0 {
            skipped.push(id.clone());
        }
    }
    report_rekey(&plan, &skipped);
    Ok(())
}

/// Applies every migration newer than the database's version.
pub fn migrate(conn: &mut postgres::Client) -> anyhow::Result<()> {
    let known = super::super::SCHEMA_VERSION;
    for (number, sql) in migrations()? {
        let mut tx = conn.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock::MIGRATE])?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let current = schema_version(&mut tx)?;
        if current > known {
            bail!(
                "the database has schema version {current}, but this toktok knows only up to \
                 {known}: it was written by a newer toktok; run that version or restore a backup"
            );
        }
        if number <= current {
            continue;
        }
        tx.batch_execute(&sql)
            .with_context(|| format!("while applying migration {number}"))?;
        if sql.contains(REKEY_EMAILS) {
            rekey_emails(&mut tx).with_context(|| format!("while applying migration {number}"))?;
        }
        tx.execute("DELETE FROM schema_version", &[])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&number],
        )?;
        tx.commit()?;
        tracing::info!(migration = number, "database migrated");
    }
    // A database newer than every migration we know (the loop never saw a
    // number above the current version) is still refused.
    let current = schema_version(conn)?;
    if current > known {
        bail!(
            "the database has schema version {current}, but this toktok knows only up to \
             {known}: it was written by a newer toktok; run that version or restore a backup"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemas_have_the_same_migrations() {
        // One number names one schema on both backends.
        let list = migrations().unwrap();
        assert_eq!(list.len() as i64, super::super::super::SCHEMA_VERSION);
    }
}
