//! Sessions: one per sign-in, each carrying its family of refresh tokens.
//!
//! A refresh token is found by the SHA-256 of its secret: the current one
//! in `sessions.refresh_hash`, every one rotated out before it in
//! `spent_refresh_tokens` (so presenting any old token of a family is seen
//! as reuse, docs/SECURITY.md R2). Pre-1.1 JWT refresh tokens name their session
//! (`sid`) instead; both ways end in the same locked decision.

use crate::store::records::{amr_from_text, RefreshDecision, SessionKey, SessionRecord};
use rusqlite::{params, OptionalExtension as _, Row};

use super::users::get_user;
use async_trait::async_trait;

use super::{audit, Sqlite};
use crate::store::backend::{DecideRefresh, ReuseEvent, Sessions};
use crate::store::flows;
use crate::store::{AuditEvent, StoreError, UserRecord};

const SESSION_COLUMNS: &str = "id, user_id, refresh_hash, prev_refresh_hash, rotated_at_ms, \
     created_at, last_used_at, expires_at, user_agent, ip, revoked_at, auth_time, amr, aal, factor, \
     client_id, scope, parent_id";

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.get(0)?,
        user_id: row.get(1)?,
        refresh_hash: row.get(2)?,
        prev_refresh_hash: row.get(3)?,
        rotated_at_ms: row.get(4)?,
        created_at: row.get(5)?,
        last_used_at: row.get(6)?,
        expires_at: row.get(7)?,
        user_agent: row.get(8)?,
        ip: row.get(9)?,
        revoked_at: row.get(10)?,
        auth_time: row.get(11)?,
        amr: amr_from_text(&row.get::<_, String>(12)?),
        aal: row.get(13)?,
        factor: row.get(14)?,
        client_id: row.get(15)?,
        scope: row.get(16)?,
        parent_id: row.get(17)?,
    })
}

/// The id of the session whose current or spent refresh token has `hash`.
fn session_by_refresh_hash(
    conn: &rusqlite::Connection,
    hash: &str,
) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM sessions WHERE refresh_hash = ?1
         UNION ALL SELECT session_id FROM spent_refresh_tokens WHERE hash = ?1
         LIMIT 1",
    )?;
    Ok(stmt.query_row([hash], |r| r.get(0)).optional()?)
}

fn get_session(conn: &rusqlite::Connection, id: &str) -> Result<Option<SessionRecord>, StoreError> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
    // Cached: this runs on every token check that misses the session cache
    // and on every refresh; parsing the SQL each time cost more than the query.
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt.query_row([id], session_from_row).optional()?)
}

#[async_trait]
impl Sessions for Sqlite {
    async fn create_session(
        &self,
        session: SessionRecord,
        email_key: String,
        rehash: Option<String>,
        verified: Option<String>,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            let current: Option<(Option<String>, bool)> = tx
                .query_row(
                    "SELECT password_hash, disabled FROM users WHERE id = ?1",
                    [&session.user_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if current.is_none_or(|(hash, disabled)| disabled || hash != verified) {
                return Ok(false);
            }
            flows::insert_session(&mut { tx }, &session)?;
            tx.execute(
                "DELETE FROM login_failures WHERE email_key = ?1",
                [&email_key],
            )?;
            tx.execute(
                "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
                params![session.user_id, session.created_at],
            )?;
            if let Some(phc) = rehash {
                tx.execute(
                    "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                    params![session.user_id, phc],
                )?;
            }
            audit::insert(tx, &event)?;
            Ok(true)
        })
        .await
    }

    async fn live_session(
        &self,
        sid: &str,
        now: i64,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let sid = sid.to_owned();
        self.db
            .call(move |conn| {
                let Some(session) = get_session(conn, &sid)? else {
                    return Ok(None);
                };
                if !session.is_live(now) {
                    return Ok(None);
                }
                match get_user(conn, &session.user_id)? {
                    Some(user) if !user.disabled => Ok(Some((session, user))),
                    _ => Ok(None),
                }
            })
            .await
    }

    async fn refresh_session(
        &self,
        key: SessionKey,
        now_ms: i64,
        reuse_event: ReuseEvent,
        decide: DecideRefresh,
    ) -> Result<Option<(RefreshDecision, SessionRecord, UserRecord)>, StoreError> {
        let now = now_ms.div_euclid(1000);
        self.group_commit()
            .write(move |tx| {
                let sid = match key {
                    SessionKey::Id(sid) => sid,
                    SessionKey::RefreshHash(hash) => match session_by_refresh_hash(tx, &hash)? {
                        Some(sid) => sid,
                        None => return Ok(None),
                    },
                };
                let Some(mut session) = get_session(tx, &sid)? else {
                    return Ok(None);
                };
                let Some(user) = get_user(tx, &session.user_id)? else {
                    return Ok(None);
                };
                let decision = decide(&session, &user);
                match &decision {
                    RefreshDecision::Rotate { successor_hash } => {
                        tx.prepare_cached(
                            "INSERT OR IGNORE INTO spent_refresh_tokens (hash, session_id)
                             VALUES (?1, ?2)",
                        )?
                        .execute(params![session.refresh_hash, sid])?;
                        tx.prepare_cached(
                            "UPDATE sessions SET prev_refresh_hash = refresh_hash,
                                refresh_hash = ?2, rotated_at_ms = ?3, last_used_at = ?4
                             WHERE id = ?1",
                        )?
                        .execute(params![
                            sid,
                            successor_hash,
                            now_ms,
                            now
                        ])?;
                        session.prev_refresh_hash = Some(session.refresh_hash.clone());
                        session.refresh_hash = successor_hash.clone();
                        session.rotated_at_ms = now_ms;
                        session.last_used_at = now;
                    }
                    RefreshDecision::Replay => {
                        tx.execute(
                            "UPDATE sessions SET last_used_at = ?2 WHERE id = ?1",
                            params![sid, now],
                        )?;
                        session.last_used_at = now;
                    }
                    RefreshDecision::RevokeFamily => {
                        tx.execute(
                            "UPDATE sessions SET revoked_at = ?2, revoked_reason = 'refresh_reused'
                             WHERE id = ?1 AND revoked_at IS NULL",
                            params![sid, now],
                        )?;
                        audit::insert(tx, &reuse_event(&session))?;
                    }
                    RefreshDecision::Reject => {}
                }
                Ok(Some((decision, session, user)))
            })
            .await
    }

