//! Background jobs in SQL.
//!
//! A claim selects the due jobs and leases them in one write transaction. On PostgreSQL the
//! select is `FOR UPDATE SKIP LOCKED`: rows another instance's claim has locked but not yet
//! committed are passed over instead of waited for, so concurrent claims split the due jobs
//! between them and never return the same one. SQLite's write transactions are `BEGIN
//! IMMEDIATE` and run one at a time, which gives the same guarantee.

use accueil_domain::jobs::{
    AfterRun, Backoff, Job, JobKey, JobName, JobRun, JobState, Lease, Outcome, SCHEDULE_PREFIX,
    Schedule, USER_PREFIX,
};
use accueil_ports::StoreError;
use accueil_ports::jobs::{ClaimNow, JobStatus, JobsRepo, PerUserSchedules};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::connection::AnyConnection;
use crate::schema::{job_runs, jobs};
use crate::tx::{DieselTx, first_for_update, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
struct JobRow {
    id: String,
    name: String,
    job_key: String,
    cron: Option<String>,
    zone: Option<String>,
    state: String,
    run_at: NaiveDateTime,
    attempts: i32,
    max_attempts: i32,
    lease_owner: Option<String>,
    lease_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = job_runs)]
struct RunRow {
    id: String,
    job_id: String,
    name: String,
    owner: String,
    started_at: NaiveDateTime,
    finished_at: NaiveDateTime,
    outcome: String,
    error: Option<String>,
    due_at: NaiveDateTime,
    attempt: i32,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("corrupt job {what}: {value:?}"))
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        let schedule = match (r.cron, r.zone) {
            (Some(cron), Some(zone)) => {
                Some(Schedule::parse(&cron, &zone).map_err(|_| corrupt("schedule", &cron))?)
            }
            _ => None,
        };
        let lease = match (r.lease_owner, r.lease_until) {
            (Some(owner), Some(until)) => Some(Lease {
                owner,
                until: utc(until),
            }),
            _ => None,
        };
        let unsigned = |n: i32| u32::try_from(n).map_err(|_| corrupt("attempts", &n.to_string()));
        Ok(Job {
            id: uuid(&r.id)?,
            name: JobName::from_trusted(r.name),
            key: JobKey::from_trusted(r.job_key),
            schedule,
            state: JobState::parse(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
            run_at: utc(r.run_at),
            attempts: unsigned(r.attempts)?,
            max_attempts: unsigned(r.max_attempts)?,
            lease,
            last_error: r.last_error,
            created_at: utc(r.created_at),
        })
    }
}

impl From<&Job> for JobRow {
    fn from(j: &Job) -> Self {
        Self {
            id: j.id.to_string(),
            name: j.name.as_str().to_owned(),
            job_key: j.key.as_str().to_owned(),
            cron: j.schedule.as_ref().map(|s| s.expr().to_owned()),
            zone: j.schedule.as_ref().map(|s| s.zone().to_owned()),
            state: j.state.as_str().to_owned(),
            run_at: naive(j.run_at),
            attempts: count(j.attempts),
            max_attempts: count(j.max_attempts),
            lease_owner: j.lease.as_ref().map(|l| l.owner.clone()),
            lease_until: j.lease.as_ref().map(|l| naive(l.until)),
            last_error: j.last_error.clone(),
            created_at: naive(j.created_at),
        }
    }
}

impl TryFrom<RunRow> for JobRun {
    type Error = StoreError;
    fn try_from(r: RunRow) -> Result<Self, StoreError> {
        Ok(JobRun {
            id: uuid(&r.id)?,
            job_id: uuid(&r.job_id)?,
            name: JobName::from_trusted(r.name),
            owner: r.owner,
            due_at: utc(r.due_at),
            attempt: u32::try_from(r.attempt)
                .map_err(|_| corrupt("run attempt", &r.attempt.to_string()))?,
            started_at: utc(r.started_at),
            finished_at: utc(r.finished_at),
            outcome: Outcome::parse(&r.outcome).ok_or_else(|| corrupt("outcome", &r.outcome))?,
            error: r.error,
        })
    }
}

