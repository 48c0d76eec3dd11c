//! Background jobs: idempotent enqueue, exclusive leased claims, takeover, outcomes.

use crate::contract::prelude::*;
use crate::jobs::{ClaimNow, JobStatus};
use accueil_domain::jobs::{
    Backoff, Job, JobKey, JobName, JobRun, JobState, Lease, Outcome, Schedule,
};

fn name(n: &str) -> JobName {
    JobName::parse(n).unwrap()
}

fn one_off(key: &str, run_at: DateTime<Utc>) -> Job {
    Job::one_off(
        Uuid::now_v7(),
        name("send"),
        JobKey::parse(key).unwrap(),
        run_at,
    )
}

/// Registers the shared schedule `job` at `now`.
async fn schedule(store: &Shared, id: Uuid, job: &str, s: &Schedule, now: DateTime<Utc>) -> Job {
    let (n, s) = (name(job), s.clone());
    store
        .write(move |tx| {
            tx.jobs()
                .upsert_schedule(id, &n, &JobKey::schedule(&n), &s, now)
        })
        .await
        .unwrap()
}

async fn enqueue(store: &Shared, job: Job) -> bool {
    store
        .write(move |tx| tx.jobs().enqueue(&job))
        .await
        .unwrap()
}

async fn claim(store: &Shared, owner: &str, now: DateTime<Utc>, limit: u32) -> Vec<Job> {
    let owner = owner.to_owned();
    store
        .write(move |tx| {
            tx.jobs()
                .claim_due(&owner, now, now + Duration::seconds(60), limit)
        })
        .await
        .unwrap()
}

async fn get(store: &Shared, id: Uuid) -> Job {
    store
        .read(move |tx| tx.jobs().get(id))
        .await
        .unwrap()
        .unwrap()
}

fn run(job: &Job, owner: &str, at: DateTime<Utc>, error: Option<&str>) -> JobRun {
    JobRun {
        id: Uuid::now_v7(),
        job_id: job.id,
        name: job.name.clone(),
        owner: owner.to_owned(),
        due_at: job.run_at,
        attempt: job.attempts,
        started_at: at,
        finished_at: at + Duration::seconds(1),
        outcome: if error.is_some() {
            Outcome::Failed
        } else {
            Outcome::Succeeded
        },
        error: error.map(ToOwned::to_owned),
    }
}

async fn complete(store: &Shared, r: JobRun) -> bool {
    store.write(move |tx| tx.jobs().complete(&r)).await.unwrap()
}

async fn fail(store: &Shared, r: JobRun, backoff: Backoff) -> bool {
    store
        .write(move |tx| tx.jobs().fail(&r, &backoff))
        .await
        .unwrap()
}

pub async fn idempotent_enqueue(store: Shared) {
    let first = one_off("welcome:1", t0());
    assert!(enqueue(&store, first.clone()).await, "first enqueue adds");
    let again = one_off("welcome:1", t0() + Duration::hours(1));
    assert!(!enqueue(&store, again.clone()).await, "same key: kept one");
    assert_eq!(get(&store, first.id).await, first, "round trip, unchanged");
    let missing = again.id;
    assert!(
        store
            .read(move |tx| tx.jobs().get(missing))
            .await
            .unwrap()
            .is_none()
    );
    assert!(enqueue(&store, one_off("welcome:2", t0())).await);
    let all = store.read(|tx| tx.jobs().list(true, 10)).await.unwrap();
    assert_eq!(all.len(), 2);
    let recurring = store.read(|tx| tx.jobs().list(false, 10)).await.unwrap();
    assert!(
        recurring.is_empty(),
        "list without `all` shows schedules only"
    );
}

pub async fn claim_skips_leased_and_takes_over_after_expiry(store: Shared) {
    let early = one_off("a", t0());
    let late = one_off("b", t0() + Duration::seconds(5));
    let future = one_off("c", t0() + Duration::hours(1));
    for j in [late.clone(), future.clone(), early.clone()] {
        enqueue(&store, j).await;
    }
    let now = t0() + Duration::seconds(10);
    let got = claim(&store, "alpha", now, 1).await;
    assert_eq!(got.len(), 1, "limit");
    assert_eq!(got[0].id, early.id, "earliest due first");
    assert_eq!(got[0].attempts, 1, "a claim counts an attempt");
    assert_eq!(
        got[0].lease,
        Some(Lease {
            owner: "alpha".into(),
            until: now + Duration::seconds(60)
        })
    );
    assert_eq!(get(&store, early.id).await, got[0], "the lease is stored");
    let got = claim(&store, "beta", now, 10).await;
    assert_eq!(
        got.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![late.id],
        "the leased job and the future one are skipped"
    );
    assert!(
        claim(&store, "gamma", now + Duration::seconds(59), 10)
            .await
            .is_empty()
    );
    let later = now + Duration::seconds(60);
    let taken = claim(&store, "gamma", later, 10).await;
    assert_eq!(taken.len(), 2, "both leases ran out: taken over");
    assert!(
        taken
            .iter()
            .all(|j| j.attempts == 2 && j.lease.as_ref().is_some_and(|l| l.owner == "gamma"))
    );
    let stale = run(&got[0], "beta", now, None);
    assert!(
        !complete(&store, stale).await,
        "the former owner records nothing"
    );
    assert_eq!(get(&store, late.id).await.state, JobState::Pending);
    assert!(complete(&store, run(&taken[0], "gamma", later, None)).await);
}

