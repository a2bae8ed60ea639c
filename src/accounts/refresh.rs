//! Refresh-token rotation (R1–R4): the store-bound flow and the rules
//! ([`decide_refresh`]) that say rotate, replay, revoke or reject.
//!
//! The same flow serves toktok's own `/v1/auth/refresh` ([`refresh`]) and
//! the OpenID Connect token endpoint's `refresh_token` grant
//! (`crate::oidc::token`, through [`rotate`]): every client's refresh
//! tokens rotate with reuse detection. A session belongs to one party —
//! toktok itself (`client_id` NULL) or one OAuth client — and a refresh
//! token presented by any other is refused without touching the session.

use serde_json::json;

use super::{tokens, RequestMeta, TokenResponse, LEEWAY_SECS};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::error::ApiError;
use crate::store::{RefreshDecision, SessionRecord, UserRecord};

/// Rotates a refresh token of toktok's own sessions (R1–R4): an opaque
/// `rt_…` one, or a JWT one issued before v1.1 (`tokens::presented_refresh`).
/// A token of an OAuth client's session is `invalid_token` here.
pub async fn refresh(
    state: &AppState,
    token: &str,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    let early = signed_before_rotation(state, token).await?;
    let rotated = rotate(state, token, meta, None).await?;
    let access = match early {
        Some((sid, access)) if sid == rotated.session.id => access,
        _ => tokens::access_token(state, &rotated.user, &rotated.session, rotated.now).await?,
    };
    Ok(tokens::answer(
        state,
        &rotated.user,
        &rotated.session,
        access,
        &rotated.secret,
        rotated.now,
    ))
}

/// With an access-token hook, the access token is signed (the hook asked)
/// before the refresh token rotates: a hook that denies it leaves the
/// presented token as it was, so a client retrying after a hook outage
/// longer than `[jwt] reuse_grace` is not taken for a thief. The session's
/// id and the token, or `None` (no hook, or no live session: the rotation
/// decides).
async fn signed_before_rotation(
    state: &AppState,
    token: &str,
) -> Result<Option<(String, String)>, ApiError> {
    if state.access_token_hook.is_none() {
        return Ok(None);
    }
    let Ok(presented) = tokens::presented_refresh(state, token) else {
        return Ok(None);
    };
    let sid = match presented.key {
        crate::store::SessionKey::Id(sid) => Some(sid),
        crate::store::SessionKey::RefreshHash(hash) => {
            // The current token only: a spent one goes to the rotation,
            // which judges reuse.
            state.store.session_by_refresh_hash(&hash, false).await?
        }
    };
    let Some(sid) = sid else { return Ok(None) };
    let now = state.now();
    let Some((session, user)) = state.store.live_session(&sid, now).await? else {
        return Ok(None);
    };
    if session.client_id.is_some() {
        return Ok(None);
    }
    let access = tokens::access_token(state, &user, &session, now).await?;
    Ok(Some((sid, access)))
}

/// A session whose refresh token was rotated (or replayed inside the
/// grace): the session as it stands now, its user, and the secret of its
/// current refresh token.
#[derive(Debug)]
pub struct Rotated {
    pub session: SessionRecord,
    pub user: UserRecord,
    pub secret: String,
    /// The moment of the rotation, unix seconds.
    pub now: i64,
}

