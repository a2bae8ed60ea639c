//! One line of an import or export file (docs/import.md): a user as JSON.
//!
//! [`UserLine`] is the format, in both directions: `toktok users export`
//! writes it and the import reads it, so an export imports unchanged into
//! another toktok. [`parse`] turns a line into the user to insert, or says
//! why it cannot, with a short `reason` code and a detail.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::foreign::{self, FirebaseKeys};
use crate::clock::rfc3339;
use crate::domain::email::Email;
use crate::domain::metadata::Metadata;
use crate::domain::name::Name;
use crate::store::{ImportRow, UserRecord};

/// Longest line read (a user with large metadata fits many times over).
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// Longest `password_hash` accepted.
const MAX_HASH_CHARS: usize = 1024;

/// One user as the file carries it. Unknown members are refused, so a
/// misspelt `passwordHash` is reported instead of silently dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserLine {
    /// Keeps the user's id (the `sub` of their tokens) across systems: a
    /// UUID. Absent: toktok makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub email: String,
    /// A hash in one of the formats docs/import.md lists. Absent: the
    /// account has no password until one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_confirmed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Default "user".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Value>,
    /// RFC 3339, or seconds since 1970. Default: the time of the import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub created_at: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

impl UserLine {
    /// The line `toktok users export` writes for `user`.
    pub fn export(user: &UserRecord, with_hash: bool) -> UserLine {
        let object = |v: &Value| (v.as_object().is_some_and(|o| !o.is_empty())).then(|| v.clone());
        UserLine {
            id: Some(user.id.clone()),
            email: user.email.clone(),
            password_hash: user.password_hash.clone().filter(|_| with_hash),
            email_confirmed: Some(user.email_confirmed_at.is_some()),
            name: user.name.clone(),
            role: Some(user.role.clone()),
            metadata: object(&user.metadata),
            app_metadata: object(&user.app_metadata),
            created_at: Some(Value::String(rfc3339(user.created_at))),
            disabled: user.disabled.then_some(true),
        }
    }
}

/// Why a line is not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// A short code: `invalid_json`, `invalid_line`, `invalid_email`, …
    pub reason: &'static str,
    /// What exactly, for a person.
    pub detail: String,
    /// The line's address, when it had a readable one.
    pub email: Option<String>,
}

/// A line turned into the row to insert.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub row: ImportRow,
    /// Set when the hash is imported but too cheap to be safe.
    pub weak: Option<String>,
}

