//! A user's sessions: sign out (one or all), list, end one.

use serde::Serialize;
use serde_json::json;

use super::{Authenticated, RequestMeta};
use crate::app::AppState;
use crate::clock::rfc3339;
use crate::error::ApiError;

pub async fn logout(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    match end_session(state, who, &who.session.id, meta).await {
        // Ended by a concurrent request since the token was checked: done too.
        Err(ApiError::NotFound) => Ok(()),
        other => other,
    }
}

pub async fn logout_all(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = meta.event(now, "sessions.ended_all", Some(&who.user.id), json!({}));
    state
        .store
        .end_all_sessions(&who.user.id, now, event)
        .await?;
    Ok(())
}
/// One entry of the sessions list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: String,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(required = true)]
    pub ip: Option<String>,
    pub current: bool,
}

pub async fn sessions(state: &AppState, who: &Authenticated) -> Result<Vec<SessionView>, ApiError> {
    let list = state.store.list_sessions(&who.user.id, state.now()).await?;
    Ok(list
        .into_iter()
        .map(|s| SessionView {
            current: s.id == who.session.id,
            id: s.id,
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
}

pub async fn end_session(
    state: &AppState,
    who: &Authenticated,
    sid: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = meta.event(
        now,
        "session.ended",
        Some(&who.user.id),
        json!({ "session": sid }),
    );
    if state
        .store
        .end_session(&who.user.id, sid, now, event)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Ends every session of the user but `who`'s own ("sign out everywhere
/// else"): each as [`end_session`] would, with its own `session.ended`
/// event. Answers how many ended.
pub async fn end_other_sessions(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<usize, ApiError> {
    let list = state.store.list_sessions(&who.user.id, state.now()).await?;
    let mut ended = 0;
    for session in list.iter().filter(|s| s.id != who.session.id) {
        match end_session(state, who, &session.id, meta).await {
            Ok(()) => ended += 1,
            // Ended meanwhile (expired, signed out): nothing to do.
            Err(ApiError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ended)
}
