//! OpenID Connect authorization codes (`oauth_codes`, schema migration 12):
//! the flows, written once for both backends over [`Tx`].
//!
//! A code is stored as its SHA-256 only and is bound to the client, the
//! redirect URI and the PKCE challenge of its authorization request; it
//! carries the browser session's `auth_time`, `amr` and `aal` so the
//! exchange needs no second read.
//!
//! An exchange ([`Store::exchange_oauth_code`]) is one transaction. The
//! code is taken by a conditional `UPDATE … WHERE used_at IS NULL`: of two
//! exchanges at the same moment exactly one changes the row, on either
//! backend. A code presented again finds `used_at` set and revokes the
//! session its first exchange issued (RFC 6749 §4.1.2, RFC 9700 §4.5.3.1)
//! in the same transaction, with its audit event.

use serde_json::json;

use super::flows::{audit, insert_session, Arg, Cell, Tx};
use super::records::amr_from_text;
use super::{AuditEvent, SessionRecord, Store, StoreError};

use Arg::{Int, OptText, Text};

/// An authorization code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    /// SHA-256 (hex) of the code.
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    /// The browser session the user signed in with (the ID token's `sid`).
    pub session_id: String,
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub nonce: Option<String>,
    /// The PKCE `code_challenge` (S256, base64url).
    pub code_challenge: String,
    /// The browser session's sign-in: `auth_time`, `amr`, `aal`.
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub aal: u8,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What presenting a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// The code was live and the check accepted it: it is used now, and
    /// the client's session is stored.
    Issued(Box<CodeRow>),
    /// No such code, or it expired, or a concurrent exchange took it.
    Unknown,
    /// Used before: the session its first exchange issued is revoked now
    /// (`code_replayed`) and `oauth.code_replayed` is written.
    Replayed,
    /// The check refused it (another client, redirect URI or verifier), or
    /// the sign-in behind it has ended: the code is used up all the same.
    Refused(&'static str),
}

/// What the token endpoint decides on a live code: the client's session
/// to store and its `oauth.token_issued` event, or why not.
pub type CodeCheck =
    Box<dyn FnOnce(&CodeRow) -> Result<(SessionRecord, AuditEvent), &'static str> + Send>;

fn cell(cells: &[Cell], i: usize) -> Result<&Cell, StoreError> {
    cells
        .get(i)
        .ok_or_else(|| StoreError::Internal("an oauth_codes row is short".to_owned()))
}

/// A stored code with its `used_at` and `issued_session`.
type StoredCode = (CodeRow, Option<i64>, Option<String>);

/// The code with this hash.
fn read_code(tx: &mut dyn Tx, hash: &str) -> Result<Option<StoredCode>, StoreError> {
    let rows = tx.query(
        "SELECT code_hash, client_id, user_id, session_id, redirect_uri, scope, nonce,
                code_challenge, auth_time, amr, aal, created_at, expires_at, used_at,
                issued_session
           FROM oauth_codes WHERE code_hash = ?1",
        &[Text(hash)],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let row = CodeRow {
        code_hash: cell(r, 0)?.text()?,
        client_id: cell(r, 1)?.text()?,
        user_id: cell(r, 2)?.text()?,
        session_id: cell(r, 3)?.text()?,
        redirect_uri: cell(r, 4)?.text()?,
        scope: cell(r, 5)?.text()?,
        nonce: cell(r, 6)?.opt_text()?,
        code_challenge: cell(r, 7)?.text()?,
        auth_time: cell(r, 8)?.int()?,
        amr: amr_from_text(&cell(r, 9)?.text()?),
        aal: u8::try_from(cell(r, 10)?.int()?).unwrap_or(1),
        created_at: cell(r, 11)?.int()?,
        expires_at: cell(r, 12)?.int()?,
    };
    Ok(Some((
        row,
        cell(r, 13)?.opt_int()?,
        cell(r, 14)?.opt_text()?,
    )))
}

/// The browser session a code was issued from, if it is still live: its
/// `factor` (what a client's session at `aal` 2 depends on too).
fn live_parent(
    tx: &mut dyn Tx,
    session_id: &str,
    now: i64,
) -> Result<Option<Option<String>>, StoreError> {
    let rows = tx.query(
        "SELECT factor FROM sessions
          WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        &[Text(session_id), Int(now)],
    )?;
    rows.first().map(|r| cell(r, 0)?.opt_text()).transpose()
}

/// [`Store::exchange_oauth_code`], inside its transaction.
fn exchange(
    tx: &mut dyn Tx,
    hash: &str,
    now: i64,
    check: CodeCheck,
    mut replay_event: AuditEvent,
) -> Result<CodeUse, StoreError> {
    let Some((row, used_at, issued)) = read_code(tx, hash)? else {
        return Ok(CodeUse::Unknown);
    };
    if used_at.is_some() {
        if let Some(sid) = &issued {
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2, revoked_reason = 'code_replayed'
                  WHERE id = ?1 AND revoked_at IS NULL",
                &[Text(sid), Int(now)],
            )?;
        }
        replay_event.user_id = Some(row.user_id.clone());
        replay_event.detail = json!({ "client_id": row.client_id, "session": issued });
        audit(tx, &replay_event)?;
        return Ok(CodeUse::Replayed);
    }
    if row.expires_at <= now {
        return Ok(CodeUse::Unknown);
    }
    let taken = tx.execute(
        "UPDATE oauth_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
        &[Text(hash), Int(now)],
    )?;
    if taken != 1 {
        return Ok(CodeUse::Unknown);
    }
    let (mut session, event) = match check(&row) {
        Ok(issued) => issued,
        Err(why) => return Ok(CodeUse::Refused(why)),
    };
    // Signed out (or ended by a password change, a disable …) since the
    // code was issued: nothing may outlive that.
    let Some(factor) = live_parent(tx, &row.session_id, now)? else {
        return Ok(CodeUse::Refused("the sign-in behind this code has ended"));
    };
    session.factor = factor;
    session.parent_id = Some(row.session_id.clone());
    insert_session(tx, &session)?;
    tx.execute(
        "UPDATE oauth_codes SET issued_session = ?2 WHERE code_hash = ?1",
        &[Text(hash), Text(&session.id)],
    )?;
    audit(tx, &event)?;
    Ok(CodeUse::Issued(Box::new(row)))
}