    async fn list_sessions(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let db = &self.db;
        let user_id = user_id.to_owned();
        db.call(move |conn| {
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM sessions
                     WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
                     ORDER BY created_at DESC, id DESC"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(params![user_id, now], session_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn sweep_sessions(&self, now: i64, keep: i64) -> Result<usize, StoreError> {
        let db = &self.db;
        db.write(move |tx| {
            let cutoff = now - keep;
            let n = tx.execute(
                "DELETE FROM sessions WHERE expires_at < ?1 OR revoked_at < ?1",
                [cutoff],
            )?;
            tx.execute(
                "DELETE FROM login_failures WHERE last_failed_at < ?1",
                [now - 86_400],
            )?;
            Ok(n)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{Db, Store};

    fn event(kind: &'static str) -> AuditEvent {
        AuditEvent {
            at: 100,
            kind,
            user_id: None,
            actor: None,
            ip: None,
            user_agent: None,
            detail: json!({}),
        }
    }

    async fn store_with_session() -> (tempfile::TempDir, Store, SessionRecord) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Db::open(&dir.path().join("t.db")).unwrap());
        let user = UserRecord {
            id: "u1".into(),
            email: "a@b.io".into(),
            email_confirmed_at: None,
            name: None,
            role: "user".into(),
            metadata: json!({}),
            app_metadata: json!({}),
            password_hash: None,
            disabled: false,
            created_at: 100,
            updated_at: 100,
            last_login_at: None,
            locale: None,
        };
        store
            .insert_user(user, "a@b.io".into(), event("user.registered"), Vec::new())
            .await
            .unwrap();
        let session = SessionRecord {
            id: "s1".into(),
            user_id: "u1".into(),
            refresh_hash: "h1".into(),
            prev_refresh_hash: None,
            rotated_at_ms: 100_000,
            created_at: 100,
            last_used_at: 100,
            expires_at: 10_000,
            user_agent: None,
            ip: None,
            revoked_at: None,
            auth_time: 100,
            amr: vec!["pwd".into()],
            aal: 1,
            factor: None,
            client_id: None,
            scope: None,
            parent_id: None,
        };
        store
            .create_session(session.clone(), "a@b.io".into(), None, None, event("login"))
            .await
            .unwrap();
        (dir, store, session)
    }

    #[tokio::test]
    async fn a_cached_session_is_refused_as_soon_as_it_is_ended() {
        let (_dir, store, session) = store_with_session().await;
        assert!(store.live_session("s1", 200).await.unwrap().is_some());
        // The second look is a cache hit...
        let generation = store.db().generation();
        assert!(store.sessions.get("s1", generation).is_some());
        assert!(store.live_session("s1", 200).await.unwrap().is_some());
        // ...and still checks the expiry against the clock.
        assert!(store
            .live_session("s1", session.expires_at)
            .await
            .unwrap()
            .is_none());
        // Logout moves the generation on before it returns.
        assert!(store
            .end_session("u1", "s1", 300, event("session.ended"))
            .await
            .unwrap());
        assert!(store.db().generation() > generation);
        assert!(store.live_session("s1", 301).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_disabled_user_and_a_revoked_family_are_seen_at_once() {
        let (_dir, store, _) = store_with_session().await;
        assert!(store.live_session("s1", 200).await.unwrap().is_some());
        // Any write to users retires the cache, whoever makes it.
        store
            .db()
            .call(|c| {
                c.execute("UPDATE users SET disabled = 1 WHERE id = 'u1'", [])?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(store.live_session("s1", 200).await.unwrap().is_none());
        store
            .db()
            .call(|c| {
                c.execute("UPDATE users SET disabled = 0 WHERE id = 'u1'", [])?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(store.live_session("s1", 200).await.unwrap().is_some());
        // Reuse detection revokes through the group commit.
        let outcome = store
            .refresh_session(
                SessionKey::Id("s1".into()),
                300_000,
                |_| event("refresh.reused"),
                |_, _| RefreshDecision::RevokeFamily,
            )
            .await
            .unwrap();
        assert!(matches!(
            outcome,
            Some((RefreshDecision::RevokeFamily, _, _))
        ));
        assert!(store.live_session("s1", 301).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn reads_change_nothing() {
        let (_dir, store, _) = store_with_session().await;
        let generation = store.db().generation();
        store.live_session("s1", 200).await.unwrap();
        store.list_sessions("u1", 200).await.unwrap();
        assert_eq!(store.db().generation(), generation);
    }
}
