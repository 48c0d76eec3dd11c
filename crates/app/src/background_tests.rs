//! The background jobs as the application registers them: the one registry, mail delivery by
//! wake-up jobs, the purges, and what `/ready` says of the runner (store-memory and fakes).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use accueil_domain::jobs::{JobKey, JobState, Outcome};
use accueil_domain::notify::{DeliveryState, MailTemplate, backoff};
use accueil_ports::StoreExt;
use accueil_ports::notify::{MockMailer, SendError};
use chrono::Duration;

use crate::jobs::{RunNowError, RunnerHealth, ScheduleError};
use crate::testing::{Harness, KeptMail};
use crate::{App, CheckState, PURGE_DELETED_JOB, PURGE_EXPIRED_JOB};

fn app_with(h: &Harness, mailer: Arc<dyn accueil_ports::notify::Mailer>) -> App {
    App::new(
        h.ports_with_mailer(mailer),
        crate::identity::IdentitySettings::default(),
        crate::couples::CouplesSettings::default(),
        crate::memories::MemoriesSettings::default(),
    )
}

fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn every_module_registers_its_jobs_in_one_place() {
    let h = Harness::new();
    let app = h.whole_app();
    let jobs = &app.jobs;
    let registered: Vec<(String, &str)> = jobs
        .recurring_jobs()
        .into_iter()
        .map(|r| (r.name.to_string(), r.default_cron))
        .collect();
    assert_eq!(
        registered,
        [
            ("mail-delivery".to_owned(), "* * * * *"),
            (PURGE_DELETED_JOB.to_owned(), "30 3 * * *"),
            (PURGE_EXPIRED_JOB.to_owned(), "15 * * * *"),
        ]
    );
    let schedules = jobs
        .resolve_schedules("Europe/Paris", &overrides(&[]))
        .unwrap();
    jobs.register_schedules(schedules.clone(), true)
        .await
        .unwrap();
    let first = jobs.list(false).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(
        first
            .iter()
            .all(|s| s.job.schedule.as_ref().unwrap().zone() == "Europe/Paris")
    );
    // 2026-11-22 09:30 UTC is 10:30 in Paris: the purge's first run is 03:30 there tomorrow.
    let purge = first
        .iter()
        .find(|s| s.job.name.as_str() == PURGE_DELETED_JOB)
        .unwrap();
    assert_eq!(
        purge.job.run_at,
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 23, 2, 30, 0).unwrap()
    );
    // Every instance registers at start: the same schedules again change nothing.
    h.advance(Duration::minutes(3));
    jobs.register_schedules(schedules, true).await.unwrap();
    assert_eq!(jobs.list(false).await.unwrap(), first);

    // An override, by the name a variable spells, replaces the stored schedule.
    let changed = jobs
        .resolve_schedules(
            "Europe/Paris",
            &overrides(&[("PURGE_DELETED", "0 0 4 * * *")]),
        )
        .unwrap();
    jobs.register_schedules(changed, true).await.unwrap();
    let now = jobs.list(false).await.unwrap();
    let purge = now
        .iter()
        .find(|s| s.job.name.as_str() == PURGE_DELETED_JOB)
        .unwrap();
    assert_eq!(purge.job.schedule.as_ref().unwrap().expr(), "0 0 4 * * *");
    // Without `replace` (what `accueil jobs run` does), a stored schedule is left alone.
    let other = jobs
        .resolve_schedules("UTC", &overrides(&[("purge-deleted", "0 0 5 * * *")]))
        .unwrap();
    jobs.register_schedules(other, false).await.unwrap();
    assert_eq!(jobs.list(false).await.unwrap(), now);

    let unknown = jobs
        .resolve_schedules("UTC", &overrides(&[("nightly", "0 3 * * *")]))
        .unwrap_err();
    assert!(
        matches!(&unknown, ScheduleError::Unknown { known, .. } if known.len() == 3),
        "{unknown}"
    );
    assert!(
        unknown
            .to_string()
            .contains("mail-delivery, purge-deleted, purge-expired")
    );
    assert!(matches!(
        jobs.resolve_schedules("UTC", &overrides(&[("purge-expired", "61 * * * *")])),
        Err(ScheduleError::Invalid { .. })
    ));
    assert!(matches!(
        jobs.resolve_schedules("Mars/Olympus", &overrides(&[])),
        Err(ScheduleError::Invalid { .. })
    ));
}

