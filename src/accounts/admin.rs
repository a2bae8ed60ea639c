//! The admin rules: managing other people's accounts and reading the audit
//! log (docs/API.md "Admin").
//!
//! Who may call these is decided by the HTTP extractor; every function here
//! takes the acting principal (`api_key:<id>` or `user:<id>`) and writes it
//! into the audit event of the change, in the same transaction.

use serde::Serialize;
use serde_json::{json, Value};

use super::{
    collect, email, new_user_record, parse_email, parse_locale, parse_metadata, parse_name,
    RequestMeta, UserView,
};
use crate::app::AppState;
use crate::clock::rfc3339;
use crate::domain::email::Email;
use crate::domain::metadata::Metadata;
use crate::domain::name::Name;
use crate::error::{ApiError, FieldError};
use crate::mail::{LinkPath, LinkSpec, MailKind, OutgoingMail, ACTION_RESET};
use crate::store::{AdminChange, AuditEvent, AuditRow, UserRecord};

/// Largest page of a list.
pub const MAX_LIMIT: usize = 200;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 50;

/// The user object as admins see it: the user's own view plus what only
/// toktok and its operators set.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = AdminUser)]
pub struct AdminUserView {
    #[serde(flatten)]
    pub user: UserView,
    #[schema(value_type = Object)]
    pub app_metadata: Value,
    pub disabled: bool,
    #[schema(format = DateTime)]
    #[schema(required = true)]
    pub last_login_at: Option<String>,
}

impl From<&UserRecord> for AdminUserView {
    fn from(u: &UserRecord) -> Self {
        AdminUserView {
            user: UserView::from(u),
            app_metadata: u.app_metadata.clone(),
            disabled: u.disabled,
            last_login_at: u.last_login_at.map(rfc3339),
        }
    }
}

/// One page of users; `next` is the id to pass as `after` for the next one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub users: Vec<AdminUserView>,
    #[schema(required = true)]
    pub next: Option<String>,
}

/// One audit event as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditView {
    #[schema(format = DateTime)]
    pub at: String,
    pub kind: String,
    #[schema(required = true)]
    pub user_id: Option<String>,
    #[schema(required = true)]
    pub actor: Option<String>,
    #[schema(required = true)]
    pub ip: Option<String>,
    /// Beyond docs/API.md's list: the client's `User-Agent`, clipped.
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// One page of audit events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditView>,
    #[schema(required = true)]
    pub next: Option<String>,
}

/// What an admin may set on a new account.
#[derive(Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub password: Option<String>,
    pub role: Option<String>,
    pub email_confirmed: Option<bool>,
    pub metadata: Option<Value>,
    pub app_metadata: Option<Value>,
}

/// Roles are short names: 1–64 letters, digits, `_` or `-`.
pub fn check_role(role: &str) -> Result<(), FieldError> {
    let ok = !role.is_empty()
        && role.len() <= 64
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "role",
            "must be 1–64 letters, digits, '_' or '-'",
        ))
    }
}

