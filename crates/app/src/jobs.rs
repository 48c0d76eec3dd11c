//! The background jobs runner: claims due jobs, runs each with the handler registered for its
//! name, and records the outcome.
//!
//! A runner has an owner id (instance and process, unique among the runners sharing one
//! database). [`JobsService::run_due`] claims with a lease of [`JobsSettings::lease`], which
//! must outlast the longest run: a job still running when its lease ends may be taken over by
//! another runner, and the first runner's outcome is then dropped (the port refuses to record
//! it). A job whose name has no handler here fails its attempt with "no handler", so a
//! runner of an older version retries later rather than losing the job. A handler that
//! panics fails its attempt like one that returns an error ([`caught`]): the runner goes on
//! with the next job, and the job is retried with backoff instead of waiting for its lease.

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use accueil_domain::jobs::{Backoff, Job, JobKey, JobName, JobRun, Outcome, Schedule};
use accueil_ports::jobs::JobStatus;
use accueil_ports::system::{Clock, IdGenerator};
use accueil_ports::{Store, StoreError, StoreExt};
use chrono::{DateTime, Duration, Utc};

/// What a handler returns: `Err` with a message for the run history on failure.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Runs one job. Cheap to clone; called once per attempt.
pub type JobHandler = Arc<dyn Fn(Job) -> JobFuture + Send + Sync>;

/// How the runner claims and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobsSettings {
    /// How long a claim holds a job.
    pub lease: Duration,
    /// Jobs claimed per round.
    pub batch: u32,
    /// Delays between failed attempts.
    pub backoff: Backoff,
}

impl Default for JobsSettings {
    fn default() -> Self {
        Self {
            lease: Duration::minutes(5),
            batch: 10,
            backoff: Backoff::default(),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Runs that succeeded.
    pub succeeded: u32,
    /// Runs that failed (retried later or given up).
    pub failed: u32,
    /// Runs whose outcome was not recorded because the lease had been taken over.
    pub lost: u32,
}

/// Background jobs: registration, enqueueing, and the runner.
#[derive(Clone)]
pub struct JobsService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    settings: JobsSettings,
    handlers: BTreeMap<JobName, JobHandler>,
}

impl JobsService {
    /// A runner with no handlers.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        settings: JobsSettings,
    ) -> Self {
        Self {
            store,
            clock,
            ids,
            settings,
            handlers: BTreeMap::new(),
        }
    }

