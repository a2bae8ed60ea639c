//! The webhook events (docs/API.md "Hooks", docs/webhooks.md): their names,
//! and which audit events report them.
//!
//! Every change toktok makes writes its audit event through one function
//! (`store::flows::audit`), in the change's own transaction; that function
//! asks [`event_for_audit`] whether the audit kind is also a webhook event
//! and, when an endpoint subscribes, queues the delivery right there. The
//! two session events come from the `sessions` table itself (triggers in
//! the schema), so no path that starts or ends a session can skip them.

/// Every event an endpoint can subscribe to.
pub const EVENTS: &[&str] = &[
    USER_CREATED,
    USER_UPDATED,
    USER_DELETED,
    USER_EMAIL_CHANGED,
    USER_DISABLED,
    SESSION_CREATED,
    SESSION_REVOKED,
    PASSWORD_CHANGED,
    FACTORS_CHANGED,
];

pub const USER_CREATED: &str = "user.created";
pub const USER_UPDATED: &str = "user.updated";
pub const USER_DELETED: &str = "user.deleted";
pub const USER_EMAIL_CHANGED: &str = "user.email_changed";
pub const USER_DISABLED: &str = "user.disabled";
/// Queued by the `sessions` insert trigger.
pub const SESSION_CREATED: &str = "session.created";
/// Queued by the `sessions` revoke trigger (`revoked_at` set).
pub const SESSION_REVOKED: &str = "session.revoked";
pub const PASSWORD_CHANGED: &str = "password.changed";
pub const FACTORS_CHANGED: &str = "factors.changed";
/// Sent only by "send test event", only to that endpoint.
pub const TEST: &str = "webhook.test";

/// The webhook event an audit kind reports, if any.
pub fn event_for_audit(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "user.registered" => USER_CREATED,
        "user.updated" | "user.confirmed" => USER_UPDATED,
        "user.deleted" => USER_DELETED,
        "email.changed" => USER_EMAIL_CHANGED,
        "user.disabled" => USER_DISABLED,
        "password.changed" | "password.reset" => PASSWORD_CHANGED,
        "totp.enabled"
        | "totp.disabled"
        | "passkey.added"
        | "passkey.removed"
        | "recovery_codes.generated"
        | "factors.reset" => FACTORS_CHANGED,
        _ => return None,
    })
}

/// A new message id (`webhook-id`): `msg_` and a random UUID in hex, the
/// form the specification's examples use.
pub fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

/// The prefix of a Standard Webhooks secret's text.
pub const SECRET_PREFIX: &str = "whsec_";

/// Why a text is not a Standard Webhooks secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret is \"whsec_\" followed by base64")]
    Format,
    #[error("a webhook secret holds 24 to 64 bytes")]
    Length,
}

/// The key bytes of `whsec_<base64>` (24 to 64 of them, the range the
/// specification recommends).
pub fn secret_bytes(text: &str) -> Result<Vec<u8>, SecretError> {
    use base64::Engine as _;
    let b64 = text
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SecretError::Format)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| SecretError::Format)?;
    if !(24..=64).contains(&bytes.len()) {
        return Err(SecretError::Length);
    }
    Ok(bytes)
}

/// What changed, for `factors.changed` and `password.changed`: the audit
/// kind's own words (`totp.enabled`, `password.reset`, …).
pub fn change_of(kind: &str) -> Option<&str> {
    match event_for_audit(kind) {
        Some(FACTORS_CHANGED) | Some(PASSWORD_CHANGED) => Some(kind),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_kind_names_a_known_event() {
        for kind in [
            "user.registered",
            "user.updated",
            "user.confirmed",
            "user.deleted",
            "email.changed",
            "user.disabled",
            "password.changed",
            "password.reset",
            "totp.enabled",
            "passkey.removed",
            "factors.reset",
        ] {
            let event = event_for_audit(kind).unwrap();
            assert!(EVENTS.contains(&event), "{kind} → {event}");
        }
        assert_eq!(event_for_audit("login.failed"), None);
        assert_eq!(change_of("password.reset"), Some("password.reset"));
        assert_eq!(change_of("user.updated"), None);
    }
}
