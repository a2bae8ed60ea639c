//! `toktok backup` and `toktok migrate-to`: copies of the SQLite database.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::{parent_dir, restrict};
use crate::config::Config;
use crate::store::Db;

pub(super) async fn migrate_to(config: &Config, url: String) -> anyhow::Result<()> {
    if config.database.url.is_some() {
        bail!(
            "migrate-to copies the SQLite database at database.path; this config sets database.url"
        );
    }
    let path = config.database.path.clone();
    if !path.exists() {
        bail!("there is no database at {} (database.path)", path.display());
    }
    let copied = tokio::task::spawn_blocking(move || copy_to_postgres(&path, &url)).await??;
    for (table, rows) in copied {
        println!("{table}: {rows} rows");
    }
    println!("copied and verified; set database.url to this database (and remove database.path)");
    Ok(())
}

/// Migrates the SQLite file at `path` to this binary's schema, then copies
/// it into the empty PostgreSQL database at `url`. Blocking.
#[cfg(feature = "postgres")]
pub(super) fn copy_to_postgres(path: &Path, url: &str) -> anyhow::Result<Vec<(&'static str, i64)>> {
    drop(Db::open(path)?);
    let mut conn = rusqlite::Connection::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    crate::store::postgres::copy_from_sqlite(&mut conn, url)
}

#[cfg(not(feature = "postgres"))]
pub(super) fn copy_to_postgres(_: &Path, _: &str) -> anyhow::Result<Vec<(&'static str, i64)>> {
    bail!(crate::store::NO_POSTGRES)
}

pub(super) async fn backup(config: &Config, dest: PathBuf) -> anyhow::Result<()> {
    if dest.exists() {
        bail!("{} exists; choose a new path", dest.display());
    }
    if config.database.url.is_some() {
        bail!(
            "toktok backup copies the SQLite file; this toktok uses PostgreSQL \
             (database.url): back it up with pg_dump or your provider's snapshots"
        );
    }
    let path = config.database.path.clone();
    if !path.exists() {
        bail!("there is no database at {} (database.path)", path.display());
    }
    let target_dir = parent_dir(&dest);
    if !target_dir.is_dir() {
        bail!(
            "the directory {} does not exist; create it first (the backup goes to {})",
            target_dir.display(),
            dest.display()
        );
    }
    let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
    db.backup(dest.clone())
        .await
        .with_context(|| format!("while writing the backup to {}", dest.display()))?;
    restrict(&dest);
    println!("backup written to {}", dest.display());
    Ok(())
}