/// The rotation itself, for the party `client_id` (`None`: toktok's own
/// sessions; `Some`: that OAuth client's). A session of another party is
/// rejected (`invalid_token`) and left as it is.
pub async fn rotate(
    state: &AppState,
    token: &str,
    meta: &RequestMeta,
    client_id: Option<&str>,
) -> Result<Rotated, ApiError> {
    let now_ms = state.now_ms();
    let now = now_ms.div_euclid(1000);
    let presented = tokens::presented_refresh(state, token)?;
    let presented_hash = sha256_hex(&presented.secret);
    let successor = tokens::successor_jti(state, &presented.secret);
    let successor_hash = sha256_hex(&successor);
    let grace_ms = i64::try_from(state.config.jwt.reuse_grace.as_millis()).unwrap_or(i64::MAX);
    let idle = state.config.jwt.refresh_idle_ttl.as_secs() as i64;
    let meta_for_event = meta.clone();
    let reuse_event = move |session: &SessionRecord| {
        meta_for_event.event(
            now,
            "refresh.reused",
            Some(&session.user_id),
            json!({ "session": session.id }),
        )
    };
    let attempt = RefreshAttempt {
        subject: presented.subject,
        client_id: client_id.map(str::to_owned),
        presented_hash,
        successor_hash,
        now_ms,
        grace_ms,
        idle_secs: idle,
    };
    let outcome = state
        .store
        .refresh_session(presented.key, now_ms, reuse_event, move |session, user| {
            decide_refresh(session, user, &attempt)
        })
        .await?;
    let Some((decision, session, user)) = outcome else {
        return Err(ApiError::InvalidToken);
    };
    match decision {
        RefreshDecision::Rotate { .. } | RefreshDecision::Replay => {
            state
                .metrics
                .incr("toktok_refresh_total", &[("outcome", "rotated")]);
            Ok(Rotated {
                session,
                user,
                secret: successor,
                now,
            })
        }
        RefreshDecision::RevokeFamily => {
            state
                .metrics
                .incr("toktok_refresh_total", &[("outcome", "reused")]);
            Err(ApiError::TokenReused)
        }
        RefreshDecision::Reject => {
            if session.client_id.as_deref() != client_id {
                return Err(ApiError::InvalidToken);
            }
            let idled = session.is_live(now) && now - session.last_used_at > idle;
            // An opaque token has no `exp` of its own: its family's end is it.
            let ended = session.revoked_at.is_none() && now >= session.expires_at;
            if idled || ended {
                Err(ApiError::TokenExpired)
            } else {
                Err(ApiError::InvalidToken)
            }
        }
    }
}

/// A presented refresh token as the rotation rules see it, with the
/// moment and the limits it is judged by.
#[derive(Debug, Clone)]
pub struct RefreshAttempt {
    /// The user a pre-1.1 JWT refresh token names (an opaque one names none).
    pub subject: Option<String>,
    /// The party presenting it: `None` for toktok's own `/v1/auth/refresh`,
    /// an OAuth client's id at the token endpoint. Only a session of that
    /// party may rotate.
    pub client_id: Option<String>,
    /// SHA-256 of the presented secret.
    pub presented_hash: String,
    /// SHA-256 of the secret its successor gets (`tokens::successor_jti`).
    pub successor_hash: String,
    pub now_ms: i64,
    /// `[jwt] reuse_grace`, in milliseconds.
    pub grace_ms: i64,
    /// `[jwt] refresh_idle_ttl`, in seconds.
    pub idle_secs: i64,
}

