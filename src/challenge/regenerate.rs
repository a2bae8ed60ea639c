//! `regenerate`: a new secret of the same kind; the old one is dead at once.

use super::engine::spec_of;
use super::row::{RowChange, RowKey, Step};
use super::*;

impl Engine {
    /// A new secret of the same kind and encryption; the old one is dead at
    /// once. Expiry, metadata, throttle and the attempt count are kept (so
    /// regenerating is no way around `max_attempts`).
    pub async fn regenerate(&self, by: Lookup) -> Result<Regenerated, ChallengeError> {
        let namespace = Namespace::Api;
        let key = match by {
            Lookup::Uid(uid) => RowKey::Uid { namespace, uid },
            Lookup::Pair { action, id } => RowKey::Pair {
                namespace,
                action,
                id,
            },
            Lookup::Token(_) => {
                return Err(invalid("token", "regenerate takes uid, or action and id"))
            }
            Lookup::Secret { .. } => {
                return Err(invalid("secret", "regenerate takes uid, or action and id"))
            }
        };
        let inner = self.inner.clone();
        let now = inner.clock.now();
        self.inner
            .steps
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound));
                };
                let spec = match spec_of(row) {
                    Ok(Some(spec)) if row.secret_hash.is_some() => spec,
                    Ok(_) => return Step::new(RowChange::Keep, Err(ChallengeError::NoSecret)),
                    Err(e) => return Step::new(RowChange::Keep, Err(e)),
                };
                match inner.issue(
                    &spec,
                    row.namespace,
                    &row.action,
                    &row.id,
                    row.uid.as_deref(),
                ) {
                    Ok((hash, secret)) => Step::new(
                        RowChange::Update {
                            secret_hash: Some(hash),
                            verified_at: row.verified_at,
                            attempts: row.attempts,
                        },
                        Ok(Regenerated {
                            secret,
                            uid: row.uid.clone(),
                        }),
                    ),
                    Err(e) => Step::new(RowChange::Keep, Err(e)),
                }
            })
            .await?
    }
}
