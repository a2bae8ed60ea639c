//! What both backends' migrations share: the marker that numbers them in
//! `schema.sql` and `schema.postgres.sql`, the splitter, and the TT-11
//! re-keying step's marker and report. Each backend applies the list and
//! tracks the version its own way (`sqlite/migrations.rs`,
//! `postgres/migrations.rs`).

use anyhow::{bail, Context as _};

/// Starts a migration: `-- migration: N` on a line of its own.
pub(crate) const MARKER: &str = "-- migration: ";

/// How many migrations `text` holds (for `SCHEMA_VERSION`, at compile time).
pub(crate) const fn count_markers(text: &str) -> i64 {
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

/// Splits the schema file `name` (its `text`) into (number, sql) pairs at
/// lines that start with the marker, checking they count 1, 2, 3…
pub(crate) fn split(name: &str, text: &str) -> anyhow::Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for line in text.lines() {
        if let Some(number) = line.strip_prefix(MARKER) {
            let number: i64 = number
                .trim()
                .parse()
                .with_context(|| format!("{name}: a migration marker without a number"))?;
            if number != out.len() as i64 + 1 {
                bail!("{name}: migration {number} is out of order");
            }
            out.push((number, String::new()));
        } else if let Some((_, sql)) = out.last_mut() {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    Ok(out)
}

/// A migration whose SQL has this line is followed, in its transaction, by
/// the backend's `rekey_emails` (by a marker, not a number, so a renumbering cannot
/// lose it).
pub(crate) const REKEY_EMAILS: &str = "-- then: rekey email addresses";

/// Logs what `rekey_emails` (either backend) left for the operator.
pub(crate) fn report_rekey(plan: &crate::domain::email::Rekey, skipped: &[String]) {
    if !plan.not_normalized.is_empty() {
        tracing::warn!(
            user_ids = ?plan.not_normalized,
            "accounts whose stored address contains compatibility characters (such as \
             U+212A KELVIN SIGN), which new addresses may not: mail still goes to them; \
             check that they are genuine (one may squat another's address)"
        );
    }
    for group in &plan.collisions {
        tracing::warn!(
            user_ids = ?group,
            "accounts whose addresses are one address under NFKC normalisation: kept as \
             they are; decide which is genuine and change or delete the others"
        );
    }
    if !skipped.is_empty() {
        tracing::warn!(
            user_ids = ?skipped,
            "accounts whose new address key another account already holds: kept as they are"
        );
    }
}
