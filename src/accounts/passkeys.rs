//! Passkeys (WebAuthn Level 3, docs/API.md "Sign-in beyond passwords"):
//! the ceremonies — register one (signed in, (R)), sign in with one
//! (discoverable, usernameless), assert one for a known user (the MFA
//! step and reauthentication: [`options_for_user`], [`verify_for_user`]).
//! Listing, renaming and removing them is in [`manage`].
//!
//! **Flows.** A ceremony's state lives between its two requests as a
//! challenge of the engine in the `Toktok` namespace (`crate::challenge`):
//! its metadata holds webauthn-rs's serialised state and, for a known
//! user, the user id; its encrypted token is the `flow_id` the client
//! sends back. It lives [`CEREMONY_SECS`] and is consumed by the first
//! answer, right or wrong: a flow never verifies twice.
//!
//! **Every failure of a sign-in is one answer**, 401 `invalid_credentials`:
//! unknown flow or credential, bad signature, another `rp_id`, origin or
//! challenge, a disabled user, a counter that did not grow. A counter that
//! went backwards (or stood still while non-zero) is also audited
//! `passkey.clone_detected`; a change of backup eligibility is refused.

pub mod manage;

use serde::Serialize;
use serde_json::{json, Value};
use webauthn_rs::prelude::Passkey;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AuthenticationResult, AuthenticationState, Credential, PublicKeyCredential,
};

use super::login::Assurance;
use super::signin::{self, SignInAnswer};
use super::RequestMeta;
use crate::app::AppState;
use crate::auth::webauthn::{Webauthn, CEREMONY_SECS};
use crate::challenge::{ChallengeError, Control, CreateParams, Lookup, Namespace, VerifyOptions};
use crate::domain::email::Email;
use crate::error::ApiError;
use crate::ratelimit::Bucket;
use crate::store::{PasskeyRow, PasskeyUse, UserRecord};

pub use manage::{list, PasskeyView};

/// Challenge actions of the three ceremonies (namespace `Toktok`).
const ACTION_REGISTER: &str = "toktok:passkey-register";
const ACTION_SIGN_IN: &str = "toktok:passkey-sign-in";
const ACTION_ASSERT: &str = "toktok:passkey-assert";

/// A ceremony's options and the flow id its answer must name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "flow_id": "AaBbCc…",
    "options": { "challenge": "3q2-7w…", "rpId": "example.com", "allowCredentials": [],
                 "userVerification": "preferred", "timeout": 300000 }
}))]
pub struct PasskeyOptions {
    pub flow_id: String,
    /// WebAuthn Level 3 `PublicKeyCredentialRequestOptionsJSON` (or
    /// `…CreationOptionsJSON` for a registration) as
    /// `PublicKeyCredential.parseRequestOptionsFromJSON()` (or
    /// `parseCreationOptionsFromJSON()`) takes it: no `publicKey` wrapper.
    #[schema(value_type = Object)]
    pub options: Value,
}

/// A verified assertion by one of a user's passkeys.
#[derive(Debug, Clone)]
pub struct PasskeyProof {
    /// `passkeys.id` (the session's `factor` is `passkey:<id>`).
    pub passkey_id: String,
    /// The authenticator verified the user (UV flag).
    pub user_verified: bool,
    /// RFC 8176: `"hwk"` (device-bound) or `"swk"` (synced, backed up).
    pub amr: &'static str,
}

impl PasskeyProof {
    /// How a session signed in by this proof alone is assured: `amr`
    /// `[hwk|swk]` plus `user` with user verification, which makes it `aal`
    /// 2 (the session then depends on this passkey).
    pub fn assurance(&self) -> Assurance {
        let mut amr = vec![self.amr.to_owned()];
        if self.user_verified {
            amr.push("user".to_owned());
        }
        let aal = if self.user_verified { 2 } else { 1 };
        Assurance {
            amr,
            aal,
            factor: (aal == 2).then(|| format!("passkey:{}", self.passkey_id)),
        }
    }
}

