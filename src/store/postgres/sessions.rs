//! Sessions and refresh rotation (`sqlite/sessions.rs`).
//!
//! A rotation reads its session `FOR UPDATE`: a second refresh of the same
//! token, through this instance or another, waits for the first to commit
//! and then decides on the rotated row, so it sees a replay or reuse, never
//! the token it raced.

use crate::store::backend::{DecideRefresh, ReuseEvent, Sessions};
use crate::store::flows;
use async_trait::async_trait;
use postgres::Row;

use super::conn::Sql;
use super::users::{storable, user_from_row_at, USER_COLUMNS};
use super::{audit, count, lock, try_xact_lock, PgDb};
use crate::store::records::amr_from_text;
use crate::store::{
    AuditEvent, RefreshDecision, SessionKey, SessionRecord, StoreError, UserRecord,
};

const SESSION_COLUMNS: &str = "id, user_id, refresh_hash, prev_refresh_hash, rotated_at_ms, \
     created_at, last_used_at, expires_at, user_agent, ip, revoked_at, auth_time, amr, aal, factor, \
     client_id, scope, parent_id";

/// How many columns [`SESSION_COLUMNS`] names.
const SESSION_COLUMN_COUNT: usize = 18;

/// `columns` (a comma-separated list) each qualified with `table.`.
fn prefixed(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn session_from_row(row: &Row) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        refresh_hash: row.try_get(2)?,
        prev_refresh_hash: row.try_get(3)?,
        rotated_at_ms: row.try_get(4)?,
        created_at: row.try_get(5)?,
        last_used_at: row.try_get(6)?,
        expires_at: row.try_get(7)?,
        user_agent: row.try_get(8)?,
        ip: row.try_get(9)?,
        revoked_at: row.try_get(10)?,
        auth_time: row.try_get(11)?,
        amr: amr_from_text(row.try_get::<_, &str>(12)?),
        aal: u8::try_from(row.try_get::<_, i64>(13)?).unwrap_or(1),
        factor: row.try_get(14)?,
        client_id: row.try_get(15)?,
        scope: row.try_get(16)?,
        parent_id: row.try_get(17)?,
    })
}

