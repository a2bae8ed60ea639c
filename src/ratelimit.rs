//! Per-IP token buckets for the endpoints an attacker hammers (docs/SECURITY.md L3).
//!
//! This module owns the per-client-address limits on login, register,
//! password-forgot, confirmation-resend, challenge creation, anonymous
//! tokens, current-password checks (TT-03) and JWE decryption (taken before
//! any RSA work, TT-04). The per-*account* failed-login throttle is a different thing (it
//! lives with the accounts, in the database) and applies on top of this.
//!
//! Why it is shaped so:
//! - **Exact integer accounting.** The clock ticks in whole seconds, and a
//!   rate of, say, 10 per minute is a sixth of a token per second. Tokens are
//!   therefore counted in sixtieths: a request costs 60 units and every second
//!   adds `per_minute` units, so refill is smooth and exact, with no floating
//!   point drift and no rounding surprises in `Retry-After`.
//! - **Keys.** An IPv4 address is one client. An IPv6 client gets a whole /64
//!   from its provider (and can pick any of 2^64 addresses in it), so IPv6 is
//!   keyed by its /64 prefix; IPv4-mapped IPv6 (`::ffff:a.b.c.d`, what a
//!   dual-stack socket reports for v4 clients) is keyed as the IPv4 address.
//! - **Bounded memory.** At most [`DEFAULT_MAX_KEYS`] (bucket, client) pairs
//!   are tracked. A full bucket carries no information (it behaves exactly as
//!   an absent one), so [`RateLimiter::sweep`] drops those, and the
//!   background sweeper calls it periodically. When a new key arrives and the
//!   table is at the cap even after a sweep, the *least recently touched*
//!   entries are evicted, down to 90 % of the cap so the O(n) work is paid
//!   once per many inserts. The alternatives are worse: failing closed for
//!   new keys would let anyone with enough addresses lock every new visitor
//!   out of login; failing open would switch the limit off for exactly the
//!   attacker that filled the table, and every unlimited login costs a
//!   password hash. Eviction only forgets clients that have been quiet the
//!   longest; an attacker who wants its own bucket forgotten must keep more
//!   than the cap of addresses busy, and with that many addresses it already
//!   has that many buckets' worth of budget.
//! - **One mutex, default (SipHash, randomly keyed) hasher.** The critical
//!   section is a lookup and a few integer operations; the keyed hasher keeps
//!   an attacker choosing addresses from forcing hash collisions.
//! - **Shared on PostgreSQL.** Several instances behind a load balancer must
//!   count one client's requests together, or the limit multiplies by the
//!   number of instances. With a PostgreSQL store ([`RateLimiter::shared`]),
//!   [`RateLimiter::take`] keeps the buckets in the `rate_limits` table: one
//!   short transaction reads the bucket `FOR UPDATE`, applies the same
//!   arithmetic as in memory, and writes it back. If the database cannot
//!   answer, the in-memory bucket of this instance decides instead (still a
//!   limit, just per instance), rather than letting everything through or
//!   refusing everyone. On SQLite, one process, memory is exact and free.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use crate::clock::SharedClock;
use crate::store::Store;

/// Maximum number of (bucket, client) entries kept in memory.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Token units per whole token: refill per second is then `per_minute` units.
const UNITS: u64 = 60;

/// The rate-limited actions; each has its own bucket per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    Login,
    Register,
    PasswordForgot,
    ConfirmResend,
    Anonymous,
    /// Every encrypted (JWE) body, taken before the RSA work (TT-04).
    Decrypt,
    /// Checks of the current password on authenticated routes (TT-03).
    PasswordCheck,
}

/// Who is limited: an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4(u32),
    V6Prefix(u64),
}

impl Client {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Client::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::V4(u32::from(v4)),
                // The upper 64 bits are the /64 prefix; truncation is the point.
                None => Client::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Tokens left, in units of 1/60 token.
    units: u64,
    /// When `units` was last brought up to date (unix seconds); doubles as
    /// the last-touched time for eviction.
    updated: i64,
}

/// Per-IP token buckets; shared via `Arc` in the application state.
#[derive(Debug)]
pub struct RateLimiter {
    /// `false` makes every check pass (for trusted deployments and tests).
    enabled: bool,
    /// Units added per second (= tokens per minute).
    refill: u64,
    /// Bucket size in units (= burst × 60).
    capacity: u64,
    /// Beyond this many entries, old ones are evicted.
    max_keys: usize,
    clock: SharedClock,
    entries: Mutex<HashMap<(Bucket, Client), Entry>>,
    /// The PostgreSQL store whose `rate_limits` table holds the buckets for
    /// every instance; `None`: memory only (always, without the `postgres`
    /// feature).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    shared: Option<Store>,
}

