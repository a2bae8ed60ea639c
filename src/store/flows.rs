//! The order of steps inside each write transaction, written once for both
//! backends (the review's `Tx` idea).
//!
//! A change of credentials is several statements: update the hash, clear
//! the failed-login counters, revoke the sessions, end the pending links,
//! write the audit event, queue the notice. Which ones, and in which order,
//! is a business rule, and on PostgreSQL the order is also the lock order
//! (the user row first, see `postgres/sessions.rs` `create_session`): so it
//! lives here once, and a lock-order fix is one change. Each backend
//! implements [`Tx`] over its own open transaction (both are sync: the
//! PostgreSQL store runs the blocking `postgres` client on tokio's blocking
//! pool, as SQLite does) and its async method is a one-line `write` around
//! the flow.
//!
//! SQL the dialects agree on is written here once, with SQLite's `?N`
//! placeholders; the PostgreSQL [`Tx`] rewrites them to `$N`. Where the
//! dialects differ (`IS NOT` against `IS DISTINCT FROM`, `json_extract`
//! against `->>`, advisory locks) the statement is a [`Tx`] primitive with a
//! body per backend. Reads that map whole rows stay per backend too (the
//! two clients' row types differ).

use serde_json::json;

use super::records::{amr_to_text, clip, link_json, vars_json};
use super::SessionRecord;
use super::{AdminChange, ApiKeyRecord, AuditEvent, ProfileChange, QueuedMail, StoreError};
use super::{UserRecord, AUDIT_MAIL_FAILED};
use crate::domain::mail::{
    MailKind, OutgoingMail, ACTION_CONFIRM, ACTION_EMAIL_CHANGE, ACTION_RESET,
};

/// One statement parameter, in a form both clients bind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    // challenge keys, rotated by tests
    Bytes(&'a [u8]),
}

/// One value of a row [`Tx::query`] returns: what both stores' column types
/// come down to (a PostgreSQL `BOOLEAN` reads as `Int` 0 or 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    /// The integer, or an error naming what the column held instead.
    pub(crate) fn int(&self) -> Result<i64, StoreError> {
        match self {
            Cell::Int(n) => Ok(*n),
            other => Err(StoreError::Internal(format!(
                "expected an integer column, got {other:?}"
            ))),
        }
    }

    /// The integer, `None` for NULL.
    pub(crate) fn opt_int(&self) -> Result<Option<i64>, StoreError> {
        match self {
            Cell::Null => Ok(None),
            other => other.int().map(Some),
        }
    }

    /// The text, or an error naming what the column held instead.
    pub(crate) fn text(&self) -> Result<String, StoreError> {
        match self {
            Cell::Text(s) => Ok(s.clone()),
            other => Err(StoreError::Internal(format!(
                "expected a text column, got {other:?}"
            ))),
        }
    }

    /// The text, `None` for NULL.
    pub(crate) fn opt_text(&self) -> Result<Option<String>, StoreError> {
        match self {
            Cell::Null => Ok(None),
            other => other.text().map(Some),
        }
    }
}

/// An open write transaction, on either backend: the statements the flows
/// below are made of. Object-safe, so the flows are compiled once.
pub(crate) trait Tx {
    /// Runs one query written with `?N` placeholders; returns its rows.
    /// Integer, boolean and text columns only.
    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Vec<Cell>>, StoreError>;

    /// Runs one statement written with `?N` placeholders; returns the rows
    /// it changed.
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError>;

    /// [`Tx::execute`] for a hot statement: SQLite keeps it prepared (the
    /// PostgreSQL connection keeps every statement prepared anyway).
    fn execute_cached(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        self.execute(sql, args)
    }