/// `limit`: absent is the default, else 1..=200.
pub fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::field(
                "limit",
                format!("must be a whole number from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

/// An audit event of an admin's action (also for OAuth clients, which name
/// no user): `actor` is the admin (`api_key:<id>`, `user:<id>`).
pub(super) fn admin_event(
    meta: &RequestMeta,
    actor: &str,
    at: i64,
    kind: &'static str,
    user_id: Option<&str>,
    detail: Value,
) -> AuditEvent {
    let mut event = meta.event(at, kind, user_id, detail);
    event.actor = Some(actor.to_owned());
    event
}

/// Unknown ids and ids that are not UUIDs alike are 404.
async fn existing(state: &AppState, id: &str) -> Result<UserRecord, ApiError> {
    state.store.user_by_id(id).await?.ok_or(ApiError::NotFound)
}

pub async fn list_users(
    state: &AppState,
    email: Option<&str>,
    limit: Option<&str>,
    after: Option<&str>,
) -> Result<UserPage, ApiError> {
    let limit = parse_limit(limit)?;
    let after = match after {
        None | Some("") => None,
        Some(text) => Some(
            uuid::Uuid::parse_str(text)
                .map_err(|_| ApiError::field("after", "must be the id of a user"))?
                .to_string(),
        ),
    };
    let email_key = match email {
        None | Some("") => None,
        // Not an address at all: nothing can match it.
        Some(text) => Some(
            Email::parse(text)
                .map(|e| e.normalized())
                .unwrap_or_else(|_| crate::domain::email::email_key(text)),
        ),
    };
    let mut users = state.store.list_users(email_key, after, limit + 1).await?;
    let next = if users.len() > limit {
        users.truncate(limit);
        users.last().map(|u| u.id.clone())
    } else {
        None
    };
    Ok(UserPage {
        users: users.iter().map(AdminUserView::from).collect(),
        next,
    })
}

pub async fn get_user(state: &AppState, id: &str) -> Result<AdminUserView, ApiError> {
    Ok(AdminUserView::from(&existing(state, id).await?))
}

pub async fn create_user(
    state: &AppState,
    actor: &str,
    input: NewUser,
    meta: &RequestMeta,
) -> Result<AdminUserView, ApiError> {
    let mut errors = Vec::new();
    let email = match parse_email("email", &input.email) {
        Ok(email) => Some(email),
        Err(ApiError::Validation(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(other) => return Err(other),
    };
    let role = input.role.unwrap_or_else(|| "user".to_owned());
    if let Err(e) = check_role(&role) {
        errors.push(e);
    }
    let metadata = parse_metadata("metadata", input.metadata, &mut errors);
    let app_metadata = parse_metadata("app_metadata", input.app_metadata, &mut errors);
    collect(errors)?;
    let Some(email) = email else {
        return Err(ApiError::field("email", "is required"));
    };
    let key = email.normalized();
    let phc = match input.password {
        Some(password) => {
            state.policy.check(&password, Some(&email))?;
            Some(state.hasher.hash(password).await?)
        }
        None => None,
    };
    if state.store.user_by_email_key(&key).await?.is_some() {
        return Err(ApiError::EmailTaken);
    }
    let now = state.now();
    // Created by an operator: the address counts as confirmed unless told.
    let confirmed = input.email_confirmed.unwrap_or(true).then_some(now);
    let has_password = phc.is_some();
    let mut user = new_user_record(&email, &role, phc, confirmed, now);
    if let Some(metadata) = metadata {
        user.metadata = metadata.into_value();
    }
    if let Some(app_metadata) = app_metadata {
        user.app_metadata = app_metadata.into_value();
    }
    let event = admin_event(
        meta,
        actor,
        now,
        "user.registered",
        Some(&user.id),
        json!({ "role": role, "by": "admin" }),
    );
    // Without a password nobody can sign in; a reset link lets the owner
    // choose one.
    let mails = if has_password {
        Vec::new()
    } else {
        email::if_email_on(state, set_password_mail(&user, meta))
    };
    let queued = !mails.is_empty();
    // A concurrent insert of the same address still ends as 409 (unique key).
    state
        .store
        .insert_user(user.clone(), key, event, mails)
        .await?;
    if queued {
        email::mail_queued(state);
    }
    Ok(AdminUserView::from(&user))
}

fn set_password_mail(user: &UserRecord, meta: &RequestMeta) -> OutgoingMail {
    OutgoingMail {
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
        locale: email::mail_locale(Some(user), meta),
    }
}

pub async fn update_user(
    state: &AppState,
    actor: &str,
    id: &str,
    change: AdminChange,
    meta: &RequestMeta,
) -> Result<AdminUserView, ApiError> {
    let AdminChange {
        role,
        disabled,
        email_confirmed,
        metadata,
        app_metadata,
        name,
        locale,
    } = change;
    let mut errors = Vec::new();
    if let Some(Err(e)) = role.as_deref().map(check_role) {
        errors.push(e);
    }
    let name = name.map(|name| parse_name(name, &mut errors));
    let metadata = parse_metadata("metadata", metadata, &mut errors);
    let app_metadata = parse_metadata("app_metadata", app_metadata, &mut errors);
    let locale = parse_locale(locale, &mut errors);
    collect(errors)?;
    let change = AdminChange {
        role,
        disabled,
        email_confirmed,
        metadata: metadata.map(Metadata::into_value),
        app_metadata: app_metadata.map(Metadata::into_value),
        name: name.map(|name| name.map(Name::into_inner)),
        locale,
    };
    let now = state.now();
    let mut fields = Vec::new();
    for (field, set) in [
        ("role", change.role.is_some()),
        ("disabled", change.disabled.is_some()),
        ("email_confirmed", change.email_confirmed.is_some()),
        ("metadata", change.metadata.is_some()),
        ("app_metadata", change.app_metadata.is_some()),
        ("name", change.name.is_some()),
        ("locale", change.locale.is_some()),
    ] {
        if set {
            fields.push(field);
        }
    }
    let mut detail = json!({ "fields": fields });
    if let Some(role) = &change.role {
        detail["role"] = json!(role);
    }
    let mut events = vec![admin_event(
        meta,
        actor,
        now,
        "user.updated",
        Some(id),
        detail,
    )];
    if change.disabled == Some(true) {
        events.push(admin_event(
            meta,
            actor,
            now,
            "user.disabled",
            Some(id),
            json!({}),
        ));
    }
    let user = state
        .store
        .admin_update_user(id, change, now, events)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(AdminUserView::from(&user))
}

pub async fn delete_user(
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
        "user.deleted",
        Some(id),
        json!({ "by": "admin" }),
    );
    if state.store.admin_delete_user(id, event).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

pub async fn logout_user(
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
        "sessions.ended_all",
        Some(id),
        json!({ "by": "admin" }),
    );
    state
        .store
        .admin_end_sessions(id, now, event)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(())
}

pub async fn audit(
    state: &AppState,
    user_id: Option<&str>,
    kind: Option<&str>,
    limit: Option<&str>,
    after: Option<&str>,
) -> Result<AuditPage, ApiError> {
    let limit = parse_limit(limit)?;
    let before = match after {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::field("after", "must be a `next` value of this list"))?,
        ),
    };
    let non_empty = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    let mut rows = state
        .store
        .audit_page(non_empty(user_id), non_empty(kind), before, limit + 1)
        .await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok(AuditPage {
        events: rows.into_iter().map(audit_view).collect(),
        next,
    })
}

fn audit_view(row: AuditRow) -> AuditView {
    AuditView {
        at: rfc3339(row.at),
        kind: row.kind,
        user_id: row.user_id,
        actor: row.actor,
        ip: row.ip,
        user_agent: row.user_agent,
        detail: row.detail,
    }
}

/// Deletes audit events older than `retention_secs`, in batches.
pub async fn sweep_audit(state: &AppState, retention_secs: i64) -> Result<usize, ApiError> {
    const BATCH: usize = 1000;
    let cutoff = state.now() - retention_secs;
    let mut total = 0;
    loop {
        let n = state.store.sweep_audit(cutoff, BATCH).await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}
