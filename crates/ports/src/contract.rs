//! The contract every storage adapter must meet: one suite per port, run unchanged against
//! memory, SQLite and PostgreSQL (see `contract_suite!`).
//!
//! Each check takes a fresh, empty, migrated store. Failures panic with a message naming the
//! rule, as tests do.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;

use accueil_domain::admin::{AuditAction, AuditEvent};
use accueil_domain::couples::{
    ActionOwner, Answer, AnswerStatus, AnswerText, ChangeOp, CheckIn, Couple, CoupleId, EntityKind,
    Goal, GoalAction, GoalStatus, Invite, Letter, LetterContent, Month, Note, Question,
    QuestionText, Score, Theme, Title,
};
use accueil_domain::identity::{
    AvatarUrl, Bio, DisplayName, Email, EmailToken, Language, NewUser, NotificationPrefs,
    PasswordHash, RefreshToken, Role, Session, SessionId, TimeZone, TokenDigest, TokenPurpose,
    User, UserId, Username,
};
use accueil_domain::notify::{DeliveryState, MailTemplate, OutboundMail, OutboxEntry};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use uuid::Uuid;

use crate::identity::UserWriteError;
use crate::{Store, StoreError, StoreExt};

/// Generates one `#[tokio::test]` per contract check. `$make` is an async expression yielding
/// `Option<Arc<dyn Store>>`: `None` means the backend is not available and the check is
/// skipped (the factory prints why, or panics when the backend is required).
#[macro_export]
macro_rules! contract_suite {
    ($make:expr) => {
        $crate::contract_suite!(@each $make;
            identity_user_round_trip,
            identity_email_unique_ignoring_case,
            identity_username_unique,
            identity_update_user,
            identity_read_modify_write_loses_nothing,
            identity_sessions_and_refresh_tokens,
            identity_refresh_compare_and_set_under_concurrency,
            identity_revoke_user_sessions,
            identity_email_tokens,
            identity_purge_deleted_accounts,
            identity_purge_old_sessions,
            identity_api_keys,
            identity_external_identities_and_flows,
            audit_log_round_trip,
            outbox_due_list_and_get,
            couples_membership,
            couples_invites,
            couples_change_feed_is_gapless_under_concurrency,
            couples_qna_is_scoped_and_paged,
            couples_purge_dissolved,
            couples_goals_and_actions,
            couples_checkins_one_per_day_filtered_and_paged,
            couples_letters_one_per_month,
            memories_perspectives_one_per_side,
            memories_scoped_timeline_and_search,
            memories_shares,
            memories_read_modify_write_loses_nothing,
            outbox_claims_are_exclusive,
            outbox_outcomes,
            store_rollback_discards_every_write,
            store_read_units_cannot_write,
            store_concurrent_writes_all_succeed,
            store_ping_answers,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $make.await {
                    $crate::contract::$name(store).await;
                }
            }
        )*
    };
}

type Shared = Arc<dyn Store>;

/// A fixed instant with microsecond precision, which every backend stores exactly.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap() + Duration::microseconds(123_456)
}

fn new_user(email: &str, username: Option<&str>) -> User {
    NewUser {
        email: Email::parse(email).unwrap(),
        username: username.map(|u| Username::parse(u).unwrap()),
        display_name: Some(DisplayName::parse("Zoé Ünïcode").unwrap()),
        password_hash: PasswordHash::new(
            "$2b$04$abcdefghijklmnopqrstuuN3S7QxJ6wXQ0pRpQ3f3s2M7m6o0a0y2".into(),
        ),
        role: Role::User,
        language: Language::Fr,
    }
    .into_user(UserId(Uuid::now_v7()), t0())
}

async fn insert(store: &Shared, user: User) -> Result<(), UserWriteError> {
    store
        .write(move |tx| tx.identity().insert_user(&user))
        .await
}

async fn by_id(store: &Shared, id: UserId) -> Option<User> {
    store
        .read(move |tx| tx.identity().user_by_id(id))
        .await
        .unwrap()
}

pub async fn identity_user_round_trip(store: Shared) {
    let user = new_user("Ann.Lee@Example.org", Some("ann"));
    insert(&store, user.clone()).await.unwrap();
    assert_eq!(
        by_id(&store, user.id).await.as_ref(),
        Some(&user),
        "read back by id"
    );
    let other_case = Email::parse("ann.lee@EXAMPLE.ORG").unwrap();
    let found = store
        .read(move |tx| tx.identity().user_by_email(&other_case))
        .await
        .unwrap();
    assert_eq!(
        found.as_ref(),
        Some(&user),
        "look-up by e-mail ignores case"
    );
    let name = Username::parse("ANN").unwrap();
    let found = store
        .read(move |tx| tx.identity().user_by_username(&name))
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&user), "look-up by username");
    assert_eq!(
        by_id(&store, UserId(Uuid::now_v7())).await,
        None,
        "unknown id"
    );
    let none = Email::parse("nobody@example.org").unwrap();
    let found = store
        .read(move |tx| tx.identity().user_by_email(&none))
        .await
        .unwrap();
    assert_eq!(found, None, "unknown e-mail");
    // Every profile field round-trips.
    let mut full = new_user("full@example.org", Some("full"));
    full.time_zone = Some(TimeZone::parse("Europe/Paris").unwrap());
    full.avatar_url = Some(AvatarUrl::parse("https://cdn.example/a.png").unwrap());
    full.bio = Some(Bio::parse("deux lignes\nde bio").unwrap());
    full.notifications = NotificationPrefs {
        email: false,
        push: true,
    };
    full.deleted_at = Some(t0() + Duration::days(1));
    insert(&store, full.clone()).await.unwrap();
    assert_eq!(
        by_id(&store, full.id).await,
        Some(full),
        "profile fields round-trip"
    );
    // A user without username, display name or password (an OAuth-only account later).
    let mut bare = new_user("bare@example.org", None);
    bare.display_name = None;
    bare.password_hash = None;
    insert(&store, bare.clone()).await.unwrap();
    assert_eq!(
        by_id(&store, bare.id).await,
        Some(bare),
        "optional fields round-trip"
    );
}

pub async fn identity_email_unique_ignoring_case(store: Shared) {
    insert(&store, new_user("ann@example.org", None))
        .await
        .unwrap();
    let twin = new_user("ANN@example.org", None);
    let twin_id = twin.id;
    assert_eq!(
        insert(&store, twin).await,
        Err(UserWriteError::EmailTaken),
        "same address in another case"
    );
    assert_eq!(by_id(&store, twin_id).await, None, "nothing written");
}

pub async fn identity_username_unique(store: Shared) {
    insert(&store, new_user("a@example.org", Some("ann")))
        .await
        .unwrap();
    assert_eq!(
        insert(&store, new_user("b@example.org", Some("Ann"))).await,
        Err(UserWriteError::UsernameTaken)
    );
    // Several users without a username are fine.
    insert(&store, new_user("c@example.org", None))
        .await
        .unwrap();
    insert(&store, new_user("d@example.org", None))
        .await
        .unwrap();
}

pub async fn identity_update_user(store: Shared) {
    let mut user = new_user("a@example.org", Some("ann"));
    insert(&store, user.clone()).await.unwrap();
    insert(&store, new_user("b@example.org", Some("bob")))
        .await
        .unwrap();
    user.role = Role::Admin;
    user.is_active = false;
    user.email_verified = true;
    user.password_hash = Some(PasswordHash::new("$2b$04$other".into()));
    user.updated_at = t0() + Duration::seconds(5);
    let u = user.clone();
    store
        .write(move |tx| tx.identity().update_user(&u))
        .await
        .unwrap();
    assert_eq!(
        by_id(&store, user.id).await,
        Some(user.clone()),
        "every field updated"
    );

    let mut clash = user.clone();
    clash.email = Email::parse("B@example.org").unwrap();
    assert_eq!(
        store
            .write(move |tx| tx.identity().update_user(&clash))
            .await,
        Err(UserWriteError::EmailTaken)
    );
    let mut clash = user.clone();
    clash.username = Some(Username::parse("bob").unwrap());
    assert_eq!(
        store
            .write(move |tx| tx.identity().update_user(&clash))
            .await,
        Err(UserWriteError::UsernameTaken)
    );
    let ghost = new_user("ghost@example.org", None);
    assert_eq!(
        store
            .write(move |tx| tx.identity().update_user(&ghost))
            .await,
        Err(UserWriteError::NotFound)
    );
    assert_eq!(
        by_id(&store, user.id).await,
        Some(user),
        "failed updates changed nothing"
    );
}

fn token(session: &Session, digest: &str, issued: DateTime<Utc>) -> RefreshToken {
    RefreshToken {
        id: Uuid::now_v7(),
        session_id: session.id,
        user_id: session.user_id,
        digest: TokenDigest(digest.into()),
        issued_at: issued,
        expires_at: issued + Duration::days(30),
        used_at: None,
    }
}

async fn user_with_session(store: &Shared, email: &str) -> (User, Session) {
    let user = new_user(email, None);
    insert(store, user.clone()).await.unwrap();
    let session = Session::start(SessionId(Uuid::now_v7()), user.id, t0());
    let s = session.clone();
    store
        .write(move |tx| tx.identity().insert_session(&s))
        .await
        .unwrap();
    (user, session)
}