pub async fn complete_reschedules_once(store: Shared) {
    let daily = Schedule::parse("30 2 * * *", "Europe/Paris").unwrap();
    let (id, s) = (Uuid::now_v7(), daily.clone());
    // t0 is 2026-11-22 09:30 UTC: the first run is 2026-11-23 02:30 CET, 01:30 UTC.
    let job = schedule(&store, id, "purge", &s, t0()).await;
    let first = Utc.with_ymd_and_hms(2026, 11, 23, 1, 30, 0).unwrap();
    assert_eq!(job.run_at, first);
    assert_eq!(job.key, JobKey::schedule(&name("purge")));
    let (other, s) = (Uuid::now_v7(), daily.clone());
    let same = schedule(&store, other, "purge", &s, t0() + Duration::hours(1)).await;
    assert_eq!(
        same, job,
        "registering the same schedule again changes nothing"
    );

    assert!(
        claim(&store, "a", first - Duration::seconds(1), 5)
            .await
            .is_empty()
    );
    let got = claim(&store, "a", first, 5).await;
    assert_eq!(got.len(), 1);
    let r = run(&got[0], "a", first, None);
    assert!(complete(&store, r.clone()).await);
    assert!(
        !complete(&store, r.clone()).await,
        "a second completion is refused"
    );
    let after = get(&store, id).await;
    assert_eq!(
        after.run_at,
        first + Duration::days(1),
        "the next day's run, once"
    );
    assert_eq!(
        (after.attempts, after.lease.clone(), after.state),
        (0, None, JobState::Pending)
    );
    assert!(
        claim(&store, "b", first + Duration::hours(1), 5)
            .await
            .is_empty()
    );
    let listed = store.read(|tx| tx.jobs().list(false, 10)).await.unwrap();
    assert_eq!(
        listed,
        vec![JobStatus {
            job: after,
            last_run: Some(r.clone()),
            last_failure: None
        }]
    );
    let runs = store.read(move |tx| tx.jobs().runs(id, 10)).await.unwrap();
    assert_eq!(runs, vec![r]);

    let hourly = Schedule::parse("0 * * * *", "UTC").unwrap();
    let changed = schedule(&store, other, "purge", &hourly, first).await;
    assert_eq!(changed.id, id, "one job per name");
    assert_eq!(changed.run_at, first + Duration::minutes(30), "recomputed");
    assert_eq!(changed.schedule.unwrap().expr(), "0 * * * *");

    let one = one_off("once", t0());
    enqueue(&store, one.clone()).await;
    let got = claim(&store, "a", t0(), 1).await;
    assert!(complete(&store, run(&got[0], "a", t0(), None)).await);
    assert_eq!(get(&store, one.id).await.state, JobState::Done);
}

pub async fn fail_backs_off_then_gives_up(store: Shared) {
    let backoff = Backoff {
        base: Duration::seconds(10),
        max: Duration::seconds(15),
    };
    let mut job = one_off("flaky", t0());
    job.max_attempts = 3;
    enqueue(&store, job.clone()).await;
    let mut now = t0();
    let mut due = Vec::new();
    for attempt in 1..=3_u32 {
        let got = claim(&store, "w", now, 1).await;
        assert_eq!(got.len(), 1, "attempt {attempt} is due");
        assert_eq!(got[0].attempts, attempt);
        let r = run(&got[0], "w", now, Some(&format!("boom {attempt}")));
        assert!(fail(&store, r, backoff).await);
        let after = get(&store, job.id).await;
        assert_eq!(
            after.last_error.as_deref(),
            Some(format!("boom {attempt}").as_str())
        );
        assert_eq!(after.lease, None);
        due.push((after.state, after.run_at));
        now = after.run_at;
    }
    let finished = |s: DateTime<Utc>| s + Duration::seconds(1);
    assert_eq!(
        due[0],
        (JobState::Pending, finished(t0()) + Duration::seconds(10))
    );
    assert_eq!(
        due[1],
        (
            JobState::Pending,
            finished(due[0].1) + Duration::seconds(15)
        ),
        "capped"
    );
    assert_eq!(due[2].0, JobState::Failed, "gave up after max_attempts");
    assert!(
        claim(&store, "w", now + Duration::days(1), 5)
            .await
            .is_empty()
    );
    let listed = store.read(|tx| tx.jobs().list(true, 10)).await.unwrap();
    let failure = listed[0].last_failure.clone().unwrap();
    assert_eq!(failure.error.as_deref(), Some("boom 3"));
    assert_eq!(listed[0].last_run, Some(failure));
    let runs = store
        .read(move |tx| tx.jobs().runs(job.id, 10))
        .await
        .unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.outcome == Outcome::Failed));
}