impl Store {
    /// Presents the code whose hash is `hash` at `now` (see [`CodeUse`]):
    /// `check` decides on the stored row (client, redirect URI, PKCE
    /// verifier) and, when it accepts, gives the client's session to store
    /// (its `parent_id` is set to the code's browser session, its `factor`
    /// copied from it). The code is used up whatever `check` says.
    /// `replay_event` is the `oauth.code_replayed` event, completed here
    /// with the user and the revoked session.
    pub async fn exchange_oauth_code(
        &self,
        hash: String,
        now: i64,
        check: CodeCheck,
        replay_event: AuditEvent,
    ) -> Result<CodeUse, StoreError> {
        if !super::flows::storable(&hash) {
            return Ok(CodeUse::Unknown);
        }
        self.write(move |tx| exchange(tx, &hash, now, check, replay_event))
            .await
    }

    /// The session whose current refresh token has the SHA-256 `hash`, or
    /// (with `spent`) one rotated out before it: introspection asks for the
    /// current one only, revocation for any of a family.
    pub async fn session_by_refresh_hash(
        &self,
        hash: &str,
        spent: bool,
    ) -> Result<Option<String>, StoreError> {
        if !super::flows::storable(hash) {
            return Ok(None);
        }
        let hash = hash.to_owned();
        self.write(move |tx| {
            let sql = if spent {
                "SELECT id FROM sessions WHERE refresh_hash = ?1
                 UNION ALL SELECT session_id FROM spent_refresh_tokens WHERE hash = ?1"
            } else {
                "SELECT id FROM sessions WHERE refresh_hash = ?1"
            };
            let rows = tx.query(sql, &[Text(&hash)])?;
            rows.first().map(|r| cell(r, 0)?.text()).transpose()
        })
        .await
    }

    /// Ends the live session `sid` if it is a session of `client_id`
    /// (`revoked_reason` `token_revoked`) and writes `event` with the
    /// session's user; `false` (nothing written) otherwise.
    pub async fn revoke_client_session(
        &self,
        sid: &str,
        client_id: &str,
        now: i64,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        if !super::flows::storable(sid) || !super::flows::storable(client_id) {
            return Ok(false);
        }
        let (sid, client_id) = (sid.to_owned(), client_id.to_owned());
        self.write(move |tx| {
            let rows = tx.query(
                "SELECT user_id FROM sessions
                  WHERE id = ?1 AND client_id = ?2 AND revoked_at IS NULL",
                &[Text(&sid), Text(&client_id)],
            )?;
            let Some(user_id) = rows.first().map(|r| cell(r, 0)?.text()).transpose()? else {
                return Ok(false);
            };
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2, revoked_reason = 'token_revoked'
                  WHERE id = ?1 AND revoked_at IS NULL",
                &[Text(&sid), Int(now)],
            )?;
            let mut event = event;
            event.user_id = Some(user_id);
            audit(tx, &event)?;
            Ok(true)
        })
        .await
    }

    /// Deletes the codes that expired before `before`; answers how many.
    /// Used codes are kept until then so that a late replay still finds
    /// them and revokes what they issued.
    pub async fn sweep_oauth_codes(&self, before: i64) -> Result<usize, StoreError> {
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM oauth_codes WHERE expires_at < ?1",
                &[Int(before)],
            )
        })
        .await
    }

    /// Stores a new code with its `oauth.authorized` event.
    // The authorize endpoint (built beside this branch) is the caller;
    // until it lands, only the tests are.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub async fn insert_oauth_code(
        &self,
        row: CodeRow,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let amr =
            serde_json::to_string(&row.amr).map_err(|e| StoreError::Internal(e.to_string()))?;
        self.write(move |tx| {
            insert_code(tx, &row, &amr)?;
            audit(tx, &event)
        })
        .await
    }
}

fn insert_code(tx: &mut dyn Tx, row: &CodeRow, amr: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, session_id, redirect_uri,
                scope, nonce, code_challenge, auth_time, amr, aal, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        &[
            Text(&row.code_hash),
            Text(&row.client_id),
            Text(&row.user_id),
            Text(&row.session_id),
            Text(&row.redirect_uri),
            Text(&row.scope),
            OptText(row.nonce.as_deref()),
            Text(&row.code_challenge),
            Int(row.auth_time),
            Text(amr),
            Int(i64::from(row.aal)),
            Int(row.created_at),
            Int(row.expires_at),
        ],
    )?;
    Ok(())
}
