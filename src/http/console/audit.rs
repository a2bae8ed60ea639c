//! The audit log (`GET /admin/audit?user_id=&kind=&after=`): the admin
//! API's `GET /v1/admin/audit`, newest first, filtered by user and kind,
//! paged by its `after` cursor.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{context, Value};

use super::users::{pairs_query, param, query};
use super::{enter, failed, render, View};
use crate::accounts::admin::{self, AuditPage};
use crate::app::AppState;
use crate::error::ApiError;

/// The kinds offered in the filter's list (any other can be typed in the
/// address): docs/API.md's, and those of later issues.
const KINDS: &[&str] = &[
    "user.registered",
    "user.confirmed",
    "login.succeeded",
    "login.failed",
    "login.locked",
    "login.passkey",
    "login.email_code",
    "login.provider",
    "mfa.challenged",
    "mfa.succeeded",
    "mfa.failed",
    "refresh.reused",
    "session.ended",
    "sessions.ended_all",
    "password.changed",
    "password.reset_requested",
    "password.reset",
    "email.change_requested",
    "email.changed",
    "user.updated",
    "user.disabled",
    "user.deleted",
    "factors.reset",
    "totp.enabled",
    "totp.disabled",
    "passkey.added",
    "passkey.removed",
    "recovery_codes.generated",
    "recovery_code.used",
    "identity.linked",
    "identity.unlinked",
    "api_key.created",
    "api_key.revoked",
    "oauth.client_created",
    "oauth.client_updated",
    "oauth.client_deleted",
    "oauth.client_secret_rotated",
    "oauth.authorized",
    "oauth.consent_revoked",
    "challenge.verified",
    "mail.failed",
    "mail.retried",
];

/// `GET /admin/audit`.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let pairs = query(raw);
    let user_id = param(&pairs, "user_id").trim();
    let kind = param(&pairs, "kind").trim();
    let after = param(&pairs, "after");
    let lang = &console.lang;
    let (page, error, status) =
        match admin::audit(&state, Some(user_id), Some(kind), None, Some(after)).await {
            Ok(page) => (page, None, StatusCode::OK),
            Err(e @ ApiError::Validation(_)) => (
                AuditPage {
                    events: Vec::new(),
                    next: None,
                },
                Some(lang.text("admin-users-bad-cursor", &[])),
                e.parts().0,
            ),
            Err(e) => return failed(&state, &console, &e),
        };
    let next = page.next.as_ref().map(|n| {
        let q = pairs_query(&[("user_id", user_id), ("kind", kind), ("after", n)]);
        format!("/admin/audit?{q}")
    });
    let ctx = context! {
        user_id,
        kind,
        kinds => KINDS.iter().copied().collect::<Value>(),
        events => super::events_value(&page.events),
        next,
        filtered => !user_id.is_empty() || !kind.is_empty(),
    };
    let view = View::new(
        "/admin/audit",
        "admin_audit.html",
        lang.text("admin-audit-title", &[]),
        ctx,
    )
    .status(status)
    .error(error);
    render(&state, &headers, &console, view)
}