/// The relying party, or 404 `feature_disabled`.
pub(crate) fn relying_party(state: &AppState) -> Result<&Webauthn, ApiError> {
    state.webauthn.as_ref().ok_or(ApiError::FeatureDisabled)
}

/// The user handle of `user_id`: the 16 bytes of its UUID.
pub(crate) fn user_handle(user_id: &str) -> Vec<u8> {
    uuid::Uuid::parse_str(user_id)
        .map(|u| u.as_bytes().to_vec())
        .unwrap_or_else(|_| user_id.as_bytes().to_vec())
}

/// base64url (unpadded), how credential ids are stored.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Starts a ceremony's flow: its state in a challenge, its token the id.
pub(crate) async fn open_flow(
    state: &AppState,
    action: &str,
    user_id: Option<&str>,
    ceremony: Value,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut params = CreateParams::new(action, &id);
    params.ttl = Some(json!(CEREMONY_SECS));
    params.metadata = Some(json!({ "user_id": user_id, "state": ceremony }));
    let created = state
        .challenges
        .create_in(Namespace::Toktok, params)
        .await
        .map_err(|e| match e {
            ChallengeError::Store(e) => ApiError::from(e),
            other => ApiError::Internal(format!("cannot start a passkey ceremony: {other}")),
        })?;
    created
        .secret
        .ok_or_else(|| ApiError::Internal("a ceremony's flow has no token".to_owned()))
}

/// Consumes a flow of `action`, which must be `user_id`'s (or no one's):
/// its ceremony state, or `None` when it is unknown, used, expired or
/// someone else's.
pub(crate) async fn take_flow(
    state: &AppState,
    action: &str,
    user_id: Option<&str>,
    flow_id: &str,
) -> Result<Option<Value>, ApiError> {
    let options = VerifyOptions {
        erase: true,
        log: false,
        control: Some(Control {
            id: None,
            action: Some(action.to_owned()),
        }),
    };
    let lookup = Lookup::Token(flow_id.to_owned());
    match state
        .challenges
        .verify_in(Namespace::Toktok, lookup, options, None)
        .await
    {
        Ok(record) => {
            let owner = record.metadata.get("user_id").and_then(Value::as_str);
            if owner != user_id {
                return Ok(None);
            }
            Ok(record.metadata.get("state").cloned())
        }
        Err(ChallengeError::Store(e)) => Err(e.into()),
        Err(_) => Ok(None),
    }
}

/// The stored credential of a passkey row.
fn credential_of(row: &PasskeyRow) -> Option<Credential> {
    #[derive(serde::Deserialize)]
    struct Stored {
        cred: Credential,
    }
    serde_json::from_str::<Stored>(&row.credential)
        .ok()
        .map(|s| s.cred)
}

/// Why an assertion was refused (all 401 to the client).
enum Refusal {
    /// The passkey's counter did not grow: a cloned authenticator?
    Clone(PasskeyRow),
    /// Anything else, with the passkey when one was named.
    Other(Option<PasskeyRow>, &'static str),
}

/// Checks `response` against `ceremony` and `row`, then records the use
/// (counter, backup state, last use) — the checks shared by every
/// assertion.
async fn assert_with(
    state: &AppState,
    ceremony: &AuthenticationState,
    response: &PublicKeyCredential,
    row: PasskeyRow,
) -> Result<Result<(PasskeyProof, PasskeyRow), Refusal>, ApiError> {
    let rp = relying_party(state)?;
    let Some(credential) = credential_of(&row) else {
        return Ok(Err(Refusal::Other(Some(row), "unreadable_credential")));
    };
    // A user handle, when sent, must be the owner's (WebAuthn §7.2 step 6).
    if let Some(handle) = response.response.user_handle.as_deref() {
        if handle != user_handle(&row.user_id).as_slice() {
            return Ok(Err(Refusal::Other(Some(row), "user_handle")));
        }
    }
    let result = match rp.finish_authentication(response, ceremony, &credential) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => return Ok(Err(Refusal::Clone(row))),
        Err(e) => {
            tracing::debug!(error = ?e, "passkey assertion refused");
            return Ok(Err(Refusal::Other(Some(row), "assertion")));
        }
    };
    let Some(credential) = updated(&row, &result) else {
        return Ok(Err(Refusal::Other(Some(row), "unreadable_credential")));
    };
    let change = PasskeyUse {
        id: row.id.clone(),
        old_count: row.sign_count,
        new_count: i64::from(result.counter()),
        credential,
        backed_up: result.backup_state(),
        now: state.now(),
    };
    if !state.store.passkey_used(change).await? {
        // Another assertion with this counter won meanwhile.
        return Ok(Err(Refusal::Clone(row)));
    }
    let proof = PasskeyProof {
        passkey_id: row.id.clone(),
        user_verified: result.user_verified(),
        amr: if result.backup_eligible() {
            "swk"
        } else {
            "hwk"
        },
    };
    Ok(Ok((proof, row)))
}