/// The rotation rules, free of storage so they can be tested directly.
///
/// The grace is counted exactly, in milliseconds: the predecessor replays
/// while `now_ms - rotated_at_ms < grace_ms`, so a grace of 0 never
/// replays (strict rotation).
pub fn decide_refresh(
    session: &SessionRecord,
    user: &UserRecord,
    attempt: &RefreshAttempt,
) -> RefreshDecision {
    let now_ms = attempt.now_ms;
    let now = now_ms.div_euclid(1000);
    let foreign = attempt
        .subject
        .as_deref()
        .is_some_and(|sub| sub != session.user_id);
    // Another party's session: refused, and left alone (no reuse detection
    // either: the token may be genuine, it is just presented at the wrong
    // place, or by a client that stole it and must learn nothing).
    let other_party = session.client_id != attempt.client_id;
    if foreign || other_party || user.disabled || !session.is_live(now) {
        return RefreshDecision::Reject;
    }
    // The family's head was issued in the future (a clock stepped back):
    // fail closed, as a JWT's `iat` in the future does, until time catches
    // up. The leeway is the JWT one, for instances whose clocks differ.
    if now_ms.saturating_add(LEEWAY_SECS * 1000) < session.rotated_at_ms {
        return RefreshDecision::Reject;
    }
    if now - session.last_used_at > attempt.idle_secs {
        return RefreshDecision::Reject;
    }
    if session.refresh_hash == attempt.presented_hash {
        return RefreshDecision::Rotate {
            successor_hash: attempt.successor_hash.clone(),
        };
    }
    let presented = Some(attempt.presented_hash.as_str());
    let is_predecessor = session.prev_refresh_hash.as_deref() == presented;
    let in_grace = now_ms.saturating_sub(session.rotated_at_ms) < attempt.grace_ms;
    if is_predecessor && in_grace && session.refresh_hash == attempt.successor_hash {
        return RefreshDecision::Replay;
    }
    // A genuine token of this family (its signature and `sid` are ours) that
    // is no longer current: someone kept a copy.
    RefreshDecision::RevokeFamily
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionRecord {
        SessionRecord {
            id: "s".into(),
            user_id: "u".into(),
            refresh_hash: "h1".into(),
            prev_refresh_hash: Some("h0".into()),
            // Rotated at 1000.5 s.
            rotated_at_ms: 1_000_500,
            created_at: 900,
            last_used_at: 1000,
            expires_at: 10_000,
            user_agent: None,
            ip: None,
            revoked_at: None,
            auth_time: 900,
            amr: vec!["pwd".into()],
            aal: 1,
            factor: None,
            client_id: None,
            scope: None,
            parent_id: None,
        }
    }

    fn user() -> UserRecord {
        UserRecord {
            id: "u".into(),
            email: "a@b.io".into(),
            email_confirmed_at: None,
            name: None,
            role: "user".into(),
            metadata: json!({}),
            app_metadata: json!({}),
            password_hash: None,
            disabled: false,
            created_at: 0,
            updated_at: 0,
            last_login_at: None,
            locale: None,
        }
    }

    /// An attempt at `now_ms` with a 10 s grace and a 600 s idle limit.
    fn attempt(
        subject: Option<&str>,
        presented: &str,
        successor: &str,
        now_ms: i64,
    ) -> RefreshAttempt {
        RefreshAttempt {
            subject: subject.map(str::to_owned),
            client_id: None,
            presented_hash: presented.to_owned(),
            successor_hash: successor.to_owned(),
            now_ms,
            grace_ms: 10_000,
            idle_secs: 600,
        }
    }

    /// `decide_refresh` of [`attempt`] on the usual session and user.
    fn decide(
        subject: Option<&str>,
        presented: &str,
        successor: &str,
        now_ms: i64,
    ) -> RefreshDecision {
        decide_refresh(
            &session(),
            &user(),
            &attempt(subject, presented, successor, now_ms),
        )
    }

    #[test]
    fn a_session_rotates_only_for_its_own_party() {
        let mut client_session = session();
        client_session.client_id = Some("c1".into());
        let by = |client: Option<&str>, s: &SessionRecord| {
            let attempt = RefreshAttempt {
                client_id: client.map(str::to_owned),
                ..attempt(None, "h1", "h2", 1_001_000)
            };
            decide_refresh(s, &user(), &attempt)
        };
        let rotate = RefreshDecision::Rotate {
            successor_hash: "h2".into(),
        };
        assert_eq!(by(Some("c1"), &client_session), rotate);
        assert_eq!(by(Some("c2"), &client_session), RefreshDecision::Reject);
        assert_eq!(by(None, &client_session), RefreshDecision::Reject);
        assert_eq!(by(Some("c1"), &session()), RefreshDecision::Reject);
        assert_eq!(by(None, &session()), rotate);
    }

    #[test]
    fn current_token_rotates() {
        for subject in [Some("u"), None] {
            assert_eq!(
                decide(subject, "h1", "h2", 1_001_000),
                RefreshDecision::Rotate {
                    successor_hash: "h2".into()
                }
            );
        }
    }

    #[test]
    fn predecessor_inside_grace_replays_and_outside_revokes() {
        // h0's successor is h1, the current head.
        assert_eq!(decide(None, "h0", "h1", 1_005_000), RefreshDecision::Replay);
        assert_eq!(
            decide(None, "h0", "h1", 1_011_000),
            RefreshDecision::RevokeFamily
        );
    }

    #[test]
    fn the_grace_is_counted_to_the_millisecond() {
        // Rotated at 1000.5 s with a 10 s grace: 9.999 s later is inside,
        // 10 s later is not, although both are in second 1010.
        assert_eq!(decide(None, "h0", "h1", 1_010_499), RefreshDecision::Replay);
        assert_eq!(
            decide(None, "h0", "h1", 1_010_500),
            RefreshDecision::RevokeFamily
        );
        // A one-second grace lasts one second, not up to two.
        let one = |now_ms| {
            let attempt = RefreshAttempt {
                grace_ms: 1_000,
                ..attempt(None, "h0", "h1", now_ms)
            };
            decide_refresh(&session(), &user(), &attempt)
        };
        assert_eq!(one(1_001_499), RefreshDecision::Replay);
        assert_eq!(one(1_001_500), RefreshDecision::RevokeFamily);
        assert_eq!(one(1_001_999), RefreshDecision::RevokeFamily);
    }

    #[test]
    fn a_zero_grace_is_strict_rotation() {
        let strict = |now_ms| {
            let attempt = RefreshAttempt {
                grace_ms: 0,
                ..attempt(None, "h0", "h1", now_ms)
            };
            decide_refresh(&session(), &user(), &attempt)
        };
        assert_eq!(
            strict(1_000_500),
            RefreshDecision::RevokeFamily,
            "even at once"
        );
        assert_eq!(strict(1_000_501), RefreshDecision::RevokeFamily);
    }

    #[test]
    fn older_tokens_revoke_even_inside_grace() {
        assert_eq!(
            decide(None, "h-old", "h0", 1_001_000),
            RefreshDecision::RevokeFamily
        );
    }

    #[test]
    fn a_head_issued_in_the_future_is_refused_until_time_catches_up() {
        // Rotated at 1000.5 s; 30 s of leeway for instances' clock skew.
        assert_eq!(
            decide(None, "h1", "h2", 970_500),
            RefreshDecision::Rotate {
                successor_hash: "h2".into()
            }
        );
        assert_eq!(decide(None, "h1", "h2", 970_499), RefreshDecision::Reject);
        assert_eq!(decide(None, "h0", "h1", 0), RefreshDecision::Reject);
    }

    #[test]
    fn dead_sessions_idle_sessions_and_disabled_users_reject() {
        let mut s = session();
        s.revoked_at = Some(1000);
        assert_eq!(
            decide_refresh(&s, &user(), &attempt(None, "h1", "h2", 1_001_000)),
            RefreshDecision::Reject
        );
        assert_eq!(
            decide_refresh(
                &session(),
                &user(),
                &RefreshAttempt {
                    idle_secs: 1_000_000,
                    ..attempt(None, "h1", "h2", 10_000_000)
                }
            ),
            RefreshDecision::Reject
        );
        assert_eq!(decide(None, "h1", "h2", 1_601_000), RefreshDecision::Reject);
        let mut u = user();
        u.disabled = true;
        assert_eq!(
            decide_refresh(&session(), &u, &attempt(None, "h1", "h2", 1_001_000)),
            RefreshDecision::Reject
        );
        // A pre-1.1 JWT refresh token naming another user.
        assert_eq!(
            decide(Some("other"), "h1", "h2", 1_001_000),
            RefreshDecision::Reject
        );
    }
}