impl RateLimiter {
    /// `per_minute` tokens refill per minute, up to `burst`; every bucket
    /// starts full. `enabled = false` makes [`check`](Self::check) always
    /// `Ok`.
    ///
    /// A limiter that could never let a request through is a configuration
    /// mistake the config layer should reject; here `per_minute` and `burst`
    /// are raised to at least 1 so that `Retry-After` stays finite.
    pub fn new(enabled: bool, per_minute: u32, burst: u32, clock: SharedClock) -> Self {
        RateLimiter {
            enabled,
            refill: u64::from(per_minute.max(1)),
            capacity: u64::from(burst.max(1)) * UNITS,
            max_keys: DEFAULT_MAX_KEYS,
            clock,
            entries: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// Keeps the buckets in `store` when it is PostgreSQL (shared by every
    /// instance on it); on SQLite this changes nothing.
    pub fn shared(mut self, store: &Store) -> Self {
        self.shared = store.sqlite().is_none().then(|| store.clone());
        self
    }

    /// Takes one token for (`bucket`, `ip`), like [`check`](Self::check),
    /// from the shared buckets when there are some (see the module docs).
    pub async fn take(&self, bucket: Bucket, ip: IpAddr) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.shared.as_ref().and_then(Store::pg) {
            return self.take_shared(pg, bucket, ip).await;
        }
        self.check(bucket, ip)
    }

    /// [`take`](Self::take) from the buckets in PostgreSQL.
    #[cfg(feature = "postgres")]
    async fn take_shared(
        &self,
        pg: &crate::store::postgres::PgDb,
        bucket: Bucket,
        ip: IpAddr,
    ) -> Result<(), u64> {
        let now = self.clock.now();
        let (refill, capacity) = (self.refill, self.capacity);
        let step = move |found: Option<(i64, i64)>| {
            let entry = found.map(|(units, updated)| Entry {
                units: u64::try_from(units).unwrap_or(0),
                updated,
            });
            let (entry, outcome) = step(refill, capacity, entry, now);
            (
                (
                    i64::try_from(entry.units).unwrap_or(i64::MAX),
                    entry.updated,
                ),
                outcome,
            )
        };
        match pg
            .rate_limit_take(bucket.name(), Client::of(ip).key(), step)
            .await
        {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!(error = %e, "shared rate limit unavailable; using this instance's");
                self.check(bucket, ip)
            }
        }
    }

    /// Deletes shared buckets that have refilled completely (the sweeper).
    pub async fn sweep_shared(&self) {
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.shared.as_ref().and_then(Store::pg) {
            let (refill, capacity) = (
                i64::try_from(self.refill).unwrap_or(i64::MAX),
                i64::try_from(self.capacity).unwrap_or(i64::MAX),
            );
            if let Err(e) = pg
                .sweep_rate_limits(self.clock.now(), refill, capacity)
                .await
            {
                tracing::warn!(error = %e, "cannot sweep the shared rate limits");
            }
        }
    }

    #[cfg(any(test, feature = "testing"))]
    /// Changes the cap on tracked entries (default [`DEFAULT_MAX_KEYS`]).
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    /// Takes one token for (`bucket`, `ip`). `Err(retry_after_secs)`, at
    /// least 1, when the bucket is empty: the number of seconds until one
    /// token is back.
    pub fn check(&self, bucket: Bucket, ip: IpAddr) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        let key = (bucket, Client::of(ip));
        let now = self.clock.now();
        let mut entries = self.lock();

