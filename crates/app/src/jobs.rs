//! The background jobs runner: claims due jobs, runs each with the handler registered for its
//! name, and records the outcome.
//!
//! A runner has an owner id (instance and process, unique among the runners sharing one
//! database). [`JobsService::run_due`] claims with a lease of [`JobsSettings::lease`], renewed
//! every third of it while the handler runs ([`JobsService::with_timer`]): a crashed runner's
//! job is taken over once its lease ends, a live runner's never. Should a runner be unable to
//! renew (cut off from the database), its job may be taken over, and its outcome is then
//! dropped (the port refuses to record it). A job whose name has no handler here fails its attempt with "no handler", so a
//! runner of an older version retries later rather than losing the job. A handler that
//! panics fails its attempt like one that returns an error ([`caught`]): the runner goes on
//! with the next job, and the job is retried with backoff instead of waiting for its lease.
//!
//! Recurring jobs are declared with their handler and default schedule
//! ([`JobsService::recurring`]), every module's in one place (`App`'s `background_jobs`), and
//! written to the database by [`JobsService::register_schedules`] at start-up, with the
//! operator's overrides. The loop that calls [`JobsService::run_due`] lives in the server; it
//! reports its rounds to [`RunnerStatus`], which `/ready` reads.

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use accueil_domain::identity::UserId;
use accueil_domain::jobs::{Backoff, Job, JobError, JobKey, JobName, JobRun, Outcome, Schedule};
use accueil_ports::jobs::{ClaimNow, JobStatus, PerUserSchedules};
use accueil_ports::system::{Clock, IdGenerator};
use accueil_ports::{Store, StoreError, StoreExt, Tx};
use chrono::{DateTime, Duration, Utc};

/// A recurring job of one user on that user's wall clock ([`JobKey::for_user`]): what a
/// module registers with [`UserSchedule::set`] inside the unit of work of the use case that
/// makes it needed, sets again on the user's new clock inside the unit of work that changes
/// their zone ([`crate::lifecycle::Lifecycle::time_zone_changed`]), and removes with
/// [`UserSchedule::remove`]. Its handler
/// is registered like any other ([`JobsService::handle`]) and finds the user in the key
/// ([`JobKey::user`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSchedule {
    /// The job.
    pub name: JobName,
    /// Its cron expression, on the user's clock.
    pub cron: &'static str,
}

impl UserSchedule {
    fn schedule(&self, zone: &str) -> Result<Schedule, StoreError> {
        // The expression is the module's constant (tested), the zone a validated IANA name.
        Schedule::parse(self.cron, zone).map_err(|e| StoreError::Internal(e.to_string()))
    }

    /// Registers the schedule of `user` on the clock of `zone` (an IANA name), or moves it
    /// there; unchanged when it is already so.
    ///
    /// # Errors
    /// The store's error.
    pub fn set(
        &self,
        tx: &mut dyn Tx,
        id: uuid::Uuid,
        user: UserId,
        zone: &str,
        now: DateTime<Utc>,
    ) -> Result<Job, StoreError> {
        let key = JobKey::for_user(&self.name, user);
        tx.jobs()
            .upsert_schedule(id, &self.name, &key, &self.schedule(zone)?, now)
    }

    /// Removes the schedule of `user`; returns whether there was one.
    ///
    /// # Errors
    /// The store's error.
    pub fn remove(&self, tx: &mut dyn Tx, user: UserId) -> Result<bool, StoreError> {
        tx.jobs().remove(&JobKey::for_user(&self.name, user))
    }
}