impl From<&JobRun> for RunRow {
    fn from(r: &JobRun) -> Self {
        Self {
            id: r.id.to_string(),
            job_id: r.job_id.to_string(),
            name: r.name.as_str().to_owned(),
            owner: r.owner.clone(),
            started_at: naive(r.started_at),
            finished_at: naive(r.finished_at),
            outcome: r.outcome.as_str().to_owned(),
            error: r.error.clone(),
            due_at: naive(r.due_at),
            attempt: count(r.attempt),
        }
    }
}

impl DieselTx<'_> {
    /// The job `run` is about, locked until commit on PostgreSQL, if `run.owner` holds its
    /// lease.
    fn leased_to(&mut self, run: &JobRun) -> Result<Option<Job>, StoreError> {
        let row: Option<JobRow> = first_for_update!(
            self,
            jobs::table
                .find(run.job_id.to_string())
                .select(JobRow::as_select())
        )
        .map_err(store_error)?;
        let job = row.map(Job::try_from).transpose()?;
        Ok(job.filter(|j| j.lease.as_ref().is_some_and(|l| l.owner == run.owner)))
    }

    fn record(&mut self, job: &Job, run: &JobRun, after: AfterRun) -> Result<(), StoreError> {
        let (state, run_at, attempts) = match after {
            AfterRun::Pending {
                run_at,
                reset_attempts,
            } => (
                JobState::Pending,
                run_at,
                if reset_attempts { 0 } else { job.attempts },
            ),
            AfterRun::Finished(state) => (state, job.run_at, job.attempts),
        };
        let error = match run.outcome {
            Outcome::Failed => Some(run.error.clone().unwrap_or_default()),
            Outcome::Succeeded => job.last_error.clone(),
        };
        diesel::update(jobs::table.find(job.id.to_string()))
            .set((
                jobs::state.eq(state.as_str()),
                jobs::run_at.eq(naive(run_at)),
                jobs::attempts.eq(count(attempts)),
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(error),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        diesel::insert_into(job_runs::table)
            .values(RunRow::from(run))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn latest_run(
        &mut self,
        job_id: &str,
        failed_only: bool,
    ) -> Result<Option<JobRun>, StoreError> {
        let mut q = job_runs::table
            .filter(job_runs::job_id.eq(job_id))
            .order((job_runs::finished_at.desc(), job_runs::id.desc()))
            .select(RunRow::as_select())
            .into_boxed();
        if failed_only {
            q = q.filter(job_runs::outcome.eq(Outcome::Failed.as_str()));
        }
        q.limit(1)
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .next()
            .map(JobRun::try_from)
            .transpose()
    }
}

impl JobsRepo for DieselTx<'_> {
    fn enqueue(&mut self, job: &Job) -> Result<bool, StoreError> {
        self.writable()?;
        // The same statement for each backend: the multi-backend connection has no upsert.
        macro_rules! insert {
            () => {
                diesel::insert_into(jobs::table)
                    .values(JobRow::from(job))
                    .on_conflict(jobs::job_key)
                    .do_nothing()
            };
        }
        let n = match &mut *self.conn {
            AnyConnection::Postgresql(pg) => insert!().execute(pg),
            AnyConnection::Sqlite(lite) => insert!().execute(lite),
        }
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn upsert_schedule(
        &mut self,
        id: Uuid,
        name: &JobName,
        key: &JobKey,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<Job, StoreError> {
        self.writable()?;
        let never = || StoreError::Conflict("schedule never matches".into());
        let fresh = Job::recurring(id, name.clone(), key.clone(), schedule.clone(), now)
            .ok_or_else(never)?;
        // Several instances register their schedules at start-up: insert-or-nothing first, so
        // none of them fails on the key, then read the one row that exists.
        self.enqueue(&fresh)?;
        let mut job = self
            .find_for_update(key)?
            .ok_or_else(|| StoreError::Internal("schedule vanished".into()))?;
        if job.reschedule(schedule, now).map_err(|_| never())? {
            diesel::update(jobs::table.find(job.id.to_string()))
                .set((
                    jobs::cron.eq(Some(schedule.expr())),
                    jobs::zone.eq(Some(schedule.zone())),
                    jobs::run_at.eq(naive(job.run_at)),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
        }
        Ok(job)
    }

    fn find_for_update(&mut self, key: &JobKey) -> Result<Option<Job>, StoreError> {
        let row: Option<JobRow> = first_for_update!(
            self,
            jobs::table
                .filter(jobs::job_key.eq(key.as_str()))
                .select(JobRow::as_select())
        )
        .map_err(store_error)?;
        row.map(Job::try_from).transpose()
    }

    fn remove(&mut self, key: &JobKey) -> Result<bool, StoreError> {
        self.writable()?;
        let id = jobs::table
            .filter(jobs::job_key.eq(key.as_str()))
            .select(jobs::id);
        diesel::delete(job_runs::table.filter(job_runs::job_id.eq_any(id)))
            .execute(self.conn)
            .map_err(store_error)?;
        let n = diesel::delete(jobs::table.filter(jobs::job_key.eq(key.as_str())))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(n > 0)
    }

    fn per_user_schedules(&mut self) -> Result<Vec<PerUserSchedules>, StoreError> {
        use diesel::dsl::{count_star, min};
        let rows: Vec<(String, i64, Option<NaiveDateTime>)> = jobs::table
            .filter(jobs::job_key.like(format!("{USER_PREFIX}%")))
            .group_by(jobs::name)
            .select((jobs::name, count_star(), min(jobs::run_at)))
            .order(jobs::name.asc())
            .load(self.conn)
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|(name, users, next)| PerUserSchedules {
                name: JobName::from_trusted(name),
                users: u64::try_from(users).unwrap_or(0),
                next_run_at: next.map(utc),
            })
            .collect())
    }

    fn claim_due(
        &mut self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        self.writable()?;
        let now = naive(now);
        // Written once, built for each backend: only PostgreSQL's has the locking clause.
        macro_rules! due {
            () => {
                jobs::table
                    .filter(jobs::state.eq(JobState::Pending.as_str()))
                    .filter(jobs::run_at.le(now))
                    .filter(jobs::lease_until.is_null().or(jobs::lease_until.le(now)))
                    .order((jobs::run_at.asc(), jobs::id.asc()))
                    .limit(i64::from(limit))
                    .select(JobRow::as_select())
            };
        }
        let rows: Vec<JobRow> = match &mut *self.conn {
            AnyConnection::Postgresql(pg) => due!().for_update().skip_locked().load(pg),
            conn => due!().load(conn),
        }
        .map_err(store_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let mut job = Job::try_from(row)?;
            job.lease_to(owner, lease_until);
            diesel::update(jobs::table.find(job.id.to_string()))
                .set((
                    jobs::attempts.eq(count(job.attempts)),
                    jobs::lease_owner.eq(Some(owner)),
                    jobs::lease_until.eq(Some(naive(lease_until))),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
            claimed.push(job);
        }
        Ok(claimed)
    }

    fn renew(&mut self, job: Uuid, owner: &str, until: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::update(
            jobs::table
                .find(job.to_string())
                .filter(jobs::state.eq(JobState::Pending.as_str()))
                .filter(jobs::lease_owner.eq(owner)),
        )
        .set(jobs::lease_until.eq(Some(naive(until))))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn claim_now(
        &mut self,
        key: &JobKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<ClaimNow, StoreError> {
        self.writable()?;
        let Some(mut job) = self.find_for_update(key)? else {
            return Ok(ClaimNow::Missing);
        };
        if let Err(refused) = job.take_now(owner, now, lease_until) {
            return Ok(refused.into());
        }
        diesel::update(jobs::table.find(job.id.to_string()))
            .set((
                jobs::run_at.eq(naive(now)),
                jobs::attempts.eq(count(job.attempts)),
                jobs::lease_owner.eq(Some(owner)),
                jobs::lease_until.eq(Some(naive(lease_until))),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(ClaimNow::Claimed(Box::new(job)))
    }

    fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        use diesel::dsl::min;
        // The earliest of max(run_at, lease_until) over pending jobs, as two indexed minima
        // (no portable GREATEST): unleased or lease ending first, then lease ending last.
        let pending = jobs::state.eq(JobState::Pending.as_str());
        let by_run_at: Option<NaiveDateTime> = jobs::table
            .filter(pending)
            .filter(
                jobs::lease_until
                    .is_null()
                    .or(jobs::lease_until.le(jobs::run_at.nullable())),
            )
            .select(min(jobs::run_at))
            .get_result(self.conn)
            .map_err(store_error)?;
        let by_lease: Option<NaiveDateTime> = jobs::table
            .filter(pending)
            .filter(jobs::lease_until.gt(jobs::run_at.nullable()))
            .select(min(jobs::lease_until))
            .get_result(self.conn)
            .map_err(store_error)?;
        Ok(match (by_run_at, by_lease) {
            (Some(a), Some(b)) => Some(utc(a.min(b))),
            (a, b) => a.or(b).map(utc),
        })
    }

    fn prune(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let before = naive(before);
        let finished = || {
            jobs::table
                .filter(jobs::cron.is_null())
                .filter(jobs::state.ne(JobState::Pending.as_str()))
                .filter(jobs::created_at.lt(before))
        };
        let runs = diesel::delete(
            job_runs::table.filter(
                job_runs::finished_at
                    .lt(before)
                    .or(job_runs::job_id.eq_any(finished().select(jobs::id))),
            ),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        let jobs = diesel::delete(finished())
            .execute(self.conn)
            .map_err(store_error)?;
        Ok((runs + jobs) as u64)
    }

    fn complete(&mut self, run: &JobRun) -> Result<bool, StoreError> {
        self.writable()?;
        let Some(job) = self.leased_to(run)? else {
            return Ok(false);
        };
        let after = job.after_success(run.finished_at);
        self.record(&job, run, after)?;
        Ok(true)
    }

    fn fail(&mut self, run: &JobRun, backoff: &Backoff) -> Result<bool, StoreError> {
        self.writable()?;
        let Some(job) = self.leased_to(run)? else {
            return Ok(false);
        };
        let after = job.after_failure(run.finished_at, backoff);
        self.record(&job, run, after)?;
        Ok(true)
    }

    fn get(&mut self, id: Uuid) -> Result<Option<Job>, StoreError> {
        use crate::one::OneRow;
        jobs::table
            .find(id.to_string())
            .select(JobRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Job::try_from)
            .transpose()
    }

    fn list(&mut self, all: bool, limit: u32) -> Result<Vec<JobStatus>, StoreError> {
        let mut q = jobs::table
            .order((jobs::name.asc(), jobs::job_key.asc()))
            .limit(i64::from(limit))
            .select(JobRow::as_select())
            .into_boxed();
        if !all {
            q = q.filter(jobs::job_key.like(format!("{SCHEDULE_PREFIX}%")));
        }
        let rows = q.load(self.conn).map_err(store_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id.clone();
            out.push(JobStatus {
                job: Job::try_from(row)?,
                last_run: self.latest_run(&id, false)?,
                last_failure: self.latest_run(&id, true)?,
            });
        }
        Ok(out)
    }

    fn runs(&mut self, job_id: Uuid, limit: u32) -> Result<Vec<JobRun>, StoreError> {
        job_runs::table
            .filter(job_runs::job_id.eq(job_id.to_string()))
            .order((job_runs::finished_at.desc(), job_runs::id.desc()))
            .limit(i64::from(limit))
            .select(RunRow::as_select())
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .map(JobRun::try_from)
            .collect()
    }
}