    /// The user as stored, read inside the transaction.
    fn get_user(&mut self, id: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Ends every live session of a user (optionally all but `except`).
    fn revoke_sessions(
        &mut self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now: i64,
    ) -> Result<usize, StoreError>;

    /// Ends a user's pending email links of `actions` (TT-02): their
    /// challenges, and queued mail that would mint one (see
    /// `sqlite/users.rs` `end_links` for which notices stay).
    fn end_links(&mut self, user_id: &str, actions: &[&str]) -> Result<(), StoreError>;

    /// What a claiming `SELECT` ends with so that two processes never wait
    /// for each other's claim: nothing on SQLite (one writer at a time),
    /// `FOR UPDATE SKIP LOCKED` on PostgreSQL.
    fn skip_locked(&self) -> &'static str {
        ""
    }
}

use Arg::{Bool, Int, OptInt, OptText, Text};

/// The email links a change of credentials or sessions ends (TT-02): a
/// password reset and a pending change of address. A confirmation of the
/// current address proves only that, and survives these.
pub(crate) const CREDENTIAL_LINKS: &[&str] = &[ACTION_RESET, ACTION_EMAIL_CHANGE];

/// Every email link of a user: what a change of address or a disable ends.
pub(crate) const ALL_LINKS: &[&str] = &[ACTION_RESET, ACTION_EMAIL_CHANGE, ACTION_CONFIRM];

/// Whether [`end_links`] also drops a queued password-changed notice.
///
/// That notice is a security notice to the account's address; its reset
/// link is minted when it is sent. A change of credentials or sessions
/// ([`CREDENTIAL_LINKS`]: a password change or reset, logout-all, an admin
/// logout) keeps it queued, so an attacker who changes the password and
/// then signs everyone out cannot suppress it, and the link it mints later
/// goes to the address the account still has. A change of address or a
/// disable ([`ALL_LINKS`]) drops it with the other links, so no link
/// reaches an address the account has left.
pub(crate) fn drops_notices(actions: &[&str]) -> bool {
    actions.contains(&ACTION_CONFIRM)
}

/// The outbox kind [`drops_notices`] is about.
pub(crate) const NOTICE_WITH_LINK: &str = MailKind::PasswordChangedNotice.as_str();

/// Whether `key` can be in a text column at all. PostgreSQL's text cannot
/// hold NUL, and a parameter with one is an error (22021, a 500), where
/// SQLite simply finds no row; so a lookup by such a key (a path segment or
/// query parameter from a request) answers "none" without asking.
pub(crate) fn storable(key: &str) -> bool {
    !key.contains('\0')
}

/// Appends one audit event in the caller's transaction, and traces it.
pub(crate) fn audit(tx: &mut dyn Tx, e: &AuditEvent) -> Result<(), StoreError> {
    let detail = e.detail.to_string();
    tx.execute_cached(
        "INSERT INTO audit_events (at, kind, user_id, actor, ip, user_agent, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            Int(e.at),
            Text(e.kind),
            OptText(e.user_id.as_deref()),
            OptText(e.actor.as_deref()),
            OptText(e.ip.as_deref()),
            OptText(e.user_agent.as_deref()),
            Text(&detail),
        ],
    )?;
    super::records::trace(e);
    super::webhooks::on_audit(tx, e)
}

/// Queues one message in the caller's transaction.
pub(crate) fn enqueue(tx: &mut dyn Tx, mail: &OutgoingMail, now: i64) -> Result<(), StoreError> {
    let link = link_json(mail)?;
    let vars = vars_json(mail);
    let id = uuid::Uuid::now_v7().to_string();
    tx.execute(
        "INSERT INTO outbox (id, kind, recipient, user_id, link, vars, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        &[
            Text(&id),
            Text(mail.kind.as_str()),
            Text(&mail.to),
            OptText(mail.user_id.as_deref()),
            OptText(link.as_deref()),
            Text(&vars),
            Int(now),
        ],
    )?;
    Ok(())
}

pub(crate) fn enqueue_all(
    tx: &mut dyn Tx,
    mails: &[OutgoingMail],
    now: i64,
) -> Result<(), StoreError> {
    for mail in mails {
        enqueue(tx, mail, now)?;
    }
    Ok(())
}

