//! `create`: validate, draw the secret, and replace the (action, id)'s
//! challenge unless its throttle still runs.

use serde_json::Value;

use super::engine::settings_of;
use super::row::{ChallengeRow, RowChange, RowKey, Step};
use super::*;

impl Engine {
    /// Validates `params` and creates the challenge (namespace `Api`).
    pub async fn create(&self, params: CreateParams) -> Result<Created, ChallengeError> {
        self.create_in(Namespace::Api, params).await
    }

    /// Validates `params` and creates the challenge in `namespace`. In
    /// `Api`, an action starting `toktok:` is refused (TT-01).
    pub async fn create_in(
        &self,
        namespace: Namespace,
        params: CreateParams,
    ) -> Result<Created, ChallengeError> {
        let reserved = namespace == Namespace::Api
            && matches!(&params.action, Some(Value::String(a)) if a.starts_with(LINK_PREFIX));
        let new = params.validate().map_err(ChallengeError::Invalid)?;
        if reserved {
            return Err(invalid(
                "action",
                "must not start with \"toktok:\": that prefix is reserved for toktok's own email links",
            ));
        }
        self.create_new_in(namespace, new).await
    }

    #[cfg(any(test, feature = "testing"))]
    /// Creates a challenge (namespace `Api`); see [`Engine::create_new_in`].
    pub async fn create_new(&self, new: NewChallenge) -> Result<Created, ChallengeError> {
        self.create_new_in(Namespace::Api, new).await
    }

    /// Creates a challenge in `namespace`, replacing any previous one of its
    /// (action, id) unless that one's throttle still runs.
    pub async fn create_new_in(
        &self,
        namespace: Namespace,
        new: NewChallenge,
    ) -> Result<Created, ChallengeError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let action = new.action.as_str().to_owned();
        let id = new.id.as_str().to_owned();
        let uid = if new.regenerate {
            Some(inner.new_uid()?)
        } else {
            None
        };
        let (secret_hash, secret) = match &new.secret {
            Some(spec) => {
                let (hash, out) = inner.issue(spec, namespace, &action, &id, uid.as_deref())?;
                (Some(hash), Some(out))
            }
            None => (None, None),
        };
        let row = ChallengeRow {
            namespace,
            action: action.clone(),
            id: id.clone(),
            uid: uid.clone(),
            settings: settings_of(new.secret.as_ref())?,
            secret_hash,
            metadata: new.metadata,
            created_at: now,
            verified_at: None,
            ttl: i64::from(new.ttl),
            expires_at: (new.ttl > 0).then(|| now.saturating_add(i64::from(new.ttl))),
            throttle: i64::from(new.throttle),
            throttle_until: (new.throttle > 0).then(|| now.saturating_add(i64::from(new.throttle))),
            attempts: 0,
        };
        let key = RowKey::Pair {
            namespace,
            action: action.clone(),
            id: id.clone(),
        };
        inner
            .steps
            .step(key, now, move |existing| {
                let running = existing
                    .and_then(|e| e.throttle_until)
                    .filter(|&until| until > now);
                match running {
                    Some(until) => Step::new(
                        RowChange::Keep,
                        Err(ChallengeError::Throttled {
                            retry_after: u64::try_from(until - now).unwrap_or(1).max(1),
                        }),
                    ),
                    None => Step::new(RowChange::Replace(Box::new(row)), Ok(())),
                }
            })
            .await??;
        Ok(Created {
            action,
            id,
            uid,
            secret,
        })
    }
}
