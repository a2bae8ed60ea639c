//! Group commit: many small write transactions, one fsync.
//!
//! With `synchronous=FULL` (D1) every commit waits for the disk, so one
//! transaction per request caps a write path at the disk's flush rate (and
//! concurrent `BEGIN IMMEDIATE`s queue on SQLite's busy handler, which
//! sleeps in whole milliseconds). [`GroupCommit::write`] hands its closure
//! to one writer task instead, which takes whatever has queued up (up to
//! [`MAX_BATCH`]), runs the closures one after another in a single
//! `BEGIN IMMEDIATE` transaction, each in its own savepoint, commits once,
//! and only then answers each caller.
//!
//! What stays true:
//! - jobs run in arrival order, and each sees the effects of the ones before
//!   it, exactly as if they had been separate transactions one after another
//!   (so two concurrent rotations of one refresh token still see one
//!   rotation, and N verifications of one challenge one success);
//! - no caller hears "done" before its change is durable;
//! - a job that fails rolls back alone (its savepoint); the others commit;
//! - if the commit itself fails, every job of the batch fails with it;
//! - dropping the last handle lets the writer finish what is queued and
//!   stop: shutdown drains the queue.
//!
//! A job that arrives while no other is in flight skips the queue and runs
//! in its own transaction on the caller's blocking task: a lone request pays
//! no hand-off to the writer task. Direct jobs and batches take turns
//! through an async mutex (so jobs that arrive meanwhile join the next
//! batch), and then, like every writer, through the database's own write
//! gate (`Db::exclusive`), so they never meet on SQLite's busy handler.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rusqlite::{Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{Db, StoreError};

/// Most jobs in one transaction; bounds how long the write lock is held.
pub const MAX_BATCH: usize = 128;
/// Jobs waiting beyond this make callers wait to enqueue (back-pressure).
const QUEUE: usize = 4096;

/// Runs a job on the batch's transaction and returns how to answer its
/// caller once the commit's fate is known (`None`: committed).
type Job = Box<dyn FnOnce(&Transaction<'_>) -> Finish + Send>;
type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// Handle to the writer task. Cheap to clone; the task ends when the last
/// handle is dropped and the queue is empty.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    db: Db,
    /// Callers currently inside [`GroupCommit::write`]; 0 means a newcomer
    /// is alone and may run directly.
    inflight: Arc<AtomicUsize>,
    /// Held while a direct job or a batch has the write transaction.
    turn: Arc<Mutex<()>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("inflight", &self.inflight.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Counts a caller out of `write`, however it leaves (cancellation included).
struct Inside<'a>(&'a AtomicUsize);

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl GroupCommit {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(db: Db) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let turn = Arc::new(Mutex::new(()));
        tokio::spawn(run(db.clone(), queue, turn.clone()));
        GroupCommit {
            jobs,
            db,
            inflight: Arc::new(AtomicUsize::new(0)),
            turn,
        }
    }

    /// Runs `f` inside a write transaction, possibly shared with other
    /// callers' jobs, and answers once the transaction is durable. `f` must
    /// not commit or roll back: it runs inside a savepoint.
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let alone = self.inflight.fetch_add(1, Ordering::SeqCst) == 0;
        let _inside = Inside(&self.inflight);
        if alone {
            let _turn = self.turn.lock().await;
            return self.db.write(f).await;
        }
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |tx| {
            let result = in_savepoint(tx, f);
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
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".to_owned()))?;
        answer.await.map_err(|_| {
            // The batch never reached its commit: BEGIN failed (busy,
            // disk) or a job panicked. Nothing of it was written.
            StoreError::Unavailable("the database write did not complete".to_owned())
        })?
    }
}