pub async fn identity_sessions_and_refresh_tokens(store: Shared) {
    let (_, session) = user_with_session(&store, "a@example.org").await;
    let sid = session.id;
    let got = store
        .read(move |tx| tx.identity().session(sid))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&session), "session round-trip");

    let tok = token(&session, "digest-1", t0());
    let t = tok.clone();
    store
        .write(move |tx| tx.identity().insert_refresh_token(&t))
        .await
        .unwrap();
    let dup = token(&session, "digest-1", t0());
    let err = store
        .write(move |tx| tx.identity().insert_refresh_token(&dup))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "duplicate digest: {err:?}"
    );

    let d = TokenDigest("digest-1".into());
    let got = store
        .read(move |tx| tx.identity().refresh_token_by_digest(&d))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&tok), "token round-trip");
    let d = TokenDigest("digest-unknown".into());
    let got = store
        .read(move |tx| tx.identity().refresh_token_by_digest(&d))
        .await
        .unwrap();
    assert_eq!(got, None);

    let id = tok.id;
    let used_at = t0() + Duration::seconds(1);
    let first = store
        .write(move |tx| tx.identity().mark_refresh_token_used(id, used_at))
        .await
        .unwrap();
    let second = store
        .write(move |tx| {
            tx.identity()
                .mark_refresh_token_used(id, t0() + Duration::seconds(2))
        })
        .await
        .unwrap();
    assert!(first && !second, "a token is marked used once");
    let d = TokenDigest("digest-1".into());
    let got = store
        .read(move |tx| tx.identity().refresh_token_by_digest(&d))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.used_at, Some(used_at), "the first use time is kept");

    let at = t0() + Duration::seconds(3);
    let live = store
        .write(move |tx| tx.identity().revoke_session(sid, at, "logout"))
        .await
        .unwrap();
    let again = store
        .write(move |tx| {
            tx.identity()
                .revoke_session(sid, at + Duration::seconds(1), "other")
        })
        .await
        .unwrap();
    assert!(live && !again, "revoked once");
    let got = store
        .read(move |tx| tx.identity().session(sid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_at, Some(at));
    assert_eq!(
        got.revoke_reason.as_deref(),
        Some("logout"),
        "first reason kept"
    );
}

pub async fn identity_refresh_compare_and_set_under_concurrency(store: Shared) {
    let (_, session) = user_with_session(&store, "race@example.org").await;
    let tok = token(&session, "race", t0());
    let id = tok.id;
    store
        .write(move |tx| tx.identity().insert_refresh_token(&tok))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    tx.identity()
                        .mark_refresh_token_used(id, t0() + Duration::milliseconds(i))
                })
                .await
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one concurrent use wins");
}

pub async fn identity_revoke_user_sessions(store: Shared) {
    let (user, s1) = user_with_session(&store, "multi@example.org").await;
    let s2 = Session::start(SessionId(Uuid::now_v7()), user.id, t0());
    let s3 = Session::start(SessionId(Uuid::now_v7()), user.id, t0());
    let (a, b) = (s2.clone(), s3.clone());
    store
        .write(move |tx| {
            tx.identity().insert_session(&a)?;
            tx.identity().insert_session(&b)
        })
        .await
        .unwrap();
    let (_, other) = user_with_session(&store, "other@example.org").await;
    let id3 = s3.id;
    store
        .write(move |tx| tx.identity().revoke_session(id3, t0(), "logout"))
        .await
        .unwrap();
    let uid = user.id;
    let n = store
        .write(move |tx| tx.identity().revoke_user_sessions(uid, t0(), "logout_all"))
        .await
        .unwrap();
    assert_eq!(n, 2, "only the live sessions of this user");
    for (sid, reason) in [
        (s1.id, "logout_all"),
        (s2.id, "logout_all"),
        (s3.id, "logout"),
    ] {
        let s = store
            .read(move |tx| tx.identity().session(sid))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.revoke_reason.as_deref(), Some(reason));
    }
    let oid = other.id;
    let o = store
        .read(move |tx| tx.identity().session(oid))
        .await
        .unwrap()
        .unwrap();
    assert!(o.is_live(), "another user's session is untouched");
}

pub async fn audit_log_round_trip(store: Shared) {
    let user = new_user("audited@example.org", None);
    let uid = user.id;
    insert(&store, user).await.unwrap();
    let events: Vec<AuditEvent> = (0..3)
        .map(|i| AuditEvent {
            id: Uuid::now_v7(),
            at: t0() + Duration::seconds(i),
            actor: if i == 0 { None } else { Some(uid) },
            action: if i == 2 {
                AuditAction::AllSessionsRevoked
            } else {
                AuditAction::UserRegistered
            },
            subject: Some(uid),
            detail: format!("detail {i}"),
        })
        .collect();
    let ev = events.clone();
    store
        .write(move |tx| ev.iter().try_for_each(|e| tx.audit().record(e)))
        .await
        .unwrap();
    let got = store.read(move |tx| tx.audit().about(uid)).await.unwrap();
    assert_eq!(got, events, "events about the subject, oldest first");
}

#[derive(Debug, PartialEq)]
enum Aborted {
    Deliberately,
    Store(StoreError),
}
impl From<StoreError> for Aborted {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

pub async fn store_rollback_discards_every_write(store: Shared) {
    let user = new_user("rollback@example.org", None);
    let uid = user.id;
    let event = AuditEvent {
        id: Uuid::now_v7(),
        at: t0(),
        actor: None,
        action: AuditAction::UserRegistered,
        subject: Some(uid),
        detail: String::new(),
    };
    let res: Result<(), Aborted> = store
        .write(move |tx| {
            tx.identity()
                .insert_user(&user)
                .map_err(|e| Aborted::Store(StoreError::Internal(e.to_string())))?;
            tx.audit().record(&event)?;
            Err(Aborted::Deliberately)
        })
        .await;
    assert_eq!(
        res,
        Err(Aborted::Deliberately),
        "the work's own error comes back"
    );
    assert_eq!(by_id(&store, uid).await, None, "the user was rolled back");
    let events = store.read(move |tx| tx.audit().about(uid)).await.unwrap();
    assert!(events.is_empty(), "the audit row was rolled back with it");
}

pub async fn store_read_units_cannot_write(store: Shared) {
    let user = new_user("reader@example.org", None);
    let uid = user.id;
    let res = store.read(move |tx| tx.identity().insert_user(&user)).await;
    assert!(
        matches!(res, Err(UserWriteError::Store(StoreError::Internal(_)))),
        "a write in a read unit fails: {res:?}"
    );
    assert_eq!(by_id(&store, uid).await, None);
}

pub async fn store_concurrent_writes_all_succeed(store: Shared) {
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let user = new_user(&format!("writer{i}@example.org"), None);
            let id = user.id;
            let event = AuditEvent {
                id: Uuid::now_v7(),
                at: t0(),
                actor: None,
                action: AuditAction::UserRegistered,
                subject: Some(id),
                detail: String::new(),
            };
            store
                .write(move |tx| {
                    tx.identity().insert_user(&user)?;
                    tx.audit().record(&event).map_err(UserWriteError::from)
                })
                .await
                .map(|()| id)
        }));
    }
    for t in tasks {
        let id = t
            .await
            .unwrap()
            .expect("no concurrent write fails (no 'database is locked')");
        assert!(by_id(&store, id).await.is_some());
    }
}

pub async fn store_ping_answers(store: Shared) {
    store.ping().await.expect("a migrated store is ready");
}

fn mail(n: u32) -> OutboxEntry {
    let mut vars = BTreeMap::new();
    vars.insert(
        "link".to_owned(),
        format!("https://example.org/verify?token=t{n}"),
    );
    vars.insert("name".to_owned(), "Zoé \"quoted\" ünïcode".to_owned());
    OutboxEntry::new(
        Uuid::now_v7(),
        OutboundMail {
            to: Email::parse(&format!("to{n}@example.org")).unwrap(),
            language: if n.is_multiple_of(2) {
                Language::Fr
            } else {
                Language::En
            },
            template: MailTemplate::VerifyEmail,
            vars,
        },
        t0() + Duration::seconds(i64::from(n)),
    )
}

async fn enqueue(store: &Shared, entries: Vec<OutboxEntry>) {
    store
        .write(move |tx| entries.iter().try_for_each(|e| tx.outbox().enqueue(e)))
        .await
        .unwrap();
}

