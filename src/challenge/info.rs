//! `info`: a challenge without its secret; by token or secret, a wrong
//! one counts as an attempt, so `info` is no free oracle (E8).

use super::engine::{record, Judgement, Presented};
use super::row::{RowChange, RowKey, Step};
use super::*;

impl Engine {
    /// The challenge, without its secret (namespace `Api`).
    pub async fn info(&self, by: Lookup) -> Result<Record, ChallengeError> {
        self.info_in(Namespace::Api, by).await
    }

    /// The challenge in `namespace`, without its secret. By token or
    /// secret, the secret must be right, and a wrong one counts as an
    /// attempt.
    pub async fn info_in(
        &self,
        namespace: Namespace,
        by: Lookup,
    ) -> Result<Record, ChallengeError> {
        let inner = self.inner.clone();
        let now = inner.clock.now();
        let presented = match by {
            Lookup::Uid(uid) => return self.read(RowKey::Uid { namespace, uid }, now).await,
            Lookup::Pair { action, id } => {
                let key = RowKey::Pair {
                    namespace,
                    action,
                    id,
                };
                return self.read(key, now).await;
            }
            Lookup::Token(token) => inner.open(&token, namespace)?,
            Lookup::Secret { action, id, secret } => Presented {
                action,
                id,
                uid: None,
                secret,
            },
        };
        let key = RowKey::Pair {
            namespace,
            action: presented.action.clone(),
            id: presented.id.clone(),
        };
        self.inner
            .steps
            .step(key, now, move |row| {
                let Some(row) = row else {
                    return Step::new(RowChange::Keep, Err(ChallengeError::NotFound));
                };
                match inner.judge(row, &presented, true) {
                    Judgement::Right => Step::new(RowChange::Keep, Ok(record(row, false))),
                    Judgement::Wrong(change) => Step::new(change, Err(ChallengeError::NotFound)),
                }
            })
            .await?
    }

    async fn read(&self, key: RowKey, now: i64) -> Result<Record, ChallengeError> {
        let row = self.inner.store.challenge(key, now).await?;
        row.map(|row| record(&row, false))
            .ok_or(ChallengeError::NotFound)
    }
}
