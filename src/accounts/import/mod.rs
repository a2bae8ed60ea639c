//! Bringing users in with their password hashes, and taking them out
//! (docs/import.md; API.md "Import and export").
//!
//! An [`Importer`] is fed a file one line at a time — by the HTTP handler
//! as the body streams in, by `toktok users import` as it reads the file —
//! and writes the users in batches of [`BATCH`], each in one transaction
//! (`store/imports.rs`). Memory stays bounded: a batch, the report's first
//! entries, and eight bytes per user seen (to tell a duplicate inside the
//! file from an address that was already there), never the file.
//!
//! Every line gets an outcome: created, or not (`failed`, each with its
//! line number and a reason; an address that exists is also counted in
//! `skipped`). A hash too cheap to be safe is imported and reported in
//! `warnings`. The users' hashes are checked at their next sign-in and then
//! replaced by toktok's configured algorithm (`auth::foreign`).

mod export;
pub mod line;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::hash::BuildHasher;

use serde::Serialize;
use serde_json::json;

pub use export::export_users;
pub use line::UserLine;
use line::{Piece, Splitter};

use super::RequestMeta;
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::{ImportOutcome, ImportRow};

/// Users written per transaction.
pub const BATCH: usize = 500;
/// Entries of each kind the report lists (the counts are complete).
pub const LISTED: usize = 1_000;

/// What became of an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Users written (in a dry run: that would be).
    pub created: u64,
    /// Lines whose address already has an account (also in `failed`, with
    /// reason `exists`).
    pub skipped: u64,
    /// Lines not imported, by line number, each with its reason: the first
    /// 1,000 of reason `exists` and the first 1,000 of the others.
    pub failed: Vec<LineReport>,
    /// All lines not imported, `skipped` included.
    pub failed_total: u64,
    /// Imported with a hash too cheap to be safe (the first 1,000).
    pub warnings: Vec<LineReport>,
    pub warnings_total: u64,
    /// Lines read, blank ones included.
    pub lines: u64,
    pub dry_run: bool,
}

/// One line's problem.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LineReport {
    /// Counted from 1.
    pub line: u64,
    #[schema(required = true)]
    pub email: Option<String>,
    /// `exists`, `duplicate`, `id_taken`, `invalid_json`, `invalid_line`,
    /// `invalid_email`, `invalid_id`, `invalid_name`, `invalid_role`,
    /// `invalid_metadata`, `invalid_app_metadata`, `invalid_created_at`,
    /// `unknown_hash_format`, `invalid_hash`, `hash_too_costly`,
    /// `firebase_not_configured`, `line_too_long`, `weak_hash`.
    pub reason: String,
    pub detail: String,
}

/// Where an import comes from, for its audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Cli,
}

/// Reads an import line by line; see the module documentation.
pub struct Importer<'a> {
    state: &'a AppState,
    dry_run: bool,
    source: Source,
    actor: String,
    meta: RequestMeta,
    now: i64,
    /// Lines waiting for the next write: (line number, row, weak reason).
    batch: Vec<(u64, ImportRow, Option<String>)>,
    /// Fingerprints of the addresses of earlier lines of this import.
    seen: HashSet<u64, std::hash::RandomState>,
    fingerprint: std::hash::RandomState,
    /// Cuts what is fed into lines.
    splitter: Splitter,
    report: ImportReport,
    /// How many `exists` entries `failed` lists (the rest: other reasons).
    listed_exists: usize,
}

impl<'a> Importer<'a> {
    pub fn new(
        state: &'a AppState,
        dry_run: bool,
        source: Source,
        actor: String,
        meta: RequestMeta,
    ) -> Importer<'a> {
        Importer {
            state,
            dry_run,
            source,
            actor,
            meta,
            now: state.now(),
            batch: Vec::with_capacity(BATCH),
            seen: HashSet::default(),
            fingerprint: std::hash::RandomState::new(),
            splitter: Splitter::default(),
            report: ImportReport {
                dry_run,
                ..ImportReport::default()
            },
            listed_exists: 0,
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.report.lines
    }

    /// Takes the next bytes of the file, as they come: each line they
    /// complete is read, and a batch is written when one is full. Only a
    /// storage failure is an error, and everything written before it stays.
    pub async fn feed(&mut self, bytes: &[u8]) -> Result<(), ApiError> {
        for piece in self.splitter.feed(bytes) {
            self.take(piece).await?;
        }
        Ok(())
    }

    async fn take(&mut self, piece: Piece) -> Result<(), ApiError> {
        match piece {
            Piece::Line(text) => self.line(&text).await,
            Piece::TooLong => {
                self.too_long();
                Ok(())
            }
        }
    }