pub async fn outbox_due_list_and_get(store: Shared) {
    let (a, b, c) = (mail(1), mail(2), mail(3));
    enqueue(&store, vec![c.clone(), a.clone(), b.clone()]).await;
    let due = store
        .read(move |tx| tx.outbox().due(t0() + Duration::seconds(2), 10))
        .await
        .unwrap();
    assert_eq!(
        due,
        vec![a.clone(), b.clone()],
        "due ones, oldest due first, equal to what was written"
    );
    let one = store
        .read(move |tx| tx.outbox().due(t0() + Duration::seconds(9), 1))
        .await
        .unwrap();
    assert_eq!(one, vec![a.clone()], "limit");
    let listed = store
        .read(move |tx| tx.outbox().list(None, 10))
        .await
        .unwrap();
    assert_eq!(
        listed,
        vec![c.clone(), b.clone(), a.clone()],
        "list is newest first"
    );
    let id = b.id;
    assert_eq!(
        store.read(move |tx| tx.outbox().get(id)).await.unwrap(),
        Some(b)
    );
    let pending = store
        .read(move |tx| tx.outbox().list(Some(DeliveryState::Sent), 10))
        .await
        .unwrap();
    assert!(pending.is_empty(), "state filter");
}

pub async fn outbox_claims_are_exclusive(store: Shared) {
    let e = mail(0);
    let id = e.id;
    enqueue(&store, vec![e]).await;
    let now = t0() + Duration::seconds(10);
    let lease = now + Duration::seconds(60);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| tx.outbox().claim(id, now, lease))
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "one worker takes an entry");
    let due = store
        .read(move |tx| tx.outbox().due(now, 10))
        .await
        .unwrap();
    assert!(due.is_empty(), "a leased entry is not due");
    // The lease runs out (the worker died): it is due again and can be taken again.
    let later = lease + Duration::seconds(1);
    let again = store
        .write(move |tx| tx.outbox().claim(id, later, later + Duration::seconds(60)))
        .await
        .unwrap();
    assert!(again);
    let got = store
        .read(move |tx| tx.outbox().get(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.attempts, 2, "each claim counts an attempt");
    assert_eq!(got.lease_until, Some(later + Duration::seconds(60)));
}

pub async fn outbox_outcomes(store: Shared) {
    let (a, b, c) = (mail(1), mail(2), mail(3));
    let (ia, ib, ic) = (a.id, b.id, c.id);
    enqueue(&store, vec![a, b, c]).await;
    let now = t0() + Duration::seconds(10);
    let retry_at = now + Duration::seconds(30);
    store
        .write(move |tx| -> Result<(), StoreError> {
            for id in [ia, ib, ic] {
                assert!(tx.outbox().claim(id, now, now + Duration::seconds(60))?);
            }
            tx.outbox().mark_sent(ia, now)?;
            tx.outbox().mark_retry(ib, retry_at, "421 try later")?;
            tx.outbox().mark_failed(ic, "550 no such user")
        })
        .await
        .unwrap();
    let get = |id| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.outbox().get(id))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let a = get(ia).await;
    assert_eq!(
        (a.state, a.sent_at, a.lease_until),
        (DeliveryState::Sent, Some(now), None)
    );
    let b = get(ib).await;
    assert_eq!(b.state, DeliveryState::Pending);
    assert_eq!(b.next_attempt_at, retry_at);
    assert_eq!(b.lease_until, None);
    assert_eq!(b.last_error.as_deref(), Some("421 try later"));
    let c = get(ic).await;
    assert_eq!(
        (c.state, c.last_error.as_deref()),
        (DeliveryState::Failed, Some("550 no such user"))
    );

    let due = store
        .read(move |tx| tx.outbox().due(now + Duration::seconds(29), 10))
        .await
        .unwrap();
    assert!(
        due.is_empty(),
        "not before its retry time; sent and failed never"
    );
    let due = store
        .read(move |tx| tx.outbox().due(retry_at, 10))
        .await
        .unwrap();
    assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ib]);

    let requeued = store
        .write(move |tx| tx.outbox().requeue(ic, retry_at))
        .await
        .unwrap();
    let not_failed = store
        .write(move |tx| tx.outbox().requeue(ia, retry_at))
        .await
        .unwrap();
    assert!(requeued && !not_failed, "only failed entries are requeued");
    let c = get(ic).await;
    assert_eq!(
        (c.state, c.attempts, c.next_attempt_at),
        (DeliveryState::Pending, 0, retry_at)
    );
    let failed = store
        .read(move |tx| tx.outbox().list(Some(DeliveryState::Failed), 10))
        .await
        .unwrap();
    assert!(failed.is_empty());
}

fn email_token(
    user: UserId,
    purpose: TokenPurpose,
    digest: &str,
    new_email: Option<&str>,
) -> EmailToken {
    EmailToken::issue(
        Uuid::now_v7(),
        user,
        purpose,
        TokenDigest(digest.into()),
        new_email.map(|e| Email::parse(e).unwrap()),
        t0(),
    )
}

pub async fn identity_email_tokens(store: Shared) {
    let (user, _) = user_with_session(&store, "tok@example.org").await;
    let (other, _) = user_with_session(&store, "other@example.org").await;
    let v1 = email_token(user.id, TokenPurpose::VerifyEmail, "v1", None);
    let v2 = email_token(user.id, TokenPurpose::VerifyEmail, "v2", None);
    let r1 = email_token(user.id, TokenPurpose::ResetPassword, "r1", None);
    let c1 = email_token(
        user.id,
        TokenPurpose::ChangeEmail,
        "c1",
        Some("New@Example.org"),
    );
    let o1 = email_token(other.id, TokenPurpose::VerifyEmail, "o1", None);
    let all = [v1.clone(), v2.clone(), r1.clone(), c1.clone(), o1.clone()];
    store
        .write(move |tx| {
            all.iter()
                .try_for_each(|t| tx.identity().insert_email_token(t))
        })
        .await
        .unwrap();
    let dup = email_token(user.id, TokenPurpose::VerifyEmail, "v1", None);
    let err = store
        .write(move |tx| tx.identity().insert_email_token(&dup))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "duplicate digest: {err:?}"
    );
    let d = TokenDigest("c1".into());
    let got = store
        .read(move |tx| tx.identity().email_token_by_digest(&d))
        .await
        .unwrap();
    assert_eq!(got, Some(c1), "round-trip, new address included");

    let at = t0() + Duration::seconds(5);
    let (uid, v1id) = (user.id, v1.id);
    let n = store
        .write(move |tx| {
            tx.identity()
                .supersede_email_tokens(uid, TokenPurpose::VerifyEmail, at)
        })
        .await
        .unwrap();
    assert_eq!(n, 2, "both verify tokens of this user, nothing else");
    let used = store
        .write(move |tx| tx.identity().use_email_token(v1id, at))
        .await
        .unwrap();
    assert!(!used, "a superseded token cannot be used");
    let (r1id, o1id) = (r1.id, o1.id);
    let first = store
        .write(move |tx| tx.identity().use_email_token(r1id, at))
        .await
        .unwrap();
    let second = store
        .write(move |tx| tx.identity().use_email_token(r1id, at))
        .await
        .unwrap();
    assert!(first && !second, "single use");
    let o = store
        .read(move |tx| {
            tx.identity()
                .email_token_by_digest(&TokenDigest("o1".into()))
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.id, o.used_at),
        (o1id, None),
        "another user's token is untouched"
    );
}

pub async fn identity_purge_deleted_accounts(store: Shared) {
    let (old, old_session) = user_with_session(&store, "old@example.org").await;
    let (recent, _) = user_with_session(&store, "recent@example.org").await;
    let (alive, alive_session) = user_with_session(&store, "alive@example.org").await;
    let tok = token(&old_session, "old-refresh", t0());
    let et = email_token(old.id, TokenPurpose::ResetPassword, "old-reset", None);
    let mut o = old.clone();
    o.deleted_at = Some(t0());
    let mut r = recent.clone();
    r.deleted_at = Some(t0() + Duration::days(20));
    store
        .write(move |tx| -> Result<(), UserWriteError> {
            tx.identity().insert_refresh_token(&tok)?;
            tx.identity().insert_email_token(&et)?;
            tx.identity().update_user(&o)?;
            tx.identity().update_user(&r)
        })
        .await
        .unwrap();
    let cutoff = t0() + Duration::days(10);
    let n = store
        .write(move |tx| tx.identity().purge_deleted_before(cutoff))
        .await
        .unwrap();
    assert_eq!(n, 1, "only accounts deleted before the cutoff");
    assert_eq!(by_id(&store, old.id).await, None);
    assert!(by_id(&store, recent.id).await.is_some());
    assert!(by_id(&store, alive.id).await.is_some());
    let (oid, osid) = (old.id, old_session.id);
    let (sessions, session, refresh, reset) = store
        .read(move |tx| -> Result<_, StoreError> {
            Ok((
                tx.identity().sessions_of(oid)?,
                tx.identity().session(osid)?,
                tx.identity()
                    .refresh_token_by_digest(&TokenDigest("old-refresh".into()))?,
                tx.identity()
                    .email_token_by_digest(&TokenDigest("old-reset".into()))?,
            ))
        })
        .await
        .unwrap();
    assert!(
        sessions.is_empty() && session.is_none() && refresh.is_none() && reset.is_none(),
        "everything of the purged account went with it"
    );
    let aid = alive.id;
    let kept = store
        .read(move |tx| tx.identity().sessions_of(aid))
        .await
        .unwrap();
    assert_eq!(kept, vec![alive_session]);
}

