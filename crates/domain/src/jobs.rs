//! Background jobs: what a job is, when a recurring one runs next, and what a failure leads to.
//!
//! A job is one row that a runner claims with a lease, runs, and then completes or fails. A
//! one-off job has a `run_at`; a recurring one also has a [`Schedule`] that gives its next
//! `run_at` after each run. Every job has an idempotency key: enqueuing the same key twice
//! keeps the first job, so a caller that may retry (or several instances that all register the
//! same schedule at start-up) cannot make two.
//!
//! ## Per-user schedules
//! A recurring job may belong to one user ([`JobKey::for_user`]): one row per (name, user),
//! its cron expression on that user's wall clock. The module that registers it re-registers
//! it in the same unit of work as whatever changes the user's zone, so "09:00" stays 09:00
//! where the user is; the schedule then runs at its next slot in the new zone, never twice for
//! one slot and never skipped twice.
//!
//! ## Daylight saving time
//! A schedule is a cron expression evaluated on the wall clock of an IANA time zone
//! ([`Schedule::next_after`]). Where the wall clock jumps forward (Europe/Paris, last Sunday of
//! March, 02:00 → 03:00), a time in the gap does not exist: the job runs at the first instant
//! after the gap (03:00 local), once. Where the wall clock falls back (last Sunday of October,
//! 03:00 → 02:00), a time in the repeated hour exists twice: a job at a fixed time runs at its
//! first occurrence only (summer time), never twice. Jobs with a wildcard or step in the minute
//! or hour fields ("every 15 minutes") run on both passes of a repeated hour, since each is a
//! real interval. These are the rules of the `croner` crate (Open Cron Pattern Specification).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::identity::UserId;

/// A job's name: what handler runs it. 1 to 64 of `a-z 0-9 - _ .`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobName(String);

/// Why a name, a key or a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The name does not follow [`JobName`]'s rule.
    #[error("invalid job name {0:?}: 1 to 64 of a-z 0-9 - _ ., starting with a letter")]
    Name(String),
    /// The key is empty or longer than 200 bytes.
    #[error("invalid idempotency key: 1 to 200 bytes")]
    Key,
    /// The cron expression does not parse.
    #[error("invalid cron expression {expr:?}: {reason}")]
    Cron {
        /// The expression.
        expr: String,
        /// The parser's message.
        reason: String,
    },
    /// The time zone is not an IANA name.
    #[error("unknown time zone {0:?}")]
    Zone(String),
}

impl JobName {
    /// Validates a name.
    ///
    /// # Errors
    /// [`JobError::Name`].
    pub fn parse(raw: &str) -> Result<Self, JobError> {
        let ok = (1..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(JobError::Name(raw.to_owned()))
        }
    }

    /// A name read back from storage, which only holds parsed names.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the keys of shared schedules begin ([`JobKey::schedule`]).
pub const SCHEDULE_PREFIX: &str = "schedule:";
/// How the keys of per-user schedules begin ([`JobKey::for_user`]).
pub const USER_PREFIX: &str = "user:";

/// An idempotency key: one job per key, ever (until the job row is removed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey(String);

impl JobKey {
    /// Validates a key.
    ///
    /// # Errors
    /// [`JobError::Key`].
    pub fn parse(raw: &str) -> Result<Self, JobError> {
        if (1..=200).contains(&raw.len()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(JobError::Key)
        }
    }

    /// The key of a recurring schedule: one schedule per job name.
    pub fn schedule(name: &JobName) -> Self {
        Self(format!("{SCHEDULE_PREFIX}{}", name.as_str()))
    }

    /// The key of the recurring job `name` of `user`: one such schedule per (name, user).
    pub fn for_user(name: &JobName, user: UserId) -> Self {
        Self(format!("{USER_PREFIX}{}:{}", user.0, name.as_str()))
    }

    /// The user of a per-user schedule's key ([`JobKey::for_user`]); `None` for any other.
    pub fn user(&self) -> Option<UserId> {
        let rest = self.0.strip_prefix(USER_PREFIX)?;
        let (id, _name) = rest.split_once(':')?;
        Uuid::parse_str(id).ok().map(UserId)
    }

    /// Whether this is the key of a schedule shared by every instance ([`JobKey::schedule`]),
    /// as opposed to a one-off job or a user's schedule.
    pub fn is_shared_schedule(&self) -> bool {
        self.0.starts_with(SCHEDULE_PREFIX)
    }