/// Waits for a while: the runtime's timer, which the server gives
/// ([`JobsService::with_timer`]); the application has no runtime of its own.
pub type Sleep =
    Arc<dyn Fn(std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// What a handler returns: `Err` with a message for the run history on failure.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Runs one job. Cheap to clone; called once per attempt.
pub type JobHandler = Arc<dyn Fn(Job) -> JobFuture + Send + Sync>;

/// How the runner claims and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobsSettings {
    /// How long a claim holds a job: renewed while it runs when there is a timer
    /// ([`JobsService::with_timer`]), so it is how long a crashed runner's job waits.
    pub lease: Duration,
    /// Jobs claimed per round.
    pub batch: u32,
    /// Delays between failed attempts.
    pub backoff: Backoff,
    /// How long runs (and finished one-off jobs) are kept.
    pub history: Duration,
}

impl Default for JobsSettings {
    fn default() -> Self {
        Self {
            lease: Duration::minutes(5),
            batch: 10,
            backoff: Backoff::default(),
            history: Duration::days(30),
        }
    }
}

/// One run, as the runner saw it (for metrics and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The job's name.
    pub name: JobName,
    /// How the handler ended.
    pub outcome: Outcome,
    /// Whether the outcome was recorded (false: the lease had been taken over).
    pub recorded: bool,
    /// The handler's time.
    pub took: Duration,
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Runs that succeeded.
    pub succeeded: u32,
    /// Runs that failed (retried later or given up).
    pub failed: u32,
    /// Runs whose outcome was not recorded because the lease had been taken over.
    pub lost: u32,
    /// Each run of the round, in order.
    pub runs: Vec<RunSummary>,
}

/// What [`JobsService::run_now`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RanNow {
    /// The recorded run (or, when `recorded` is false, the run that could not be recorded).
    pub run: JobRun,
    /// Whether the lease was still ours when the run ended.
    pub recorded: bool,
}

/// Why [`JobsService::run_now`] ran nothing.
#[derive(Debug, thiserror::Error)]
pub enum RunNowError {
    /// No recurring job has this name.
    #[error("unknown job {name:?}; known jobs: {}", known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The recurring jobs.
        known: Vec<String>,
    },
    /// The job's schedule is not registered (no runner or `jobs run` registered it yet).
    #[error("job {0} has no schedule in the database yet")]
    NotRegistered(String),
    /// Another runner holds the job.
    #[error("job {name} is running on {owner} (lease until {until}); try again after it")]
    Busy {
        /// The job.
        name: String,
        /// Its runner.
        owner: String,
        /// The lease's end.
        until: DateTime<Utc>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why schedules could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// An override names no recurring job.
    #[error("no recurring job is named {name:?}; known jobs: {}", known.join(", "))]
    Unknown {
        /// The name given.
        name: String,
        /// The recurring jobs.
        known: Vec<String>,
    },
    /// A schedule does not parse, or its zone is unknown.
    #[error("schedule of {name}: {source}")]
    Invalid {
        /// The job.
        name: String,
        /// Why.
        source: JobError,
    },
    /// The store failed, or the schedule never matches.
    #[error("schedule of {name}: {source}")]
    Store {
        /// The job.
        name: String,
        /// Why.
        source: StoreError,
    },
}

/// A recurring job as registered: its name and default cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurring {
    /// The job.
    pub name: JobName,
    /// Its schedule unless the settings override it.
    pub default_cron: &'static str,
}