        if !entries.contains_key(&key) && entries.len() >= self.max_keys {
            self.make_room(&mut entries, now);
        }
        let found = entries.get(&key).copied();
        let (entry, outcome) = step(self.refill, self.capacity, found, now);
        entries.insert(key, entry);
        outcome
    }

    /// Drops entries that have refilled completely (they behave exactly as
    /// absent ones), so memory stays bounded; called by the background
    /// sweeper.
    pub fn sweep(&self) {
        let now = self.clock.now();
        let mut entries = self.lock();
        self.drop_full(&mut entries, now);
    }

    #[cfg(any(test, feature = "testing"))]
    /// Number of tracked entries (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    #[cfg(any(test, feature = "testing"))]
    /// Whether no entry is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(Bucket, Client), Entry>> {
        // Every update leaves an entry valid, so a panic elsewhere while the
        // lock was held cannot have left the map inconsistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry's units brought up to `now`, capped at the capacity.
    fn refilled(&self, entry: &Entry, now: i64) -> u64 {
        let elapsed = u64::try_from(now.saturating_sub(entry.updated)).unwrap_or(0);
        entry
            .units
            .saturating_add(elapsed.saturating_mul(self.refill))
            .min(self.capacity)
    }

    fn drop_full(&self, entries: &mut HashMap<(Bucket, Client), Entry>, now: i64) {
        entries.retain(|_, e| self.refilled(e, now) < self.capacity);
    }

    /// Called with the table at the cap before inserting a new key: sweeps,
    /// then evicts the least recently touched entries down to 90 % of the cap.
    fn make_room(&self, entries: &mut HashMap<(Bucket, Client), Entry>, now: i64) {
        self.drop_full(entries, now);
        let low_water = self.max_keys - self.max_keys / 10 - 1;
        if entries.len() <= low_water {
            return;
        }
        let excess = entries.len() - low_water;
        let mut by_age: Vec<(i64, (Bucket, Client))> =
            entries.iter().map(|(k, e)| (e.updated, *k)).collect();
        // `excess` is at least 1 and at most `by_age.len()`, so the index is
        // in bounds.
        by_age.select_nth_unstable_by_key(excess - 1, |(updated, _)| *updated);
        for (_, key) in &by_age[..excess] {
            entries.remove(key);
        }
    }
}

/// One request against a bucket (`None`: never seen, so full): the entry
/// to keep and the answer. Shared by the in-memory and the PostgreSQL path.
fn step(refill: u64, capacity: u64, found: Option<Entry>, now: i64) -> (Entry, Result<(), u64>) {
    let mut entry = found.unwrap_or(Entry {
        units: capacity,
        updated: now,
    });
    let elapsed = u64::try_from(now.saturating_sub(entry.updated)).unwrap_or(0);
    entry.units = entry
        .units
        .saturating_add(elapsed.saturating_mul(refill))
        .min(capacity);
    // If the clock stepped back, restart accounting from the new "now":
    // no tokens are granted for the negative interval.
    entry.updated = now;
    if entry.units >= UNITS {
        entry.units -= UNITS;
        (entry, Ok(()))
    } else {
        let missing = UNITS - entry.units;
        (entry, Err(missing.div_ceil(refill).max(1)))
    }
}

impl Bucket {
    /// The bucket's name in the shared table.
    #[cfg(feature = "postgres")]
    fn name(self) -> &'static str {
        match self {
            Bucket::Login => "login",
            Bucket::Register => "register",
            Bucket::PasswordForgot => "password_forgot",
            Bucket::ConfirmResend => "confirm_resend",
            Bucket::Anonymous => "anonymous",
            Bucket::Decrypt => "decrypt",
            Bucket::PasswordCheck => "password_check",
        }
    }
}

/// The text key of the client behind `ip`: the IPv4 address (also for
/// `::ffff:a.b.c.d`), or the IPv6 /64 as `xxxxxxxxxxxxxxxx::/64`. The
/// shared buckets and the lockout by client (TT-09) use it.
pub fn client_key(ip: IpAddr) -> String {
    Client::of(ip).key()
}

impl Client {
    /// The client's key in the shared table.
    fn key(self) -> String {
        match self {
            Client::V4(v4) => std::net::Ipv4Addr::from(v4).to_string(),
            Client::V6Prefix(prefix) => format!("{prefix:016x}::/64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::Arc;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn limiter(per_minute: u32, burst: u32) -> (RateLimiter, Arc<ManualClock>) {
        let clock = ManualClock::new();
        (
            RateLimiter::new(true, per_minute, burst, clock.clone()),
            clock,
        )
    }

    #[test]
    fn burst_then_429_with_retry_after() {
        let (rl, _clock) = limiter(10, 3);
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(rl.check(Bucket::Login, a), Ok(()));
        }
        // 10 per minute: one token every 6 s.
        assert_eq!(rl.check(Bucket::Login, a), Err(6));
        assert_eq!(rl.check(Bucket::Login, a), Err(6));
    }

    #[test]
    fn refill_is_smooth_and_capped() {
        let (rl, clock) = limiter(10, 3);
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            rl.check(Bucket::Login, a).unwrap();
        }
        clock.advance(4);
        assert_eq!(rl.check(Bucket::Login, a), Err(2));
        clock.advance(2);
        assert_eq!(rl.check(Bucket::Login, a), Ok(()));
        assert_eq!(rl.check(Bucket::Login, a), Err(6));

        // Long idle: back to the burst, not beyond.
        clock.advance(3600);
        for _ in 0..3 {
            assert_eq!(rl.check(Bucket::Login, a), Ok(()));
        }
        assert!(rl.check(Bucket::Login, a).is_err());
    }