/// Inserts a new session (the sign-in flows around it differ per backend:
/// `Sessions::create_session`).
pub(crate) fn insert_session(tx: &mut dyn Tx, session: &SessionRecord) -> Result<(), StoreError> {
    let amr = amr_to_text(&session.amr);
    tx.execute(
        "INSERT INTO sessions (id, user_id, refresh_hash, rotated_at_ms, created_at,
                last_used_at, expires_at, user_agent, ip, auth_time, amr, aal, factor,
                client_id, scope, parent_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        &[
            Text(&session.id),
            Text(&session.user_id),
            Text(&session.refresh_hash),
            Int(session.rotated_at_ms),
            Int(session.created_at),
            Int(session.expires_at),
            OptText(session.user_agent.as_deref()),
            OptText(session.ip.as_deref()),
            Int(session.auth_time),
            Text(&amr),
            Int(i64::from(session.aal)),
            OptText(session.factor.as_deref()),
            OptText(session.client_id.as_deref()),
            OptText(session.scope.as_deref()),
            OptText(session.parent_id.as_deref()),
        ],
    )?;
    Ok(())
}

#[cfg(any(test, feature = "testing"))]
/// Adds a challenge AEAD key; the newest encrypts.
pub(crate) fn insert_challenge_key(
    tx: &mut dyn Tx,
    kid: &str,
    key: &[u8],
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO challenge_keys (kid, key, created_at) VALUES (?1, ?2, ?3)",
        &[Text(kid), Arg::Bytes(key), Int(now)],
    )?;
    Ok(())
}

/// `Users::insert_user`.
pub(crate) fn insert_user(
    tx: &mut dyn Tx,
    user: &UserRecord,
    email_key: &str,
    event: &AuditEvent,
    mails: &[OutgoingMail],
) -> Result<(), StoreError> {
    insert_user_row(tx, user, email_key, "")?;
    audit(tx, event)?;
    enqueue_all(tx, mails, user.created_at)
}

/// Writes `user` as it is; `tail` ends the statement (the import's
/// `ON CONFLICT DO NOTHING`). Answers the rows written.
pub(crate) fn insert_user_row(
    tx: &mut dyn Tx,
    user: &UserRecord,
    email_key: &str,
    tail: &str,
) -> Result<usize, StoreError> {
    let (metadata, app_metadata) = (user.metadata.to_string(), user.app_metadata.to_string());
    tx.execute_cached(
        &format!(
            "INSERT INTO users (id, email, email_key, email_confirmed_at, name, role, metadata,
                    app_metadata, password_hash, disabled, created_at, updated_at, locale)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13){tail}"
        ),
        &[
            Text(&user.id),
            Text(&user.email),
            Text(email_key),
            OptInt(user.email_confirmed_at),
            OptText(user.name.as_deref()),
            Text(&user.role),
            Text(&metadata),
            Text(&app_metadata),
            OptText(user.password_hash.as_deref()),
            Bool(user.disabled),
            Int(user.created_at),
            Int(user.updated_at),
            OptText(user.locale.as_deref()),
        ],
    )
}

/// `Users::update_profile`.
pub(crate) fn update_profile(
    tx: &mut dyn Tx,
    id: &str,
    change: &ProfileChange,
    now: i64,
    event: &AuditEvent,
) -> Result<Option<UserRecord>, StoreError> {
    if tx.get_user(id)?.is_none() {
        return Ok(None);
    }
    if let Some(name) = &change.name {
        tx.execute(
            "UPDATE users SET name = ?2 WHERE id = ?1",
            &[Text(id), OptText(name.as_deref())],
        )?;
    }
    if let Some(metadata) = &change.metadata {
        tx.execute(
            "UPDATE users SET metadata = ?2 WHERE id = ?1",
            &[Text(id), Text(&metadata.to_string())],
        )?;
    }
    set_locale(tx, id, change.locale.as_ref())?;
    tx.execute(
        "UPDATE users SET updated_at = ?2 WHERE id = ?1",
        &[Text(id), Int(now)],
    )?;
    audit(tx, event)?;
    tx.get_user(id)
}