/// Background jobs: registration, enqueueing, and the runner.
#[derive(Clone)]
pub struct JobsService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    settings: JobsSettings,
    handlers: BTreeMap<JobName, JobHandler>,
    recurring: BTreeMap<JobName, &'static str>,
    runner: Arc<RunnerStatus>,
    pub(crate) timer: Option<Sleep>,
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
            recurring: BTreeMap::new(),
            runner: Arc::new(RunnerStatus::default()),
            timer: None,
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

    /// Registers `handler` for `name` and makes `name` a recurring job on `default_cron`
    /// (5 fields, or 6 with seconds first), which [`JobsService::register_schedules`] writes.
    #[must_use]
    pub fn recurring<F, Fut>(
        mut self,
        name: JobName,
        default_cron: &'static str,
        handler: F,
    ) -> Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.recurring.insert(name.clone(), default_cron);
        self.handle(name, handler)
    }

    /// Renews the lease of each job while its handler runs, every third of
    /// [`JobsSettings::lease`], waiting with `sleep`: a run may then last longer than the lease,
    /// and the lease only decides how soon a crashed runner's job is taken over. Without a
    /// timer a run must end within its lease.
    #[must_use]
    pub fn with_timer(mut self, sleep: Sleep) -> Self {
        self.timer = Some(sleep);
        self
    }

    /// The settings the runner claims with.
    pub fn settings(&self) -> JobsSettings {
        self.settings
    }

    /// The recurring jobs, by name.
    pub fn recurring_jobs(&self) -> Vec<Recurring> {
        self.recurring
            .iter()
            .map(|(name, cron)| Recurring {
                name: name.clone(),
                default_cron: cron,
            })
            .collect()
    }

    /// The recurring job named `raw`, where `-`, `_` and `.` are the same and case does not
    /// count (so `PURGE_DELETED` from a variable's name finds `purge-deleted`).
    pub fn find_recurring(&self, raw: &str) -> Option<JobName> {
        let fold = |s: &str| {
            s.chars()
                .map(|c| match c {
                    '-' | '.' => '_',
                    c => c.to_ascii_lowercase(),
                })
                .collect::<String>()
        };
        let wanted = fold(raw);
        self.recurring
            .keys()
            .find(|n| fold(n.as_str()) == wanted)
            .cloned()
    }

    fn known(&self) -> Vec<String> {
        self.recurring.keys().map(ToString::to_string).collect()
    }

    /// Every recurring job's schedule: `overrides`' cron expression (by the raw names
    /// [`JobsService::find_recurring`] accepts), else its default, on the wall clock of
    /// `zone`.
    ///
    /// # Errors
    /// [`ScheduleError::Unknown`] for an override of no known job, [`ScheduleError::Invalid`]
    /// for an expression or zone that does not parse.
    pub fn resolve_schedules(
        &self,
        zone: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Vec<(JobName, Schedule)>, ScheduleError> {
        let mut crons: BTreeMap<JobName, String> = self
            .recurring
            .iter()
            .map(|(n, c)| (n.clone(), (*c).to_owned()))
            .collect();
        for (raw, cron) in overrides {
            let name = self
                .find_recurring(raw)
                .ok_or_else(|| ScheduleError::Unknown {
                    name: raw.clone(),
                    known: self.known(),
                })?;
            crons.insert(name, cron.clone());
        }
        crons
            .into_iter()
            .map(|(name, cron)| match Schedule::parse(&cron, zone) {
                Ok(schedule) => Ok((name, schedule)),
                Err(source) => Err(ScheduleError::Invalid {
                    name: name.to_string(),
                    source,
                }),
            })
            .collect()
    }

    /// Writes the schedules of [`JobsService::resolve_schedules`]. With `replace`, a stored
    /// schedule that differs is replaced ([`accueil_ports::jobs::JobsRepo::upsert_schedule`]:
    /// what an instance running jobs does at start-up, idempotent across instances that agree);
    /// without, only missing ones are added (what `accueil jobs run` does, so a command run
    /// with other settings never changes the runners' schedules).
    ///
    /// # Errors
    /// [`ScheduleError::Store`].
    pub async fn register_schedules(
        &self,
        schedules: Vec<(JobName, Schedule)>,
        replace: bool,
    ) -> Result<(), ScheduleError> {
        for (name, schedule) in schedules {
            let label = name.to_string();
            let result = if replace {
                self.schedule(name, schedule).await.map(|_| ())
            } else {
                let (id, now) = (self.ids.new_id(), self.clock.now());
                let key = JobKey::schedule(&name);
                match Job::recurring(id, name, key, schedule, now) {
                    Some(job) => self
                        .store
                        .write(move |tx| tx.jobs().enqueue(&job))
                        .await
                        .map(|_| ()),
                    None => Err(StoreError::Conflict("schedule never matches".into())),
                }
            };
            result.map_err(|source| ScheduleError::Store {
                name: label,
                source,
            })?;
        }
        Ok(())
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
            .write(move |tx| {
                let key = JobKey::schedule(&name);
                tx.jobs().upsert_schedule(id, &name, &key, &schedule, now)
            })
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

    /// The shared schedules (every job when `all`) with their latest run and failure.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    pub async fn list(&self, all: bool) -> Result<Vec<JobStatus>, StoreError> {
        self.store.read(move |tx| tx.jobs().list(all, 500)).await
    }

    /// The per-user schedules, counted by name.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    pub async fn per_user(&self) -> Result<Vec<PerUserSchedules>, StoreError> {
        self.store.read(|tx| tx.jobs().per_user_schedules()).await
    }

    /// The latest runs of the job `id`, newest first.
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    pub async fn runs(&self, id: uuid::Uuid, limit: u32) -> Result<Vec<JobRun>, StoreError> {
        self.store.read(move |tx| tx.jobs().runs(id, limit)).await
    }

    /// When the next job can be claimed (a read, so an idle runner costs no write).
    ///
    /// # Errors
    /// [`StoreError`] on storage failure.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.store.read(|tx| tx.jobs().next_due()).await
    }

    /// The health of this process's runner loop, which [`crate::App::ready`] reports.
    pub fn runner(&self) -> &RunnerStatus {
        &self.runner
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
            let (run, recorded) = self.execute(job, owner).await?;
            match (recorded, run.outcome) {
                (false, _) => report.lost += 1,
                (true, Outcome::Succeeded) => report.succeeded += 1,
                (true, Outcome::Failed) => report.failed += 1,
            }
            report.runs.push(RunSummary {
                name: run.name.clone(),
                outcome: run.outcome,
                recorded,
                took: run.finished_at - run.started_at,
            });
        }
        Ok(report)
    }

    /// Runs the recurring job `name` now, once, as `owner` (`accueil jobs run`): it is claimed
    /// by its key like a runner claims it ([`accueil_ports::jobs::JobsRepo::claim_now`]), so
    /// it never runs while a runner holds it, and no runner takes it while this runs. Its
    /// schedule is kept: the next scheduled run still comes.
    ///
    /// # Errors
    /// See [`RunNowError`]; a failing handler is not an error here but the run's outcome.
    pub async fn run_now(&self, name: &str, owner: &str) -> Result<RanNow, RunNowError> {
        let name = self
            .find_recurring(name)
            .ok_or_else(|| RunNowError::Unknown {
                name: name.to_owned(),
                known: self.known(),
            })?;
        let key = JobKey::schedule(&name);
        let now = self.clock.now();
        let (who, lease_until) = (owner.to_owned(), now + self.settings.lease);
        let claim = self
            .store
            .write(move |tx| tx.jobs().claim_now(&key, &who, now, lease_until))
            .await?;
        let job = match claim {
            ClaimNow::Claimed(job) => *job,
            ClaimNow::Leased(lease) => {
                return Err(RunNowError::Busy {
                    name: name.to_string(),
                    owner: lease.owner,
                    until: lease.until,
                });
            }
            ClaimNow::Missing | ClaimNow::Finished(_) => {
                return Err(RunNowError::NotRegistered(name.to_string()));
            }
        };
        let (run, recorded) = self.execute(job, owner).await?;
        Ok(RanNow { run, recorded })
    }

    /// Awaits `work`, renewing `job`'s lease meanwhile when there is a timer. Renewal stops
    /// when the lease was taken over (the run goes on: handlers are idempotent, and its
    /// outcome will not be recorded); a failed renewal is retried at the next tick.
    async fn renewing<F>(&self, job: &Job, owner: &str, work: F) -> Result<(), String>
    where
        F: Future<Output = Result<(), String>>,
    {
        let Some(sleep) = self.timer.clone() else {
            return work.await;
        };
        let lease = self.settings.lease;
        let every = (lease / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1))
            .max(std::time::Duration::from_millis(10));
        let (store, clock, id, who) = (
            self.store.clone(),
            self.clock.clone(),
            job.id,
            owner.to_owned(),
        );
        let name = job.name.clone();
        let renewals = async move {
            loop {
                sleep(every).await;
                let (who, until) = (who.clone(), clock.now() + lease);
                match store
                    .write(move |tx| tx.jobs().renew(id, &who, until))
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = %name, "job lease was taken over while it ran");
                        return;
                    }
                    Err(e) => tracing::warn!(job = %name, error = %e, "cannot renew job lease"),
                }
            }
        };
        let (mut work, mut renewals) = (std::pin::pin!(work), std::pin::pin!(renewals));
        let mut renewing = true;
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(result) = work.as_mut().poll(cx) {
                return Poll::Ready(result);
            }
            if renewing && renewals.as_mut().poll(cx).is_ready() {
                renewing = false;
            }
            Poll::Pending
        })
        .await
    }

    /// Runs one claimed job with its handler and records the outcome; returns the run and
    /// whether it was recorded.
    async fn execute(&self, job: Job, owner: &str) -> Result<(JobRun, bool), StoreError> {
        let started_at = self.clock.now();
        let result = match self.handlers.get(&job.name) {
            Some(handler) => {
                self.renewing(&job, owner, caught(handler, job.clone()))
                    .await
            }
            None => Err(format!("no handler for job {}", job.name)),
        };
        let run = JobRun {
            id: self.ids.new_id(),
            job_id: job.id,
            name: job.name.clone(),
            owner: owner.to_owned(),
            due_at: job.run_at,
            attempt: job.attempts,
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
        let stored = run.clone();
        let recorded = match &result {
            Ok(()) => {
                self.store
                    .write(move |tx| tx.jobs().complete(&stored))
                    .await?
            }
            Err(_) => {
                self.store
                    .write(move |tx| tx.jobs().fail(&stored, &backoff))
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
            }
            (true, Ok(())) => tracing::info!(job = name, attempt, "job succeeded"),
            (true, Err(e)) => tracing::warn!(job = name, attempt, error = %e, "job failed"),
        }
        Ok((run, recorded))
    }
}