async fn couple_of(store: &Shared, a: &str, b: Option<&str>) -> (Couple, User, Option<User>) {
    let ua = new_user(a, None);
    insert(store, ua.clone()).await.unwrap();
    let ub = match b {
        Some(b) => {
            let u = new_user(b, None);
            insert(store, u.clone()).await.unwrap();
            Some(u)
        }
        None => None,
    };
    let mut couple = Couple::create(CoupleId(Uuid::now_v7()), ua.id, t0());
    if let Some(b) = &ub {
        couple.partner_b = Some(b.id);
        couple.paired_at = Some(t0());
    }
    let c = couple.clone();
    store
        .write(move |tx| tx.couples().insert_couple(&c))
        .await
        .unwrap();
    (couple, ua, ub)
}

pub async fn couples_membership(store: Shared) {
    let (mut couple, a, _) = couple_of(&store, "a@example.org", None).await;
    let b = new_user("b@example.org", None);
    insert(&store, b.clone()).await.unwrap();
    let (aid, bid) = (a.id, b.id);
    let got = store
        .read(move |tx| tx.couples().active_couple_of(aid))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&couple));
    assert_eq!(
        store
            .read(move |tx| tx.couples().active_couple_of(bid))
            .await
            .unwrap(),
        None
    );
    couple.partner_b = Some(b.id);
    couple.paired_at = Some(t0() + Duration::seconds(1));
    couple.updated_at = t0() + Duration::seconds(1);
    let c = couple.clone();
    store
        .write(move |tx| tx.couples().update_couple(&c))
        .await
        .unwrap();
    let got = store
        .read(move |tx| tx.couples().active_couple_of(bid))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&couple), "partner B finds it too");
    couple.profile = accueil_domain::couples::CoupleProfile {
        start_date: chrono::NaiveDate::from_ymd_opt(2023, 11, 10),
        home_message: Some(accueil_domain::couples::HomeMessage::parse("Toi et moi").unwrap()),
        intro_text: Some(
            accueil_domain::couples::IntroText::parse("Il était une fois...").unwrap(),
        ),
        time_zone: Some(TimeZone::parse("Europe/Paris").unwrap()),
    };
    let c = couple.clone();
    store
        .write(move |tx| tx.couples().update_couple(&c))
        .await
        .unwrap();
    let cid = couple.id;
    assert_eq!(
        store
            .read(move |tx| tx.couples().couple(cid))
            .await
            .unwrap(),
        Some(couple.clone()),
        "the profile round-trips"
    );
    couple.dissolved_at = Some(t0() + Duration::seconds(2));
    let c = couple.clone();
    store
        .write(move |tx| tx.couples().update_couple(&c))
        .await
        .unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.couples().active_couple_of(aid))
            .await
            .unwrap(),
        None
    );
    let latest = store
        .read(move |tx| tx.couples().latest_couple_of(bid))
        .await
        .unwrap();
    assert_eq!(
        latest,
        Some(couple.clone()),
        "a dissolved couple is still the latest"
    );
    let id = couple.id;
    assert_eq!(
        store.read(move |tx| tx.couples().couple(id)).await.unwrap(),
        Some(couple)
    );
}

fn invite(couple: &Couple, code: &str, created: DateTime<Utc>) -> Invite {
    Invite {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        code: code.into(),
        created_by: couple.partner_a,
        created_at: created,
        expires_at: created + Duration::minutes(60),
        used_at: None,
        revoked_at: None,
    }
}

pub async fn couples_invites(store: Shared) {
    let (couple, _, _) = couple_of(&store, "a@example.org", None).await;
    let first = invite(&couple, "111111", t0());
    let second = invite(&couple, "111111", t0() + Duration::seconds(1));
    let (f, s2) = (first.clone(), second.clone());
    store
        .write(move |tx| {
            tx.couples().insert_invite(&f)?;
            tx.couples().insert_invite(&s2)
        })
        .await
        .unwrap();
    let found = store
        .read(|tx| tx.couples().invite_by_code("111111"))
        .await
        .unwrap();
    assert_eq!(
        found,
        Some(second.clone()),
        "the newest invite with the code"
    );
    assert_eq!(
        store
            .read(|tx| tx.couples().invite_by_code("999999"))
            .await
            .unwrap(),
        None
    );
    let live = store
        .read(|tx| tx.couples().live_code_exists("111111", t0()))
        .await
        .unwrap();
    let expired = store
        .read(|tx| {
            tx.couples()
                .live_code_exists("111111", t0() + Duration::hours(2))
        })
        .await
        .unwrap();
    assert!(live && !expired);
    let sid = second.id;
    let used = store
        .write(move |tx| tx.couples().use_invite(sid, t0()))
        .await
        .unwrap();
    let again = store
        .write(move |tx| tx.couples().use_invite(sid, t0()))
        .await
        .unwrap();
    assert!(used && !again, "single use");
    let cid = couple.id;
    let revoked = store
        .write(move |tx| tx.couples().revoke_invites(cid, t0()))
        .await
        .unwrap();
    assert_eq!(revoked, vec![first.id], "only the unused, unrevoked one");
    let fid = first.id;
    assert!(
        !store
            .write(move |tx| tx.couples().use_invite(fid, t0()))
            .await
            .unwrap(),
        "a revoked invite cannot be used"
    );
}

pub async fn couples_change_feed_is_gapless_under_concurrency(store: Shared) {
    let (couple, _, _) = couple_of(&store, "a@example.org", None).await;
    let (other, _, _) = couple_of(&store, "z@example.org", None).await;
    let cid = couple.id;
    let mut tasks = Vec::new();
    for i in 0..20_i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    tx.couples().record_change(
                        cid,
                        EntityKind::Question,
                        Uuid::now_v7(),
                        ChangeOp::Upsert,
                        t0() + Duration::seconds(i),
                    )
                })
                .await
                .unwrap()
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=20).collect::<Vec<i64>>(),
        "numbers 1..20, no gap, no repeat"
    );
    let oid = other.id;
    let first_other = store
        .write(move |tx| {
            tx.couples()
                .record_change(oid, EntityKind::Couple, oid.0, ChangeOp::Delete, t0())
        })
        .await
        .unwrap();
    assert_eq!(first_other, 1, "each couple has its own sequence");
    let after = store
        .read(move |tx| tx.couples().changes_after(cid, 15, 100))
        .await
        .unwrap();
    assert_eq!(
        after.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![16, 17, 18, 19, 20]
    );
    assert!(
        after
            .iter()
            .all(|c| c.couple_id == cid && c.kind == EntityKind::Question)
    );
    let page = store
        .read(move |tx| tx.couples().changes_after(cid, 0, 3))
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let theirs = store
        .read(move |tx| tx.couples().changes_after(oid, 0, 100))
        .await
        .unwrap();
    assert_eq!((theirs.len(), theirs[0].op), (1, ChangeOp::Delete));
    let since = store
        .read(move |tx| {
            tx.couples()
                .changes_since(cid, t0() + Duration::seconds(17), 100)
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 2, "changes after the instant (18 s and 19 s)");
}

fn question(couple: &Couple, author: UserId, text: &str) -> Question {
    Question {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        author,
        text: QuestionText::parse(text).unwrap(),
        theme: Some(Theme::parse("voyages").unwrap()),
        created_at: t0(),
        updated_at: t0(),
    }
}

