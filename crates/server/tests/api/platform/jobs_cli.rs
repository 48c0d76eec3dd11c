//! End to end: `accueil jobs list` shows the schedules, their next run, last run and last
//! failure, read from the database the server uses.

use accueil_domain::identity::UserId;
use accueil_domain::jobs::{Backoff, JobKey, JobName, JobRun, Outcome, Schedule};
use accueil_ports::StoreExt;
use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::cli::accueil;
use crate::common::{self, TestServer};

#[tokio::test]
async fn jobs_list_shows_schedules_and_their_last_failure() {
    // No runner: the test claims the job itself.
    let s = TestServer::start_with(common::Db::Sqlite, &[("ACCUEIL_JOBS_RUNNER", "off")])
        .await
        .unwrap();
    let now = Utc::now();
    let name = JobName::parse("nightly-check").unwrap();
    let daily = Schedule::parse("30 2 * * *", "Europe/Paris").unwrap();
    let job = s
        .store()
        .write(move |tx| {
            let key = JobKey::schedule(&name);
            tx.jobs()
                .upsert_schedule(Uuid::now_v7(), &name, &key, &daily, now - Duration::days(2))
        })
        .await
        .unwrap();
    // Two users' schedules, on their own clocks, due tomorrow: counted, not listed one by one.
    for zone in ["Asia/Tokyo", "America/Chicago"] {
        let name = JobName::parse("couples.letters-open").unwrap();
        let midnight = Schedule::parse("0 0 * * *", zone).unwrap();
        let key = JobKey::for_user(&name, UserId(Uuid::now_v7()));
        s.store()
            .write(move |tx| {
                tx.jobs().upsert_schedule(
                    Uuid::now_v7(),
                    &name,
                    &key,
                    &midnight,
                    now + Duration::days(1),
                )
            })
            .await
            .unwrap();
    }
    let claimed = s
        .store()
        .write(move |tx| {
            tx.jobs()
                .claim_due("instance-a", now, now + Duration::minutes(5), 10)
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "the schedule's first run is due");
    let run = JobRun {
        id: Uuid::now_v7(),
        job_id: job.id,
        name: job.name.clone(),
        owner: "instance-a".into(),
        due_at: claimed[0].run_at,
        attempt: 1,
        started_at: now,
        finished_at: now,
        outcome: Outcome::Failed,
        error: Some("disk full".into()),
    };
    s.store()
        .write(move |tx| tx.jobs().fail(&run, &Backoff::default()))
        .await
        .unwrap();
    s.stop().await;

    let (url, data) = (s.db_url.clone(), s.data_dir.display().to_string());
    let out = tokio::task::spawn_blocking(move || {
        let env = [
            ("DATABASE_URL", url.as_str()),
            ("ACCUEIL_DATA_DIR", data.as_str()),
            ("ACCUEIL_JWT_SECRET", common::SECRET),
        ];
        accueil(&["jobs", "list"], &env, "")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("jobs (1):"),
        "no runner registered its schedules: {listing}"
    );
    assert!(
        listing.contains("nightly-check") && listing.contains("30 2 * * * (Europe/Paris)"),
        "{listing}"
    );
    assert!(listing.contains("attempts 1/3"), "{listing}");
    assert!(listing.contains("on instance-a: failed"), "{listing}");
    assert!(
        listing.contains("last failure") && listing.contains("disk full"),
        "{listing}"
    );
    let per_user = listing
        .lines()
        .skip_while(|l| !l.starts_with("per-user schedules"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        per_user.contains("couples.letters-open") && per_user.contains("2 user(s)"),
        "{listing}"
    );
}

/// `accueil jobs run NAME` runs a recurring job once in the command's process, claimed like a
/// runner claims it: it refuses an unknown name (listing the known ones) and a job an instance
/// holds, and its run shows in `accueil jobs list`.
#[tokio::test]
async fn jobs_run_runs_a_job_once_unless_an_instance_holds_it() {
    let s = TestServer::start_with(common::Db::Sqlite, &[("ACCUEIL_JOBS_RUNNER", "off")])
        .await
        .unwrap();
    s.stop().await;
    let (url, data) = (s.db_url.clone(), s.data_dir.display().to_string());
    let run = move |args: &'static [&'static str]| {
        let (url, data) = (url.clone(), data.clone());
        tokio::task::spawn_blocking(move || {
            let env = [
                ("DATABASE_URL", url.as_str()),
                ("ACCUEIL_DATA_DIR", data.as_str()),
                ("ACCUEIL_JWT_SECRET", common::SECRET),
            ];
            let out = accueil(args, &env, "");
            (
                out.status.code(),
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            )
        })
    };
    let (code, _, err) = run(&["jobs", "run", "nightly"]).await.unwrap();
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("unknown job \"nightly\"")
            && err.contains("mail-delivery, purge-deleted, purge-expired"),
        "{err}"
    );

    let (code, out, err) = run(&["jobs", "run", "purge-expired"]).await.unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("job purge-expired succeeded in"), "{out}");
    let (code, listing, _) = run(&["jobs", "list"]).await.unwrap();
    assert_eq!(code, Some(0));
    assert!(
        listing.contains("jobs (3):"),
        "the command registered the schedules: {listing}"
    );
    assert!(
        listing.contains("on cli:") && listing.contains("succeeded (due "),
        "{listing}"
    );

    // An instance's runner holds the job: the command refuses rather than run it alongside.
    let now = Utc::now();
    let store = s.store();
    let held = store
        .write(move |tx| {
            let key = accueil_domain::jobs::JobKey::parse("schedule:purge-deleted").unwrap();
            tx.jobs()
                .claim_now(&key, "instance-a", now, now + Duration::minutes(5))
        })
        .await
        .unwrap();
    assert!(matches!(held, accueil_ports::jobs::ClaimNow::Claimed(_)));
    let (code, _, err) = run(&["jobs", "run", "purge-deleted"]).await.unwrap();
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is running on instance-a"), "{err}");
}