/// The state of a process's runner loop, as the loop reports it and `/ready` reads it.
///
/// Until a loop starts, the runner counts as disabled (`accueil jobs ...` and an instance with
/// `ACCUEIL_JOBS_RUNNER=off` run none). A running loop is healthy while it finished a round
/// recently: within `idle` of the last one when it is between rounds (a few poll intervals),
/// and, while it runs jobs, within the lease of the round's start or of the last renewal of
/// its job's lease (a run renews its lease while it lasts; one that cannot renew loses it).
#[derive(Debug, Default)]
pub struct RunnerStatus {
    state: Mutex<RunnerState>,
}

#[derive(Debug, Default, Clone)]
enum RunnerState {
    #[default]
    Disabled,
    Running {
        idle: Duration,
        busy: Duration,
        last_ok: DateTime<Utc>,
        busy_since: Option<DateTime<Utc>>,
        last_error: Option<String>,
    },
    Stopped,
}

/// What [`RunnerStatus::check`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunnerHealth {
    /// No runner in this process, by setting.
    Disabled,
    /// Rounds are happening.
    Healthy,
    /// The loop stopped or has not finished a round in time.
    Unhealthy(String),
}

impl RunnerStatus {
    fn set(&self, f: impl FnOnce(&mut RunnerState)) {
        // A poisoned lock only means a panic while it was held; the state is still usable.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut state);
    }