#[tokio::test]
async fn a_new_mail_is_delivered_by_the_job_its_commit_enqueued() {
    let h = Harness::new();
    let kept = Arc::new(KeptMail::default());
    let app = app_with(&h, kept.clone());
    h.registered("ann@example.org", None).await;
    let entry = h.last_mail(MailTemplate::VerifyEmail).await;
    let all = app.jobs.list(true).await.unwrap();
    let wake = all
        .iter()
        .find(|s| s.job.key == JobKey::parse(&format!("mail:{}", entry.id)).unwrap())
        .expect("the mail's delivery job");
    assert_eq!(wake.job.name.as_str(), "mail-delivery");
    assert_eq!(wake.job.run_at, entry.next_attempt_at, "due with the mail");
    let report = app.jobs.run_due("runner-a").await.unwrap();
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(kept.0.lock().unwrap().len(), 1, "sent");
    assert_eq!(kept.0.lock().unwrap()[0].0, entry.id);
    let sent = h.last_mail(MailTemplate::VerifyEmail).await;
    assert_eq!(sent.state, DeliveryState::Sent);
    let id = wake.job.id;
    let job = h
        .store
        .read(move |tx| tx.jobs().get(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Done);
}

#[tokio::test]
async fn a_retry_gets_its_own_job_at_the_end_of_its_backoff() {
    let h = Harness::new();
    let mut mailer = MockMailer::new();
    let mut seq = mockall::Sequence::new();
    mailer
        .expect_send()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Err(SendError::Transient("421 busy".into())));
    mailer
        .expect_send()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    let app = app_with(&h, Arc::new(mailer));
    h.registered("ann@example.org", None).await;
    let entry = h.last_mail(MailTemplate::VerifyEmail).await;
    let report = app.jobs.run_due("runner-a").await.unwrap();
    assert_eq!(
        report.succeeded, 1,
        "a transient failure is the mail's, not the job's"
    );
    let retry_at = h.whole_app().now() + backoff(accueil_domain::notify::RETRY_BASE, 1);
    let all = app.jobs.list(true).await.unwrap();
    let retry = all
        .iter()
        .find(|s| s.job.key.as_str() == format!("mail:{}:retry:1", entry.id))
        .expect("the retry's delivery job");
    assert_eq!(retry.job.run_at, retry_at);
    assert_eq!(
        app.jobs.next_due().await.unwrap(),
        Some(retry_at),
        "a runner sleeps until then"
    );
    assert!(app.jobs.run_due("runner-a").await.unwrap().runs.is_empty());
    h.advance(backoff(accueil_domain::notify::RETRY_BASE, 1));
    assert_eq!(app.jobs.run_due("runner-b").await.unwrap().succeeded, 1);
    assert_eq!(
        h.last_mail(MailTemplate::VerifyEmail).await.state,
        DeliveryState::Sent
    );
}

#[tokio::test]
async fn a_delivery_round_claims_no_mail_once_its_lease_is_over() {
    let h = Harness::new();
    let mut mailer = MockMailer::new();
    mailer.expect_send().times(0);
    let app = app_with(&h, Arc::new(mailer));
    h.registered("ann@example.org", None).await;
    let mut job = accueil_domain::jobs::Job::one_off(
        uuid::Uuid::from_u128(u128::MAX),
        crate::notify::delivery_job(),
        JobKey::parse("late").unwrap(),
        app.now(),
    );
    job.lease = Some(accueil_domain::jobs::Lease {
        owner: "slow".into(),
        until: app.now() - Duration::seconds(1),
    });
    app.notify.deliver_job(job).await.unwrap();
    let entry = h.last_mail(MailTemplate::VerifyEmail).await;
    assert_eq!(
        (entry.state, entry.attempts, entry.lease_until),
        (DeliveryState::Pending, 0, None),
        "left for the runner that took the job over"
    );
}

#[tokio::test]
async fn a_delivery_entry_is_leased_no_longer_than_its_job() {
    let h = Harness::new();
    let app = h.whole_app();
    h.registered("ann@example.org", None).await;
    let entry = h.last_mail(MailTemplate::VerifyEmail).await;
    let until = app.now() + Duration::seconds(3);
    // A mailer that stops the clock mid-send to look at the entry's lease.
    struct Peek(
        Arc<accueil_store_memory::MemoryStore>,
        std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    );
    #[async_trait::async_trait]
    impl accueil_ports::notify::Mailer for Peek {
        async fn send(
            &self,
            id: uuid::Uuid,
            _: &accueil_domain::notify::OutboundMail,
        ) -> Result<(), SendError> {
            let e = self
                .0
                .read(move |tx| tx.outbox().get(id))
                .await
                .unwrap()
                .unwrap();
            *self.1.lock().unwrap() = e.lease_until;
            Ok(())
        }
        fn describe(&self) -> String {
            "peek".into()
        }
    }
    let peek = Arc::new(Peek(Arc::new(h.store.clone()), std::sync::Mutex::new(None)));
    let app = app_with(&h, peek.clone());
    let mut job = accueil_domain::jobs::Job::one_off(
        uuid::Uuid::from_u128(u128::MAX),
        crate::notify::delivery_job(),
        JobKey::parse("short").unwrap(),
        app.now(),
    );
    job.lease = Some(accueil_domain::jobs::Lease {
        owner: "a".into(),
        until,
    });
    app.notify.deliver_job(job).await.unwrap();
    assert_eq!(*peek.1.lock().unwrap(), Some(until), "{}", entry.id);
}