pub async fn couples_qna_is_scoped_and_paged(store: Shared) {
    let (couple, a, b) = couple_of(&store, "a@example.org", Some("b@example.org")).await;
    let b = b.unwrap();
    let (other, z, _) = couple_of(&store, "z@example.org", None).await;
    let qs: Vec<Question> = (0..5)
        .map(|i| question(&couple, a.id, &format!("Question {i}?")))
        .collect();
    let theirs = question(&other, z.id, "Not yours?");
    let (all_q, t) = (qs.clone(), theirs.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            for q in &all_q {
                tx.couples().insert_question(q)?;
            }
            tx.couples().insert_question(&t)
        })
        .await
        .unwrap();
    let cid = couple.id;
    let page1 = store
        .read(move |tx| tx.couples().questions(cid, None, 2))
        .await
        .unwrap();
    assert_eq!(page1, vec![qs[4].clone(), qs[3].clone()], "newest first");
    let cursor = page1[1].id;
    let page2 = store
        .read(move |tx| tx.couples().questions(cid, Some(cursor), 10))
        .await
        .unwrap();
    assert_eq!(page2, vec![qs[2].clone(), qs[1].clone(), qs[0].clone()]);
    let tid = theirs.id;
    assert_eq!(
        store
            .read(move |tx| tx.couples().question(cid, tid))
            .await
            .unwrap(),
        None,
        "another couple's question is not found"
    );
    assert!(
        !store
            .write(move |tx| tx.couples().delete_question(cid, tid))
            .await
            .unwrap()
    );

    let qid = qs[0].id;
    let mut edited = qs[0].clone();
    edited.text = QuestionText::parse("Edited?").unwrap();
    edited.theme = None;
    edited.updated_at = t0() + Duration::seconds(3);
    let e = edited.clone();
    store
        .write(move |tx| tx.couples().update_question(&e))
        .await
        .unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.couples().question(cid, qid))
            .await
            .unwrap(),
        Some(edited)
    );

    let answer = |author: UserId, status, text: Option<&str>, at| Answer {
        id: Uuid::now_v7(),
        question_id: qid,
        couple_id: cid,
        author,
        status,
        text: text.map(|t| AnswerText::parse(t).unwrap()),
        created_at: at,
        updated_at: at,
    };
    let first = answer(a.id, AnswerStatus::NeedsTime, None, t0());
    let f = first.clone();
    let stored = store
        .write(move |tx| tx.couples().upsert_answer(&f))
        .await
        .unwrap();
    assert_eq!(stored, first);
    let update = answer(
        a.id,
        AnswerStatus::Answered,
        Some("Oui !"),
        t0() + Duration::seconds(5),
    );
    let u = update.clone();
    let stored = store
        .write(move |tx| tx.couples().upsert_answer(&u))
        .await
        .unwrap();
    assert_eq!(
        (stored.id, stored.created_at),
        (first.id, first.created_at),
        "one answer per partner, updated in place"
    );
    assert_eq!(
        (stored.status, stored.updated_at),
        (AnswerStatus::Answered, update.updated_at)
    );
    let theirs_answer = answer(
        b.id,
        AnswerStatus::Clarify,
        Some("?"),
        t0() + Duration::seconds(6),
    );
    let ta = theirs_answer.clone();
    store
        .write(move |tx| tx.couples().upsert_answer(&ta))
        .await
        .unwrap();
    let answers = store
        .read(move |tx| tx.couples().answers(cid, qid))
        .await
        .unwrap();
    assert_eq!(answers.len(), 2);
    assert_eq!(
        answers[0].text.as_ref().map(AnswerText::as_str),
        Some("Oui !")
    );
    let oid = other.id;
    assert!(
        store
            .read(move |tx| tx.couples().answers(oid, qid))
            .await
            .unwrap()
            .is_empty(),
        "scoped by couple"
    );
    assert!(
        store
            .write(move |tx| tx.couples().delete_question(cid, qid))
            .await
            .unwrap()
    );
    assert!(
        store
            .read(move |tx| tx.couples().answers(cid, qid))
            .await
            .unwrap()
            .is_empty(),
        "answers go with their question"
    );
}

pub async fn couples_purge_dissolved(store: Shared) {
    let (mut old, a, _) = couple_of(&store, "a@example.org", None).await;
    let (live, _, _) = couple_of(&store, "b@example.org", None).await;
    old.dissolved_at = Some(t0());
    let q = question(&old, a.id, "Gone?");
    let (o, qq) = (old.clone(), q.clone());
    let (oid, lid) = (old.id, live.id);
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.couples().update_couple(&o)?;
            tx.couples().insert_question(&qq)?;
            tx.couples()
                .record_change(oid, EntityKind::Question, qq.id, ChangeOp::Upsert, t0())?;
            tx.couples()
                .record_change(lid, EntityKind::Couple, lid.0, ChangeOp::Upsert, t0())?;
            Ok(())
        })
        .await
        .unwrap();
    let n = store
        .write(move |tx| {
            tx.couples()
                .purge_dissolved_before(t0() + Duration::days(31))
        })
        .await
        .unwrap();
    assert_eq!(n, vec![oid]);
    assert_eq!(
        store
            .read(move |tx| tx.couples().couple(oid))
            .await
            .unwrap(),
        None
    );
    let qid = q.id;
    assert_eq!(
        store
            .read(move |tx| tx.couples().question(oid, qid))
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .read(move |tx| tx.couples().changes_after(oid, 0, 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .read(move |tx| tx.couples().changes_after(lid, 0, 10))
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn couples_goals_and_actions(store: Shared) {
    let (couple, a, _) = couple_of(&store, "a@example.org", None).await;
    let (other, _, _) = couple_of(&store, "z@example.org", None).await;
    let goal = Goal {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        author: a.id,
        title: Title::parse("Learn Portuguese").unwrap(),
        description: None,
        target_date: chrono::NaiveDate::from_ymd_opt(2027, 6, 1),
        status: GoalStatus::Active,
        completed_at: None,
        created_at: t0(),
        updated_at: t0(),
    };
    let action = |title: &str| GoalAction {
        id: Uuid::now_v7(),
        goal_id: goal.id,
        couple_id: couple.id,
        title: Title::parse(title).unwrap(),
        owner: ActionOwner::Both,
        due_date: None,
        done: false,
        completed_at: None,
        created_at: t0(),
        updated_at: t0(),
    };
    let (a1, a2) = (action("Find a teacher"), action("Book lessons"));
    let (g, x1, x2) = (goal.clone(), a1.clone(), a2.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.couples().insert_goal(&g)?;
            tx.couples().insert_action(&x1)?;
            tx.couples().insert_action(&x2)
        })
        .await
        .unwrap();
    let (cid, gid, oid) = (couple.id, goal.id, other.id);
    assert_eq!(
        store
            .read(move |tx| tx.couples().goal(cid, gid))
            .await
            .unwrap(),
        Some(goal.clone())
    );
    assert_eq!(
        store
            .read(move |tx| tx.couples().goal(oid, gid))
            .await
            .unwrap(),
        None,
        "scoped"
    );
    let mut done = goal.clone();
    done.set_status(GoalStatus::Done, t0() + Duration::seconds(1))
        .unwrap();
    done.description = Some(accueil_domain::couples::Description::parse("Obrigado").unwrap());
    let d = done.clone();
    store
        .write(move |tx| tx.couples().update_goal(&d))
        .await
        .unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.couples().goal(cid, gid))
            .await
            .unwrap(),
        Some(done)
    );
    let mut finished = a1.clone();
    finished.set_done(true, t0() + Duration::seconds(2));
    finished.owner = ActionOwner::A;
    finished.due_date = chrono::NaiveDate::from_ymd_opt(2027, 1, 1);
    let f = finished.clone();
    store
        .write(move |tx| tx.couples().update_action(&f))
        .await
        .unwrap();
    let listed = store
        .read(move |tx| tx.couples().actions(cid, gid))
        .await
        .unwrap();
    assert_eq!(listed, vec![finished.clone(), a2.clone()]);
    assert!(
        store
            .read(move |tx| tx.couples().actions(oid, gid))
            .await
            .unwrap()
            .is_empty()
    );
    let a2id = a2.id;
    assert!(
        !store
            .write(move |tx| tx.couples().delete_action(oid, gid, a2id))
            .await
            .unwrap(),
        "not another couple's"
    );
    assert!(
        store
            .write(move |tx| tx.couples().delete_action(cid, gid, a2id))
            .await
            .unwrap()
    );
    let page = store
        .read(move |tx| tx.couples().goals(cid, None, 10))
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let gone = store
        .write(move |tx| tx.couples().delete_goal(cid, gid))
        .await
        .unwrap();
    assert_eq!(
        gone,
        Some(vec![finished.id]),
        "its remaining actions go with it"
    );
    assert_eq!(
        store
            .write(move |tx| tx.couples().delete_goal(cid, gid))
            .await
            .unwrap(),
        None
    );
}

pub async fn couples_checkins_one_per_day_filtered_and_paged(store: Shared) {
    let (couple, a, b) = couple_of(&store, "a@example.org", Some("b@example.org")).await;
    let b = b.unwrap();
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let checkin = |user: UserId, d: u32, mood: i64| CheckIn {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        user_id: user,
        day: day(d),
        mood: Score::parse("mood", mood).unwrap(),
        stress: Score::parse("stress", 3).unwrap(),
        energy: Score::parse("energy", 7).unwrap(),
        note: Some(Note::parse("ok").unwrap()),
        created_at: t0(),
        updated_at: t0(),
    };
    let first = checkin(a.id, 20, 5);
    let f = first.clone();
    let stored = store
        .write(move |tx| tx.couples().upsert_checkin(&f))
        .await
        .unwrap();
    assert_eq!(stored, first);
    let mut again = checkin(a.id, 20, 9);
    again.note = None;
    again.updated_at = t0() + Duration::seconds(9);
    let ag = again.clone();
    let stored = store
        .write(move |tx| tx.couples().upsert_checkin(&ag))
        .await
        .unwrap();
    assert_eq!(
        (stored.id, stored.mood.get(), stored.note.clone()),
        (first.id, 9, None),
        "one per user per day, updated"
    );
    let others = vec![
        checkin(b.id, 20, 6),
        checkin(a.id, 21, 7),
        checkin(b.id, 22, 8),
    ];
    let o = others.clone();
    store
        .write(move |tx| {
            o.iter()
                .try_for_each(|c| tx.couples().upsert_checkin(c).map(|_| ()))
        })
        .await
        .unwrap();
    let cid = couple.id;
    let all = store
        .read(move |tx| tx.couples().checkins(cid, None, None, None, 10))
        .await
        .unwrap();
    let days: Vec<u32> = all.iter().map(|c| chrono::Datelike::day(&c.day)).collect();
    assert_eq!(
        days,
        vec![22, 21, 20, 20],
        "newest day first; both partners'"
    );
    let ranged = store
        .read(move |tx| {
            tx.couples()
                .checkins(cid, Some(day(21)), Some(day(21)), None, 10)
        })
        .await
        .unwrap();
    assert_eq!(ranged.len(), 1);
    let p1 = store
        .read(move |tx| tx.couples().checkins(cid, None, None, None, 2))
        .await
        .unwrap();
    let cursor = (p1[1].day, p1[1].id);
    let p2 = store
        .read(move |tx| tx.couples().checkins(cid, None, None, Some(cursor), 10))
        .await
        .unwrap();
    assert_eq!(p1.len() + p2.len(), 4);
    assert!(p2.iter().all(|c| !p1.contains(c)), "pages do not overlap");
    let id = first.id;
    assert!(
        store
            .write(move |tx| tx.couples().delete_checkin(cid, id))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .read(move |tx| tx.couples().checkin(cid, id))
            .await
            .unwrap(),
        None
    );
}

