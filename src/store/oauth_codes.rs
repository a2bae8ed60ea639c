//! OpenID Connect authorization codes (`oauth_codes`, schema migration 12):
//! the flows, written once for both backends over [`Tx`].
//!
//! A code is stored as its SHA-256 only and is bound to the client, the
//! redirect URI and the PKCE challenge of its authorization request; it
//! carries the browser session's `auth_time`, `amr` and `aal` so the
//! exchange needs no second read.

// Used by the authorize and token endpoints, landing next.
#![cfg_attr(not(test), allow(dead_code))]

use super::flows::{audit, Arg, Tx};
use super::{AuditEvent, Store, StoreError};

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

impl Store {
    /// Stores a new code with its `oauth.authorized` event.
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