/// The stored credential with `result` applied (webauthn-rs's
/// `Passkey::update_credential`), serialised.
fn updated(row: &PasskeyRow, result: &AuthenticationResult) -> Option<String> {
    let mut passkey: Passkey = serde_json::from_str(&row.credential).ok()?;
    passkey.update_credential(result)?;
    serde_json::to_string(&passkey).ok()
}

/// Audits a refusal and answers 401 `invalid_credentials`.
async fn refuse(state: &AppState, meta: &RequestMeta, refusal: Refusal) -> ApiError {
    let now = state.now();
    let event = match refusal {
        Refusal::Clone(row) => Some(meta.event(
            now,
            "passkey.clone_detected",
            Some(&row.user_id),
            json!({ "passkey": row.id, "sign_count": row.sign_count }),
        )),
        Refusal::Other(Some(row), reason) => Some(meta.event(
            now,
            "login.failed",
            Some(&row.user_id),
            json!({ "reason": format!("passkey_{reason}"), "passkey": row.id }),
        )),
        Refusal::Other(None, _) => None,
    };
    if let Some(event) = event {
        if let Err(e) = state.store.audit(event).await {
            tracing::warn!(error = %e, "cannot write an audit event");
        }
    }
    ApiError::InvalidCredentials
}

fn parse_ceremony(value: Option<Value>) -> Option<AuthenticationState> {
    serde_json::from_value(value?).ok()
}

/// `POST /v1/auth/passkey/options`: a discoverable sign-in's options.
/// Names no account, so it reveals none.
pub async fn sign_in_options(
    state: &AppState,
    meta: &RequestMeta,
) -> Result<PasskeyOptions, ApiError> {
    let rp = relying_party(state)?;
    meta.limit(state, Bucket::Login).await?;
    let (options, ceremony) = rp
        .start_authentication(Vec::new())
        .map_err(|e| ApiError::Internal(format!("passkey options: {e:?}")))?;
    let ceremony = serde_json::to_value(&ceremony).unwrap_or(Value::Null);
    let flow_id = open_flow(state, ACTION_SIGN_IN, None, ceremony).await?;
    Ok(PasskeyOptions { flow_id, options })
}