pub async fn couples_letters_one_per_month(store: Shared) {
    let (couple, a, _) = couple_of(&store, "a@example.org", None).await;
    let letter = |m: &str| Letter {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        month: Month::parse("month", m).unwrap(),
        content: LetterContent::parse("Mon amour").unwrap(),
        last_author: a.id,
        created_at: t0(),
        updated_at: t0(),
    };
    let (nov, oct, dup) = (letter("2026-11"), letter("2026-10"), letter("2026-11"));
    let (n, o) = (nov.clone(), oct.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.couples().insert_letter(&n)?;
            tx.couples().insert_letter(&o)
        })
        .await
        .unwrap();
    let err = store
        .write(move |tx| tx.couples().insert_letter(&dup))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "one letter per couple per month: {err:?}"
    );
    let cid = couple.id;
    let month = Month::parse("month", "2026-11").unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.couples().letter_of_month(cid, month))
            .await
            .unwrap(),
        Some(nov.clone())
    );
    let mut edited = nov.clone();
    edited.content = LetterContent::parse("Mon amour, encore").unwrap();
    edited.updated_at = t0() + Duration::seconds(4);
    let e = edited.clone();
    store
        .write(move |tx| tx.couples().update_letter(&e))
        .await
        .unwrap();
    let id = nov.id;
    assert_eq!(
        store
            .read(move |tx| tx.couples().letter(cid, id))
            .await
            .unwrap(),
        Some(edited.clone())
    );
    let listed = store
        .read(move |tx| tx.couples().letters(cid, None, 10))
        .await
        .unwrap();
    assert_eq!(listed, vec![edited, oct.clone()], "newest month first");
    let older = store
        .read(move |tx| tx.couples().letters(cid, Some(month), 10))
        .await
        .unwrap();
    assert_eq!(older, vec![oct]);
}

/// Write units that read a user and write it back must not lose each other's changes: the
/// adapters serialize them (one writer) or lock the row they read.
pub async fn identity_read_modify_write_loses_nothing(store: Shared) {
    let mut user = new_user("counter@example.org", None);
    user.display_name = Some(DisplayName::parse("0").unwrap());
    let uid = user.id;
    insert(&store, user).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<(), UserWriteError> {
                    let mut u = tx.identity().user_by_id(uid)?.unwrap();
                    let n: u32 = u.display_name.as_ref().unwrap().as_str().parse().unwrap();
                    u.display_name = Some(DisplayName::parse(&(n + 1).to_string()).unwrap());
                    tx.identity().update_user(&u)
                })
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let u = by_id(&store, uid).await.unwrap();
    assert_eq!(
        u.display_name.unwrap().as_str(),
        "12",
        "every increment survived"
    );
}

pub async fn identity_purge_old_sessions(store: Shared) {
    let (user, old) = user_with_session(&store, "sessions@example.org").await;
    let live = Session::start(SessionId(Uuid::now_v7()), user.id, t0());
    let old_token = token(&old, "old-token", t0());
    let mut used_live = token(&live, "used-live", t0());
    used_live.used_at = Some(t0());
    let mut expired = token(&live, "expired", t0() - Duration::days(90));
    expired.expires_at = t0() - Duration::days(60);
    let (l, a, b, c) = (
        live.clone(),
        old_token.clone(),
        used_live.clone(),
        expired.clone(),
    );
    let oid = old.id;
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.identity().insert_session(&l)?;
            tx.identity().insert_refresh_token(&a)?;
            tx.identity().insert_refresh_token(&b)?;
            tx.identity().insert_refresh_token(&c)?;
            tx.identity()
                .revoke_session(oid, t0() - Duration::days(40), "logout")
                .map(|_| ())
        })
        .await
        .unwrap();
    let n = store
        .write(move |tx| {
            tx.identity()
                .purge_sessions_before(t0() - Duration::days(30))
        })
        .await
        .unwrap();
    assert_eq!(
        n, 3,
        "the old session, its token, and the long-expired token"
    );
    let (lid, uid) = (live.id, user.id);
    let (sessions, kept, gone, expired_gone) = store
        .read(move |tx| -> Result<_, StoreError> {
            Ok((
                tx.identity().sessions_of(uid)?,
                tx.identity()
                    .refresh_token_by_digest(&TokenDigest("used-live".into()))?,
                tx.identity()
                    .refresh_token_by_digest(&TokenDigest("old-token".into()))?,
                tx.identity()
                    .refresh_token_by_digest(&TokenDigest("expired".into()))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(sessions.iter().map(|s| s.id).collect::<Vec<_>>(), vec![lid]);
    assert!(
        kept.is_some(),
        "a used token of a live session stays, for reuse detection"
    );
    assert!(gone.is_none() && expired_gone.is_none());
}

pub async fn memories_perspectives_one_per_side(store: Shared) {
    use accueil_domain::couples::Side;
    use accueil_domain::memories::{Perspective, PerspectiveText};
    let (couple, a, b) = couple_of(&store, "a@example.org", Some("b@example.org")).await;
    let b = b.unwrap();
    let (other, _, _) = couple_of(&store, "z@example.org", None).await;
    let p = |side, author: UserId, text: &str, at| Perspective {
        couple_id: couple.id,
        side,
        author,
        content: PerspectiveText::parse(text).unwrap(),
        created_at: at,
        updated_at: at,
    };
    let first = p(Side::B, b.id, "Mon regard", t0());
    let f = first.clone();
    assert_eq!(
        store
            .write(move |tx| tx.memories().put_perspective(&f))
            .await
            .unwrap(),
        first
    );
    let again = p(
        Side::B,
        b.id,
        "Mon regard, revu",
        t0() + Duration::seconds(5),
    );
    let ag = again.clone();
    let stored = store
        .write(move |tx| tx.memories().put_perspective(&ag))
        .await
        .unwrap();
    assert_eq!(
        (
            stored.created_at,
            stored.updated_at,
            stored.content.as_str()
        ),
        (t0(), again.updated_at, "Mon regard, revu")
    );
    let mine = p(Side::A, a.id, "Le mien", t0());
    let m = mine.clone();
    store
        .write(move |tx| tx.memories().put_perspective(&m))
        .await
        .unwrap();
    let cid = couple.id;
    let all = store
        .read(move |tx| tx.memories().perspectives(cid))
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|x| x.side).collect::<Vec<_>>(),
        vec![Side::A, Side::B],
        "one per side, A first"
    );
    assert_eq!(all[1], stored);
    let oid = other.id;
    assert!(
        store
            .read(move |tx| tx.memories().perspectives(oid))
            .await
            .unwrap()
            .is_empty(),
        "scoped"
    );
    assert_eq!(
        store
            .read(move |tx| tx.memories().perspective(oid, Side::A))
            .await
            .unwrap(),
        None
    );
}

fn memory_at(
    couple: CoupleId,
    by: UserId,
    title: &str,
    day: Option<(i32, u32, u32)>,
    n: u64,
) -> accueil_domain::memories::Memory {
    use accueil_domain::memories::{Memory, MemoryDescription, MemoryId, MemoryTitle};
    let at = t0() + Duration::seconds(n as i64);
    Memory {
        // Ids grow with `n`, as UUIDv7 ids grow with time.
        id: MemoryId(Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(n),
        )),
        couple_id: couple,
        title: MemoryTitle::parse(title).unwrap(),
        description: Some(MemoryDescription::parse("Une journée 100% réussie").unwrap()),
        happened_on: day.map(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()),
        recorded_on: at.date_naive(),
        photo: None,
        created_by: by,
        created_at: at,
        updated_at: at,
    }
}