    /// Registers `handler` for the jobs named `name` (replacing any earlier one).
    #[must_use]
    pub fn handle<F, Fut>(mut self, name: JobName, handler: F) -> Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let handler: JobHandler = Arc::new(move |job| Box::pin(handler(job)));
        self.handlers.insert(name, handler);
        self
    }

    /// Registers (or updates) the recurring job `name`; see
    /// [`accueil_ports::jobs::JobsRepo::upsert_schedule`].
    ///
    /// # Errors
    /// [`StoreError`] on storage failure, `StoreError::Conflict` when the schedule never
    /// matches.
    pub async fn schedule(&self, name: JobName, schedule: Schedule) -> Result<Job, StoreError> {
        let (id, now) = (self.ids.new_id(), self.clock.now());
        self.store
            .write(move |tx| tx.jobs().upsert_schedule(id, &name, &schedule, now))
            .await
    }

    /// Enqueues the one-off job `name` due at `run_at`, unless a job with `key` exists.
    /// Returns whether it was added.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    pub async fn enqueue(
        &self,
        name: JobName,
        key: JobKey,
        run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut job = Job::one_off(self.ids.new_id(), name, key, run_at);
        job.created_at = self.clock.now();
        self.store.write(move |tx| tx.jobs().enqueue(&job)).await
    }

    /// The recurring jobs (every job when `all`) with their latest run and failure.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    pub async fn list(&self, all: bool) -> Result<Vec<JobStatus>, StoreError> {
        self.store.read(move |tx| tx.jobs().list(all, 500)).await
    }

    /// Claims the jobs due now as `owner`, runs them one after the other, and records each
    /// outcome.
    ///
    /// # Errors
    /// [`StoreError`] when claiming or recording fails (the round stops; the jobs it had
    /// claimed become claimable again when their lease runs out).
    pub async fn run_due(&self, owner: &str) -> Result<RunReport, StoreError> {
        let now = self.clock.now();
        let (lease_until, batch) = (now + self.settings.lease, self.settings.batch);
        let who = owner.to_owned();
        let claimed = self
            .store
            .write(move |tx| tx.jobs().claim_due(&who, now, lease_until, batch))
            .await?;
        let mut report = RunReport::default();
        for job in claimed {
            let started_at = self.clock.now();
            let result = match self.handlers.get(&job.name) {
                Some(handler) => caught(handler, job.clone()).await,
                None => Err(format!("no handler for job {}", job.name)),
            };
            let run = JobRun {
                id: self.ids.new_id(),
                job_id: job.id,
                name: job.name.clone(),
                owner: owner.to_owned(),
                started_at,
                finished_at: self.clock.now(),
                outcome: if result.is_ok() {
                    Outcome::Succeeded
                } else {
                    Outcome::Failed
                },
                error: result.as_ref().err().cloned(),
            };
            let backoff = self.settings.backoff;
            let recorded = match &result {
                Ok(()) => self.store.write(move |tx| tx.jobs().complete(&run)).await?,
                Err(_) => {
                    self.store
                        .write(move |tx| tx.jobs().fail(&run, &backoff))
                        .await?
                }
            };
            let (name, attempt) = (job.name.as_str(), job.attempts);
            match (recorded, result) {
                (false, _) => {
                    tracing::warn!(
                        job = name,
                        attempt,
                        "job lease was taken over; outcome dropped"
                    );
                    report.lost += 1;
                }
                (true, Ok(())) => {
                    tracing::info!(job = name, attempt, "job succeeded");
                    report.succeeded += 1;
                }
                (true, Err(e)) => {
                    tracing::warn!(job = name, attempt, error = %e, "job failed");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}

/// Runs `handler` on `job`, a panic (while making the future or polling it) becoming a
/// failed attempt with the panic's message. Unwind safety is asserted: a handler shares
/// nothing with the runner but the job it was given, and its state is dropped with it.
async fn caught(handler: &JobHandler, job: Job) -> Result<(), String> {
    let mut fut = match catch_unwind(AssertUnwindSafe(|| handler(job))) {
        Ok(fut) => fut,
        Err(panic) => return Err(panicked(panic.as_ref())),
    };
    std::future::poll_fn(
        move |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => Poll::Ready(Err(panicked(panic.as_ref()))),
        },
    )
    .await
}

/// A panic's payload as a run's error.
fn panicked(payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string payload");
    format!("the handler panicked: {message}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use accueil_domain::jobs::JobState;
    use accueil_store_memory::MemoryStore;
    use chrono::TimeZone as _;
    use uuid::Uuid;

    use super::*;

    struct Manual(Mutex<DateTime<Utc>>);
    impl Clock for Manual {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }
    impl Manual {
        fn set(&self, t: DateTime<Utc>) {
            *self.0.lock().unwrap() = t;
        }
    }
    #[derive(Default)]
    struct Ids(AtomicU32);
    impl IdGenerator for Ids {
        fn new_id(&self) -> Uuid {
            Uuid::from_u128(u128::from(self.0.fetch_add(1, Ordering::SeqCst)) + 1)
        }
    }

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0).unwrap()
    }

    fn name(n: &str) -> JobName {
        JobName::parse(n).unwrap()
    }

    struct Rig {
        clock: Arc<Manual>,
        store: Arc<dyn Store>,
        runs: Arc<AtomicU32>,
    }

    fn rig() -> (Rig, JobsService) {
        let clock = Arc::new(Manual(Mutex::new(t(9, 10))));
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let service = JobsService::new(
            store.clone(),
            clock.clone(),
            Arc::new(Ids::default()),
            JobsSettings::default(),
        )
        .handle(name("count"), move |_job| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .handle(name("broken"), |_job| async { Err("it broke".to_owned()) });
        (Rig { clock, store, runs }, service)
    }

    #[tokio::test]
    async fn recurring_job_runs_once_per_due_time() {
        let (rig, jobs) = rig();
        let hourly = Schedule::parse("0 * * * *", "UTC").unwrap();
        let job = jobs.schedule(name("count"), hourly.clone()).await.unwrap();
        assert_eq!(job.run_at, t(10, 0));
        assert_eq!(
            jobs.run_due("a").await.unwrap(),
            RunReport::default(),
            "not due yet"
        );
        rig.clock.set(t(10, 0));
        let report = jobs.run_due("a").await.unwrap();
        assert_eq!(report.succeeded, 1);
        assert_eq!(
            jobs.run_due("b").await.unwrap(),
            RunReport::default(),
            "once per due time"
        );
        assert_eq!(rig.runs.load(Ordering::SeqCst), 1);
        rig.clock.set(t(11, 0));
        jobs.run_due("b").await.unwrap();
        assert_eq!(rig.runs.load(Ordering::SeqCst), 2);
        let listed = jobs.list(false).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].job.run_at, t(12, 0));
        assert_eq!(listed[0].last_run.as_ref().unwrap().owner, "b");
        assert!(listed[0].last_failure.is_none());
        // Registering again at start-up changes nothing.
        assert_eq!(
            jobs.schedule(name("count"), hourly).await.unwrap().run_at,
            t(12, 0)
        );
    }

    #[tokio::test]
    async fn one_off_jobs_are_idempotent_and_fail_with_backoff() {
        let (rig, jobs) = rig();
        let key = JobKey::parse("k1").unwrap();
        assert!(
            jobs.enqueue(name("count"), key.clone(), t(9, 0))
                .await
                .unwrap()
        );
        assert!(!jobs.enqueue(name("count"), key, t(9, 0)).await.unwrap());
        assert_eq!(jobs.run_due("a").await.unwrap().succeeded, 1);
        assert_eq!(
            rig.runs.load(Ordering::SeqCst),
            1,
            "the duplicate was not enqueued"
        );

        let key = JobKey::parse("k2").unwrap();
        jobs.enqueue(name("broken"), key, t(9, 0)).await.unwrap();
        let report = jobs.run_due("a").await.unwrap();
        assert_eq!(report.failed, 1);
        let all = jobs.list(true).await.unwrap();
        let broken = all.iter().find(|s| s.job.name == name("broken")).unwrap();
        assert_eq!(
            broken.job.run_at,
            t(9, 10) + Duration::seconds(30),
            "backed off"
        );
        assert_eq!(broken.job.last_error.as_deref(), Some("it broke"));
        assert_eq!(
            broken.last_failure.as_ref().unwrap().error.as_deref(),
            Some("it broke")
        );
        assert_eq!(
            jobs.run_due("a").await.unwrap(),
            RunReport::default(),
            "not before the backoff"
        );
        for attempt in 2..=5 {
            rig.clock.set(rig.clock.now() + Duration::hours(2));
            assert_eq!(
                jobs.run_due("a").await.unwrap().failed,
                1,
                "attempt {attempt}"
            );
        }
        let id = broken.job.id;
        let job = rig
            .store
            .read(move |tx| tx.jobs().get(id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.state, JobState::Failed, "given up after 5 attempts");
    }

    #[tokio::test]
    async fn a_panicking_handler_fails_its_attempt_and_the_runner_goes_on() {
        let (rig, jobs) = rig();
        let jobs = jobs
            .handle(name("panics"), |_job| async { panic!("boom") })
            .handle(
                name("panics-early"),
                |_job| -> std::future::Ready<Result<(), String>> { panic!("before any future") },
            );
        for (n, k) in [("panics", "p1"), ("panics-early", "p2"), ("count", "c1")] {
            jobs.enqueue(name(n), JobKey::parse(k).unwrap(), t(9, 0))
                .await
                .unwrap();
        }
        let report = jobs.run_due("a").await.unwrap();
        assert_eq!((report.failed, report.succeeded), (2, 1), "{report:?}");
        assert_eq!(rig.runs.load(Ordering::SeqCst), 1, "the next job still ran");
        let all = jobs.list(true).await.unwrap();
        let error = |n: &str| {
            all.iter()
                .find(|s| s.job.name == name(n))
                .and_then(|s| s.job.last_error.clone())
        };
        assert_eq!(
            error("panics").as_deref(),
            Some("the handler panicked: boom")
        );
        assert_eq!(
            error("panics-early").as_deref(),
            Some("the handler panicked: before any future")
        );
        let p = all.iter().find(|s| s.job.name == name("panics")).unwrap();
        assert_eq!(
            p.job.run_at,
            t(9, 10) + Duration::seconds(30),
            "backed off, not leased"
        );
    }

    #[tokio::test]
    async fn unknown_names_fail() {
        let (rig, jobs) = rig();
        jobs.enqueue(name("nobody"), JobKey::parse("n").unwrap(), t(9, 0))
            .await
            .unwrap();
        assert_eq!(jobs.run_due("a").await.unwrap().failed, 1);
        let all = jobs.list(true).await.unwrap();
        assert_eq!(
            all[0].job.last_error.as_deref(),
            Some("no handler for job nobody")
        );
        assert_eq!(rig.runs.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_taken_over_lease_drops_the_outcome() {
        let (rig, jobs) = rig();
        // A slow handler outlives its lease: another runner takes the job over meanwhile.
        let clock = rig.clock.clone();
        let other = jobs.clone();
        let slow = jobs.clone().handle(name("slow"), move |_job| {
            let (clock, other) = (clock.clone(), other.clone());
            async move {
                clock.set(clock.now() + Duration::minutes(6));
                let taken = other.run_due("b").await.map_err(|e| e.to_string())?;
                assert_eq!(taken.failed, 1, "b took the job over (and has no handler)");
                Ok(())
            }
        });
        jobs.enqueue(name("slow"), JobKey::parse("s").unwrap(), t(9, 0))
            .await
            .unwrap();
        let report = slow.run_due("a").await.unwrap();
        assert_eq!(report.lost, 1, "a's outcome is dropped");
        let all = jobs.list(true).await.unwrap();
        let s = all.iter().find(|s| s.job.name == name("slow")).unwrap();
        assert_eq!(s.last_run.as_ref().unwrap().owner, "b");
    }
}
