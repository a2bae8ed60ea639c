//! A signed-in user's passkeys: register one ((R)), list, rename, remove
//! ((R); never the last way to sign in).

use serde::Serialize;
use serde_json::{json, Value};
use webauthn_rs_core::proto::{CredentialID, RegisterPublicKeyCredential, RegistrationState};

use super::{b64url, credential_of, open_flow, relying_party, take_flow, user_handle};
use super::{PasskeyOptions, ACTION_REGISTER};
use crate::accounts::{email, Authenticated, RequestMeta};
use crate::app::AppState;
use crate::clock::rfc3339;
use crate::domain::mail::MailKind;
use crate::error::{ApiError, FieldError};
use crate::store::{PasskeyRow, Removal};

/// Longest passkey name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A passkey as its owner sees it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = Passkey, example = json!({
    "id": "01938f2e-7c41-7d3a-9f00-5b1e2a3c4d5e", "name": "Passkey (2026-12-04)",
    "created_at": "2026-12-04T12:00:00Z", "last_used_at": null, "backed_up": true
}))]
pub struct PasskeyView {
    #[schema(format = "uuid")]
    pub id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime, required = true)]
    pub last_used_at: Option<String>,
    /// The authenticator says the key is backed up (synced).
    pub backed_up: bool,
}

impl From<&PasskeyRow> for PasskeyView {
    fn from(p: &PasskeyRow) -> Self {
        PasskeyView {
            id: p.id.clone(),
            name: p.name.clone(),
            created_at: rfc3339(p.created_at),
            last_used_at: p.last_used_at.map(rfc3339),
            backed_up: p.backed_up,
        }
    }
}

/// A user's passkeys, oldest first (also for `GET /v1/users/me/factors`).
pub async fn list(state: &AppState, user_id: &str) -> Result<Vec<PasskeyView>, ApiError> {
    let rows = state.store.passkeys_of(user_id).await?;
    Ok(rows.iter().map(PasskeyView::from).collect())
}

/// A passkey name: trimmed, 1 to 64 characters, no control characters.
fn parse_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS {
        return Err(ApiError::field("name", "must be 1 to 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::field(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// `POST /v1/users/me/passkeys/options` (R): options to register a new
/// passkey, the user's current ones excluded.
pub async fn register_options(
    state: &AppState,
    who: &Authenticated,
) -> Result<PasskeyOptions, ApiError> {
    let rp = relying_party(state)?;
    let user = &who.user;
    let exclude: Vec<CredentialID> = state
        .store
        .passkeys_of(&user.id)
        .await?
        .iter()
        .filter_map(credential_of)
        .map(|c| c.cred_id)
        .collect();
    // WebAuthn wants a display name that is not empty; a name may be "".
    let display = user
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| user.email.clone());
    let (options, ceremony) = rp
        .start_registration(&user_handle(&user.id), &user.email, &display, exclude)
        .map_err(|e| ApiError::Internal(format!("passkey registration options: {e:?}")))?;
    let ceremony = serde_json::to_value(&ceremony).unwrap_or(Value::Null);
    let flow_id = open_flow(state, ACTION_REGISTER, Some(&user.id), ceremony).await?;
    Ok(PasskeyOptions { flow_id, options })
}

/// `POST /v1/users/me/passkeys` (R): checks the authenticator's answer to
/// [`register_options`] and stores the passkey; 422 naming `flow_id` (unknown,
/// used, expired or another user's) or `credential` (does not verify, or
/// registered already).
pub async fn register(
    state: &AppState,
    who: &Authenticated,
    flow_id: &str,
    credential: Value,
    name: Option<String>,
    meta: &RequestMeta,
) -> Result<PasskeyView, ApiError> {
    let rp = relying_party(state)?;
    let name = name.as_deref().map(parse_name).transpose()?;
    let user = &who.user;
    let ceremony = take_flow(state, ACTION_REGISTER, Some(&user.id), flow_id)
        .await?
        .and_then(|v| serde_json::from_value::<RegistrationState>(v).ok())
        .ok_or_else(|| ApiError::field("flow_id", "is unknown, used or expired"))?;
    let refused = || ApiError::field("credential", "the authenticator's answer does not verify");
    let response: RegisterPublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| refused())?;
    let credential = rp.finish_registration(&response, &ceremony).map_err(|e| {
        tracing::debug!(error = ?e, "passkey registration refused");
        refused()
    })?;
    let now = state.now();
    let name = name.unwrap_or_else(|| format!("Passkey ({})", &rfc3339(now)[..10]));
    let row = PasskeyRow {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        credential_id: b64url(&credential.cred_id),
        name,
        credential: serde_json::to_string(&json!({ "cred": credential }))
            .map_err(|e| ApiError::Internal(format!("cannot store a passkey: {e}")))?,
        sign_count: i64::from(credential.counter),
        backup_eligible: credential.backup_eligible,
        backed_up: credential.backup_state,
        created_at: now,
        last_used_at: None,
    };
    let event = meta.event(
        now,
        "passkey.added",
        Some(&user.id),
        json!({ "passkey": row.id, "backup_eligible": row.backup_eligible }),
    );
    let mails = email::if_email_on(
        state,
        email::notice(MailKind::PasskeyAddedNotice, user, json!({}), meta),
    );
    let view = PasskeyView::from(&row);
    if !state.store.insert_passkey(row, event, mails).await? {
        return Err(ApiError::Validation(vec![FieldError::new(
            "credential",
            "this passkey is registered already",
        )]));
    }
    email::mail_queued(state);
    Ok(view)
}

/// `PATCH /v1/users/me/passkeys/{id}`: renames one of the user's passkeys.
pub async fn rename(
    state: &AppState,
    who: &Authenticated,
    id: &str,
    name: &str,
) -> Result<PasskeyView, ApiError> {
    relying_party(state)?;
    let name = parse_name(name)?;
    let row = state
        .store
        .rename_passkey(&who.user.id, id, name)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(PasskeyView::from(&row))
}

/// `DELETE /v1/users/me/passkeys/{id}` (R): removes one of the user's
/// passkeys and ends the sessions it raised to `aal` 2. Refused (409) when
/// it is the user's last way to sign in: no password, no other passkey, and
/// email codes off (with `[email_code] enabled` the address is a way in).
pub async fn remove(
    state: &AppState,
    who: &Authenticated,
    id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    relying_party(state)?;
    let now = state.now();
    let event = meta.event(
        now,
        "passkey.removed",
        Some(&who.user.id),
        json!({ "passkey": id }),
    );
    match state
        .store
        .remove_passkey(&who.user.id, id, super::super::identities::ways_in(state), now, event)
        .await?
    {
        Removal::Removed => Ok(()),
        Removal::NotFound => Err(ApiError::NotFound),
        Removal::LastWay => Err(ApiError::Conflict(
            "this passkey is the account's last way to sign in: set a password or add another passkey first"
                .to_owned(),
        )),
    }
}