/// `POST /v1/auth/passkey`: signs in with a discoverable passkey.
pub async fn sign_in(
    state: &AppState,
    flow_id: &str,
    credential: Value,
    meta: &RequestMeta,
) -> Result<SignInAnswer, ApiError> {
    relying_party(state)?;
    meta.limit(state, Bucket::Login).await?;
    let ceremony = take_flow(state, ACTION_SIGN_IN, None, flow_id).await?;
    let (Some(ceremony), Ok(response)) = (
        parse_ceremony(ceremony),
        serde_json::from_value::<PublicKeyCredential>(credential),
    ) else {
        return Err(ApiError::InvalidCredentials);
    };
    let id = b64url(&response.raw_id);
    let Some(row) = state.store.passkey_by_credential(&id).await? else {
        return Err(ApiError::InvalidCredentials);
    };
    // Usernameless: the user handle is required and names the owner.
    if response.response.user_handle.is_none() {
        return Err(refuse(state, meta, Refusal::Other(Some(row), "user_handle")).await);
    }
    let user = match state.store.user_by_id(&row.user_id).await? {
        Some(user) if !user.disabled => user,
        _ => return Err(refuse(state, meta, Refusal::Other(Some(row), "disabled")).await),
    };
    let (proof, _) = match assert_with(state, &ceremony, &response, row).await? {
        Ok(done) => done,
        Err(refusal) => return Err(refuse(state, meta, refusal).await),
    };
    let email_key = Email::parse(&user.email)
        .map(|e| e.normalized())
        .unwrap_or_else(|_| user.email.to_lowercase());
    let assurance = proof.assurance();
    signin::finish(
        state,
        &user,
        email_key,
        None,
        meta,
        "login.passkey",
        assurance,
    )
    .await
}

/// Options to assert one of `user`'s passkeys (the MFA step, and
/// reauthentication): the user's credentials in `allowCredentials`. 404
/// `not_found` when the user has none.
pub async fn options_for_user(
    state: &AppState,
    user: &UserRecord,
) -> Result<PasskeyOptions, ApiError> {
    let rp = relying_party(state)?;
    let rows = state.store.passkeys_of(&user.id).await?;
    let credentials: Vec<Credential> = rows.iter().filter_map(credential_of).collect();
    if credentials.is_empty() {
        return Err(ApiError::NotFound);
    }
    let (options, ceremony) = rp
        .start_authentication(credentials)
        .map_err(|e| ApiError::Internal(format!("passkey options: {e:?}")))?;
    let ceremony = serde_json::to_value(&ceremony).unwrap_or(Value::Null);
    let flow_id = open_flow(state, ACTION_ASSERT, Some(&user.id), ceremony).await?;
    Ok(PasskeyOptions { flow_id, options })
}

/// Verifies the answer to [`options_for_user`]: the flow must be `user`'s,
/// unused and unexpired, and the assertion valid (401
/// `invalid_credentials` otherwise).
pub async fn verify_for_user(
    state: &AppState,
    user: &UserRecord,
    flow_id: &str,
    credential: Value,
) -> Result<PasskeyProof, ApiError> {
    relying_party(state)?;
    let meta = RequestMeta::default();
    let ceremony = take_flow(state, ACTION_ASSERT, Some(&user.id), flow_id).await?;
    let (Some(ceremony), Ok(response)) = (
        parse_ceremony(ceremony),
        serde_json::from_value::<PublicKeyCredential>(credential),
    ) else {
        return Err(ApiError::InvalidCredentials);
    };
    let id = b64url(&response.raw_id);
    let row = match state.store.passkey_by_credential(&id).await? {
        Some(row) if row.user_id == user.id => row,
        _ => return Err(ApiError::InvalidCredentials),
    };
    match assert_with(state, &ceremony, &response, row).await? {
        Ok((proof, _)) => Ok(proof),
        Err(refusal) => Err(refuse(state, &meta, refusal).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_without_padding() {
        assert_eq!(b64url(b""), "");
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn user_verification_makes_aal_2_and_names_the_factor() {
        let proof = PasskeyProof {
            passkey_id: "p".into(),
            user_verified: true,
            amr: "swk",
        };
        let a = proof.assurance();
        assert_eq!(
            (a.amr, a.aal, a.factor),
            (
                vec!["swk".into(), "user".into()],
                2,
                Some("passkey:p".into())
            )
        );
        let proof = PasskeyProof {
            user_verified: false,
            amr: "hwk",
            ..proof
        };
        let a = proof.assurance();
        assert_eq!((a.amr, a.aal, a.factor), (vec!["hwk".into()], 1, None));
    }
}