/// Sets (`Some(Some)`) or clears (`Some(None)`) a user's `locale`.
fn set_locale(
    tx: &mut dyn Tx,
    id: &str,
    locale: Option<&Option<String>>,
) -> Result<(), StoreError> {
    if let Some(locale) = locale {
        tx.execute(
            "UPDATE users SET locale = ?2 WHERE id = ?1",
            &[Text(id), OptText(locale.as_deref())],
        )?;
    }
    Ok(())
}

/// `Users::set_password`. The user row is updated first: on PostgreSQL
/// that is the lock order every flow that touches a user and its
/// failed-login rows takes (a login at the same time would deadlock the
/// other way round).
pub(crate) fn set_password(
    tx: &mut dyn Tx,
    id: &str,
    phc: &str,
    keep: Option<&str>,
    now: i64,
    event: &AuditEvent,
    mails: &[OutgoingMail],
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        &[Text(id), Text(phc), Int(now)],
    )?;
    tx.execute(
        "DELETE FROM login_failures
             WHERE email_key = (SELECT email_key FROM users WHERE id = ?1)",
        &[Text(id)],
    )?;
    tx.execute(
        "DELETE FROM login_failures_by_client
             WHERE email_key = (SELECT email_key FROM users WHERE id = ?1)",
        &[Text(id)],
    )?;
    // Addresses that signed in with the old password no longer pass the
    // account-wide lockout (TT-09): whoever used a stolen password from one
    // must not keep that after the change.
    tx.execute(
        "DELETE FROM sign_in_clients WHERE user_id = ?1",
        &[Text(id)],
    )?;
    tx.revoke_sessions(id, keep, "password_changed", now)?;
    tx.end_links(id, CREDENTIAL_LINKS)?;
    if keep.is_none() {
        // A reset proves the address: a provider identity whose address the
        // provider did not vouch for may be someone else's (docs/providers.md
        // "Linking rules"), and goes.
        tx.execute(
            "DELETE FROM identities WHERE user_id = ?1 AND email_verified = 0",
            &[Text(id)],
        )?;
    }
    audit(tx, event)?;
    enqueue_all(tx, mails, now)
}

/// `Users::confirm_email`.
pub(crate) fn confirm_email(
    tx: &mut dyn Tx,
    id: &str,
    now: i64,
    event: &AuditEvent,
) -> Result<Option<UserRecord>, StoreError> {
    tx.execute(
        "UPDATE users SET email_confirmed_at = coalesce(email_confirmed_at, ?2),
                updated_at = ?2
             WHERE id = ?1",
        &[Text(id), Int(now)],
    )?;
    audit(tx, event)?;
    tx.get_user(id)
}

/// `Users::change_email`.
pub(crate) fn change_email(
    tx: &mut dyn Tx,
    id: &str,
    email: &str,
    email_key: &str,
    now: i64,
    event: &AuditEvent,
) -> Result<Option<UserRecord>, StoreError> {
    tx.execute(
        "UPDATE users SET email = ?2, email_key = ?3, email_confirmed_at = ?4,
                updated_at = ?4
             WHERE id = ?1",
        &[Text(id), Text(email), Text(email_key), Int(now)],
    )?;
    tx.end_links(id, ALL_LINKS)?;
    audit(tx, event)?;
    tx.get_user(id)
}

/// `Users::queue_mail`.
pub(crate) fn queue_mail(
    tx: &mut dyn Tx,
    mails: &[OutgoingMail],
    now: i64,
    event: Option<&AuditEvent>,
) -> Result<(), StoreError> {
    if let Some(event) = event {
        audit(tx, event)?;
    }
    enqueue_all(tx, mails, now)
}

