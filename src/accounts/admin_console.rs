//! The admin rules the console (`http::console`) needs beyond the admin
//! API: one user's whole picture (sessions, factors, identities), a
//! password-reset link sent by an administrator, API keys made and revoked
//! by one, and the mail queue (list, retry). Like `admin`, every function
//! takes the acting principal (`user:<id>`) and writes it into the audit
//! event of the change, in the same transaction.

use serde_json::json;

use super::admin::admin_event;
use super::email::{self, queue_per_address};
use super::identities::IdentityView;
use super::passkeys::PasskeyView;
use super::sessions::SessionView;
use super::RequestMeta;
use crate::app::AppState;
use crate::auth::api_keys::{self, NewKeyError, Scope};
use crate::clock::rfc3339;
use crate::error::{ApiError, FieldError};
use crate::mail::{LinkPath, LinkSpec, MailKind, OutgoingMail, ACTION_RESET};
use crate::store::{ApiKeyRecord, OutboxRow, UserRecord};

/// What an administrator sees of one user beside the user object.
#[derive(Debug)]
pub struct UserDetail {
    pub sessions: Vec<SessionView>,
    /// When TOTP was turned on; `None` while it is off.
    pub totp_since: Option<String>,
    pub passkeys: Vec<PasskeyView>,
    pub recovery_remaining: i64,
    pub identities: Vec<IdentityView>,
}

/// The live sessions, factors and linked identities of user `user`.
pub async fn user_detail(state: &AppState, user: &UserRecord) -> Result<UserDetail, ApiError> {
    let sessions = state
        .store
        .list_sessions(&user.id, state.now())
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: false,
            id: s.id,
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect();
    let factors = state.store.factors(&user.id).await?;
    let identities = state
        .store
        .identities_of(&user.id)
        .await?
        .iter()
        .map(IdentityView::from)
        .collect();
    Ok(UserDetail {
        sessions,
        totp_since: factors.totp_since.map(rfc3339),
        passkeys: super::passkeys::list(state, &user.id).await?,
        recovery_remaining: factors.recovery_remaining,
        identities,
    })
}

/// Mails user `id` a password-reset link, as `POST
/// /v1/auth/password/forgot` would, audited as `password.reset_requested`
/// by `actor`. The same per-address throttle applies: `Ok(false)` when a
/// link went to the user within the last minute (none is queued). A
/// disabled account gets none (409: it could not use it).
pub async fn send_reset_link(
    state: &AppState,
    actor: &str,
    id: &str,
    meta: &RequestMeta,
) -> Result<bool, ApiError> {
    email::require_email(state)?;
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if user.disabled {
        return Err(ApiError::Conflict(
            "the account is disabled: enable it first".to_owned(),
        ));
    }
    let mail = OutgoingMail {
        kind: MailKind::ResetPassword,
        to: user.email.clone(),
        user_id: Some(user.id.clone()),
        link: Some(LinkSpec {
            action: ACTION_RESET.to_owned(),
            id: user.id.clone(),
            path: LinkPath::ResetPassword,
            metadata: json!({}),
        }),
        vars: json!({ "email": user.email }),
        locale: email::mail_locale(Some(&user), meta),
    };
    let event = admin_event(
        meta,
        actor,
        state.now(),
        "password.reset_requested",
        Some(&user.id),
        json!({ "by": "admin" }),
    );
    // The key the address is throttled by, as `forgot` computes it.
    let key = super::parse_email("email", &user.email)?.normalized();
    let kind = MailKind::ResetPassword;
    let queued = queue_per_address(state, vec![mail], kind, &key, Some(&user), Some(event)).await?;
    if queued {
        email::mail_queued(state);
    }
    Ok(queued)
}

/// Makes an API key named `name` with `scopes` (the rules of
/// `auth::api_keys::new_key`, as for `toktok api-key create`); the key is
/// returned this once. A refusal names its field (`name`, `scopes`).
pub async fn create_api_key(
    state: &AppState,
    actor: &str,
    name: &str,
    scopes: Vec<Scope>,
    meta: &RequestMeta,
) -> Result<(String, ApiKeyRecord), ApiError> {
    let now = state.now();
    let new = api_keys::new_key(name, scopes, now).map_err(|e| match e {
        NewKeyError::NoScope => ApiError::field("scopes", e.to_string()),
        NewKeyError::Random(_) => ApiError::Internal(e.to_string()),
        _ => ApiError::Validation(vec![FieldError::new("name", e.to_string())]),
    })?;
    let detail = api_keys::created_detail(&new.record);
    let event = admin_event(meta, actor, now, "api_key.created", None, detail);
    let record = new.record.clone();
    state
        .store
        .insert_api_key(new.record, new.hash, event)
        .await?;
    Ok((new.key, record))
}

/// Revokes live API key `id`; 404 when there is none (unknown or revoked).
pub async fn revoke_api_key(
    state: &AppState,
    actor: &str,
    id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = admin_event(
        meta,
        actor,
        now,
        "api_key.revoked",
        None,
        json!({ "id": id }),
    );
    if state.store.revoke_api_key(id, now, event).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Most rows of each part of the mail queue shown at once.
pub const OUTBOX_PAGE: usize = 200;

/// The mail queue: messages waiting (earliest due first) and messages
/// given up on (latest first).
pub async fn outbox(state: &AppState) -> Result<(Vec<OutboxRow>, Vec<OutboxRow>), ApiError> {
    let pending = state.store.outbox_list(false, OUTBOX_PAGE).await?;
    let failed = state.store.outbox_list(true, OUTBOX_PAGE).await?;
    Ok((pending, failed))
}

/// Queues failed message `id` again, due now, audited as `mail.retried`;
/// 404 when no failed message has this id.
pub async fn retry_mail(
    state: &AppState,
    actor: &str,
    id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = admin_event(meta, actor, now, "mail.retried", None, json!({ "id": id }));
    if state.store.retry_mail(id, now, event).await? {
        email::mail_queued(state);
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}