    /// One line, without its newline (a trailing `\r` is dropped).
    async fn line(&mut self, text: &[u8]) -> Result<(), ApiError> {
        self.report.lines += 1;
        let number = self.report.lines;
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        match line::parse(text, self.now, self.state.hasher.firebase()) {
            Err(refusal) => self.fail(number, refusal.email, refusal.reason, refusal.detail),
            Ok(parsed) => {
                let key = &parsed.row.email_key;
                if self.batch.iter().any(|(_, row, _)| &row.email_key == key) {
                    let email = Some(parsed.row.user.email);
                    self.fail(
                        number,
                        email,
                        "duplicate",
                        "an earlier line has this address".into(),
                    );
                } else {
                    self.batch.push((number, parsed.row, parsed.weak));
                }
            }
        }
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// A line longer than [`line::MAX_LINE_BYTES`], which the splitter
    /// skipped to its end.
    fn too_long(&mut self) {
        self.report.lines += 1;
        let number = self.report.lines;
        self.fail(
            number,
            None,
            "line_too_long",
            format!("a line may hold at most {} bytes", line::MAX_LINE_BYTES),
        );
    }

    /// Reads a last line without a newline, writes what is left and
    /// answers the report.
    pub async fn finish(mut self) -> Result<ImportReport, ApiError> {
        if let Some(piece) = std::mem::take(&mut self.splitter).finish() {
            self.take(piece).await?;
        }
        self.flush().await?;
        self.report.failed.sort_by_key(|f| f.line);
        self.report.warnings.sort_by_key(|f| f.line);
        Ok(self.report)
    }

    async fn flush(&mut self) -> Result<(), ApiError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        // The rows go to the store; what the report needs of each stays.
        let (lines, rows): (Vec<_>, Vec<ImportRow>) = std::mem::take(&mut self.batch)
            .into_iter()
            .map(|(number, row, weak)| {
                let print = self.fingerprint.hash_one(&row.email_key);
                ((number, print, row.user.email.clone(), weak), row)
            })
            .unzip();
        let outcomes = if self.dry_run {
            self.state.store.import_dry_run(rows).await?
        } else {
            let (first, last) = (lines[0].0, lines[lines.len() - 1].0);
            let mut event = self.meta.event(
                self.state.now(),
                "users.imported",
                None,
                json!({
                    "source": match self.source { Source::Api => "api", Source::Cli => "cli" },
                    "lines": format!("{first}-{last}"),
                }),
            );
            event.actor = Some(self.actor.clone());
            self.state.store.import_users(rows, event).await?
        };
        for ((number, print, email, weak), outcome) in lines.into_iter().zip(outcomes) {
            // Seen earlier in this file: a duplicate, not an old account.
            // (In a dry run nothing was written, so the fingerprint alone
            // decides; eight bytes can collide, about once in 10^11 pairs.)
            let earlier = !self.seen.insert(print);
            let email = Some(email);
            match outcome {
                ImportOutcome::Created if earlier && self.dry_run => {
                    self.fail(
                        number,
                        email,
                        "duplicate",
                        "an earlier line has this address".into(),
                    );
                }
                ImportOutcome::Created => {
                    self.report.created += 1;
                    if let Some(weak) = weak {
                        self.report.warnings_total += 1;
                        if self.report.warnings.len() < LISTED {
                            self.report.warnings.push(LineReport {
                                line: number,
                                email,
                                reason: "weak_hash".into(),
                                detail: weak,
                            });
                        }
                    }
                }
                ImportOutcome::Exists if earlier => {
                    self.fail(
                        number,
                        email,
                        "duplicate",
                        "an earlier line has this address".into(),
                    );
                }
                ImportOutcome::Exists => {
                    self.report.skipped += 1;
                    self.fail(
                        number,
                        email,
                        "exists",
                        "an account with this address exists".into(),
                    );
                }
                ImportOutcome::IdTaken => {
                    self.fail(
                        number,
                        email,
                        "id_taken",
                        "another account has this id".into(),
                    );
                }
            }
        }
        Ok(())
    }

    fn fail(&mut self, line: u64, email: Option<String>, reason: &'static str, detail: String) {
        self.report.failed_total += 1;
        let exists = reason == "exists";
        let listed_others = self.report.failed.len() - self.listed_exists;
        if (exists && self.listed_exists < LISTED) || (!exists && listed_others < LISTED) {
            self.listed_exists += usize::from(exists);
            self.report.failed.push(LineReport {
                line,
                email,
                reason: reason.to_owned(),
                detail,
            });
        }
    }
}