/// `Users::delete_user`: the user's sessions go with it (foreign key
/// cascade).
pub(crate) fn delete_user(
    tx: &mut dyn Tx,
    id: &str,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    // Ended first, so that each session reports its end (`session.revoked`)
    // before the cascade removes it.
    tx.revoke_sessions(id, None, "user_deleted", event.at)?;
    let n = tx.execute("DELETE FROM users WHERE id = ?1", &[Text(id)])?;
    audit(tx, event)?;
    Ok(n > 0)
}

/// `Admin::admin_update_user`.
pub(crate) fn admin_update_user(
    tx: &mut dyn Tx,
    id: &str,
    change: &AdminChange,
    now: i64,
    events: &[AuditEvent],
) -> Result<Option<UserRecord>, StoreError> {
    if tx.get_user(id)?.is_none() {
        return Ok(None);
    }
    if let Some(role) = &change.role {
        tx.execute(
            "UPDATE users SET role = ?2 WHERE id = ?1",
            &[Text(id), Text(role)],
        )?;
    }
    if let Some(disabled) = change.disabled {
        tx.execute(
            "UPDATE users SET disabled = ?2 WHERE id = ?1",
            &[Text(id), Bool(disabled)],
        )?;
        if disabled {
            tx.revoke_sessions(id, None, "disabled", now)?;
            tx.end_links(id, ALL_LINKS)?;
        }
    }
    match change.email_confirmed {
        Some(true) => {
            tx.execute(
                "UPDATE users SET email_confirmed_at = coalesce(email_confirmed_at, ?2)
                     WHERE id = ?1",
                &[Text(id), Int(now)],
            )?;
        }
        Some(false) => {
            tx.execute(
                "UPDATE users SET email_confirmed_at = NULL WHERE id = ?1",
                &[Text(id)],
            )?;
        }
        None => {}
    }
    if let Some(metadata) = &change.metadata {
        tx.execute(
            "UPDATE users SET metadata = ?2 WHERE id = ?1",
            &[Text(id), Text(&metadata.to_string())],
        )?;
    }
    if let Some(app_metadata) = &change.app_metadata {
        tx.execute(
            "UPDATE users SET app_metadata = ?2 WHERE id = ?1",
            &[Text(id), Text(&app_metadata.to_string())],
        )?;
    }
    if let Some(name) = &change.name {
        tx.execute(
            "UPDATE users SET name = ?2 WHERE id = ?1",
            &[Text(id), OptText(name.as_deref())],
        )?;
    }
    set_locale(tx, id, change.locale.as_ref())?;
    tx.execute(
        "UPDATE users SET updated_at = ?2 WHERE id = ?1",
        &[Text(id), Int(now)],
    )?;
    for event in events {
        audit(tx, event)?;
    }
    tx.get_user(id)
}

/// `Admin::admin_end_sessions`.
pub(crate) fn admin_end_sessions(
    tx: &mut dyn Tx,
    id: &str,
    now: i64,
    event: &AuditEvent,
) -> Result<Option<usize>, StoreError> {
    if tx.get_user(id)?.is_none() {
        return Ok(None);
    }
    let n = tx.revoke_sessions(id, None, "admin_logout", now)?;
    tx.end_links(id, CREDENTIAL_LINKS)?;
    audit(tx, event)?;
    Ok(Some(n))
}

/// `Admin::admin_delete_user`: the user, its sessions (cascade) and its
/// pending links.
pub(crate) fn admin_delete_user(
    tx: &mut dyn Tx,
    id: &str,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    tx.revoke_sessions(id, None, "user_deleted", event.at)?;
    let n = tx.execute("DELETE FROM users WHERE id = ?1", &[Text(id)])?;
    if n == 0 {
        return Ok(false);
    }
    tx.execute(
        "DELETE FROM challenges WHERE namespace = 'toktok' AND id = ?1",
        &[Text(id)],
    )?;
    audit(tx, event)?;
    Ok(true)
}

