//! Turns: the write gate in front of SQLite, first come, first served.
//!
//! SQLite's busy handler polls with growing sleeps (1, 2, 5, ... 100 ms), so
//! a writer that has waited long polls rarely and keeps losing the lock to
//! newcomers, which poll often. Issue 9's 10-minute soak, on a machine short
//! of CPU, saw writers starve that way past the 5 s busy timeout (503)
//! while others went through. In-process writers therefore take a ticket
//! here first and open their transaction only when it is served: each waits
//! for exactly the writers that came before it, and SQLite's lock is then
//! contended only by other processes (the CLI, a backup).
//!
//! It is a ticket lock for blocking threads (std `Mutex` + `Condvar`), not
//! an async lock, on purpose: the turn passes from one blocking task straight
//! to the next. Measured with `many_writers_on_a_starved_runtime_all_commit`
//! (32 writers, 256 writes holding the lock 4 ms each, the runtime's only
//! worker blocked 30 ms in every 50; 4 runs each, machine load about 4):
//! no gate, 2.4–3.2 s in all and the slowest write 2.0–3.0 s; a tokio
//! semaphore awaited before `spawn_blocking`, where every hand-off goes
//! through the starved worker, 4.2–5.8 s and 0.56–4.2 s; this lock,
//! 1.34–1.41 s and 0.19–0.21 s. Waiting is bounded: a writer not served
//! within its wait gives its ticket up and fails with 503, so nothing hangs.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The queue of writers. One per database.
#[derive(Default)]
pub(super) struct Turns {
    state: Mutex<State>,
    served: Condvar,
}

#[derive(Default)]
struct State {
    /// The ticket the next arrival gets.
    next: u64,
    /// The ticket whose holder may write now (or is about to).
    serving: u64,
    /// Tickets given up by writers that waited too long; skipped.
    abandoned: BTreeSet<u64>,
}

/// The right to write; the next ticket is served when it is dropped.
pub(super) struct Turn<'a>(&'a Turns);

/// A writer waited longer than it may for its turn.
#[derive(Debug)]
pub(super) struct TimedOut;

impl Turns {
    /// Blocks until every writer that arrived earlier is done, or `wait`
    /// has passed. Call it on a blocking thread, never while holding a turn.
    pub(super) fn take(&self, wait: Duration) -> Result<Turn<'_>, TimedOut> {
        let mut state = self.lock();
        let ticket = state.next;
        state.next += 1;
        let (mut state, _) = self
            .served
            .wait_timeout_while(state, wait, |s| s.serving != ticket)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.serving == ticket {
            Ok(Turn(self))
        } else {
            state.abandoned.insert(ticket);
            Err(TimedOut)
        }
    }

    /// Tickets handed out so far (for tests: how many writers have arrived).
    #[cfg(test)]
    pub(super) fn arrivals(&self) -> u64 {
        self.lock().next
    }

    /// The state is consistent whenever the lock is free (nothing in here
    /// panics while holding it), so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.serving += 1;
        loop {
            let next = state.serving;
            if !state.abandoned.remove(&next) {
                break;
            }
            state.serving += 1;
        }
        drop(state);
        self.0.served.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    const LONG: Duration = Duration::from_secs(30);

    /// Starts a thread that takes a turn and records its number in `order`.
    fn writer(
        turns: &Arc<Turns>,
        order: &Arc<Mutex<Vec<u64>>>,
        n: u64,
        wait: Duration,
    ) -> std::thread::JoinHandle<bool> {
        let arrived = turns.arrivals();
        let (queue, order) = (turns.clone(), order.clone());
        let handle = std::thread::spawn(move || match queue.take(wait) {
            Ok(_turn) => {
                order.lock().unwrap().push(n);
                true
            }
            Err(TimedOut) => false,
        });
        while turns.arrivals() == arrived {
            std::thread::yield_now();
        }
        handle
    }

    #[test]
    fn turns_are_served_in_arrival_order() {
        let turns = Arc::new(Turns::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = turns.take(LONG).unwrap();
        let writers: Vec<_> = (0..40).map(|n| writer(&turns, &order, n, LONG)).collect();
        assert!(order.lock().unwrap().is_empty());
        drop(held);
        for w in writers {
            assert!(w.join().unwrap());
        }
        assert_eq!(*order.lock().unwrap(), (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn a_writer_that_waits_too_long_gives_up_and_is_skipped() {
        let turns = Arc::new(Turns::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = turns.take(LONG).unwrap();
        let first = writer(&turns, &order, 1, LONG);
        let started = Instant::now();
        let impatient = writer(&turns, &order, 2, Duration::from_millis(100));
        let last = writer(&turns, &order, 3, LONG);
        assert!(!impatient.join().unwrap(), "timed out");
        assert!(started.elapsed() < Duration::from_secs(5), "bounded");
        drop(held);
        assert!(first.join().unwrap() && last.join().unwrap());
        // The abandoned ticket did not block the one after it.
        assert_eq!(*order.lock().unwrap(), [1, 3]);
        assert!(turns.take(Duration::ZERO).is_ok(), "the gate is free again");
    }
}