/// Runs `f` in a savepoint of `tx`: its changes stand or fall together, and
/// a failure leaves the rest of the transaction untouched.
fn in_savepoint<R>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Transaction<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    // Prepared once per connection: parsing these on every job was a fifth
    // of a challenge step's instructions (callgrind).
    let run = |sql: &str| -> Result<(), StoreError> {
        tx.prepare_cached(sql)?.execute([])?;
        Ok(())
    };
    run("SAVEPOINT group_job")?;
    match f(tx) {
        Ok(out) => {
            run("RELEASE group_job")?;
            Ok(out)
        }
        Err(e) => {
            run("ROLLBACK TO group_job")?;
            run("RELEASE group_job")?;
            Err(e)
        }
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
        let published = db.clone();
        let outcome = db
            .exclusive(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let finishes: Vec<Finish> = batch.into_iter().map(|job| job(&tx)).collect();
                let commit = tx.commit().err().map(StoreError::from);
                // Readers that cache (the session cache) must see the change
                // before any caller hears it is done.
                published.publish_changes();
                for finish in finishes {
                    finish(commit.as_ref());
                }
                Ok(())
            })
            .await;
        if let Err(e) = outcome {
            // Its callers hear about it through their dropped replies.
            tracing::error!(error = %e, jobs = size, "a batch of database writes failed");
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

    async fn setup() -> (tempfile::TempDir, Db, GroupCommit) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.call(|c| {
            c.execute_batch("CREATE TABLE log (seq INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")?;
            Ok(())
        })
        .await
        .unwrap();
        let group = GroupCommit::start(db.clone());
        (dir, db, group)
    }

    async fn values(db: &Db) -> Vec<String> {
        db.call(|c| {
            let mut stmt = c.prepare("SELECT v FROM log ORDER BY seq")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
        .unwrap()
    }

    fn insert(v: String) -> impl FnOnce(&Transaction<'_>) -> Result<(), StoreError> {
        move |tx| {
            tx.execute("INSERT INTO log (v) VALUES (?1)", [&v])?;
            Ok(())
        }
    }

    type TestJob = Box<dyn FnOnce(&Transaction<'_>) -> Result<(), StoreError> + Send>;

    /// Holds the writer's turn and one caller "inside", so that `jobs` queue
    /// into one batch, in order (the tests run on a current-thread runtime,
    /// which polls spawned tasks first come, first served); releases the
    /// turn once they are all queued.
    async fn queue_up(
        group: &GroupCommit,
        jobs: Vec<TestJob>,
    ) -> Vec<tokio::task::JoinHandle<Result<(), StoreError>>> {
        let turn = group.turn.clone().lock_owned().await;
        group.inflight.fetch_add(1, Ordering::SeqCst);
        let n = jobs.len();
        let tasks: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let g = group.clone();
                tokio::spawn(async move { g.write(job).await })
            })
            .collect();
        // The writer holds the first job while it waits for the turn.
        while QUEUE - group.jobs.capacity() < n - 1 {
            tokio::task::yield_now().await;
        }
        group.inflight.fetch_sub(1, Ordering::SeqCst);
        drop(turn);
        tasks
    }

    #[tokio::test]
    async fn a_batch_runs_in_arrival_order_and_each_job_sees_the_ones_before() {
        let (_dir, db, group) = setup().await;
        let mut jobs: Vec<TestJob> = Vec::new();
        for i in 0..10 {
            jobs.push(Box::new(move |tx: &Transaction<'_>| {
                // Each job appends how many rows it saw before it.
                let seen: i64 = tx.query_row("SELECT count(*) FROM log", [], |r| r.get(0))?;
                assert_eq!(seen, i, "job {i} sees the {i} before it");
                insert(format!("job{i}"))(tx)
            }));
        }
        for t in queue_up(&group, jobs).await {
            t.await.unwrap().unwrap();
        }
        let expected: Vec<String> = (0..10).map(|i| format!("job{i}")).collect();
        assert_eq!(values(&db).await, expected);
    }

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone_and_does_not_poison_the_batch() {
        let (_dir, db, group) = setup().await;
        group.write(insert("taken".into())).await.unwrap();
        let mut jobs: Vec<TestJob> = Vec::new();
        for i in 0..6 {
            if i == 3 {
                // Writes a row, then breaks UNIQUE: both must be undone.
                jobs.push(Box::new(|tx: &Transaction<'_>| {
                    insert("half".into())(tx)?;
                    insert("taken".into())(tx)
                }));
            } else {
                jobs.push(Box::new(insert(format!("ok{i}"))));
            }
        }
        let results: Vec<_> = {
            let mut out = Vec::new();
            for t in queue_up(&group, jobs).await {
                out.push(t.await.unwrap());
            }
            out
        };
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_err(), i == 3, "job {i}: {r:?}");
        }
        assert_eq!(
            values(&db).await,
            ["taken", "ok0", "ok1", "ok2", "ok4", "ok5"]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_writers_all_commit_durably() {
        let (dir, db, group) = setup().await;
        let mut tasks = Vec::new();
        for i in 0..200 {
            let g = group.clone();
            tasks.push(tokio::spawn(async move {
                g.write(insert(format!("w{i}"))).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        drop((db, group));
        // A fresh connection sees all of them.
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(values(&db).await.len(), 200);
    }

    #[tokio::test]
    async fn dropping_the_handle_drains_what_is_queued() {
        let (_dir, db, group) = setup().await;
        let mut jobs: Vec<TestJob> = Vec::new();
        for i in 0..20 {
            jobs.push(Box::new(insert(format!("q{i}"))));
        }
        let tasks = queue_up(&group, jobs).await;
        // Every handle but the ones inside the spawned callers goes now.
        drop(group);
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(values(&db).await.len(), 20);
    }
}