pub async fn memories_scoped_timeline_and_search(store: Shared) {
    use crate::memories::TimelineQuery;
    use accueil_domain::memories::{
        ImageFormat, Memory, Photo, Rendition, SearchTerm, TimelineCursor,
    };
    let (couple, a, _) = couple_of(&store, "a@example.org", None).await;
    let (other, z, _) = couple_of(&store, "z@example.org", None).await;
    let r = |format, width, height, bytes| Rendition {
        format,
        width,
        height,
        bytes,
    };
    let mut first = memory_at(couple.id, a.id, "Été à Évian", Some((2019, 7, 14)), 1);
    first.photo = Some(Photo {
        id: Uuid::from_u128(77),
        original: r(ImageFormat::WebP, 4000, 3000, 5_000_000_000),
        medium: r(ImageFormat::Jpeg, 1280, 960, 200_000),
        thumb: r(ImageFormat::Png, 320, 240, 30_000),
    });
    let undated = memory_at(couple.id, a.id, "Sans date", None, 2); // timeline day: t0's day
    let same_day = memory_at(couple.id, a.id, "Le lac", Some((2019, 7, 14)), 3);
    let theirs = memory_at(other.id, z.id, "Évian aussi", Some((2019, 7, 14)), 4);
    for m in [
        first.clone(),
        undated.clone(),
        same_day.clone(),
        theirs.clone(),
    ] {
        store
            .write(move |tx| tx.memories().insert_memory(&m))
            .await
            .unwrap();
    }
    let dup = first.clone();
    assert!(matches!(
        store
            .write(move |tx| tx.memories().insert_memory(&dup))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let (cid, oid, fid) = (couple.id, other.id, first.id);
    let back = store
        .read(move |tx| tx.memories().memory(cid, fid))
        .await
        .unwrap();
    assert_eq!(
        back,
        Some(first.clone()),
        "a memory and its photo round-trip"
    );
    assert_eq!(
        store
            .read(move |tx| tx.memories().memory(oid, fid))
            .await
            .unwrap(),
        None,
        "another couple's memory is not found"
    );
    let timeline = |query: TimelineQuery, limit| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.memories().timeline(cid, &query, limit))
                .await
                .unwrap()
                .into_iter()
                .map(|m: Memory| m.title.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        timeline(TimelineQuery::default(), 10).await,
        vec!["Sans date", "Le lac", "Été à Évian"],
        "latest day first, then latest recorded first; only this couple's"
    );
    let page = timeline(TimelineQuery::default(), 2).await;
    assert_eq!(page.len(), 2);
    let after = TimelineQuery {
        after: Some(same_day.cursor()),
        ..Default::default()
    };
    assert_eq!(
        timeline(after, 10).await,
        vec!["Été à Évian"],
        "a cursor continues after its memory"
    );
    let search = |q: &str| TimelineQuery {
        search: SearchTerm::parse(q).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        timeline(search("ÉVIAN"), 10).await,
        vec!["Été à Évian"],
        "case folds beyond ASCII"
    );
    assert_eq!(
        timeline(search("100%"), 10).await.len(),
        3,
        "descriptions are searched"
    );
    assert!(
        timeline(search("0_%"), 10).await.is_empty(),
        "wildcards are literal"
    );
    assert!(timeline(search("%%"), 10).await.is_empty());
    let gone = TimelineCursor {
        day: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        id: first.id,
    };
    assert!(
        timeline(
            TimelineQuery {
                after: Some(gone),
                ..Default::default()
            },
            10
        )
        .await
        .is_empty()
    );

    let mut edited = first.clone();
    edited.title = accueil_domain::memories::MemoryTitle::parse("Évian, encore").unwrap();
    edited.description = None;
    edited.photo = None;
    edited.happened_on = None;
    edited.updated_at = t0() + Duration::seconds(50);
    let mut foreign = edited.clone();
    foreign.couple_id = other.id;
    assert!(
        !store
            .write(move |tx| tx.memories().update_memory(&foreign))
            .await
            .unwrap(),
        "scoped update"
    );
    let e = edited.clone();
    assert!(
        store
            .write(move |tx| tx.memories().update_memory(&e))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .read(move |tx| tx.memories().memory(cid, fid))
            .await
            .unwrap(),
        Some(edited)
    );
    let ids = vec![first.id, theirs.id, undated.id];
    let existing = store
        .read(move |tx| tx.memories().existing_memories(cid, &ids))
        .await
        .unwrap();
    assert_eq!(existing.len(), 2);
    assert!(!existing.contains(&theirs.id));
    let tid = theirs.id;
    assert!(
        !store
            .write(move |tx| tx.memories().delete_memory(cid, tid))
            .await
            .unwrap(),
        "scoped delete"
    );
    assert!(
        store
            .write(move |tx| tx.memories().delete_memory(cid, fid))
            .await
            .unwrap()
    );
    assert!(
        !store
            .write(move |tx| tx.memories().delete_memory(cid, fid))
            .await
            .unwrap()
    );
    assert_eq!(
        timeline(TimelineQuery::default(), 10).await,
        vec!["Sans date", "Le lac"]
    );
}

pub async fn memories_shares(store: Shared) {
    use crate::memories::TimelineQuery;
    use accueil_domain::memories::{Share, ShareId, ShareScope};
    let (couple, a, _) = couple_of(&store, "a@example.org", None).await;
    let (other, _, _) = couple_of(&store, "z@example.org", None).await;
    let m1 = memory_at(couple.id, a.id, "Un", None, 1);
    let m2 = memory_at(couple.id, a.id, "Deux", None, 2);
    for m in [m1.clone(), m2.clone()] {
        store
            .write(move |tx| tx.memories().insert_memory(&m))
            .await
            .unwrap();
    }
    let share = |n: u128, scope, expires| Share {
        id: ShareId(Uuid::from_u128(n)),
        couple_id: couple.id,
        token_digest: format!("digest-{n}"),
        scope,
        expires_at: expires,
        revoked_at: None,
        created_by: a.id,
        created_at: t0() + Duration::seconds(n as i64),
    };
    let everything = share(1, ShareScope::All, None);
    let only = share(
        2,
        ShareScope::Only(vec![m1.id, m2.id]),
        Some(t0() + Duration::days(7)),
    );
    for s in [everything.clone(), only.clone()] {
        store
            .write(move |tx| tx.memories().insert_share(&s))
            .await
            .unwrap();
    }
    let same_token = Share {
        id: ShareId(Uuid::from_u128(3)),
        ..everything.clone()
    };
    assert!(
        store
            .write(move |tx| tx.memories().insert_share(&same_token))
            .await
            .is_err(),
        "token digests are unique"
    );
    let (cid, oid) = (couple.id, other.id);
    assert_eq!(
        store
            .read(move |tx| tx.memories().shares(cid))
            .await
            .unwrap(),
        vec![everything.clone(), only.clone()]
    );
    assert!(
        store
            .read(move |tx| tx.memories().shares(oid))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .read(|tx| tx.memories().share_by_digest("digest-2"))
            .await
            .unwrap(),
        Some(only.clone())
    );
    assert_eq!(
        store
            .read(|tx| tx.memories().share_by_digest("nope"))
            .await
            .unwrap(),
        None
    );

    let m1id = m1.id;
    store
        .write(move |tx| tx.memories().delete_memory(cid, m1id))
        .await
        .unwrap();
    let listed = store
        .read(|tx| tx.memories().share_by_digest("digest-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        listed.scope,
        ShareScope::Only(vec![m2.id]),
        "a deleted memory drops out"
    );
    let q = TimelineQuery {
        share: Some(only.id),
        ..Default::default()
    };
    let shown = store
        .read(move |tx| tx.memories().timeline(cid, &q, 10))
        .await
        .unwrap();
    assert_eq!(shown.iter().map(|m| m.id).collect::<Vec<_>>(), vec![m2.id]);

    let (sid, at) = (only.id, t0() + Duration::hours(1));
    assert_eq!(
        store
            .write(move |tx| tx.memories().revoke_share(oid, sid, at))
            .await
            .unwrap(),
        None,
        "another couple cannot revoke it"
    );
    let revoked = store
        .write(move |tx| tx.memories().revoke_share(cid, sid, at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    let later = at + Duration::hours(1);
    let again = store
        .write(move |tx| tx.memories().revoke_share(cid, sid, later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(at),
        "the first revocation time stays"
    );
}

/// The contract of a [`crate::media::FileStore`]: run it against each adapter.
pub async fn file_store_contract(files: &dyn crate::media::FileStore) {
    use crate::media::FileKey;
    let key = |k: &str| FileKey::new(k).unwrap();
    let a = key("couples/c1/photos/p1/original.jpg");
    let b = key("couples/c1/photos/p1/thumb.jpg");
    let sibling = key("couples/c1/photos/p10/original.jpg");
    let other = key("couples/c2/photos/p1/original.jpg");
    assert_eq!(files.get(&a).await.unwrap(), None, "missing files are None");
    files.put(&a, b"one".to_vec()).await.unwrap();
    files.put(&a, b"two".to_vec()).await.unwrap();
    assert_eq!(
        files.get(&a).await.unwrap().as_deref(),
        Some(&b"two"[..]),
        "put replaces"
    );
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let big_key = key("couples/c1/photos/p1/medium.jpg");
    files.put(&big_key, big.clone()).await.unwrap();
    let read = files.open(&big_key).await.unwrap().expect("the file opens");
    assert_eq!(read.len, big.len() as u64);
    let mut streamed = Vec::new();
    let mut stream = read.stream;
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        streamed.extend(chunk.unwrap());
    }
    assert_eq!(streamed, big, "open streams what get returns");
    assert!(files.open(&key("couples/none")).await.unwrap().is_none());
    for k in [&b, &sibling, &other] {
        files.put(k, k.as_str().as_bytes().to_vec()).await.unwrap();
    }
    files.delete(&b).await.unwrap();
    files.delete(&b).await.unwrap();
    assert_eq!(
        files.get(&b).await.unwrap(),
        None,
        "deleted, twice without error"
    );
    files
        .delete_prefix(&key("couples/c1/photos/p1"))
        .await
        .unwrap();
    assert_eq!(files.get(&a).await.unwrap(), None, "a folder goes whole");
    assert!(
        files.get(&sibling).await.unwrap().is_some(),
        "p10 is not inside p1"
    );
    files.delete_prefix(&key("couples/c1")).await.unwrap();
    files.delete_prefix(&key("couples/nothing")).await.unwrap();
    assert_eq!(files.get(&sibling).await.unwrap(), None);
    assert!(
        files.get(&other).await.unwrap().is_some(),
        "other couples are untouched"
    );
}

pub async fn identity_api_keys(store: Shared) {
    use accueil_domain::identity::{ApiKey, ApiKeyId, ApiKeyName, ApiKeyScope};
    let ann = new_user("ann@example.org", None);
    let bob = new_user("bob@example.org", None);
    insert(&store, ann.clone()).await.unwrap();
    insert(&store, bob.clone()).await.unwrap();
    let key = |n: u128, user: UserId, scope| ApiKey {
        id: ApiKeyId(Uuid::from_u128(n)),
        user_id: user,
        name: ApiKeyName::parse(&format!("key {n}")).unwrap(),
        hint: format!("acc_{n}"),
        digest: TokenDigest(format!("key-digest-{n}")),
        scope,
        expires_at: Some(t0() + Duration::days(30)),
        revoked_at: None,
        last_used_at: None,
        created_at: t0() + Duration::seconds(n as i64),
    };
    let (k1, k2, k3) = (
        key(1, ann.id, ApiKeyScope::Read),
        key(2, ann.id, ApiKeyScope::ReadWrite),
        key(3, bob.id, ApiKeyScope::Read),
    );
    for k in [k1.clone(), k2.clone(), k3.clone()] {
        store
            .write(move |tx| tx.identity().insert_api_key(&k))
            .await
            .unwrap();
    }
    let same_digest = ApiKey {
        id: ApiKeyId(Uuid::from_u128(9)),
        ..k1.clone()
    };
    assert!(
        store
            .write(move |tx| tx.identity().insert_api_key(&same_digest))
            .await
            .is_err(),
        "digests are unique"
    );
    let (aid, bid) = (ann.id, bob.id);
    assert_eq!(
        store
            .read(move |tx| tx.identity().api_keys_of(aid))
            .await
            .unwrap(),
        vec![k1.clone(), k2.clone()],
        "a user's keys, oldest first"
    );
    assert_eq!(
        store
            .read(|tx| tx
                .identity()
                .api_key_by_digest(&TokenDigest("key-digest-3".into())))
            .await
            .unwrap(),
        Some(k3.clone())
    );
    let (id1, at) = (k1.id, t0() + Duration::hours(1));
    assert_eq!(
        store
            .write(move |tx| tx.identity().revoke_api_key(bid, id1, at))
            .await
            .unwrap(),
        None,
        "another user cannot revoke it"
    );
    let revoked = store
        .write(move |tx| tx.identity().revoke_api_key(aid, id1, at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    let later = at + Duration::hours(1);
    let again = store
        .write(move |tx| tx.identity().revoke_api_key(aid, id1, later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(at), "the first revocation stays");
    let id2 = k2.id;
    store
        .write(move |tx| tx.identity().touch_api_key(id2, later))
        .await
        .unwrap();
    assert_eq!(
        store
            .write(move |tx| tx.identity().revoke_api_keys_of(aid, later))
            .await
            .unwrap(),
        1,
        "only the live one"
    );
    let keys = store
        .read(move |tx| tx.identity().api_keys_of(aid))
        .await
        .unwrap();
    assert_eq!(keys[1].last_used_at, Some(later));
    assert_eq!(keys[1].revoked_at, Some(later));
    assert_eq!(
        store
            .read(move |tx| tx.identity().api_keys_of(bid))
            .await
            .unwrap()[0]
            .revoked_at,
        None,
        "other users' keys are untouched"
    );
}

pub async fn memories_read_modify_write_loses_nothing(store: Shared) {
    use accueil_domain::memories::MemoryTitle;
    let (couple, a, _) = couple_of(&store, "a@example.org", None).await;
    let m = memory_at(couple.id, a.id, "0", None, 1);
    let (cid, mid) = (couple.id, m.id);
    store
        .write(move |tx| tx.memories().insert_memory(&m))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<bool, StoreError> {
                    let mut m = tx.memories().memory(cid, mid)?.unwrap();
                    let n: u32 = m.title.as_str().parse().unwrap();
                    m.title = MemoryTitle::parse(&(n + 1).to_string()).unwrap();
                    tx.memories().update_memory(&m)
                })
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    let m = store
        .read(move |tx| tx.memories().memory(cid, mid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.title.as_str(), "12", "every concurrent change survived");
}

pub async fn identity_external_identities_and_flows(store: Shared) {
    use accueil_domain::identity::{
        ExternalIdentity, FlowResponse, IdentityId, OAuthFlow, PendingLink, ProviderName,
    };
    let ann = new_user("ann@example.org", None);
    let bob = new_user("bob@example.org", None);
    insert(&store, ann.clone()).await.unwrap();
    insert(&store, bob.clone()).await.unwrap();
    let google = ProviderName::parse("google").unwrap();
    let identity =
        |n: u128, user: UserId, provider: &ProviderName, subject: &str| ExternalIdentity {
            id: IdentityId(Uuid::from_u128(n)),
            user_id: user,
            provider: provider.clone(),
            subject: subject.into(),
            email: Some("ann@gmail.test".into()),
            created_at: t0() + Duration::seconds(n as i64),
            last_used_at: None,
            proven: n % 2 == 1,
        };
    let g = identity(1, ann.id, &google, "g-123");
    let f = identity(
        2,
        ann.id,
        &ProviderName::parse("facebook").unwrap(),
        "g-123",
    );
    for i in [g.clone(), f.clone()] {
        store
            .write(move |tx| tx.identity().insert_identity(&i))
            .await
            .unwrap();
    }
    let taken = identity(3, bob.id, &google, "g-123");
    assert!(
        matches!(
            store
                .write(move |tx| tx.identity().insert_identity(&taken))
                .await,
            Err(StoreError::Conflict(_))
        ),
        "(provider, subject) is linked once"
    );
    let gp = google.clone();
    assert_eq!(
        store
            .read(move |tx| tx.identity().identity_by_subject(&gp, "g-123"))
            .await
            .unwrap(),
        Some(g.clone())
    );
    let (aid, bid, gid) = (ann.id, bob.id, g.id);
    store
        .write(move |tx| tx.identity().touch_identity(gid, t0()))
        .await
        .unwrap();
    let mine = store
        .read(move |tx| tx.identity().identities_of(aid))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].last_used_at, Some(t0()));
    assert!(
        !store
            .write(move |tx| tx.identity().delete_identity(bid, gid))
            .await
            .unwrap(),
        "scoped"
    );
    assert!(
        store
            .write(move |tx| tx.identity().delete_identity(aid, gid))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .read(move |tx| tx.identity().identities_of(aid))
            .await
            .unwrap(),
        vec![f]
    );

    let flow = OAuthFlow {
        state_digest: TokenDigest("state-1".into()),
        provider: google.clone(),
        nonce: "nonce".into(),
        pkce_verifier: "verifier".into(),
        binding_digest: TokenDigest("binding".into()),
        response: FlowResponse::Json,
        link_to: Some(ann.id),
        link_session: Some(SessionId(Uuid::from_u128(77))),
        expires_at: t0() + Duration::minutes(10),
        created_at: t0(),
    };
    let fl = flow.clone();
    store
        .write(move |tx| tx.identity().insert_oauth_flow(&fl))
        .await
        .unwrap();
    let take = || {
        let store = store.clone();
        async move {
            store
                .write(|tx| {
                    tx.identity()
                        .take_oauth_flow(&TokenDigest("state-1".into()))
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(take().await, Some(flow.clone()));
    assert_eq!(take().await, None, "a flow is taken once");

    let link = PendingLink {
        digest: TokenDigest("link-1".into()),
        user_id: ann.id,
        provider: google,
        subject: "g-9".into(),
        email: None,
        expires_at: t0() + Duration::minutes(10),
    };
    let l = link.clone();
    store
        .write(move |tx| tx.identity().insert_pending_link(&l))
        .await
        .unwrap();
    let fl = OAuthFlow {
        state_digest: TokenDigest("state-2".into()),
        ..flow
    };
    store
        .write(move |tx| tx.identity().insert_oauth_flow(&fl))
        .await
        .unwrap();
    assert_eq!(
        store
            .write(|tx| tx
                .identity()
                .purge_oauth_before(t0() + Duration::minutes(11)))
            .await
            .unwrap(),
        2,
        "expired flows and links go"
    );
    assert_eq!(
        store
            .write(|tx| tx
                .identity()
                .take_pending_link(&TokenDigest("link-1".into())))
            .await
            .unwrap(),
        None
    );
}