    /// The loop starts at `now`, polling every `poll`, claiming with `lease`.
    pub fn started(&self, now: DateTime<Utc>, poll: Duration, lease: Duration) {
        self.set(|s| {
            *s = RunnerState::Running {
                idle: poll * 3 + Duration::seconds(10),
                busy: lease + poll,
                last_ok: now,
                busy_since: None,
                last_error: None,
            };
        });
    }

    /// A round that may run jobs begins.
    pub fn busy(&self, now: DateTime<Utc>) {
        self.set(|s| {
            if let RunnerState::Running { busy_since, .. } = s {
                *busy_since = Some(now);
            }
        });
    }

    /// The lease of the job being run was renewed at `now`: the round is alive.
    pub fn renewed(&self, now: DateTime<Utc>) {
        self.set(|s| {
            if let RunnerState::Running {
                busy_since: Some(t),
                ..
            } = s
            {
                *t = now;
            }
        });
    }

    /// A round finished at `now` without a store error.
    pub fn round_ok(&self, now: DateTime<Utc>) {
        self.set(|s| {
            if let RunnerState::Running {
                last_ok,
                busy_since,
                last_error,
                ..
            } = s
            {
                *last_ok = now;
                *busy_since = None;
                *last_error = None;
            }
        });
    }

    /// A round failed with `error` (the store's); the last good round stays as it was.
    pub fn round_failed(&self, error: String) {
        self.set(|s| {
            if let RunnerState::Running {
                busy_since,
                last_error,
                ..
            } = s
            {
                *busy_since = None;
                *last_error = Some(error);
            }
        });
    }