/// Reads one line (without its newline) into the user to insert, stamped
/// `now` (seconds) where the line gives no time.
pub fn parse(text: &[u8], now: i64, firebase: Option<&FirebaseKeys>) -> Result<Parsed, Refusal> {
    let refuse = |reason, detail: String, email: Option<String>| Refusal {
        reason,
        detail,
        email,
    };
    let value: Value =
        serde_json::from_slice(text).map_err(|e| refuse("invalid_json", e.to_string(), None))?;
    let raw_email = value
        .get("email")
        .and_then(Value::as_str)
        .map(|e| e.chars().take(320).collect::<String>());
    let line: UserLine = serde_json::from_value(value)
        .map_err(|e| refuse("invalid_line", e.to_string(), raw_email.clone()))?;
    let email = Email::parse(&line.email)
        .map_err(|e| refuse("invalid_email", e.to_string(), raw_email.clone()))?;
    let shown = Some(email.as_str().to_owned());
    let fail = |reason, detail: String| refuse(reason, detail, shown.clone());

    let id = match &line.id {
        Some(id) => uuid::Uuid::try_parse(id)
            .map_err(|_| fail("invalid_id", "id must be a UUID".to_owned()))?
            .hyphenated()
            .to_string(),
        None => uuid::Uuid::now_v7().to_string(),
    };
    let (password_hash, weak) = match line.password_hash {
        None => (None, None),
        Some(hash) => {
            if hash.is_empty() || hash.chars().count() > MAX_HASH_CHARS {
                return Err(fail(
                    "invalid_hash",
                    format!("password_hash must be 1 to {MAX_HASH_CHARS} characters (or absent)"),
                ));
            }
            let inspected =
                foreign::inspect(&hash, firebase).map_err(|e| fail(e.code(), e.to_string()))?;
            (Some(hash), inspected.weak)
        }
    };
    let name = line
        .name
        .map(Name::parse)
        .transpose()
        .map_err(|e| fail("invalid_name", e.to_string()))?
        .map(Name::into_inner);
    let role = line.role.unwrap_or_else(|| "user".to_owned());
    super::super::admin::check_role(&role).map_err(|e| fail("invalid_role", e.message))?;
    let document = |field, reason, raw: Option<Value>| {
        raw.map(Metadata::parse)
            .transpose()
            .map(|m| m.map_or_else(|| Value::Object(Default::default()), Metadata::into_value))
            .map_err(|e| fail(reason, format!("{field}: {e}")))
    };
    let metadata = document("metadata", "invalid_metadata", line.metadata)?;
    let app_metadata = document("app_metadata", "invalid_app_metadata", line.app_metadata)?;
    let created_at = match line.created_at {
        None => now,
        Some(at) => created_at(&at, now).ok_or_else(|| {
            fail(
                "invalid_created_at",
                "created_at must be an RFC 3339 time or seconds since 1970, not in the future"
                    .to_owned(),
            )
        })?,
    };
    let user = UserRecord {
        id,
        email: email.as_str().to_owned(),
        email_confirmed_at: line.email_confirmed.unwrap_or(false).then_some(created_at),
        name,
        role,
        metadata,
        app_metadata,
        password_hash,
        disabled: line.disabled.unwrap_or(false),
        created_at,
        updated_at: now,
        last_login_at: None,
        locale: None,
    };
    Ok(Parsed {
        row: ImportRow {
            user,
            email_key: email.normalized(),
        },
        weak,
    })
}

/// `created_at` in seconds: an RFC 3339 string or a whole number, from
/// 1970 to `now`.
fn created_at(value: &Value, now: i64) -> Option<i64> {
    let seconds = match value {
        Value::Number(n) => n.as_i64()?,
        Value::String(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .ok()?
                .unix_timestamp()
        }
        _ => return None,
    };
    (0..=now).contains(&seconds).then_some(seconds)
}

/// What [`Splitter::feed`] found in the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A whole line, without its `\n`.
    Line(Vec<u8>),
    /// A line longer than [`MAX_LINE_BYTES`], skipped to its end.
    TooLong,
}

/// Cuts a stream of bytes into lines, holding at most [`MAX_LINE_BYTES`]
/// of one line: a longer line is skipped, not buffered.
#[derive(Debug, Default)]
pub struct Splitter {
    partial: Vec<u8>,
    /// Inside a line already reported too long.
    skipping: bool,
}

impl Splitter {
    /// The lines `chunk` completes.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Vec<Piece> {
        let mut pieces = Vec::new();
        while !chunk.is_empty() {
            let end = chunk.iter().position(|&b| b == b'\n');
            let (part, rest) = match end {
                Some(i) => (&chunk[..i], Some(&chunk[i + 1..])),
                None => (chunk, None),
            };
            if !self.skipping {
                if self.partial.len() + part.len() > MAX_LINE_BYTES {
                    self.partial.clear();
                    self.skipping = true;
                    pieces.push(Piece::TooLong);
                } else {
                    self.partial.extend_from_slice(part);
                }
            }
            match rest {
                Some(rest) => {
                    if !std::mem::take(&mut self.skipping) {
                        pieces.push(Piece::Line(std::mem::take(&mut self.partial)));
                    }
                    chunk = rest;
                }
                None => break,
            }
        }
        pieces
    }

    /// The last line, when the stream does not end with a newline.
    pub fn finish(self) -> Option<Piece> {
        (!self.skipping && !self.partial.is_empty()).then_some(Piece::Line(self.partial))
    }
}
