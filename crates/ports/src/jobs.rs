//! Background jobs: the jobs table and its runs, in the unit of work.
//!
//! The claim protocol: a runner claims due jobs with a lease (its owner id and an end); while
//! the lease runs, no other claim takes the job; when it ran out (the runner crashed or
//! stalled), any runner may take it over. Completing or failing needs the lease still to be
//! the caller's, so a runner whose job was taken over records nothing.

use accueil_domain::jobs::{
    Backoff, Job, JobKey, JobName, JobRun, JobState, Lease, NotNow, Schedule,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// A job with its latest runs, for `accueil jobs list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// The job.
    pub job: Job,
    /// Its latest run.
    pub last_run: Option<JobRun>,
    /// Its latest failed run.
    pub last_failure: Option<JobRun>,
}

/// The per-user schedules of one job name, for `accueil jobs list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerUserSchedules {
    /// The job.
    pub name: JobName,
    /// How many users have it.
    pub users: u64,
    /// The earliest next run among them.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// What [`JobsRepo::claim_now`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimNow {
    /// The job is the caller's now, due now, with a fresh attempt count (this claim is
    /// attempt 1). Boxed: a job is large next to the other answers.
    Claimed(Box<Job>),
    /// Another runner holds it, until the lease's end.
    Leased(Lease),
    /// A one-off job that is done or failed.
    Finished(JobState),
    /// No job has this key.
    Missing,
}

impl From<NotNow> for ClaimNow {
    fn from(refused: NotNow) -> Self {
        match refused {
            NotNow::Leased(lease) => Self::Leased(lease),
            NotNow::Finished(state) => Self::Finished(state),
        }
    }
}

/// The jobs table.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait JobsRepo: Send {
    /// Adds `job` unless a job with its key exists; returns whether it was added (enqueuing
    /// the same key twice keeps the first job, unchanged).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn enqueue(&mut self, job: &Job) -> Result<bool, StoreError>;

    /// Registers the recurring job `name` under `key` (a shared schedule's
    /// [`JobKey::schedule`], or a user's [`JobKey::for_user`]): added, due at the schedule's
    /// first run after `now`, when absent; when present with another schedule (another
    /// expression, or the same on another zone's clock), the schedule is replaced and the next
    /// run recomputed from `now` ([`Job::reschedule`]); when present with the same schedule,
    /// left alone (so every instance may call this at start-up). Returns the job.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the schedule never matches after `now`;
    /// `StoreError::Internal` otherwise.
    fn upsert_schedule(
        &mut self,
        id: Uuid,
        name: &JobName,
        key: &JobKey,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<Job, StoreError>;

    /// The job with `key`, locked until commit on PostgreSQL (so a change made from it, such
    /// as a new zone, is not lost to a concurrent one).
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn find_for_update(&mut self, key: &JobKey) -> Result<Option<Job>, StoreError>;

    /// Removes the job with `key` and its runs; returns whether it existed. A runner that
    /// holds its lease then records nothing ([`JobsRepo::complete`] answers `false`).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn remove(&mut self, key: &JobKey) -> Result<bool, StoreError>;

    /// The per-user schedules ([`JobKey::for_user`]), counted by name, by name.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn per_user_schedules(&mut self) -> Result<Vec<PerUserSchedules>, StoreError>;

    /// Claims at most `limit` jobs claimable at `now` ([`Job::claimable`]), earliest due
    /// first: each gets the lease (`owner`, `lease_until`) and one more attempt. Two claims,
    /// even concurrent ones on several instances, never return the same job while its lease
    /// runs (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite and memory: one writer).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn claim_due(
        &mut self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// Extends the lease of the job `job` to `until`, if `owner` still holds it (a runner whose
    /// job runs long renews its lease so no other runner takes the job over meanwhile);
    /// returns whether it did. A lease that ran out but was not taken over is still the
    /// owner's.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn renew(&mut self, job: Uuid, owner: &str, until: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Claims the job with `key` now, whatever its `run_at`, unless a lease that has not run
    /// out holds it: its `run_at` becomes `now` (so the run's due time is the moment it was
    /// asked for), its attempts start over at 1, and the lease is (`owner`, `lease_until`).
    /// The same lock as [`JobsRepo::claim_due`] (PostgreSQL: `FOR UPDATE`), so a runner and
    /// this claim never both hold the job. After the run, `complete` reschedules a recurring
    /// job from its schedule as usual, so a run by hand does not take a scheduled slot.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn claim_now(
        &mut self,
        key: &JobKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<ClaimNow, StoreError>;

    /// The first instant a claim may take a job ([`Job::claimable_at`] of every pending job,
    /// the earliest), so a runner can sleep until then; `None` when no job is pending.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Removes the runs that finished before `before`, and the one-off jobs that are done or
    /// failed and were created before it (their keys can then be enqueued again). Returns how
    /// many rows went (runs and jobs).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn prune(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Records the successful run `run` of the job it names, if `run.owner` still holds its
    /// lease: the run is stored, the lease cleared, and the job rescheduled or finished as
    /// [`Job::after_success`] says. Returns whether the lease was still the owner's (when not,
    /// nothing is written).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn complete(&mut self, run: &JobRun) -> Result<bool, StoreError>;

    /// Records the failed run `run` (its `error` kept on the job too), if `run.owner` still
    /// holds the lease: retried after `backoff` or given up as [`Job::after_failure`] says.
    /// Returns whether the lease was still the owner's.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn fail(&mut self, run: &JobRun, backoff: &Backoff) -> Result<bool, StoreError>;

    /// One job.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn get(&mut self, id: Uuid) -> Result<Option<Job>, StoreError>;

    /// The shared schedules (or every job, users' schedules and one-off jobs too, when
    /// `all`), by name then key, each with its latest run and latest failure, at most
    /// `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn list(&mut self, all: bool, limit: u32) -> Result<Vec<JobStatus>, StoreError>;

    /// A job's runs, newest first, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn runs(&mut self, job_id: Uuid, limit: u32) -> Result<Vec<JobRun>, StoreError>;
}