#[tokio::test]
async fn the_purge_jobs_remove_what_expired() {
    let h = Harness::new();
    let app = h.whole_app();
    h.registered("ann@example.org", None).await;
    h.login("ann@example.org").await;
    let schedules = app.jobs.resolve_schedules("UTC", &overrides(&[])).unwrap();
    app.jobs.register_schedules(schedules, true).await.unwrap();
    let ran = app
        .jobs
        .run_now(PURGE_EXPIRED_JOB, "cli:test")
        .await
        .unwrap();
    assert_eq!(
        (ran.run.outcome, ran.recorded, ran.run.attempt),
        (Outcome::Succeeded, true, 1)
    );
    assert_eq!(ran.run.due_at, app.now(), "a run by hand is due when asked");
    // The refresh token (30 days), its grace (30 days), the link (a day) and the run history
    // (30 days) are all over 61 days later.
    h.advance(Duration::days(61));
    let report = app.purge().await.unwrap();
    assert!(report.sessions >= 1, "{report:?}");
    assert_eq!(report.links, 1, "{report:?}");
    assert!(report.job_history >= 1, "{report:?}");
    assert_eq!(app.purge().await.unwrap().links, 0, "once");
    // Run by its job too: nothing left, and it succeeds.
    let ran = app
        .jobs
        .run_now(PURGE_DELETED_JOB, "cli:test")
        .await
        .unwrap();
    assert_eq!(ran.run.outcome, Outcome::Succeeded);
}

#[tokio::test]
async fn running_a_job_by_hand_respects_the_runners() {
    let h = Harness::new();
    let app = h.whole_app();
    let err = app.jobs.run_now("nightly", "cli").await.unwrap_err();
    assert!(
        matches!(&err, RunNowError::Unknown { known, .. } if known.len() == 3),
        "{err}"
    );
    assert!(matches!(
        app.jobs.run_now("purge_expired", "cli").await,
        Err(RunNowError::NotRegistered(_))
    ));
    let schedules = app.jobs.resolve_schedules("UTC", &overrides(&[])).unwrap();
    app.jobs.register_schedules(schedules, true).await.unwrap();
    // A runner holds the job (its slot came, and it is running).
    h.advance(Duration::hours(1));
    let claimed = h
        .store
        .write({
            let now = app.now();
            move |tx| {
                tx.jobs()
                    .claim_due("runner-a", now, now + Duration::minutes(5), 10)
            }
        })
        .await
        .unwrap();
    assert!(claimed.iter().any(|j| j.name.as_str() == PURGE_EXPIRED_JOB));
    let busy = app.jobs.run_now("purge-expired", "cli").await.unwrap_err();
    assert!(
        matches!(&busy, RunNowError::Busy { owner, .. } if owner == "runner-a"),
        "{busy}"
    );
    // Once its lease ran out (the runner died), a run by hand takes it.
    h.advance(Duration::minutes(5));
    let ran = app.jobs.run_now("purge-expired", "cli").await.unwrap();
    assert!(ran.recorded);
    let next = app
        .jobs
        .list(false)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.job.name.as_str() == PURGE_EXPIRED_JOB)
        .unwrap();
    assert_eq!(next.last_run.unwrap().owner, "cli");
    assert!(
        next.job.run_at > app.now(),
        "the next slot is still to come"
    );
}

#[tokio::test]
async fn ready_reports_the_runner() {
    let h = Harness::new();
    let app = h.whole_app();
    let state = |r: &crate::Readiness, name: &str| {
        r.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.state.clone())
            .unwrap()
    };
    let r = app.ready().await;
    assert!(r.is_ready());
    assert_eq!(state(&r, "database"), CheckState::Ok);
    assert_eq!(state(&r, "jobs"), CheckState::Disabled, "no runner here");

    let runner = app.jobs.runner();
    runner.started(app.now(), Duration::seconds(1), Duration::minutes(5));
    assert_eq!(state(&app.ready().await, "jobs"), CheckState::Ok);
    h.advance(Duration::seconds(12));
    runner.round_ok(app.now());
    h.advance(Duration::seconds(13));
    assert_eq!(
        state(&app.ready().await, "jobs"),
        CheckState::Ok,
        "within 3 polls + 10 s"
    );
    h.advance(Duration::seconds(1));
    runner.round_failed("database is locked".into());
    let r = app.ready().await;
    assert!(!r.is_ready());
    assert!(
        matches!(state(&r, "jobs"), CheckState::Failed(why) if why.contains("database is locked")),
        "{r:?}"
    );
    // A long job is fine until its lease (and one poll) is over.
    runner.round_ok(app.now());
    runner.busy(app.now());
    h.advance(Duration::minutes(5));
    assert_eq!(state(&app.ready().await, "jobs"), CheckState::Ok);
    h.advance(Duration::seconds(2));
    assert!(!app.ready().await.is_ready(), "stuck past its lease");
    runner.stopped();
    assert_eq!(
        runner.check(app.now()),
        RunnerHealth::Unhealthy("the jobs runner has stopped".into())
    );
}
