//! The session cache and the API-key cache: the answers to "is this session
//! live, and who is its user?" and "which live key has this hash?" kept in
//! memory, because every access token on toktok's own routes asks the first
//! (J5), every challenge and admin call with a key asks the second, and the
//! answers rarely change.
//!
//! Correctness comes from the database's change generation
//! ([`super::Db::generation`]), not from each write path remembering to
//! invalidate: an SQLite update hook on every pooled connection notices any
//! INSERT, UPDATE or DELETE on `users`, `sessions` or `api_keys`, and the
//! generation is bumped once that transaction has ended and before its
//! caller is answered (`Db::call`, and the group committer after its
//! commit). An entry is only used while the generation it was read under is
//! still current, so:
//!
//! - a revocation (logout, logout-all, password change, admin disable or
//!   logout, reuse detection, deletion, an API key revoked through this
//!   process's store) is seen by every check that starts after the revoking
//!   call returned;
//! - a reader that raced a write tags its entry with the generation from
//!   before its read, so the bump that follows the write retires it.
//!
//! Other processes writing the same file (the CLI) bump nothing here; an
//! entry is therefore also retired after at most a second ([`MAX_AGE`] for
//! sessions; for API keys, the end of the clock second it was read in),
//! which bounds how long such a change can go unseen: `toktok api-key
//! revoke` is always another process, so a revoked key keeps working here
//! for up to a second (docs/security-notes.md). Only live answers are cached (an
//! unknown key costs a lookup every time, so made-up keys cannot fill the
//! map), the session's expiry is checked against the clock on every hit,
//! and a map is cleared when it reaches [`CAPACITY`] entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{ApiKeyRecord, SessionRecord, UserRecord};

/// Most entries kept per cache; reaching it clears the map (the busy ones
/// come back on their next use).
pub const CAPACITY: usize = 2048;
/// Longest a session entry is trusted, for changes made by other processes.
pub const MAX_AGE: Duration = Duration::from_secs(1);

struct Entry<V, S> {
    generation: u64,
    /// When the value was read, in whatever the cache measures age in.
    stamp: S,
    value: Arc<V>,
}

/// Values read from the database, by key, each tagged with the generation
/// it was read under and a stamp of when.
struct GenerationCache<V, S> {
    entries: Mutex<HashMap<String, Entry<V, S>>>,
}

impl<V, S> Default for GenerationCache<V, S> {
    fn default() -> Self {
        GenerationCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V, S: Copy> GenerationCache<V, S> {
    /// The value for `key` if it was read under `generation` (the current
    /// one) and `fresh` accepts its stamp.
    fn get(&self, key: &str, generation: u64, fresh: impl FnOnce(S) -> bool) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        (entry.generation == generation && fresh(entry.stamp)).then(|| entry.value.clone())
    }

    /// Remembers a value read under `generation`, the generation loaded
    /// *before* the read began.
    fn insert(&self, key: String, generation: u64, stamp: S, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation,
                stamp,
                value: Arc::new(value),
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

type Live = Arc<(SessionRecord, UserRecord)>;

/// Live sessions with their users, by session id.
#[derive(Default)]
pub struct SessionCache {
    entries: GenerationCache<(SessionRecord, UserRecord), Instant>,
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
        self.entries
            .get(sid, generation, |read_at| read_at.elapsed() < MAX_AGE)
    }

    /// Remembers a live session read from the database under `generation`,
    /// the generation loaded *before* the read began.
    pub fn insert(&self, generation: u64, session: SessionRecord, user: UserRecord) {
        self.entries.insert(
            session.id.clone(),
            generation,
            Instant::now(),
            (session, user),
        );
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Live (unrevoked) API keys, by the SHA-256 of the key.
///
/// An entry is trusted only within the clock second (toktok's clock, unix
/// seconds) it was read in: at most 1 s for a change by another process,
/// like [`MAX_AGE`] for sessions, but on the injectable clock, so tests can
/// step over the bound, and a clock jump either way retires every entry.
#[derive(Default)]
pub struct ApiKeyCache {
    entries: GenerationCache<ApiKeyRecord, i64>,
}

impl std::fmt::Debug for ApiKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyCache").finish_non_exhaustive()
    }
}

impl ApiKeyCache {
    /// The live key with this hash, if it was read under `generation` (the
    /// current one) in the clock second `now`.
    pub fn get(&self, key_hash: &str, generation: u64, now: i64) -> Option<Arc<ApiKeyRecord>> {
        self.entries
            .get(key_hash, generation, |read_in| read_in == now)
    }

    /// Remembers a live key read in the clock second `now` under
    /// `generation`, the generation loaded *before* the read began.
    pub fn insert(&self, key_hash: String, generation: u64, now: i64, key: ApiKeyRecord) {
        self.entries.insert(key_hash, generation, now, key);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
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
            rotated_at_ms: 0,
            created_at: 0,
            last_used_at: 0,
            expires_at: 100,
            user_agent: None,
            ip: None,
            revoked_at: None,
            auth_time: 0,
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

    fn key(id: &str) -> ApiKeyRecord {
        ApiKeyRecord {
            id: id.into(),
            name: "k".into(),
            scopes: vec![crate::domain::scope::Scope::Challenges],
            created_at: 0,
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_key_is_trusted_for_its_generation_within_its_clock_second() {
        let cache = ApiKeyCache::default();
        cache.insert("h".into(), 3, 1000, key("a"));
        assert_eq!(cache.get("h", 3, 1000).unwrap().id, "a");
        // A revoke by another process bumps nothing here: the next clock
        // second bounds it, and so does a clock that went back.
        assert!(cache.get("h", 3, 1001).is_none());
        assert!(cache.get("h", 3, 999).is_none());
        assert!(
            cache.get("h", 4, 1000).is_none(),
            "a later write retires it"
        );
        assert!(cache.get("other", 3, 1000).is_none());
    }

    #[test]
    fn the_key_map_is_cleared_when_full() {
        let cache = ApiKeyCache::default();
        for i in 0..CAPACITY {
            cache.insert(i.to_string(), 1, 1000, key("a"));
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.insert("new".into(), 1, 1000, key("b"));
        assert_eq!(cache.len(), 1);
    }
}
