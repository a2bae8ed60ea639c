//! Claims beyond toktok's own (docs/token-claims.md): members of the
//! user's `app_metadata` named in `[claims] from_app_metadata`, then what
//! the `[hooks.access_token]` HTTP hook answers. Both go into first-party
//! access tokens and OIDC access and ID tokens; neither can set a
//! registered or toktok-owned claim ([`PROTECTED_CLAIMS`]) nor one the
//! token already has: such a claim is dropped, with a warning.
//!
//! A hook that fails (timeout, error, a bad answer) denies the token (502
//! `hook_failed`) with `on_error = "deny"`, or is passed over with
//! `"skip"`. At `/v1/auth/refresh` the hook is asked before the token
//! rotates (`refresh::signed_before_rotation`), so a denied refresh leaves
//! the token as it was.

use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::config::{HookOnError, PROTECTED_CLAIMS};
use crate::error::ApiError;
use crate::store::{SessionRecord, UserRecord};

/// Whether any extra claim can come: without it, tokens are signed as
/// before, with no JSON round trip.
pub fn any(state: &AppState) -> bool {
    !state.config.claims.from_app_metadata.is_empty() || state.access_token_hook.is_some()
}

/// Which token the claims are for: the hook is told, as `"token"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFor {
    Access,
    Id,
}

/// Adds the extra claims for `user` (signing in through `session`, for
/// `client_id`) to `claims`, the token's claims as they stand.
pub async fn extend(
    state: &AppState,
    user: &UserRecord,
    session: Option<&SessionRecord>,
    client_id: &str,
    token: TokenFor,
    claims: &mut Map<String, Value>,
) -> Result<(), ApiError> {
    let mut extra = Map::new();
    for name in &state.config.claims.from_app_metadata {
        if let Some(v) = user.app_metadata.get(name) {
            extra.insert(name.clone(), v.clone());
        }
    }
    merge(claims, extra, "app_metadata");
    let Some(hook) = &state.access_token_hook else {
        return Ok(());
    };
    let input = json!({
        "user": {
            "id": user.id,
            "email": user.email,
            "email_confirmed": user.email_confirmed_at.is_some(),
            "name": user.name,
            "role": user.role,
            "metadata": user.metadata,
            "app_metadata": user.app_metadata,
        },
        "session": session.map(|s| json!({ "id": s.id, "aal": s.aal, "amr": s.amr })),
        "client_id": client_id,
        "token": match token { TokenFor::Access => "access", TokenFor::Id => "id" },
        "claims": claims,
    });
    match hook.call(&input, state.now(), &state.metrics).await {
        Ok(answered) => {
            merge(claims, answered, "the access-token hook");
            Ok(())
        }
        Err(e) => match hook.on_error {
            HookOnError::Deny => {
                tracing::warn!(error = %e, "access-token hook failed; no token issued");
                Err(ApiError::HookFailed)
            }
            HookOnError::Skip => {
                tracing::warn!(error = %e, "access-token hook failed; token issued without its claims");
                Ok(())
            }
        },
    }
}

/// Adds `extra` to `claims`, except protected claims and claims already
/// there.
fn merge(claims: &mut Map<String, Value>, extra: Map<String, Value>, from: &str) {
    for (name, value) in extra {
        if PROTECTED_CLAIMS.contains(&name.as_str()) || claims.contains_key(&name) {
            tracing::warn!(claim = %name, from, "a claim toktok sets itself was not overridden");
            continue;
        }
        claims.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_and_present_claims_are_kept() {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("u1"));
        claims.insert("team".into(), json!("a"));
        let extra = json!({ "sub": "admin", "aud": "x", "exp": 1, "team": "b", "plan": "pro" });
        let Value::Object(extra) = extra else {
            unreachable!()
        };
        merge(&mut claims, extra, "test");
        assert_eq!(
            Value::Object(claims),
            json!({ "sub": "u1", "team": "a", "plan": "pro" })
        );
    }
}