    /// A key read back from storage.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A cron expression (5 fields, or 6 with seconds first) on the wall clock of a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    zone: chrono_tz::Tz,
    cron: croner::Cron,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr && self.zone == other.zone
    }
}
impl Eq for Schedule {}

impl Schedule {
    /// The same expression on the wall clock of another zone.
    ///
    /// # Errors
    /// [`JobError::Zone`].
    pub fn in_zone(&self, zone: &str) -> Result<Self, JobError> {
        let zone = chrono_tz::Tz::from_str(zone).map_err(|_| JobError::Zone(zone.to_owned()))?;
        Ok(Self {
            zone,
            ..self.clone()
        })
    }

    /// Parses `expr` in the IANA zone `zone`.
    ///
    /// # Errors
    /// [`JobError::Cron`] or [`JobError::Zone`].
    pub fn parse(expr: &str, zone: &str) -> Result<Self, JobError> {
        let zone = chrono_tz::Tz::from_str(zone).map_err(|_| JobError::Zone(zone.to_owned()))?;
        let cron = croner::Cron::from_str(expr).map_err(|e| JobError::Cron {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            expr: expr.to_owned(),
            zone,
            cron,
        })
    }

    /// The expression as given.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The zone's IANA name.
    pub fn zone(&self) -> &str {
        self.zone.name()
    }

    /// The latest run at or before `at`; `None` when there is none.
    pub fn latest_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&self.zone);
        self.cron
            .find_previous_occurrence(&local, true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The first run strictly after `after`, with the DST rule of the module doc; `None` when
    /// the expression never matches again (e.g. 30 February).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// How long to wait before attempt `n + 1` after attempt `n` failed: `base · 2^(n-1)`, at most
/// `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::seconds(30),
            max: Duration::hours(1),
        }
    }
}

impl Backoff {
    /// The delay after failed attempt `attempt` (1 for the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(30);
        let factor = 1_i32 << shift;
        self.base
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for `run_at`, or running under a lease.
    Pending,
    /// A one-off job that succeeded.
    Done,
    /// A one-off job that failed `max_attempts` times.
    Failed,
}

impl JobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// The state of a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Who holds a job and until when. A lease that ran out may be taken over by anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The runner's id (instance and process).
    pub owner: String,
    /// When the lease ends.
    pub until: DateTime<Utc>,
}

/// A one-off or recurring job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: Uuid,
    /// The handler that runs it.
    pub name: JobName,
    /// Its idempotency key.
    pub key: JobKey,
    /// For a recurring job, when it runs.
    pub schedule: Option<Schedule>,
    /// Pending, done or failed.
    pub state: JobState,
    /// When it is due next.
    pub run_at: DateTime<Utc>,
    /// Attempts of the current run so far (claims count them).
    pub attempts: u32,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// The current lease, when claimed.
    pub lease: Option<Lease>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
}

/// Why [`Job::take_now`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotNow {
    /// Another runner holds it, until the lease's end.
    Leased(Lease),
    /// A one-off job that is done or failed.
    Finished(JobState),
}

/// A schedule that has no run after the instant asked about (e.g. only 30 February).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the schedule never matches again")]
pub struct NeverMatches;

/// What becomes of a job after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRun {
    /// Due again at this instant, in state pending, attempts reset for a new scheduled run
    /// or kept for a retry (see [`Job::after_failure`]).
    Pending {
        /// When.
        run_at: DateTime<Utc>,
        /// Whether the attempt count starts over.
        reset_attempts: bool,
    },
    /// Finished for good.
    Finished(JobState),
}

impl Job {
    /// A one-off job due at `run_at`, with 5 attempts.
    pub fn one_off(id: Uuid, name: JobName, key: JobKey, run_at: DateTime<Utc>) -> Self {
        Self {
            id,
            name,
            key,
            schedule: None,
            state: JobState::Pending,
            run_at,
            attempts: 0,
            max_attempts: 5,
            lease: None,
            last_error: None,
            created_at: run_at,
        }
    }

    /// A recurring job under `key` ([`JobKey::schedule`] or [`JobKey::for_user`]) whose first
    /// run is the schedule's first after `now`; `None` when the schedule never matches.
    pub fn recurring(
        id: Uuid,
        name: JobName,
        key: JobKey,
        schedule: Schedule,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let run_at = schedule.next_after(now)?;
        Some(Self {
            id,
            key,
            name,
            schedule: Some(schedule),
            state: JobState::Pending,
            run_at,
            attempts: 0,
            max_attempts: 3,
            lease: None,
            last_error: None,
            created_at: now,
        })
    }

