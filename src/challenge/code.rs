//! A challenge that verifies two ways: a short code typed by a person, and
//! a link token that carries the same code sealed (toktok's email codes).
//!
//! Both name one row, so using either consumes the row and the other dies
//! with it; wrong codes count towards `max_attempts` like any secret (E8).

use std::sync::PoisonError;

use serde_json::{json, Value};

use super::token::Claims;
use super::*;

/// What [`Engine::create_code_in`] hands out.
pub struct CodeAndToken {
    /// The plain digits, for a person to type.
    pub code: String,
    /// The code sealed with its action and id: alone it verifies.
    pub token: String,
}

impl std::fmt::Debug for CodeAndToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeAndToken([redacted])")
    }
}

impl Engine {
    /// Creates (replacing) the (action, id) challenge of `namespace` with a
    /// `digits`-long number secret (CSPRNG, no modulo bias), and answers
    /// with the code and a token sealing it.
    pub async fn create_code_in(
        &self,
        namespace: Namespace,
        action: &str,
        id: &str,
        ttl_secs: u64,
        digits: usize,
        metadata: Value,
    ) -> Result<CodeAndToken, ChallengeError> {
        let mut params = CreateParams::new(action, id);
        params.ttl = Some(json!(ttl_secs));
        params.secret = Some(json!({ "type": "number", "length": digits, "encrypt": false }));
        if !metadata.is_null() {
            params.metadata = Some(metadata);
        }
        let new = params.validate().map_err(ChallengeError::Invalid)?;
        let created = self.create_new_in(namespace, new).await?;
        let code = created.secret.ok_or(ChallengeError::NoSecret)?;
        let claims = Claims {
            action: action.to_owned(),
            id: id.to_owned(),
            uid: None,
            secret: code.clone(),
        };
        let token = self
            .inner
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .seal(&claims, namespace, &self.inner.rng)
            .map_err(|_| random_failure())?;
        Ok(CodeAndToken { code, token })
    }
}
