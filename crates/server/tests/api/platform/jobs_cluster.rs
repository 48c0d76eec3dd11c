//! End to end on PostgreSQL with two real `accueil` processes sharing one database: a
//! recurring job runs once per slot across both, and a job held by an instance killed with
//! SIGKILL is finished by the other once the lease runs out.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accueil_domain::jobs::{JobRun, Outcome};
use accueil_notify_smtp::testing::SmtpSink;
use accueil_ports::StoreExt;
use accueil_ports::jobs::JobStatus;
use accueil_store_diesel::testing::{self, TestStore};
use serde_json::{Value, json};

use crate::common;

/// One `accueil serve` process, its log read line by line.
struct Instance {
    child: Child,
    owner: String,
    base: String,
    logs: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Instance {
    /// Starts `accueil` on `db_url` and waits until it listens and its runner has started.
    fn start(db_url: &str, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().display().to_string();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_accueil"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs([
                ("DATABASE_URL", db_url),
                ("ACCUEIL_DATA_DIR", data.as_str()),
                ("ACCUEIL_BIND", "127.0.0.1:0"),
                ("ACCUEIL_JWT_SECRET", common::SECRET),
                ("ACCUEIL_BCRYPT_COST", "4"),
                ("ACCUEIL_WORKERS", "1"),
                ("ACCUEIL_LOG_FORMAT", "json"),
                ("ACCUEIL_PUBLIC_URL", "https://app.test"),
            ])
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (found, seen) = std::sync::mpsc::channel::<(String, String)>();
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    for (message, field) in [
                        ("accueil listening", "addr"),
                        ("jobs runner started", "owner"),
                    ] {
                        if v["message"] == message {
                            let _ = found.send((
                                field.to_owned(),
                                v[field].as_str().unwrap_or_default().to_owned(),
                            ));
                        }
                    }
                }
                kept.lock().unwrap().push(line);
            }
        });
        let (mut addr, mut owner) = (None, None);
        while addr.is_none() || owner.is_none() {
            let (field, value) = seen
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("accueil did not start: {:?}", logs.lock().unwrap()));
            match field.as_str() {
                "addr" => addr = Some(value),
                _ => owner = Some(value),
            }
        }
        Self {
            child,
            owner: owner.unwrap(),
            base: format!("http://{}", addr.unwrap()),
            logs,
            _dir: dir,
        }
    }

    /// What it logged so far.
    fn log(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// SIGKILL: no shutdown path runs, the job in flight keeps its lease.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two instances on the same database, started together.
async fn pair(db_url: &str, extra: &[(&str, &str)]) -> (Instance, Instance) {
    let start = |url: String, extra: Vec<(String, String)>| {
        tokio::task::spawn_blocking(move || {
            let extra: Vec<(&str, &str)> = extra
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            Instance::start(&url, &extra)
        })
    };
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let (a, b) = tokio::join!(
        start(db_url.to_owned(), extra.clone()),
        start(db_url.to_owned(), extra)
    );
    (a.unwrap(), b.unwrap())
}

async fn jobs(store: &TestStore) -> Vec<JobStatus> {
    store.read(|tx| tx.jobs().list(true, 500)).await.unwrap()
}

async fn runs(store: &TestStore, job: uuid::Uuid) -> Vec<JobRun> {
    store
        .read(move |tx| tx.jobs().runs(job, 10_000))
        .await
        .unwrap()
}

/// Polls `check` every 100 ms until it gives a value, for at most `limit`.
async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every second, for 50 seconds and more, with both instances racing for each slot: each slot
/// between the first and the last run is run exactly once, by one of the two.
#[tokio::test]
async fn two_instances_run_each_slot_of_a_recurring_job_exactly_once() {
    const SLOTS: usize = 52;
    let Some(db) = tokio::task::spawn_blocking(testing::postgres)
        .await
        .unwrap()
    else {
        return;
    };
    let (a, b) = pair(
        &db.url(),
        &[("ACCUEIL_JOBS_SCHEDULE_PURGE_EXPIRED", "* * * * * *")],
    )
    .await;
    let job = wait_for(Duration::from_secs(10), "the schedule", || async {
        jobs(&db)
            .await
            .into_iter()
            .find(|s| s.job.name.as_str() == "purge-expired")
            .map(|s| s.job)
    })
    .await;
    assert_eq!(job.schedule.as_ref().unwrap().expr(), "* * * * * *");
    wait_for(
        Duration::from_secs(SLOTS as u64 + 30),
        "the runs",
        || async { (runs(&db, job.id).await.len() >= SLOTS).then_some(()) },
    )
    .await;
    // A slot run twice would show as a lost run on one of them (its lease taken over, its
    // outcome dropped), even though the history keeps one run per slot.
    let mut ran = 0.0;
    for instance in [&a, &b] {
        assert_eq!(
            runs_counted(&instance.base, "purge-expired", "lost").await,
            0.0,
            "no slot ran on both"
        );
        assert_eq!(
            runs_counted(&instance.base, "purge-expired", "failed").await,
            0.0
        );
        ran += runs_counted(&instance.base, "purge-expired", "succeeded").await;
    }
    drop((a, b));
    let mut all = runs(&db, job.id).await;
    all.sort_by_key(|r| r.due_at);
    let failed: Vec<&JobRun> = all
        .iter()
        .filter(|r| r.outcome != Outcome::Succeeded || r.attempt != 1)
        .collect();
    assert!(
        failed.is_empty(),
        "every run succeeded first time: {failed:?}"
    );
    let due: Vec<_> = all.iter().map(|r| r.due_at).collect();
    for pair in due.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap != chrono::Duration::zero(),
            "slot {} ran twice",
            pair[0]
        );
        assert_eq!(
            gap,
            chrono::Duration::seconds(1),
            "a slot was skipped after {}",
            pair[0]
        );
    }
    assert!(due.len() >= SLOTS, "{} runs", due.len());
    let owners: std::collections::BTreeMap<&str, usize> =
        all.iter().fold(Default::default(), |mut m, r| {
            *m.entry(r.owner.as_str()).or_default() += 1;
            m
        });
    assert_eq!(
        owners.len(),
        2,
        "both instances raced for the slots: {owners:?}"
    );
    #[allow(clippy::cast_precision_loss)]
    let recorded = all.len() as f64;
    assert!(
        ran <= recorded && ran >= recorded - 2.0,
        "the instances ran {ran} times, the history has {recorded} runs"
    );
    eprintln!(
        "{} slots from {} to {}, by instance: {owners:?}",
        due.len(),
        due[0],
        due[due.len() - 1]
    );
}

