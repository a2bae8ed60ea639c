//! `toktok migrate-to postgres://…`: copies an SQLite database into an empty
//! PostgreSQL database, every table in one transaction, and checks the row
//! counts before committing.
//!
//! Columns are copied by name and converted by the PostgreSQL column's type
//! (SQLite's 0/1 flags become BOOLEAN, blobs BYTEA); rows of the key tables
//! go in rowid order, so their `seq` keeps SQLite's order; the audit id
//! sequence is moved past the copied ids. A table this binary does not know
//! stops the copy rather than being left behind.

use anyhow::{bail, Context as _};
use postgres::types::ToSql;
use rusqlite::types::Value;

use super::{client_config, migrations};

/// Every SQLite table, parents before children (foreign keys), and whether
/// it has a rowid to keep the order by.
const TABLES: &[(&str, bool)] = &[
    ("users", true),
    ("sessions", true),
    ("spent_refresh_tokens", false),
    ("login_failures", true),
    ("signing_keys", true),
    ("server_secrets", true),
    ("audit_events", true),
    ("challenges", false),
    ("challenge_keys", true),
    ("api_keys", true),
    ("outbox", true),
    ("rsa_keys", true),
    ("mail_slots", false),
    ("login_failures_by_client", false),
    ("sign_in_clients", false),
    ("mail_address_slots", false),
    ("totp_factors", false),
    ("recovery_codes", false),
    ("passkeys", true),
    ("mfa_flows", false),
    ("oauth_clients", true),
    ("oauth_consents", false),
    ("oauth_codes", false),
    ("identities", false),
    ("provider_flows", false),
    // Last: copying `sessions` fires the webhook triggers, which find no
    // subscription yet and so queue nothing twice.
    ("webhooks", true),
    ("webhook_subscriptions", false),
    ("webhook_deliveries", true),
];

/// Copies the SQLite database `sqlite` (already migrated to this binary's
/// schema) into the empty PostgreSQL database at `url`. Returns the rows
/// copied per table. Blocking.
pub fn copy_from_sqlite(
    sqlite: &mut rusqlite::Connection,
    url: &str,
) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let known: Vec<String> = sqlite
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if let Some(unknown) = known
        .iter()
        .find(|t| !TABLES.iter().any(|(name, _)| name == t))
    {
        bail!("the SQLite database has a table this toktok cannot copy: {unknown}");
    }

    let target = client_config(url)?;
    let mut pg = target.connect()?;
    let target = target.name();
    migrations::migrate(&mut pg)
        .with_context(|| format!("while creating the tables in {target}"))?;
    for (table, _) in TABLES {
        let n: i64 = pg
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
            .get(0);
        if n > 0 {
            bail!(
                "{target} is not empty ({table} has {n} rows): migrate-to copies into an \
                 empty database only"
            );
        }
    }

    // One read transaction on SQLite: a consistent snapshot of every table.
    let source = sqlite.transaction()?;
    let mut tx = pg.transaction()?;
    let mut copied = Vec::new();
    for &(table, ordered) in TABLES {
        let types: Vec<(String, String)> = tx
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1",
                &[&table],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let order = if ordered { " ORDER BY rowid" } else { "" };
        let mut stmt = source.prepare(&format!("SELECT * FROM {table}{order}"))?;
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let kinds: Vec<String> = columns
            .iter()
            .map(|c| {
                types
                    .iter()
                    .find(|(name, _)| name == c)
                    .map(|(_, kind)| kind.clone())
                    .with_context(|| format!("{table}.{c} has no PostgreSQL column"))
            })
            .collect::<anyhow::Result<_>>()?;
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let insert = tx.prepare(&format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            placeholders.join(", ")
        ))?;
        let mut rows = stmt.query([])?;
        let mut n = 0i64;
        while let Some(row) = rows.next()? {
            let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
            for (i, kind) in kinds.iter().enumerate() {
                let value: Value = row.get(i)?;
                params.push(convert(value, kind).with_context(|| {
                    format!("{table}.{}: cannot convert to {kind}", columns[i])
                })?);
            }
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
            tx.execute(&insert, &refs)
                .with_context(|| format!("while copying a row of {table}"))?;
            n += 1;
        }
        let source_count: i64 =
            source.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        let target_count: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
            .get(0);
        if source_count != n || target_count != n {
            bail!("{table}: {source_count} rows in SQLite, {n} read, {target_count} written");
        }
        copied.push((table, n));
    }
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('audit_events', 'id'),
                       coalesce(max(id), 0) + 1, false) FROM audit_events",
    )?;
    tx.commit()
        .with_context(|| format!("while committing the copy into {target}"))?;
    Ok(copied)
}

/// One SQLite value as a parameter for a PostgreSQL column of type `kind`.
fn convert(value: Value, kind: &str) -> anyhow::Result<Box<dyn ToSql + Sync>> {
    Ok(match (kind, value) {
        ("text", Value::Null) => Box::new(None::<String>),
        ("text", Value::Text(t)) => Box::new(t),
        ("bigint", Value::Null) => Box::new(None::<i64>),
        ("bigint", Value::Integer(i)) => Box::new(i),
        ("boolean", Value::Null) => Box::new(None::<bool>),
        ("boolean", Value::Integer(i)) => Box::new(i != 0),
        ("bytea", Value::Null) => Box::new(None::<Vec<u8>>),
        ("bytea", Value::Blob(b)) => Box::new(b),
        (kind, value) => bail!("a {:?} value for a {kind} column", value.data_type()),
    })
}
