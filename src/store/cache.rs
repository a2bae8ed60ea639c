//! The session cache: the answer to "is this session live, and who is its
//! user?" kept in memory, because every access token on toktok's own routes
//! asks it (J5) and the answer rarely changes.
//!
//! Correctness comes from the database's change generation
//! ([`super::Db::generation`]), not from each write path remembering to
//! invalidate: an SQLite update hook on every pooled connection notices any
//! INSERT, UPDATE or DELETE on `users` or `sessions`, and the generation is
//! bumped once that transaction has ended and before its caller is answered
//! (`Db::call`, and the group committer after its commit). An entry is only
//! used while the generation it was read under is still current, so:
//!
//! - a revocation (logout, logout-all, password change, admin disable or
//!   logout, reuse detection, deletion) is seen by every token check that
//!   starts after the revoking request was answered;
//! - a reader that raced a write tags its entry with the generation from
//!   before its read, so the bump that follows the write retires it.
//!
//! Other processes writing the same file (the CLI) bump nothing here; an
//! entry is therefore also retired after [`MAX_AGE`], which bounds how long
//! such a change can go unseen. Only live answers are cached, the session's
//! expiry is checked against the clock on every hit, and the map is cleared
//! when it reaches [`CAPACITY`] entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{SessionRecord, UserRecord};

/// Most sessions kept; reaching it clears the map (the busy ones come back
/// on their next request).
pub const CAPACITY: usize = 2048;
/// Longest an entry is trusted, for changes made by other processes.
pub const MAX_AGE: Duration = Duration::from_secs(1);

type Live = Arc<(SessionRecord, UserRecord)>;

struct Entry {
    generation: u64,
    read_at: Instant,
    live: Live,
}

/// Live sessions with their users, by session id.
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache").finish_non_exhaustive()
    }
}

impl SessionCache {
    /// The cached session `sid` with its user, if it was read under
    /// `generation` (the current one) less than [`MAX_AGE`] ago.
    pub fn get(&self, sid: &str, generation: u64) -> Option<Live> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(sid)?;
        (entry.generation == generation && entry.read_at.elapsed() < MAX_AGE)
            .then(|| entry.live.clone())
    }

    /// Remembers a live session read from the database under `generation`,
    /// the generation loaded *before* the read began.
    pub fn insert(&self, generation: u64, session: SessionRecord, user: UserRecord) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&session.id) {
            entries.clear();
        }
        entries.insert(
            session.id.clone(),
            Entry {
                generation,
                read_at: Instant::now(),
                live: Arc::new((session, user)),
            },
        );
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(id: &str) -> SessionRecord {
        SessionRecord {
            id: id.into(),
            user_id: "u".into(),
            refresh_hash: "h".into(),
            prev_refresh_hash: None,
            rotated_at: 0,
            created_at: 0,
            last_used_at: 0,
            expires_at: 100,
            user_agent: None,
            ip: None,
            revoked_at: None,
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
        }
    }

    #[test]
    fn an_entry_serves_only_its_own_generation() {
        let cache = SessionCache::default();
        cache.insert(7, session("s"), user());
        assert_eq!(cache.get("s", 7).unwrap().0.id, "s");
        assert!(cache.get("s", 8).is_none(), "a later write retires it");
        assert!(cache.get("other", 7).is_none());
    }

    #[test]
    fn the_map_is_cleared_when_full() {
        let cache = SessionCache::default();
        for i in 0..CAPACITY {
            cache.insert(1, session(&i.to_string()), user());
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.insert(1, session("0"), user());
        assert_eq!(cache.len(), CAPACITY, "replacing one is not growing");
        cache.insert(1, session("new"), user());
        assert_eq!(cache.len(), 1);
    }
}
