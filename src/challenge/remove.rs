//! `remove`: delete a challenge and its throttle; by token, only with the
//! challenge's current token.

use super::engine::Judgement;
use super::row::{RowChange, RowKey, Step};
use super::*;

impl Engine {
    /// Deletes a challenge (and its throttle). By token, the token must be
    /// the challenge's current one.
    pub async fn remove(&self, by: Lookup) -> Result<(), ChallengeError> {
        self.remove_in(Namespace::Api, by).await
    }

    /// [`Engine::remove`] in `namespace`.
    pub async fn remove_in(&self, namespace: Namespace, by: Lookup) -> Result<(), ChallengeError> {
        let inner = self.inner.clone();
        let now = inner.clock.now();
        let (key, presented) = match by {
            Lookup::Uid(uid) => (RowKey::Uid { namespace, uid }, None),
            Lookup::Pair { action, id } => (
                RowKey::Pair {
                    namespace,
                    action,
                    id,
                },
                None,
            ),
            Lookup::Token(token) => {
                let presented = inner.open(&token, namespace)?;
                let key = RowKey::Pair {
                    namespace,
                    action: presented.action.clone(),
                    id: presented.id.clone(),
                };
                (key, Some(presented))
            }
            Lookup::Secret { .. } => {
                return Err(invalid(
                    "secret",
                    "remove takes uid, token, or action and id",
                ))
            }
        };
        self.inner
            .steps
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound));
                };
                match &presented {
                    Some(p) if matches!(inner.judge(row, p, false), Judgement::Wrong(_)) => {
                        Step::new(RowChange::Keep, Err(ChallengeError::NotFound))
                    }
                    _ => Step::new(RowChange::Delete, Ok(())),
                }
            })
            .await?
    }
}
