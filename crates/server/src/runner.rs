//! The jobs runner loop: one per instance (unless `ACCUEIL_JOBS_RUNNER=off`), calling
//! [`JobsService::run_due`] under an owner id unique to the process.
//!
//! The loop reads when the next job can be claimed ([`JobsService::next_due`], a read: an idle
//! runner writes nothing) and sleeps until then, but never longer than the poll interval, so
//! jobs enqueued by other instances are seen within it; after a round that ran something it
//! looks again at once. Each round claims one job at a time (several instances then share a
//! backlog, and a stop never strands claimed-but-unstarted jobs behind a lease). Handlers are
//! async and the store runs its units of work on the blocking pool, so the loop shares its
//! runtime with nothing it could stall. Every round is reported to the runner's status, which
//! `/ready` reads, and to the metrics.

use std::sync::Arc;

use accueil_app::jobs::JobsService;
use chrono::Utc;
use tokio::sync::watch;

use crate::metrics::JobsMetrics;

/// How long a stop waits for the job in flight before abandoning it to its lease.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// The shortest pause after a round that claimed nothing although a job looked due (another
/// instance took it first), so a disagreement between clocks can never make the loop spin.
const MIN_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// A unique owner id for this process's runner: host name, process id and a random suffix
/// (a pid can repeat across restarts and containers).
pub fn owner_id() -> String {
    use rand::RngCore as _;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::rng().next_u32()
    )
}

/// The handle of a running (or disabled) runner. Cheap to clone.
#[derive(Clone)]
pub struct JobsRunner {
    inner: Option<Arc<Handle>>,
}

struct Handle {
    owner: String,
    stop: watch::Sender<bool>,
    done: watch::Receiver<bool>,
    abort: tokio::task::AbortHandle,
}

impl JobsRunner {
    /// No runner in this process (`ACCUEIL_JOBS_RUNNER=off`).
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// Starts the loop on the current runtime.
    pub fn spawn(
        jobs: JobsService,
        owner: String,
        poll: chrono::Duration,
        metrics: Option<JobsMetrics>,
    ) -> Self {
        let (stop, stopping) = watch::channel(false);
        let (finished, done) = watch::channel(false);
        let who = owner.clone();
        let task = tokio::spawn(async move {
            // Marks the loop stopped however it ends, a panic included.
            struct Ended(JobsService, watch::Sender<bool>);
            impl Drop for Ended {
                fn drop(&mut self) {
                    self.0.runner().stopped();
                    let _ = self.1.send(true);
                }
            }
            let ended = Ended(jobs.clone(), finished);
            run(&jobs, &who, poll, metrics.as_ref(), stopping).await;
            drop(ended);
        });
        Self {
            inner: Some(Arc::new(Handle {
                owner,
                stop,
                done,
                abort: task.abort_handle(),
            })),
        }
    }

    /// The runner's owner id, when it runs.
    pub fn owner(&self) -> Option<&str> {
        self.inner.as_ref().map(|h| h.owner.as_str())
    }

    /// Stops the loop: no new claim, the job in flight gets a few seconds to finish, then is
    /// abandoned (its lease runs out and another runner takes it over).
    pub async fn stop(&self) {
        let Some(h) = &self.inner else { return };
        let _ = h.stop.send(true);
        let mut done = h.done.clone();
        let finished = tokio::time::timeout(STOP_GRACE, done.wait_for(|d| *d)).await;
        if finished.is_err() {
            tracing::warn!(
                owner = %h.owner,
                "jobs runner did not stop in time; its job is left to its lease"
            );
        }
        h.abort.abort();
    }
}

async fn run(
    jobs: &JobsService,
    owner: &str,
    poll: chrono::Duration,
    metrics: Option<&JobsMetrics>,
    mut stopping: watch::Receiver<bool>,
) {
    let status = jobs.runner();
    let poll_std = poll.to_std().unwrap_or(std::time::Duration::from_secs(1));
    status.started(Utc::now(), poll, jobs.settings().lease);
    tracing::info!(owner, poll = ?poll_std, "jobs runner started");
    loop {
        if *stopping.borrow() {
            break;
        }
        let wait = match jobs.next_due().await {
            Ok(next) => {
                let now = Utc::now();
                status.round_ok(now);
                if let Some(m) = metrics {
                    m.round(now);
                }
                next.map_or(poll_std, |t| {
                    (t - now).to_std().unwrap_or_default().min(poll_std)
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "jobs runner cannot read the jobs");
                status.round_failed(e.to_string());
                poll_std
            }
        };
        if !wait.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stopping.changed() => break,
            }
            // Woken at a due time or by the poll: look again before claiming, so the claim
            // only happens when something is due.
            continue;
        }
        status.busy(Utc::now());
        match jobs.run_due(owner).await {
            Ok(report) => {
                let now = Utc::now();
                status.round_ok(now);
                if let Some(m) = metrics {
                    m.observe(&report, now);
                }
                if report.runs.is_empty() {
                    tokio::time::sleep(MIN_PAUSE).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "jobs round failed");
                status.round_failed(e.to_string());
                tokio::select! {
                    () = tokio::time::sleep(poll_std) => {}
                    _ = stopping.changed() => break,
                }
            }
        }
    }
    tracing::info!(owner, "jobs runner stopped");
}