    /// The loop ended (shutdown, or it died).
    pub fn stopped(&self) {
        self.set(|s| *s = RunnerState::Stopped);
    }

    /// Whether the loop is healthy at `now`.
    pub fn check(&self, now: DateTime<Utc>) -> RunnerHealth {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match state {
            RunnerState::Disabled => RunnerHealth::Disabled,
            RunnerState::Stopped => RunnerHealth::Unhealthy("the jobs runner has stopped".into()),
            RunnerState::Running {
                idle,
                busy,
                last_ok,
                busy_since,
                last_error,
            } => {
                let (since, allowed) = match busy_since {
                    Some(t) => (t, busy),
                    None => (last_ok, idle),
                };
                if now - since <= allowed {
                    return RunnerHealth::Healthy;
                }
                let why = last_error.map_or_else(String::new, |e| format!(": {e}"));
                RunnerHealth::Unhealthy(format!(
                    "no jobs round finished since {}{why}",
                    last_ok.format("%Y-%m-%d %H:%M:%S UTC")
                ))
            }
        }
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
    async fn a_long_run_renews_its_lease_and_keeps_its_job() {
        let (rig, _) = rig();
        let ms = Duration::milliseconds;
        let settings = JobsSettings {
            lease: ms(300),
            ..JobsSettings::default()
        };
        let timer: Sleep = Arc::new(|d| Box::pin(tokio::time::sleep(d)));
        let base = JobsService::new(
            rig.store.clone(),
            rig.clock.clone(),
            Arc::new(Ids::default()),
            settings,
        )
        .with_timer(timer);
        let (clock, other) = (rig.clock.clone(), base.clone());
        // Runs for 500 ms of the store's time, past the 300 ms lease it was claimed with.
        let long = base.clone().handle(name("long"), move |_job| {
            let (clock, other) = (clock.clone(), other.clone());
            async move {
                clock.set(clock.now() + ms(250));
                // A renewal (every 100 ms) happens meanwhile: the lease now ends at +550 ms.
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                clock.set(clock.now() + ms(250));
                let taken = other.run_due("b").await.map_err(|e| e.to_string())?;
                assert!(
                    taken.runs.is_empty(),
                    "b finds the job still leased: {taken:?}"
                );
                Ok(())
            }
        });
        base.enqueue(name("long"), JobKey::parse("l").unwrap(), t(9, 0))
            .await
            .unwrap();
        let report = long.run_due("a").await.unwrap();
        assert_eq!((report.succeeded, report.lost), (1, 0), "{report:?}");
        let all = base.list(true).await.unwrap();
        let run = all[0].last_run.clone().unwrap();
        assert_eq!((run.owner.as_str(), run.attempt), ("a", 1));
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