    #[test]
    fn fast_rates_have_retry_after_of_at_least_one() {
        let (rl, _clock) = limiter(600, 1);
        let a = ip("192.0.2.1");
        rl.check(Bucket::Login, a).unwrap();
        assert_eq!(rl.check(Bucket::Login, a), Err(1));
    }

    #[test]
    fn buckets_and_addresses_are_independent() {
        let (rl, _clock) = limiter(1, 1);
        let a = ip("192.0.2.1");
        let b = ip("192.0.2.2");
        rl.check(Bucket::Login, a).unwrap();
        assert!(rl.check(Bucket::Login, a).is_err());
        assert_eq!(rl.check(Bucket::Register, a), Ok(()));
        assert_eq!(rl.check(Bucket::PasswordForgot, a), Ok(()));
        assert_eq!(rl.check(Bucket::Login, b), Ok(()));
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_v4_is_v4() {
        let (rl, _clock) = limiter(1, 1);
        rl.check(Bucket::Login, ip("2001:db8:1:2::1")).unwrap();
        assert!(rl
            .check(Bucket::Login, ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
            .is_err());
        assert_eq!(rl.check(Bucket::Login, ip("2001:db8:1:3::1")), Ok(()));

        rl.check(Bucket::Login, IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)))
            .unwrap();
        let mapped = IpAddr::V6(Ipv4Addr::new(198, 51, 100, 7).to_ipv6_mapped());
        assert!(rl.check(Bucket::Login, mapped).is_err());
        // A different v4 address in the same "mapped /64" is a different client.
        let other = IpAddr::V6(Ipv4Addr::new(198, 51, 100, 8).to_ipv6_mapped());
        assert_eq!(rl.check(Bucket::Login, other), Ok(()));
        assert_eq!(
            Client::of(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            Client::V6Prefix(0)
        );
    }

    #[test]
    fn disabled_is_always_ok() {
        let clock = ManualClock::new();
        let rl = RateLimiter::new(false, 1, 1, clock);
        for _ in 0..100 {
            assert_eq!(rl.check(Bucket::Login, ip("192.0.2.1")), Ok(()));
        }
        assert!(rl.is_empty());
    }

    #[test]
    fn sweep_drops_only_refilled_entries() {
        let (rl, clock) = limiter(60, 2);
        rl.check(Bucket::Login, ip("192.0.2.1")).unwrap(); // 1 token short
        rl.check(Bucket::Login, ip("192.0.2.2")).unwrap();
        rl.check(Bucket::Login, ip("192.0.2.2")).unwrap(); // 2 short
        assert_eq!(rl.len(), 2);
        rl.sweep();
        assert_eq!(rl.len(), 2);
        clock.advance(1); // 60/min: one token back per second
        rl.sweep();
        assert_eq!(rl.len(), 1);
        clock.advance(1);
        rl.sweep();
        assert!(rl.is_empty());
    }

    #[test]
    fn at_the_cap_the_least_recently_touched_go_first() {
        let clock = ManualClock::new();
        let rl = RateLimiter::new(true, 1, 1, clock.clone()).with_max_keys(10);
        for i in 0..10u8 {
            rl.check(Bucket::Login, IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)))
                .unwrap();
            clock.advance(1);
        }
        assert_eq!(rl.len(), 10);
        // Touch the oldest again so it becomes the most recent.
        assert!(rl.check(Bucket::Login, ip("10.0.0.0")).is_err());

        // Nothing has refilled (1/min, < 60 s), so a new key evicts.
        rl.check(Bucket::Login, ip("10.0.1.0")).unwrap();
        assert!(rl.len() <= 10);
        // 10.0.0.0 was touched last, so it is still limited ...
        assert!(rl.check(Bucket::Login, ip("10.0.0.0")).is_err());
        // ... while 10.0.0.1, the oldest untouched, was forgotten.
        assert_eq!(rl.check(Bucket::Login, ip("10.0.0.1")), Ok(()));
        assert!(rl.len() <= 10);
    }

    #[test]
    fn clock_going_back_grants_nothing() {
        let (rl, clock) = limiter(60, 1);
        let a = ip("192.0.2.1");
        rl.check(Bucket::Login, a).unwrap();
        clock.advance(-100);
        assert!(rl.check(Bucket::Login, a).is_err());
        clock.advance(1);
        assert_eq!(rl.check(Bucket::Login, a), Ok(()));
    }
}