/// Several connections claim at once: each due job goes to exactly one of them.
pub async fn concurrent_claims_never_share_a_job(store: Shared) {
    let single = one_off("single", t0());
    enqueue(&store, single).await;
    let winners = race(&store, 8).await;
    assert_eq!(winners.len(), 1, "exactly one claimer wins the one due job");

    let mut ids = Vec::new();
    for i in 0..4 {
        let j = one_off(&format!("many:{i}"), t0() + Duration::milliseconds(i));
        ids.push(j.id);
        enqueue(&store, j).await;
    }
    let mut won = race(&store, 8).await;
    won.sort();
    ids.sort();
    assert_eq!(
        won, ids,
        "each of four due jobs claimed exactly once by eight claimers"
    );
}

async fn race(store: &Shared, claimers: usize) -> Vec<Uuid> {
    let now = t0() + Duration::seconds(1);
    let mut tasks = Vec::new();
    for i in 0..claimers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            claim(&store, &format!("instance-{i}"), now, 1).await
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        won.extend(t.await.unwrap().into_iter().map(|j| j.id));
    }
    won
}

async fn next_due(store: &Shared) -> Option<DateTime<Utc>> {
    store.read(|tx| tx.jobs().next_due()).await.unwrap()
}

async fn claim_now(store: &Shared, key: &JobKey, owner: &str, now: DateTime<Utc>) -> ClaimNow {
    let (key, owner) = (key.clone(), owner.to_owned());
    store
        .write(move |tx| {
            tx.jobs()
                .claim_now(&key, &owner, now, now + Duration::seconds(60))
        })
        .await
        .unwrap()
}

/// `next_due` is the first instant `claim_due` takes something: a due time, or a lease's end.
pub async fn next_due_is_the_first_claimable_instant(store: Shared) {
    assert_eq!(next_due(&store).await, None, "nothing pending");
    let late = one_off("late", t0() + Duration::hours(1));
    let early = one_off("early", t0());
    enqueue(&store, late.clone()).await;
    enqueue(&store, early.clone()).await;
    assert_eq!(next_due(&store).await, Some(t0()));
    let got = claim(&store, "a", t0(), 1).await;
    assert_eq!(got[0].id, early.id);
    assert_eq!(
        next_due(&store).await,
        Some(t0() + Duration::seconds(60)),
        "the leased job is claimable again when its lease ends, before the late one"
    );
    assert!(
        claim(&store, "b", t0() + Duration::seconds(59), 5)
            .await
            .is_empty(),
        "and not a moment before"
    );
    assert!(complete(&store, run(&got[0], "a", t0(), None)).await);
    assert_eq!(
        next_due(&store).await,
        Some(t0() + Duration::hours(1)),
        "done jobs do not count"
    );
    // A lease that ended before the job fell due again does not hide its due time.
    let got = claim(&store, "a", t0() + Duration::hours(1), 1).await;
    assert!(
        fail(
            &store,
            run(&got[0], "a", t0() + Duration::hours(1), Some("x")),
            Backoff::default()
        )
        .await
    );
    let after = get(&store, late.id).await;
    assert_eq!(next_due(&store).await, Some(after.run_at));
}