/// `accueil_jobs_runs_total` of `job` and `outcome` on an instance.
async fn runs_counted(base: &str, job: &str, outcome: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("accueil_jobs_runs_total{{job=\"{job}\",outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

/// A loopback SMTP server that accepts connections and never answers, until it is stopped.
struct StallingSmtp {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StallingSmtp {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (accepted, stop) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (count, stopping) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        held.push(stream);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            // Dropping the listener and the connections frees the port for the real sink.
        });
        Self {
            addr,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// Mail delivery that hangs on the SMTP server holds its job's lease; SIGKILL the instance
/// that holds it, and the other takes the job over when the lease ends and delivers the mail,
/// once, when the SMTP server answers.
#[tokio::test]
async fn a_job_held_by_a_killed_instance_is_finished_by_the_other_after_its_lease() {
    let Some(db) = tokio::task::spawn_blocking(testing::postgres)
        .await
        .unwrap()
    else {
        return;
    };
    let mut smtp = StallingSmtp::start();
    let url = format!("smtp://{}", smtp.addr);
    let (mut a, mut b) = pair(
        &db.url(),
        &[
            ("ACCUEIL_SMTP_URL", url.as_str()),
            ("ACCUEIL_SMTP_TIMEOUT", "60s"),
            ("ACCUEIL_JOBS_LEASE", "3s"),
            ("ACCUEIL_JOBS_POLL", "100ms"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/api/v1/auth/register", a.base))
        .json(&json!({"email": "ann@example.org", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);

    // One instance claims the mail's delivery job and hangs on the SMTP server.
    let owners = [a.owner.clone(), b.owner.clone()];
    let held = wait_for(Duration::from_secs(10), "a hanging delivery", || async {
        if smtp.accepted.load(Ordering::SeqCst) == 0 {
            return None;
        }
        jobs(&db).await.into_iter().map(|s| s.job).find(|j| {
            j.name.as_str() == "mail-delivery"
                && j.lease.as_ref().is_some_and(|l| owners.contains(&l.owner))
        })
    })
    .await;
    let lease = held.lease.clone().unwrap();
    assert_eq!(held.attempts, 1);
    let (killed, survivor) = if lease.owner == a.owner {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    killed.kill();
    let killed_owner = killed.owner.clone();
    let survivor_owner = survivor.owner.clone();

    // The SMTP server answers from now on; nothing reaches it before the lease ends.
    smtp.stop();
    let sink = SmtpSink::start_at(smtp.addr);
    let mails = wait_for(Duration::from_secs(20), "the mail", || async {
        let got = sink.received();
        (!got.is_empty()).then_some(got)
    })
    .await;
    let after_lease = chrono::Utc::now();
    assert!(after_lease >= lease.until, "not before the lease ended");
    assert_eq!(mails[0].to, ["ann@example.org"]);

    let run = wait_for(Duration::from_secs(10), "the recorded run", || async {
        runs(&db, held.id).await.into_iter().next()
    })
    .await;
    assert_eq!(
        run.owner,
        survivor_owner,
        "the survivor took the job over; its log:\n{}",
        survivor.log()
    );
    assert_eq!(
        (run.attempt, run.due_at, run.outcome),
        (2, held.run_at, Outcome::Succeeded),
        "the same due time, a second attempt: the takeover"
    );
    assert!(run.started_at >= lease.until);
    let history = runs(&db, held.id).await;
    assert_eq!(history.len(), 1, "the killed instance recorded nothing");
    assert!(history.iter().all(|r| r.owner != killed_owner));

    // Delivered once: the entry is sent after two attempts (the killed one and the takeover),
    // and no second copy arrives.
    let entry = wait_for(Duration::from_secs(5), "the entry marked sent", || async {
        let all = db.read(|tx| tx.outbox().list(None, 10)).await.unwrap();
        all.into_iter()
            .find(|e| e.state == accueil_domain::notify::DeliveryState::Sent)
    })
    .await;
    assert_eq!(entry.attempts, 2);
    assert!(
        mails[0]
            .header("Message-ID")
            .unwrap()
            .contains(&entry.id.to_string()),
        "the entry's Message-ID"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1, "exactly once");

    // The survivor counted its run.
    let metrics = client
        .get(format!("{}/metrics", survivor.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("accueil_jobs_runs_total{job=\"mail-delivery\",outcome=\"succeeded\"}")
        })
        .unwrap_or_else(|| panic!("no mail-delivery count in\n{metrics}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1.0, "{line}");
}
