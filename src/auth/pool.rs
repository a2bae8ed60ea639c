//! A bounded pool for CPU-heavy crypto: password hashing and RSA
//! decryption (docs/SECURITY.md P8, O2).
//!
//! Work runs on tokio's blocking pool, at most `permits` jobs at a time, so
//! a flood of logins or encrypted bodies can occupy at most that many cores
//! while the rest of the server keeps answering. The queue in front is
//! bounded too: past `max_waiting` waiting callers, a new one is refused at
//! once with [`RunError::Overloaded`], which the HTTP layer answers with 503
//! and `Retry-After`, instead of letting latency grow without limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{Semaphore, TryAcquireError};

/// Why [`BlockingPool::run`] did not return the closure's value.
#[derive(Debug)]
pub enum RunError {
    /// `max_waiting` callers already wait.
    Overloaded,
    /// The blocking task panicked (or the runtime is shutting down).
    Failed(tokio::task::JoinError),
}

#[derive(Debug)]
pub struct BlockingPool {
    /// One permit per job allowed to run at once. The permit travels into
    /// the blocking task, so it is held for as long as the CPU work actually
    /// runs, even if the caller gave up waiting.
    pub(super) semaphore: Arc<Semaphore>,
    /// Callers currently waiting for a permit. Kept beside the semaphore
    /// (which does not expose its queue length) to bound the queue.
    pub(super) waiting: AtomicUsize,
    /// Most callers allowed to wait; one more is refused.
    max_waiting: usize,
}

/// Counts a caller as waiting for as long as it lives, so that every way out
/// of the wait (permit granted, error, or the caller's future being dropped)
/// gives the slot back.
struct WaitingGuard<'a>(&'a AtomicUsize);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl BlockingPool {
    /// `permits` below 1 is raised to 1.
    pub fn new(permits: usize, max_waiting: usize) -> BlockingPool {
        BlockingPool {
            semaphore: Arc::new(Semaphore::new(permits.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Runs `f` on the blocking pool once a permit is free, waiting in the
    /// bounded queue if needed.
    pub async fn run<T, F>(&self, f: F) -> Result<T, RunError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = match Arc::clone(&self.semaphore).try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::NoPermits) => {
                let _waiting = self.join_queue().ok_or(RunError::Overloaded)?;
                // The semaphore is never closed, so this cannot fail; if it
                // ever were, refusing is the safe answer.
                Arc::clone(&self.semaphore)
                    .acquire_owned()
                    .await
                    .map_err(|_closed| RunError::Overloaded)?
            }
            Err(TryAcquireError::Closed) => return Err(RunError::Overloaded),
        };
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(f)
        })
        .await
        .map_err(RunError::Failed)
    }

    /// Callers waiting for a permit now (the `/metrics` queue gauge).
    pub fn queued(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Takes a waiting slot if fewer than `max_waiting` callers wait.
    fn join_queue(&self) -> Option<WaitingGuard<'_>> {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_waiting).then_some(n + 1)
            })
            .ok()
            .map(|_| WaitingGuard(&self.waiting))
    }
}