/// A claim by key (`accueil jobs run`) takes the job now, unless a live lease holds it.
pub async fn claim_now_respects_leases(store: Shared) {
    let hourly = Schedule::parse("0 * * * *", "UTC").unwrap();
    let id = Uuid::now_v7();
    let job = schedule(&store, id, "hourly", &hourly, t0()).await;
    let key = job.key.clone();
    let missing = JobKey::parse("schedule:nothing").unwrap();
    assert_eq!(
        claim_now(&store, &missing, "cli", t0()).await,
        ClaimNow::Missing
    );
    let ClaimNow::Claimed(claimed) = claim_now(&store, &key, "cli", t0()).await else {
        panic!("the schedule is free");
    };
    assert_eq!(
        (claimed.run_at, claimed.attempts),
        (t0(), 1),
        "due now, first attempt"
    );
    assert_eq!(get(&store, id).await, *claimed, "stored");
    assert!(
        claim(&store, "runner", t0() + Duration::seconds(1), 5)
            .await
            .is_empty(),
        "a runner does not take it meanwhile"
    );
    assert_eq!(
        claim_now(&store, &key, "other-cli", t0() + Duration::seconds(1)).await,
        ClaimNow::Leased(Lease {
            owner: "cli".into(),
            until: t0() + Duration::seconds(60)
        })
    );
    let r = run(&claimed, "cli", t0(), None);
    assert_eq!(r.due_at, t0());
    assert!(complete(&store, r).await);
    assert_eq!(
        get(&store, id).await.run_at,
        job.run_at,
        "the schedule's next slot is kept"
    );
    // A lease that ran out does not stop it.
    let got = claim(&store, "runner", job.run_at, 1).await;
    assert_eq!(got.len(), 1);
    let later = job.run_at + Duration::seconds(60);
    assert!(matches!(
        claim_now(&store, &key, "cli", later).await,
        ClaimNow::Claimed(j) if j.attempts == 1 && j.run_at == later
    ));
    let once = one_off("once", t0());
    enqueue(&store, once.clone()).await;
    let got = claim(&store, "a", t0(), 1).await;
    assert!(complete(&store, run(&got[0], "a", t0(), None)).await);
    assert_eq!(
        claim_now(&store, &once.key, "cli", later).await,
        ClaimNow::Finished(JobState::Done)
    );
}