/// The id of the session whose current or spent refresh token has `hash`.
fn session_by_refresh_hash(conn: &mut impl Sql, hash: &str) -> Result<Option<String>, StoreError> {
    let row = conn.query_opt(
        "SELECT id FROM sessions WHERE refresh_hash = $1
         UNION ALL SELECT session_id FROM spent_refresh_tokens WHERE hash = $1
         LIMIT 1",
        &[&hash],
    )?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// The session `sid` and its user, in one query (one round trip rather than
/// two); `for_update` locks the session row (not the user's).
fn session_and_user(
    conn: &mut impl Sql,
    sid: &str,
    for_update: bool,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let sql = format!(
        "SELECT {}, {} FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1{}",
        prefixed("s", SESSION_COLUMNS),
        prefixed("u", USER_COLUMNS),
        if for_update { " FOR UPDATE OF s" } else { "" }
    );
    let Some(row) = conn.query_opt(&sql, &[&sid])? else {
        return Ok(None);
    };
    Ok(Some((
        session_from_row(&row)?,
        user_from_row_at(&row, SESSION_COLUMN_COUNT)?,
    )))
}

#[async_trait]
impl Sessions for PgDb {
    async fn create_session(
        &self,
        session: SessionRecord,
        email_key: String,
        rehash: Option<String>,
        verified: Option<String>,
        event: AuditEvent,
    ) -> Result<bool, StoreError> {
        self.write(move |tx| {
            // The user row first, then the failed-login row: the order
            // `set_password` takes them in. The other way round, a login
            // and a password change at once deadlock (one gets a 503).
            // Locked and checked here, the user cannot change its password
            // (or go) between the check and the session (`Store` docs).
            let current = tx.execute(
                "UPDATE users SET last_login_at = $2, password_hash = coalesce($3, password_hash)
                 WHERE id = $1 AND NOT disabled AND password_hash IS NOT DISTINCT FROM $4",
                &[&session.user_id, &session.created_at, &rehash, &verified],
            )?;
            if current == 0 {
                return Ok(false);
            }
            flows::insert_session(tx, &session)?;
            tx.execute(
                "DELETE FROM login_failures WHERE email_key = $1",
                &[&email_key],
            )?;
            audit::insert(tx, &event)?;
            Ok(true)
        })
        .await
    }

    /// No cache here (see the module docs of `postgres`): one query, the
    /// session joined with its user (every token check on toktok's own
    /// routes runs it, so one round trip rather than two).
    async fn live_session(
        &self,
        sid: &str,
        now: i64,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        if !storable(sid) {
            return Ok(None);
        }
        let sid = sid.to_owned();
        self.call(move |conn| {
            Ok(session_and_user(conn, &sid, false)?
                .filter(|(session, user)| session.is_live(now) && !user.disabled))
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
        let named = match &key {
            SessionKey::Id(sid) | SessionKey::RefreshHash(sid) => sid,
        };
        if !storable(named) {
            return Ok(None);
        }
        let now = now_ms.div_euclid(1000);
        self.write(move |tx| {
            let sid = match key {
                SessionKey::Id(sid) => sid,
                SessionKey::RefreshHash(hash) => match session_by_refresh_hash(tx, &hash)? {
                    Some(sid) => sid,
                    None => return Ok(None),
                },
            };
            let Some((mut session, user)) = session_and_user(tx, &sid, true)? else {
                return Ok(None);
            };
            let decision = decide(&session, &user);
            match &decision {
                RefreshDecision::Rotate { successor_hash } => {
                    tx.execute(
                        "INSERT INTO spent_refresh_tokens (hash, session_id) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                        &[&session.refresh_hash, &sid],
                    )?;
                    tx.execute(
                        "UPDATE sessions SET prev_refresh_hash = refresh_hash,
                            refresh_hash = $2, rotated_at_ms = $3, last_used_at = $4
                         WHERE id = $1",
                        &[&sid, successor_hash, &now_ms, &now],
                    )?;
                    session.prev_refresh_hash = Some(session.refresh_hash.clone());
                    session.refresh_hash = successor_hash.clone();
                    session.rotated_at_ms = now_ms;
                    session.last_used_at = now;
                }
                RefreshDecision::Replay => {
                    tx.execute(
                        "UPDATE sessions SET last_used_at = $2 WHERE id = $1",
                        &[&sid, &now],
                    )?;
                    session.last_used_at = now;
                }
                RefreshDecision::RevokeFamily => {
                    tx.execute(
                        "UPDATE sessions SET revoked_at = $2, revoked_reason = 'refresh_reused'
                         WHERE id = $1 AND revoked_at IS NULL",
                        &[&sid, &now],
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
        let user_id = user_id.to_owned();
        self.call(move |conn| {
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM sessions
                 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
                 ORDER BY created_at DESC, id DESC"
            );
            conn.query(&sql, &[&user_id, &now])?
                .iter()
                .map(session_from_row)
                .collect()
        })
        .await
    }

    /// Only one instance sweeps at a time; the others skip (0).
    async fn sweep_sessions(&self, now: i64, keep: i64) -> Result<usize, StoreError> {
        let swept = self
            .write(move |tx| {
                if !try_xact_lock(tx, lock::SWEEP)? {
                    return Ok(None);
                }
                let n = tx.execute(
                    "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1",
                    &[&(now - keep)],
                )?;
                Ok(Some(count(n)))
            })
            .await?;
        let Some(n) = swept else {
            return Ok(0);
        };
        // A transaction of its own: holding session rows and failed-login
        // rows at once could deadlock with a password change, which locks
        // them in the other order.
        self.write(move |tx| {
            if try_xact_lock(tx, lock::SWEEP)? {
                tx.execute(
                    "DELETE FROM login_failures WHERE last_failed_at < $1",
                    &[&(now - 86_400)],
                )?;
            }
            Ok(())
        })
        .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_join_splits_where_the_user_starts() {
        assert_eq!(SESSION_COLUMNS.split(',').count(), SESSION_COLUMN_COUNT);
        assert_eq!(
            prefixed("s", "id, user_id"),
            "s.id, s.user_id",
            "columns are qualified one by one"
        );
    }
}
