//! `toktok check`: what `serve` would refuse, reported before it runs.

use std::path::Path;

use anyhow::{bail, Context as _};

use super::parent_dir;
use crate::config::{Config, EmailMode};
use crate::store::{schema_version, SCHEMA_VERSION};

/// Prints a report and returns the exit code: 0 when everything is usable.
pub(super) async fn check(config: &Config, source: &str) -> i32 {
    let mut problems = 0;
    println!("config: ok ({source})");
    for warning in config.warnings() {
        println!("config warning: {warning}");
    }
    // What `serve` builds before it listens, built the same way (TT-14):
    // the templates (overrides in email.templates_dir included) and the
    // sender mailbox.
    match crate::mail::Mailer::check(config) {
        Ok(Some(_)) => println!("mail: templates and email.from ok"),
        // Off: serve checks the templates only, and so does check.
        Ok(None) => println!("mail: templates ok"),
        Err(e) => {
            problems += 1;
            println!("mail: PROBLEM: {e:#}");
        }
    }
    match crate::i18n::Catalogues::load(&config.branding.messages_dir) {
        Ok(_) if config.branding.messages_dir.as_os_str().is_empty() => {
            println!("messages: built-in")
        }
        Ok(_) => println!(
            "messages: overrides in {} ok",
            config.branding.messages_dir.display()
        ),
        Err(e) => {
            problems += 1;
            println!("messages: PROBLEM: {e}");
        }
    }
    // The logo serve reads at start (app::Logo).
    match crate::app::Logo::load(&config.branding) {
        Ok(None) => {}
        Ok(Some(logo)) => println!(
            "logo: {} ok ({}, {} bytes)",
            config.branding.logo.display(),
            logo.content_type,
            logo.bytes.len()
        ),
        Err(e) => {
            problems += 1;
            println!("logo: PROBLEM: {e:#}");
        }
    }
    if config.email.mode == EmailMode::Dev {
        let outbox = &config.email.outbox_dir;
        match writable_dir(outbox) {
            Ok(()) => println!("outbox: {} is writable", outbox.display()),
            Err(e) => {
                problems += 1;
                println!(
                    "outbox: PROBLEM: email.outbox_dir {}: {e:#}",
                    outbox.display()
                );
            }
        }
    }
    problems += check_providers(config).await;
    let path = &config.database.path;
    if let Some(url) = &config.database.url {
        let url = url.expose().to_owned();
        #[cfg(feature = "postgres")]
        let checked = tokio::task::spawn_blocking(move || crate::store::postgres::check(&url))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r);
        #[cfg(not(feature = "postgres"))]
        let checked: anyhow::Result<String> = {
            drop(url);
            Err(anyhow::anyhow!(crate::store::NO_POSTGRES))
        };
        match checked {
            Ok(report) => println!("database: {report}"),
            Err(e) => {
                problems += 1;
                println!("database: PROBLEM: {e:#}");
            }
        }
    } else if !path.exists() {
        match writable_dir(&parent_dir(path)) {
            Ok(()) => println!(
                "database: {} does not exist yet; it will be created",
                path.display()
            ),
            Err(e) => {
                problems += 1;
                println!(
                    "database: PROBLEM: {} cannot be created: {e:#}",
                    path.display()
                );
            }
        }
    } else {
        match check_database(path) {
            Ok(report) => println!("database: {report}"),
            Err(e) => {
                problems += 1;
                println!("database: PROBLEM: {e:#}");
            }
        }
    }
    if config.email.mode == EmailMode::Smtp {
        let smtp = &config.smtp;
        let relay = format!("{}:{} (tls {})", smtp.host, smtp.port, smtp.tls.as_str());
        match crate::mail::transport::probe_smtp(config).await {
            Ok(()) => println!("smtp: {relay} answered EHLO and NOOP"),
            Err(e) => {
                problems += 1;
                println!("smtp: PROBLEM: {relay}: {e:#}");
            }
        }
    } else {
        println!(
            "email: mode \"{}\" (no SMTP relay to check)",
            config.email.mode.as_str()
        );
    }
    if problems == 0 {
        println!("all checks passed");
        0
    } else {
        1
    }
}

/// Whether toktok could create files in `dir`, as `serve` will: in `dir`
/// itself when it exists, else in the nearest ancestor that does (`serve`
/// creates the missing ones). Tried for real, with a file created and
/// removed at once, so permissions, read-only mounts and ACLs all count.
pub(super) fn writable_dir(dir: &Path) -> anyhow::Result<()> {
    let mut existing = dir.to_owned();
    while !existing.exists() {
        existing = parent_dir(&existing);
        if existing == Path::new(".") && !existing.exists() {
            break;
        }
    }
    if !existing.is_dir() {
        bail!("{} is not a directory", existing.display());
    }
    let probe = existing.join(format!(".toktok-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("cannot create files in {}", existing.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

pub(super) fn check_database(path: &Path) -> anyhow::Result<String> {
    // SQLite writes beside the file (-wal, -shm) and the file itself.
    writable_dir(&parent_dir(path))?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    let version = schema_version(&conn).context("cannot read the schema version")?;
    if version > SCHEMA_VERSION {
        bail!(
            "schema version {version} is newer than this toktok ({SCHEMA_VERSION}): it was \
             written by a newer toktok; run that version or restore a backup"
        );
    }
    let integrity: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .context("integrity check failed to run")?;
    if integrity != "ok" {
        bail!("integrity check: {integrity}");
    }
    let pending = SCHEMA_VERSION - version;
    let mut report = format!(
        "{} ok (schema {version}, {pending} migration(s) pending)",
        path.display()
    );
    if version >= 1 {
        // TT-11: accounts the NFKC address rule leaves for the operator.
        let rows = conn
            .prepare("SELECT id, email, email_key FROM users")
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<Vec<(String, String, String)>>>()
            })
            .context("cannot read the users")?;
        for problem in crate::domain::email::plan_rekey(&rows).problems() {
            report.push_str("\ndatabase warning: ");
            report.push_str(&problem);
        }
    }
    Ok(report)
}

/// Each `[[providers]]` entry: Apple's key, then (for an OpenID provider)
/// its discovery document, fetched and checked as a sign-in would.
/// Answers the number of problems.
async fn check_providers(config: &Config) -> i32 {
    use crate::config::ProviderKind;
    use crate::federation::upstream::Providers;
    if config.providers.is_empty() {
        return 0;
    }
    let providers = match Providers::new(&config.providers) {
        Ok(p) => p,
        Err(e) => {
            println!("providers: PROBLEM: {e:#}");
            return 1;
        }
    };
    let mut problems = 0;
    for p in providers.all() {
        let state = if p.enabled { "" } else { " (disabled)" };
        match p.kind {
            ProviderKind::Github => println!(
                "provider {}{state}: GitHub at {} (no discovery document to check)",
                p.id, p.authorization_url
            ),
            ProviderKind::Oidc => match providers.fetch_discovery(p).await {
                Ok(d) => println!(
                    "provider {}{state}: ok, discovery of {} (authorization {}, token {}, keys {})",
                    p.id, p.issuer, d.authorization_endpoint, d.token_endpoint, d.jwks_uri
                ),
                Err(e) => {
                    problems += 1;
                    println!("provider {}{state}: PROBLEM: {e}", p.id);
                }
            },
        }
    }
    problems
}