    /// Gives it to `owner` until `until`, as a claim does: one more attempt.
    pub fn lease_to(&mut self, owner: &str, until: DateTime<Utc>) {
        self.attempts += 1;
        self.lease = Some(Lease {
            owner: owner.to_owned(),
            until,
        });
    }

    /// Takes it now, whatever its `run_at`, for a run asked for by hand: refused while a
    /// lease that has not run out holds it, or once a one-off job is finished. Its `run_at`
    /// becomes `now` (the run's due time is when it was asked for) and its attempts start
    /// over at 1.
    ///
    /// # Errors
    /// [`NotNow`].
    pub fn take_now(
        &mut self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<(), NotNow> {
        if self.state != JobState::Pending {
            return Err(NotNow::Finished(self.state));
        }
        if let Some(lease) = self.lease.clone().filter(|l| l.until > now) {
            return Err(NotNow::Leased(lease));
        }
        self.run_at = now;
        self.attempts = 0;
        self.lease_to(owner, until);
        Ok(())
    }

    /// Puts a recurring job on `schedule`: when it differs from the current one, the next
    /// run is recomputed from `now` and `true` returned; the same schedule changes nothing.
    /// A run under way keeps its lease; its completion then goes by the new schedule.
    ///
    /// # Errors
    /// [`NeverMatches`] when the new schedule has no run after `now` (nothing changes).
    pub fn reschedule(
        &mut self,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<bool, NeverMatches> {
        if self.schedule.as_ref() == Some(schedule) {
            return Ok(false);
        }
        self.run_at = schedule.next_after(now).ok_or(NeverMatches)?;
        self.schedule = Some(schedule.clone());
        Ok(true)
    }

    /// Whether a claim at `now` may take it: pending, due, and not leased (or the lease ran
    /// out).
    pub fn claimable(&self, now: DateTime<Utc>) -> bool {
        self.state == JobState::Pending
            && self.run_at <= now
            && self.lease.as_ref().is_none_or(|l| l.until <= now)
    }

    /// The first instant a claim may take it: its `run_at`, or the end of its lease when that
    /// comes later; `None` once it is done or failed. [`Job::claimable`] at `now` is exactly
    /// `claimable_at() <= Some(now)`.
    pub fn claimable_at(&self) -> Option<DateTime<Utc>> {
        (self.state == JobState::Pending).then(|| match &self.lease {
            Some(l) if l.until > self.run_at => l.until,
            _ => self.run_at,
        })
    }

    /// After a successful run that finished at `finished`: a one-off job is done; a recurring
    /// job is due at its schedule's next slot after the one it just ran (its `run_at`). When
    /// that slot has already passed (the run was claimed late, or ran long), the latest slot
    /// that has passed is due at once, so a runner late by less than a period still runs every
    /// slot; older missed slots (an outage of several periods) are covered by that one run
    /// rather than caught up one by one.
    pub fn after_success(&self, finished: DateTime<Utc>) -> AfterRun {
        let Some(schedule) = &self.schedule else {
            return AfterRun::Finished(JobState::Done);
        };
        let Some(next) = schedule.next_after(self.run_at) else {
            return AfterRun::Finished(JobState::Done);
        };
        let run_at = if next > finished {
            next
        } else {
            schedule
                .latest_until(finished)
                .filter(|latest| *latest > self.run_at)
                .unwrap_or(next)
        };
        AfterRun::Pending {
            run_at,
            reset_attempts: true,
        }
    }

    /// After a failed attempt that finished at `finished` (the claim counted it in
    /// `attempts`): retried after `backoff` while attempts remain; then a recurring job waits
    /// for its next scheduled run, and a one-off job is failed.
    pub fn after_failure(&self, finished: DateTime<Utc>, backoff: &Backoff) -> AfterRun {
        if self.attempts < self.max_attempts {
            return AfterRun::Pending {
                run_at: finished + backoff.delay(self.attempts),
                reset_attempts: false,
            };
        }
        match self.schedule.as_ref().and_then(|s| s.next_after(finished)) {
            Some(run_at) => AfterRun::Pending {
                run_at,
                reset_attempts: true,
            },
            None => AfterRun::Finished(JobState::Failed),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The handler succeeded.
    Succeeded,
    /// The handler failed (the job may be retried).
    Failed,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// The outcome of a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One run of a job, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// Its id.
    pub id: Uuid,
    /// The job.
    pub job_id: Uuid,
    /// The job's name, kept so the history reads without the job.
    pub name: JobName,
    /// The runner that ran it.
    pub owner: String,
    /// When the run was due: the job's `run_at` when it was claimed (for a recurring job, its
    /// scheduled slot; for a retry, the end of the backoff; for a run by hand, the moment it
    /// was asked for). A takeover keeps the slot, so each slot's runs can be told apart.
    pub due_at: DateTime<Utc>,
    /// Which attempt of that due time it was (1 for the first; a takeover after a lost lease
    /// or a retry after a failure counts one more).
    pub attempt: u32,
    /// When the handler started.
    pub started_at: DateTime<Utc>,
    /// When it returned.
    pub finished_at: DateTime<Utc>,
    /// Succeeded or failed.
    pub outcome: Outcome,
    /// The failure's message.
    pub error: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use chrono_tz::Europe::Paris;

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Paris
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn names_and_keys() {
        assert!(JobName::parse("purge-deleted").is_ok());
        assert!(JobName::parse("mail.outbox_2").is_ok());
        for bad in ["", "Purge", "1x", "a b", &"a".repeat(65)] {
            assert!(JobName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(JobKey::parse("").is_err());
        assert!(JobKey::parse(&"k".repeat(201)).is_err());
        let name = JobName::parse("purge").unwrap();
        assert_eq!(JobKey::schedule(&name).as_str(), "schedule:purge");
        assert!(JobKey::schedule(&name).is_shared_schedule());
        assert_eq!(JobKey::schedule(&name).user(), None);

        // The longest name with a user still fits a key.
        let user = UserId(Uuid::from_u128(7));
        let long = JobName::parse(&"a".repeat(64)).unwrap();
        assert!(JobKey::parse(JobKey::for_user(&long, user).as_str()).is_ok());
        let key = JobKey::for_user(&name, user);
        assert_eq!(key.user(), Some(user));
        assert!(!key.is_shared_schedule());
        assert_ne!(key, JobKey::for_user(&name, UserId(Uuid::from_u128(8))));
        for other in ["user:", "user:nope:purge", "mail:1", "schedule:purge"] {
            assert_eq!(JobKey::from_trusted(other.into()).user(), None, "{other}");
        }
    }

    #[test]
    fn a_per_user_schedule_follows_its_zone() {
        // 09:00 every day, for a user in Paris who moves to Tokyo on 10 January at noon UTC.
        let name = JobName::parse("focus.reminder").unwrap();
        let user = UserId(Uuid::from_u128(9));
        let paris9 = Schedule::parse("0 9 * * *", "Europe/Paris").unwrap();
        let now = utc(2026, 1, 10, 12, 0);
        let mut j = Job::recurring(
            Uuid::from_u128(5),
            name.clone(),
            JobKey::for_user(&name, user),
            paris9.clone(),
            now,
        )
        .unwrap();
        assert_eq!(j.run_at, utc(2026, 1, 11, 8, 0), "09:00 CET");
        assert_eq!(j.reschedule(&paris9, now), Ok(false), "the same: unchanged");
        assert_eq!(j.run_at, utc(2026, 1, 11, 8, 0));
        let tokyo9 = paris9.in_zone("Asia/Tokyo").unwrap();
        assert_eq!(tokyo9.expr(), "0 9 * * *");
        assert_eq!(j.reschedule(&tokyo9, now), Ok(true));
        assert_eq!(
            j.run_at,
            utc(2026, 1, 11, 0, 0),
            "09:00 JST, 21:00 in Tokyo now"
        );
        assert_eq!(j.schedule.as_ref().map(Schedule::zone), Some("Asia/Tokyo"));
        assert!(paris9.in_zone("Mars/Olympus").is_err());
        let never = Schedule::parse("0 0 30 2 *", "UTC").unwrap();
        assert_eq!(j.reschedule(&never, now), Err(NeverMatches));
        assert_eq!(j.schedule, Some(tokyo9), "refused: unchanged");
    }

    #[test]
    fn taking_a_job_now() {
        let t = utc(2026, 1, 1, 0, 0);
        let mut j = one_off();
        j.run_at = t + Duration::days(3);
        j.attempts = 2;
        j.take_now("cli", t, t + Duration::minutes(5)).unwrap();
        assert_eq!((j.run_at, j.attempts), (t, 1), "due now, attempt 1");
        assert_eq!(j.lease.as_ref().map(|l| l.owner.as_str()), Some("cli"));
        let held = j.lease.clone().unwrap();
        assert_eq!(
            j.clone().take_now("other", t + Duration::minutes(1), t),
            Err(NotNow::Leased(held)),
            "while the lease runs"
        );
        assert!(
            j.clone()
                .take_now("other", t + Duration::minutes(5), t)
                .is_ok(),
            "after it"
        );
        j.state = JobState::Done;
        assert_eq!(
            j.take_now("other", t + Duration::hours(1), t),
            Err(NotNow::Finished(JobState::Done))
        );
    }

    #[test]
    fn schedule_refuses_bad_input() {
        assert!(matches!(
            Schedule::parse("61 * * * *", "UTC"),
            Err(JobError::Cron { .. })
        ));
        assert!(matches!(
            Schedule::parse("0 2 * * *", "Mars/Olympus"),
            Err(JobError::Zone(_))
        ));
    }

    #[test]
    fn daily_in_paris_on_ordinary_days() {
        let s = Schedule::parse("30 2 * * *", "Europe/Paris").unwrap();
        // Winter: 02:30 CET is 01:30 UTC; summer: 02:30 CEST is 00:30 UTC.
        assert_eq!(
            s.next_after(utc(2026, 1, 10, 12, 0)),
            Some(utc(2026, 1, 11, 1, 30))
        );
        assert_eq!(
            s.next_after(utc(2026, 7, 10, 12, 0)),
            Some(utc(2026, 7, 11, 0, 30))
        );
        // Strictly after: at the run itself, the next is the next day's.
        assert_eq!(
            s.next_after(utc(2026, 1, 11, 1, 30)),
            Some(utc(2026, 1, 12, 1, 30))
        );
    }

    #[test]
    fn spring_forward_runs_once_right_after_the_gap() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night.
        let s = Schedule::parse("30 2 * * *", "Europe/Paris").unwrap();
        let first = s.next_after(utc(2026, 3, 28, 12, 0)).unwrap();
        assert_eq!(
            first,
            paris(2026, 3, 29, 3, 0),
            "the first instant after the gap"
        );
        assert_eq!(first, utc(2026, 3, 29, 1, 0));
        let second = s.next_after(first).unwrap();
        assert_eq!(
            second,
            paris(2026, 3, 30, 2, 30),
            "then back to 02:30, once that night"
        );
        assert_eq!(second, utc(2026, 3, 30, 0, 30));
    }

    #[test]
    fn fall_back_runs_once_at_the_first_occurrence() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 exists twice.
        let s = Schedule::parse("30 2 * * *", "Europe/Paris").unwrap();
        let first = s.next_after(utc(2026, 10, 24, 12, 0)).unwrap();
        assert_eq!(
            first,
            utc(2026, 10, 25, 0, 30),
            "02:30 CEST, the first pass"
        );
        let second = s.next_after(first).unwrap();
        assert_eq!(
            second,
            utc(2026, 10, 26, 1, 30),
            "not 02:30 CET an hour later: the next day's 02:30 CET"
        );
        // Even from inside the repeated hour, the second 02:30 is not a run.
        assert_eq!(
            s.next_after(utc(2026, 10, 25, 1, 0)),
            Some(utc(2026, 10, 26, 1, 30))
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            base: Duration::seconds(10),
            max: Duration::seconds(60),
        };
        let delays: Vec<i64> = (1..=6).map(|n| b.delay(n).num_seconds()).collect();
        assert_eq!(delays, vec![10, 20, 40, 60, 60, 60]);
        assert_eq!(b.delay(u32::MAX), Duration::seconds(60));
    }

    fn one_off() -> Job {
        Job::one_off(
            Uuid::from_u128(1),
            JobName::parse("x").unwrap(),
            JobKey::parse("k").unwrap(),
            utc(2026, 1, 1, 0, 0),
        )
    }

    #[test]
    fn claimable_only_when_due_and_unleased() {
        let mut j = one_off();
        let at = j.run_at;
        assert!(!j.claimable(at - Duration::seconds(1)));
        assert!(j.claimable(at));
        j.lease = Some(Lease {
            owner: "a".into(),
            until: at + Duration::seconds(30),
        });
        assert!(!j.claimable(at + Duration::seconds(29)));
        assert!(j.claimable(at + Duration::seconds(30)), "expired lease");
        assert_eq!(j.claimable_at(), Some(at + Duration::seconds(30)));
        j.lease = None;
        assert_eq!(j.claimable_at(), Some(at));
        j.state = JobState::Done;
        assert!(!j.claimable(at + Duration::days(1)));
        assert_eq!(j.claimable_at(), None);
    }

    #[test]
    fn outcomes_of_a_one_off_job() {
        let mut j = one_off();
        let t = utc(2026, 1, 1, 0, 1);
        assert_eq!(j.after_success(t), AfterRun::Finished(JobState::Done));
        j.attempts = 1;
        let b = Backoff::default();
        assert_eq!(
            j.after_failure(t, &b),
            AfterRun::Pending {
                run_at: t + Duration::seconds(30),
                reset_attempts: false
            }
        );
        j.attempts = j.max_attempts;
        assert_eq!(j.after_failure(t, &b), AfterRun::Finished(JobState::Failed));
    }

    #[test]
    fn outcomes_of_a_recurring_job() {
        let s = Schedule::parse("0 * * * *", "UTC").unwrap();
        let now = utc(2026, 1, 1, 0, 10);
        let h = JobName::parse("h").unwrap();
        let mut j =
            Job::recurring(Uuid::from_u128(2), h.clone(), JobKey::schedule(&h), s, now).unwrap();
        assert_eq!(j.run_at, utc(2026, 1, 1, 1, 0));
        let done = utc(2026, 1, 1, 1, 0) + Duration::seconds(5);
        let next = AfterRun::Pending {
            run_at: utc(2026, 1, 1, 2, 0),
            reset_attempts: true,
        };
        assert_eq!(j.after_success(done), next);
        j.attempts = j.max_attempts;
        assert_eq!(
            j.after_failure(done, &Backoff::default()),
            next,
            "gives up until the next run"
        );
        let never = Schedule::parse("0 0 30 2 *", "UTC").unwrap();
        assert_eq!(never.next_after(now), None);
    }

    #[test]
    fn a_late_run_is_followed_by_the_slot_it_missed_then_on_time() {
        let s = Schedule::parse("* * * * * *", "UTC").unwrap();
        let slot = utc(2026, 1, 1, 0, 0);
        let sec = Duration::seconds;
        let tick = JobName::parse("tick").unwrap();
        let mut j = Job::recurring(
            Uuid::from_u128(3),
            tick.clone(),
            JobKey::schedule(&tick),
            s,
            slot - sec(1),
        )
        .unwrap();
        assert_eq!(j.run_at, slot);
        let on_time = |run_at| AfterRun::Pending {
            run_at,
            reset_attempts: true,
        };
        assert_eq!(
            j.after_success(slot + Duration::milliseconds(30)),
            on_time(slot + sec(1))
        );
        // Claimed 1.2 s late: the slot it missed meanwhile is due at once, then back on time.
        let late = slot + Duration::milliseconds(1_250);
        assert_eq!(j.after_success(late), on_time(slot + sec(1)));
        j.run_at = slot + sec(1);
        assert_eq!(
            j.after_success(late + Duration::milliseconds(10)),
            on_time(slot + sec(2))
        );
        // After an outage of an hour: one run for the latest slot, not 3,600.
        j.run_at = slot;
        let back = slot + Duration::hours(1) + Duration::milliseconds(400);
        assert_eq!(j.after_success(back), on_time(slot + Duration::hours(1)));

        let daily = Schedule::parse("30 3 * * *", "UTC").unwrap();
        let d = JobName::parse("d").unwrap();
        let mut d = Job::recurring(
            Uuid::from_u128(4),
            d.clone(),
            JobKey::schedule(&d),
            daily,
            slot,
        )
        .unwrap();
        assert_eq!(d.run_at, utc(2026, 1, 1, 3, 30));
        // Down for a week: the oldest slot runs when a runner is back, then today's, once.
        let week = utc(2026, 1, 8, 12, 0);
        assert_eq!(d.after_success(week), on_time(utc(2026, 1, 8, 3, 30)));
        d.run_at = utc(2026, 1, 8, 3, 30);
        assert_eq!(
            d.after_success(week + sec(1)),
            on_time(utc(2026, 1, 9, 3, 30))
        );
    }
}
