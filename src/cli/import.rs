//! `toktok users import FILE [--dry-run]` and `toktok users export
//! [--with-hashes]` (docs/import.md): the same import and export as the
//! admin API, straight on the database.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncReadExt as _;

use crate::accounts::import::{export_users, ImportReport, Importer, Source};
use crate::accounts::RequestMeta;
use crate::config::Config;
use crate::App;

/// Bytes read at a time.
const CHUNK: usize = 256 * 1024;

/// Imports FILE ("-": standard input) and prints the report as JSON. Exit
/// code 0, or 1 when a line failed for another reason than an address
/// that exists (so a second run of the same file exits 0).
pub(super) async fn import(config: Config, file: &Path, dry_run: bool) -> anyhow::Result<i32> {
    let (mut input, size): (Box<dyn tokio::io::AsyncRead + Unpin>, Option<u64>) =
        if file == Path::new("-") {
            (Box::new(tokio::io::stdin()), None)
        } else {
            let opened = tokio::fs::File::open(file)
                .await
                .with_context(|| format!("cannot open {}", file.display()))?;
            let size = opened.metadata().await.ok().map(|m| m.len());
            (Box::new(opened), size)
        };
    let app = App::build(config).await?;
    let bar = progress(size);
    let mut importer = Importer::new(
        app.state(),
        dry_run,
        Source::Cli,
        "cli".to_owned(),
        RequestMeta::default(),
    );
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = input
            .read(&mut buf)
            .await
            .with_context(|| format!("while reading {}", file.display()))?;
        if n == 0 {
            break;
        }
        importer
            .feed(&buf[..n])
            .await
            .map_err(super::user::cli_error)?;
        bar.inc(n as u64);
        bar.set_message(format!("{} lines", importer.lines()));
    }
    let report = importer.finish().await.map_err(super::user::cli_error)?;
    bar.finish_and_clear();
    super::print_line(&serde_json::to_string_pretty(&report)?)?;
    eprintln!("{}", summary(&report));
    let failed = report.failed_total - report.skipped;
    Ok(i32::from(failed > 0))
}

/// A bar on a terminal (by bytes when the size is known), nothing else.
fn progress(size: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match size {
        Some(size) => ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if size.is_some() {
        "{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)"
    } else {
        "{spinner} {bytes} {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// One line for a person: what happened, and what to look at.
fn summary(r: &ImportReport) -> String {
    let verb = if r.dry_run { "would create" } else { "created" };
    let mut text = format!(
        "{verb} {} users; {} skipped (address exists); {} failed; {} imported with a weak hash",
        r.created,
        r.skipped,
        r.failed_total - r.skipped,
        r.warnings_total
    );
    if r.failed_total > 0 || r.warnings_total > 0 {
        text.push_str(" (lines listed in the report above)");
    }
    text
}

/// Writes every user to standard output, one line each.
pub(super) async fn export(config: Config, with_hashes: bool) -> anyhow::Result<i32> {
    let app = App::build(config).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let count = export_users(app.state(), with_hashes, "cli", |line| {
        serde_json::to_writer(&mut out, line)?;
        out.write_all(b"\n")
    })
    .await?;
    out.flush().context("while writing the export")?;
    eprintln!("exported {count} users");
    Ok(0)
}