/// `Sessions::end_session`.
pub(crate) fn end_session(
    tx: &mut dyn Tx,
    user_id: &str,
    sid: &str,
    now: i64,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE sessions SET revoked_at = ?3, revoked_reason = 'logout'
             WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3",
        &[Text(sid), Text(user_id), Int(now)],
    )?;
    if n > 0 {
        audit(tx, event)?;
    }
    Ok(n > 0)
}

/// `Sessions::end_all_sessions`.
pub(crate) fn end_all_sessions(
    tx: &mut dyn Tx,
    user_id: &str,
    now: i64,
    event: &AuditEvent,
) -> Result<usize, StoreError> {
    let n = tx.revoke_sessions(user_id, None, "logout_all", now)?;
    tx.end_links(user_id, CREDENTIAL_LINKS)?;
    audit(tx, event)?;
    Ok(n)
}

/// `ApiKeys::insert_api_key`.
pub(crate) fn insert_api_key(
    tx: &mut dyn Tx,
    record: &ApiKeyRecord,
    key_hash: &str,
    scopes: &str,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO api_keys (id, name, key_hash, scopes, created_at,
                last_used_at, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            Text(&record.id),
            Text(&record.name),
            Text(key_hash),
            Text(scopes),
            Int(record.created_at),
            OptInt(record.last_used_at),
            OptInt(record.revoked_at),
        ],
    )?;
    audit(tx, event)
}

/// `ApiKeys::revoke_api_key`.
pub(crate) fn revoke_api_key(
    tx: &mut dyn Tx,
    id: &str,
    now: i64,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        &[Text(id), Int(now)],
    )?;
    if n > 0 {
        audit(tx, event)?;
    }
    Ok(n > 0)
}

/// `Outbox::reschedule_mail`.
pub(crate) fn reschedule_mail(
    tx: &mut dyn Tx,
    id: &str,
    next_attempt_at: i64,
    error: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2,
                 last_error = ?3
             WHERE id = ?1",
        &[Text(id), Int(next_attempt_at), Text(&clip(error))],
    )?;
    Ok(())
}

/// `Outbox::give_up_mail`.
pub(crate) fn give_up_mail(
    tx: &mut dyn Tx,
    mail: &QueuedMail,
    now: i64,
    attempted: bool,
    error: &str,
) -> Result<i64, StoreError> {
    let attempts = mail.attempts + i64::from(attempted);
    let error = clip(error);
    let changed = tx.execute(
        "UPDATE outbox SET attempts = ?2, last_error = ?3, failed_at = ?4
             WHERE id = ?1 AND failed_at IS NULL",
        &[Text(&mail.id), Int(attempts), Text(&error), Int(now)],
    )?;
    // Gone meanwhile (its user was deleted): nothing to record.
    if changed == 1 {
        audit(
            tx,
            &AuditEvent {
                at: now,
                kind: AUDIT_MAIL_FAILED,
                user_id: mail.user_id.clone(),
                actor: None,
                ip: None,
                user_agent: None,
                detail: json!({
                    "kind": mail.kind,
                    "attempts": attempts,
                    "error": error,
                }),
            },
        )?;
    }
    Ok(attempts)
}

/// `Lockout::return_login_attempt`.
pub(crate) fn return_login_attempt(
    tx: &mut dyn Tx,
    email_key: &str,
    client: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE login_failures SET failures = failures - 1
             WHERE email_key = ?1 AND failures > 0",
        &[Text(email_key)],
    )?;
    if let Some(client) = client {
        tx.execute(
            "UPDATE login_failures_by_client SET failures = failures - 1
                 WHERE email_key = ?1 AND client = ?2 AND failures > 0",
            &[Text(email_key), Text(client)],
        )?;
    }
    Ok(())
}