/// Old runs and finished one-off jobs go; schedules, pending jobs and recent runs stay.
pub async fn prune_keeps_what_is_recent(store: Shared) {
    let daily = Schedule::parse("0 3 * * *", "UTC").unwrap();
    let id = Uuid::now_v7();
    schedule(&store, id, "daily", &daily, t0()).await;
    let old = one_off("old", t0());
    let pending = one_off("pending", t0() + Duration::days(30));
    enqueue(&store, old.clone()).await;
    enqueue(&store, pending.clone()).await;
    let got = claim(&store, "a", t0(), 5).await;
    assert_eq!(got.len(), 1);
    let old_run = run(&got[0], "a", t0(), None);
    assert!(complete(&store, old_run.clone()).await);
    let recurring = claim(&store, "a", t0() + Duration::days(1), 5).await;
    assert_eq!(recurring.len(), 1, "the schedule's first run");
    let recent = run(&recurring[0], "a", t0() + Duration::days(1), None);
    assert!(complete(&store, recent.clone()).await);

    let cutoff = t0() + Duration::hours(1);
    let n = store
        .write(move |tx| tx.jobs().prune(cutoff))
        .await
        .unwrap();
    assert_eq!(n, 2, "the old run and its finished one-off job");
    let old_id = old.id;
    assert!(
        store
            .read(move |tx| tx.jobs().get(old_id))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(get(&store, pending.id).await.state, JobState::Pending);
    assert_eq!(
        store.read(move |tx| tx.jobs().runs(id, 10)).await.unwrap(),
        vec![recent],
        "the schedule and its recent run stay"
    );
    assert!(
        enqueue(&store, one_off("old", t0())).await,
        "a pruned key can be enqueued again"
    );
}

/// Per-user schedules: one per (name, user), each on its user's clock, moved to another zone
/// in place, listed apart from the shared schedules, and removed with their runs.
pub async fn per_user_schedules_follow_their_zone(store: Shared) {
    use crate::jobs::PerUserSchedules;
    let remind = name("remind");
    let (ann, bob) = (UserId(Uuid::now_v7()), UserId(Uuid::now_v7()));
    let nine = |zone: &str| Schedule::parse("0 9 * * *", zone).unwrap();
    let upsert = |user: UserId, zone: &str, now: DateTime<Utc>| {
        let (n, s, id) = (remind.clone(), nine(zone), Uuid::now_v7());
        let store = store.clone();
        async move {
            store
                .write(move |tx| {
                    tx.jobs()
                        .upsert_schedule(id, &n, &JobKey::for_user(&n, user), &s, now)
                })
                .await
                .unwrap()
        }
    };
    // t0 is 2026-11-22 09:30 UTC: 10:30 in Paris, 18:30 in Tokyo.
    let a = upsert(ann, "Europe/Paris", t0()).await;
    let b = upsert(bob, "Asia/Tokyo", t0()).await;
    assert_ne!(a.id, b.id, "one schedule per user");
    assert_eq!(
        a.run_at,
        Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap()
    );
    assert_eq!(
        b.run_at,
        Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
    );
    assert_eq!(a.key.user(), Some(ann));
    assert_eq!(
        upsert(ann, "Europe/Paris", t0() + Duration::hours(2)).await,
        a
    );
    // Ann moves to New York: 09:00 there, recomputed from the move.
    let moved = upsert(ann, "America/New_York", t0()).await;
    assert_eq!(moved.id, a.id, "the same row");
    assert_eq!(
        moved.run_at,
        Utc.with_ymd_and_hms(2026, 11, 22, 14, 0, 0).unwrap(),
        "09:00 EST is still to come today"
    );
    let key = a.key.clone();
    let found = store
        .write(move |tx| tx.jobs().find_for_update(&key))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, moved);
    assert_eq!(
        found.schedule.as_ref().map(Schedule::zone),
        Some("America/New_York")
    );

    let shared = schedule(&store, Uuid::now_v7(), "daily", &nine("UTC"), t0()).await;
    let listed = store.read(|tx| tx.jobs().list(false, 50)).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.job.id).collect::<Vec<_>>(),
        vec![shared.id],
        "users' schedules are not listed with the shared ones"
    );
    let all = store.read(|tx| tx.jobs().list(true, 50)).await.unwrap();
    assert_eq!(all.len(), 3);
    let summary = store
        .read(|tx| tx.jobs().per_user_schedules())
        .await
        .unwrap();
    assert_eq!(
        summary,
        vec![PerUserSchedules {
            name: remind.clone(),
            users: 2,
            next_run_at: Some(moved.run_at),
        }]
    );

    // Bob's run under way when his schedule is removed: the run records nothing.
    let got = claim(&store, "a", b.run_at, 5).await;
    assert_eq!(
        got.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![a.id, b.id],
        "each on its own clock: New York's 09:00 came first"
    );
    let bob_key = b.key.clone();
    assert!(
        store
            .write(move |tx| tx.jobs().remove(&bob_key))
            .await
            .unwrap()
    );
    assert!(!complete(&store, run(&got[1], "a", b.run_at, None)).await);
    let bob_key = b.key.clone();
    assert!(
        !store
            .write(move |tx| tx.jobs().remove(&bob_key))
            .await
            .unwrap(),
        "already gone"
    );
    let bob_id = b.id;
    assert!(
        store
            .read(move |tx| tx.jobs().get(bob_id))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .read(move |tx| tx.jobs().runs(bob_id, 5))
            .await
            .unwrap()
            .is_empty()
    );
    let summary = store
        .read(|tx| tx.jobs().per_user_schedules())
        .await
        .unwrap();
    assert_eq!(summary[0].users, 1);
    assert_eq!(summary[0].next_run_at, Some(moved.run_at));
}

/// A renewed lease keeps the job from a takeover; only its holder renews it, and not once it
/// was taken over or the job finished.
pub async fn renewing_a_lease_holds_the_job(store: Shared) {
    let job = one_off("long", t0());
    enqueue(&store, job.clone()).await;
    let got = claim(&store, "alpha", t0(), 1).await;
    assert_eq!(got.len(), 1);
    let renew = |owner: &'static str, until: DateTime<Utc>| {
        let (store, id) = (store.clone(), job.id);
        async move {
            store
                .write(move |tx| tx.jobs().renew(id, owner, until))
                .await
                .unwrap()
        }
    };
    let until = t0() + Duration::seconds(120);
    assert!(renew("alpha", until).await);
    assert_eq!(
        get(&store, job.id).await.lease.map(|l| l.until),
        Some(until)
    );
    assert!(
        claim(&store, "beta", t0() + Duration::seconds(90), 5)
            .await
            .is_empty(),
        "past the first lease, within the renewed one"
    );
    assert!(
        !renew("beta", t0() + Duration::hours(1)).await,
        "not beta's"
    );
    assert_eq!(
        get(&store, job.id).await.lease.map(|l| l.until),
        Some(until)
    );
    let taken = claim(&store, "beta", until, 5).await;
    assert_eq!(taken.len(), 1, "taken over once the renewed lease ran out");
    assert!(
        !renew("alpha", until + Duration::seconds(60)).await,
        "no longer alpha's"
    );
    assert!(complete(&store, run(&taken[0], "beta", until, None)).await);
    assert!(!renew("beta", until + Duration::seconds(60)).await, "done");
}
