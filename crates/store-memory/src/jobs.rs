//! Background jobs in memory.

use accueil_domain::jobs::{
    AfterRun, Backoff, Job, JobKey, JobName, JobRun, JobState, Outcome, Schedule,
};
use accueil_ports::StoreError;
use accueil_ports::jobs::{ClaimNow, JobStatus, JobsRepo, PerUserSchedules};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::MemTx;

impl MemTx<'_> {
    /// The job `run` is about, if `run.owner` holds its lease.
    fn leased_to(&mut self, run: &JobRun) -> Option<&mut Job> {
        self.state
            .jobs
            .get_mut(&run.job_id)
            .filter(|j| j.lease.as_ref().is_some_and(|l| l.owner == run.owner))
    }

    fn record(&mut self, run: &JobRun, after: AfterRun, error: Option<&str>) -> bool {
        let Some(job) = self.leased_to(run) else {
            return false;
        };
        job.lease = None;
        if let Some(e) = error {
            job.last_error = Some(e.to_owned());
        }
        match after {
            AfterRun::Pending {
                run_at,
                reset_attempts,
            } => {
                job.run_at = run_at;
                if reset_attempts {
                    job.attempts = 0;
                }
            }
            AfterRun::Finished(state) => job.state = state,
        }
        self.state.job_runs.push(run.clone());
        true
    }
}

impl JobsRepo for MemTx<'_> {
    fn enqueue(&mut self, job: &Job) -> Result<bool, StoreError> {
        self.writable()?;
        if self.state.jobs.values().any(|j| j.key == job.key) {
            return Ok(false);
        }
        if self.state.jobs.contains_key(&job.id) {
            return Err(StoreError::Conflict("jobs.id".into()));
        }
        self.state.jobs.insert(job.id, job.clone());
        Ok(true)
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
        if let Some(j) = self.state.jobs.values_mut().find(|j| &j.key == key) {
            j.reschedule(schedule, now).map_err(|_| never())?;
            return Ok(j.clone());
        }
        self.state.jobs.insert(id, fresh.clone());
        Ok(fresh)
    }

    fn find_for_update(&mut self, key: &JobKey) -> Result<Option<Job>, StoreError> {
        Ok(self.state.jobs.values().find(|j| &j.key == key).cloned())
    }

    fn remove(&mut self, key: &JobKey) -> Result<bool, StoreError> {
        self.writable()?;
        let Some(id) = self
            .state
            .jobs
            .values()
            .find(|j| &j.key == key)
            .map(|j| j.id)
        else {
            return Ok(false);
        };
        self.state.jobs.remove(&id);
        self.state.job_runs.retain(|r| r.job_id != id);
        Ok(true)
    }

    fn per_user_schedules(&mut self) -> Result<Vec<PerUserSchedules>, StoreError> {
        let mut by_name: BTreeMap<JobName, PerUserSchedules> = BTreeMap::new();
        for job in self.state.jobs.values().filter(|j| j.key.user().is_some()) {
            let entry = by_name
                .entry(job.name.clone())
                .or_insert_with(|| PerUserSchedules {
                    name: job.name.clone(),
                    users: 0,
                    next_run_at: None,
                });
            entry.users += 1;
            entry.next_run_at = Some(entry.next_run_at.map_or(job.run_at, |t| t.min(job.run_at)));
        }
        Ok(by_name.into_values().collect())
    }

    fn claim_due(
        &mut self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        self.writable()?;
        let mut due: Vec<(DateTime<Utc>, Uuid)> = self
            .state
            .jobs
            .values()
            .filter(|j| j.claimable(now))
            .map(|j| (j.run_at, j.id))
            .collect();
        due.sort();
        due.truncate(limit as usize);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            if let Some(j) = self.state.jobs.get_mut(&id) {
                j.lease_to(owner, lease_until);
                claimed.push(j.clone());
            }
        }
        Ok(claimed)
    }

    fn renew(&mut self, job: Uuid, owner: &str, until: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.jobs.get_mut(&job) {
            Some(j) if j.state == JobState::Pending => match &mut j.lease {
                Some(lease) if lease.owner == owner => {
                    lease.until = until;
                    Ok(true)
                }
                _ => Ok(false),
            },
            _ => Ok(false),
        }
    }

    fn claim_now(
        &mut self,
        key: &JobKey,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<ClaimNow, StoreError> {
        self.writable()?;
        let Some(job) = self.state.jobs.values_mut().find(|j| &j.key == key) else {
            return Ok(ClaimNow::Missing);
        };
        if let Err(refused) = job.take_now(owner, now, lease_until) {
            return Ok(refused.into());
        }
        Ok(ClaimNow::Claimed(Box::new(job.clone())))
    }

    fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.state.jobs.values().filter_map(Job::claimable_at).min())
    }

    fn prune(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let finished: Vec<Uuid> = self
            .state
            .jobs
            .values()
            .filter(|j| j.schedule.is_none() && j.state != JobState::Pending)
            .filter(|j| j.created_at < before)
            .map(|j| j.id)
            .collect();
        let runs = self.state.job_runs.len();
        self.state
            .job_runs
            .retain(|r| r.finished_at >= before && !finished.contains(&r.job_id));
        let runs = runs - self.state.job_runs.len();
        for id in &finished {
            self.state.jobs.remove(id);
        }
        Ok((runs + finished.len()) as u64)
    }

    fn complete(&mut self, run: &JobRun) -> Result<bool, StoreError> {
        self.writable()?;
        let Some(job) = self.leased_to(run) else {
            return Ok(false);
        };
        let after = job.after_success(run.finished_at);
        Ok(self.record(run, after, None))
    }

    fn fail(&mut self, run: &JobRun, backoff: &Backoff) -> Result<bool, StoreError> {
        self.writable()?;
        let Some(job) = self.leased_to(run) else {
            return Ok(false);
        };
        let after = job.after_failure(run.finished_at, backoff);
        let error = run.error.clone().unwrap_or_default();
        Ok(self.record(run, after, Some(&error)))
    }

    fn get(&mut self, id: Uuid) -> Result<Option<Job>, StoreError> {
        Ok(self.state.jobs.get(&id).cloned())
    }

    fn list(&mut self, all: bool, limit: u32) -> Result<Vec<JobStatus>, StoreError> {
        let mut jobs: Vec<Job> = self
            .state
            .jobs
            .values()
            .filter(|j| all || j.key.is_shared_schedule())
            .cloned()
            .collect();
        jobs.sort_by(|a, b| (&a.name, &a.key).cmp(&(&b.name, &b.key)));
        jobs.truncate(limit as usize);
        let latest = |runs: &[JobRun], id: Uuid, failed_only: bool| {
            runs.iter()
                .filter(|r| r.job_id == id && (!failed_only || r.outcome == Outcome::Failed))
                .max_by_key(|r| (r.finished_at, r.id))
                .cloned()
        };
        Ok(jobs
            .into_iter()
            .map(|job| JobStatus {
                last_run: latest(&self.state.job_runs, job.id, false),
                last_failure: latest(&self.state.job_runs, job.id, true),
                job,
            })
            .collect())
    }

    fn runs(&mut self, job_id: Uuid, limit: u32) -> Result<Vec<JobRun>, StoreError> {
        let mut runs: Vec<JobRun> = self
            .state
            .job_runs
            .iter()
            .filter(|r| r.job_id == job_id)
            .cloned()
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse((r.finished_at, r.id)));
        runs.truncate(limit as usize);
        Ok(runs)
    }
}
