//! Group commit for challenge steps.
//!
//! Every challenge operation is a small read-decide-write, and with
//! `synchronous=FULL` (D1) each commit waits for the disk: one transaction
//! per operation caps the engine at the disk's flush rate however many
//! requests are in flight. So steps go to one writer task, which takes
//! whatever has queued up (up to [`MAX_BATCH`]), runs the steps one after
//! another in a single `BEGIN IMMEDIATE` transaction, each in its own
//! savepoint, commits once, and only then answers each caller.
//!
//! What stays true: steps are applied in arrival order, each sees the
//! effects of the ones before it (so N concurrent verifications of one
//! token still give one success, E2); no caller hears "done" before its
//! change is durable; a step that fails rolls back alone. If the commit
//! itself fails, every step of the batch fails with it.
//!
//! A step that arrives while no other is in flight skips the queue and runs
//! in its own transaction on the caller's task: a lone request pays no
//! hand-off to the writer task. Direct steps and batches take turns through
//! an async mutex, so they never meet on SQLite's busy handler (which sleeps
//! in whole milliseconds).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rusqlite::{Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::row::{ChallengeRow, RowKey, Step};
use crate::store::{Db, Store, StoreError};

/// Most steps in one transaction; bounds how long the write lock is held.
const MAX_BATCH: usize = 128;
/// Steps waiting beyond this make callers wait to enqueue (back-pressure).
const QUEUE: usize = 4096;

/// Runs a step on the batch's transaction and returns how to answer its
/// caller once the commit's fate is known (`None`: committed).
type Job = Box<dyn FnOnce(&Transaction<'_>) -> Finish + Send>;
type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// Handle to the writer task. The task ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Committer {
    jobs: mpsc::Sender<Job>,
    db: Db,
    /// Callers currently inside [`Committer::step`]; 0 means a newcomer is
    /// alone and may run directly.
    inflight: Arc<AtomicUsize>,
    /// Held while a direct step or a batch has the write transaction.
    turn: Arc<Mutex<()>>,
}

/// Counts a caller out of `step`, however it leaves (cancellation included).
struct Inside<'a>(&'a AtomicUsize);

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Committer {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(db: Db) -> Committer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let turn = Arc::new(Mutex::new(()));
        tokio::spawn(run(db.clone(), queue, turn.clone()));
        Committer {
            jobs,
            db,
            inflight: Arc::new(AtomicUsize::new(0)),
            turn,
        }
    }

    /// Runs one step (see `Store::challenge_step_on`) and answers once it is
    /// durable.
    pub async fn step<R, F>(&self, key: RowKey, now: i64, decide: F) -> Result<R, StoreError>
    where
        F: FnOnce(Option<&ChallengeRow>) -> Step<R> + Send + 'static,
        R: Send + 'static,
    {
        let alone = self.inflight.fetch_add(1, Ordering::SeqCst) == 0;
        let _inside = Inside(&self.inflight);
        if alone {
            let _turn = self.turn.lock().await;
            return self
                .db
                .write(move |tx| Store::challenge_step_on(tx, &key, now, decide))
                .await;
        }
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |tx| {
            let result = Store::challenge_step_on(tx, &key, now, decide);
            Box::new(move |commit: Option<&StoreError>| {
                let answer = match (result, commit) {
                    (Ok(out), None) => Ok(out),
                    (Err(e), _) => Err(e),
                    (Ok(_), Some(e)) => Err(copy(e)),
                };
                // The caller may have gone (request cancelled); nothing to do.
                let _ = reply.send(answer);
            })
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the challenge writer has stopped".to_owned()))?;
        answer.await.map_err(|_| {
            // The batch never reached its commit: BEGIN failed (busy,
            // disk) or a step panicked. Nothing of it was written.
            StoreError::Unavailable("the challenge write did not complete".to_owned())
        })?
    }
}

