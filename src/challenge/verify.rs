//! `verify`: check a token or a plain secret, mark the challenge
//! verified and (by default) consume it, in one transaction (E2), with an
//! optional audit event.

use serde_json::json;

use super::engine::{record, Judgement, Presented};
use super::row::{RowChange, RowKey, Step};
use super::*;
use crate::store::AuditEvent;

impl Engine {
    /// Checks a token, or a plain secret with its action and id; on success
    /// marks the challenge verified (the first time) and, with `erase`,
    /// deletes it. One transaction: of N concurrent verifications of one
    /// challenge exactly one consumes it.
    pub async fn verify(
        &self,
        by: Lookup,
        options: VerifyOptions,
        audit: Option<AuditContext>,
    ) -> Result<Record, ChallengeError> {
        self.verify_in(Namespace::Api, by, options, audit).await
    }

    /// [`Engine::verify`] in `namespace`.
    pub async fn verify_in(
        &self,
        namespace: Namespace,
        by: Lookup,
        options: VerifyOptions,
        audit: Option<AuditContext>,
    ) -> Result<Record, ChallengeError> {
        let inner = self.inner.clone();
        let presented = match by {
            Lookup::Token(token) => inner.open(&token, namespace)?,
            Lookup::Secret { action, id, secret } => Presented {
                action,
                id,
                uid: None,
                secret,
            },
            Lookup::Uid(_) => {
                return Err(invalid(
                    "uid",
                    "verify takes a token, or action, id and secret",
                ))
            }
            Lookup::Pair { .. } => return Err(invalid("secret", "is required to verify")),
        };
        let now = inner.clock.now();
        let audit = audit.unwrap_or_default();
        let (action, id) = (presented.action.clone(), presented.id.clone());
        let event = move |success: bool| {
            options.log.then(|| AuditEvent {
                at: now,
                kind: AUDIT_KIND,
                user_id: None,
                actor: audit.actor.clone(),
                ip: audit.ip.clone(),
                user_agent: audit.user_agent.clone(),
                detail: json!({ "action": action, "id": id, "success": success }),
            })
        };
        if let Some(control) = &options.control {
            let id_differs = control.id.as_ref().is_some_and(|c| *c != presented.id);
            let action_differs = control
                .action
                .as_ref()
                .is_some_and(|c| *c != presented.action);
            if id_differs || action_differs {
                if let Some(e) = event(false) {
                    inner.store.audit(e).await?;
                }
                return Err(ChallengeError::ControlMismatch);
            }
        }
        let key = RowKey::Pair {
            namespace,
            action: presented.action.clone(),
            id: presented.id.clone(),
        };
        let erase = options.erase;
        self.inner
            .steps
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound))
                        .audited(event(false));
                };
                match inner.judge(row, &presented, true) {
                    Judgement::Wrong(change) => {
                        Step::new(change, Err(ChallengeError::NotFound)).audited(event(false))
                    }
                    Judgement::Right => {
                        let first = row.verified_at.is_none();
                        let mut verified = row.clone();
                        verified.verified_at = Some(row.verified_at.unwrap_or(now));
                        let change = if erase {
                            RowChange::Delete
                        } else {
                            RowChange::Update {
                                secret_hash: row.secret_hash.clone(),
                                verified_at: verified.verified_at,
                                attempts: row.attempts,
                            }
                        };
                        Step::new(change, Ok(record(&verified, first))).audited(event(true))
                    }
                }
            })
            .await?
    }
}
