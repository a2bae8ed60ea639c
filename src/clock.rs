//! Time as a dependency.
//!
//! Every expiry decision (token `exp`, refresh lifetimes, throttles, lockouts)
//! asks a [`Clock`] rather than the system, so tests can move time forward
//! instead of sleeping. Production uses [`SystemClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now", in whole seconds since the Unix epoch (UTC).
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;

    /// Milliseconds since the epoch, for the few rules that must not round
    /// to whole seconds (the refresh reuse grace). Consistent with `now`:
    /// `now_ms().div_euclid(1000) == now()`.
    fn now_ms(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
}

/// Shared handle to the clock, held by the application state.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            // A clock set before 1970 is a broken machine; treat it as the epoch.
            .unwrap_or(0)
    }

    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to: for tests. It keeps
/// milliseconds; `now` is their whole seconds.
#[derive(Debug)]
pub struct ManualClock {
    now_ms: AtomicI64,
}

impl ManualClock {
    /// Starts at the current wall-clock time, on a whole second.
    pub fn new() -> Arc<Self> {
        Arc::new(ManualClock {
            now_ms: AtomicI64::new(SystemClock.now() * 1000),
        })
    }

    /// Moves time forward (or backward, with a negative value) by `secs`.
    pub fn advance(&self, secs: i64) {
        self.advance_ms(secs * 1000);
    }

    /// Moves time by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.now_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the time to the start of second `now`.
    pub fn set(&self, now: i64) {
        self.now_ms.store(now * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// Formats unix seconds as RFC 3339 in UTC, e.g. `2026-11-23T18:42:02Z`.
pub fn rfc3339(unix: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        // Only out-of-range timestamps (year > 9999) get here; clamp visibly.
        .unwrap_or_else(|| "9999-12-31T23:59:59Z".to_owned())
}