async fn run(db: Db, mut queue: mpsc::Receiver<Job>, turn: Arc<Mutex<()>>) {
    while let Some(first) = queue.recv().await {
        // Wait for the turn first: whatever queues meanwhile joins the batch.
        let _turn = turn.lock().await;
        let mut batch = Vec::with_capacity(8);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let size = batch.len();
        let outcome = db
            .call(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let finishes: Vec<Finish> = batch.into_iter().map(|job| job(&tx)).collect();
                let commit = tx.commit().err().map(StoreError::from);
                for finish in finishes {
                    finish(commit.as_ref());
                }
                Ok(())
            })
            .await;
        if let Err(e) = outcome {
            // Its callers hear about it through their dropped replies.
            tracing::error!(error = %e, steps = size, "a batch of challenge steps failed");
        }
    }
}

/// `StoreError` is not `Clone`; a commit failure is told to every caller.
fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::Conflict(what) => StoreError::Conflict(what),
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::row::RowChange;
    use serde_json::Value;

    fn row(action: &str, id: &str, uid: Option<&str>) -> ChallengeRow {
        ChallengeRow {
            action: action.into(),
            id: id.into(),
            uid: uid.map(str::to_owned),
            settings: Value::Bool(false),
            secret_hash: None,
            metadata: Value::Null,
            created_at: 0,
            verified_at: None,
            ttl: 0,
            expires_at: None,
            throttle: 0,
            throttle_until: None,
            attempts: 0,
        }
    }

    fn pair(action: &str, id: &str) -> RowKey {
        RowKey::Pair {
            action: action.into(),
            id: id.into(),
        }
    }

    async fn count(db: &Db) -> i64 {
        db.call(|c| Ok(c.query_row("SELECT count(*) FROM challenges", [], |r| r.get(0))?))
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_commits_together_and_a_failing_step_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let committer = Committer::start(db.clone());
        let replace = |r: ChallengeRow| {
            move |_: Option<&ChallengeRow>| Step::new(RowChange::Replace(Box::new(r)), ())
        };
        // Two rows; "y" will be replaced by a row whose uid clashes with "x".
        committer
            .step(pair("a", "x"), 0, replace(row("a", "x", Some("u1"))))
            .await
            .unwrap();
        committer
            .step(pair("a", "y"), 0, replace(row("a", "y", Some("u2"))))
            .await
            .unwrap();

        // Hold the turn so that everything below queues into one batch.
        let turn = committer.turn.clone().lock_owned().await;
        // Keep one caller "inside" so the others do not take the direct path.
        committer.inflight.fetch_add(1, Ordering::SeqCst);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let c = committer.clone();
            let (key, new) = if i == 7 {
                (pair("a", "y"), row("a", "y", Some("u1"))) // UNIQUE(uid) fails
            } else {
                let id = format!("n{i}");
                (pair("a", &id), row("a", &id, None))
            };
            tasks.push(tokio::spawn(
                async move { c.step(key, 0, replace(new)).await },
            ));
        }
        // Let them all enqueue, then release the writer.
        // The writer holds the first job while it waits for the turn.
        while committer.jobs.capacity() > QUEUE - 19 {
            tokio::task::yield_now().await;
        }
        drop(turn);
        let mut failed = 0;
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(()) => assert_ne!(i, 7),
                Err(StoreError::Internal(_)) => {
                    assert_eq!(i, 7);
                    failed += 1;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        committer.inflight.fetch_sub(1, Ordering::SeqCst);
        assert_eq!(failed, 1);
        // 2 + 19 rows, and "y" survived its failed replacement (the DELETE
        // before the failing INSERT was rolled back with the savepoint).
        assert_eq!(count(&db).await, 21);
        let uid: Option<String> = db
            .call(|c| {
                Ok(c.query_row(
                    "SELECT uid FROM challenges WHERE action = 'a' AND id = 'y'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(uid.as_deref(), Some("u2"));
    }
}
