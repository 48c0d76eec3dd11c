//! Users: round trip, unique e-mail and username, updates, lost updates, purge.

use crate::contract::identity::email_tokens::email_token;
use crate::contract::identity::sessions::token;
use crate::contract::prelude::*;

pub async fn round_trip(store: Shared) {
    let user = new_user("Ann.Lee@Example.org").username("ann").build();
    insert_user(&store, user.clone()).await.unwrap();
    assert_eq!(
        by_id(&store, user.id).await.as_ref(),
        Some(&user),
        "read back by id"
    );
    let other_case = Email::parse("ann.lee@EXAMPLE.ORG").unwrap();
    let found = store
        .read(move |tx| tx.users().user_by_email(&other_case))
        .await
        .unwrap();
    assert_eq!(
        found.as_ref(),
        Some(&user),
        "look-up by e-mail ignores case"
    );
    let name = Username::parse("ANN").unwrap();
    let found = store
        .read(move |tx| tx.users().user_by_username(&name))
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
        .read(move |tx| tx.users().user_by_email(&none))
        .await
        .unwrap();
    assert_eq!(found, None, "unknown e-mail");
    // Every profile field round-trips.
    let mut full = new_user("full@example.org").username("full").build();
    full.time_zone = Some(TimeZone::parse("Europe/Paris").unwrap());
    full.avatar_url = Some(AvatarUrl::parse("https://cdn.example/a.png").unwrap());
    full.bio = Some(Bio::parse("deux lignes\nde bio").unwrap());
    full.notifications = NotificationPrefs {
        email: false,
        push: true,
    };
    full.deleted_at = Some(t0() + Duration::days(1));
    insert_user(&store, full.clone()).await.unwrap();
    assert_eq!(
        by_id(&store, full.id).await,
        Some(full),
        "profile fields round-trip"
    );
    // A user without username, display name or password (an OAuth-only account later).
    let mut bare = new_user("bare@example.org").build();
    bare.display_name = None;
    bare.password_hash = None;
    insert_user(&store, bare.clone()).await.unwrap();
    assert_eq!(
        by_id(&store, bare.id).await,
        Some(bare),
        "optional fields round-trip"
    );
}

pub async fn email_unique_ignoring_case(store: Shared) {
    insert_user(&store, new_user("ann@example.org").build())
        .await
        .unwrap();
    let twin = new_user("ANN@example.org").build();
    let twin_id = twin.id;
    assert_eq!(
        insert_user(&store, twin).await,
        Err(UserWriteError::EmailTaken),
        "same address in another case"
    );
    assert_eq!(by_id(&store, twin_id).await, None, "nothing written");
}

pub async fn username_unique(store: Shared) {
    insert_user(&store, new_user("a@example.org").username("ann").build())
        .await
        .unwrap();
    assert_eq!(
        insert_user(&store, new_user("b@example.org").username("Ann").build()).await,
        Err(UserWriteError::UsernameTaken)
    );
    // Several users without a username are fine.
    insert_user(&store, new_user("c@example.org").build())
        .await
        .unwrap();
    insert_user(&store, new_user("d@example.org").build())
        .await
        .unwrap();
}

pub async fn update_user(store: Shared) {
    let mut user = new_user("a@example.org").username("ann").build();
    insert_user(&store, user.clone()).await.unwrap();
    insert_user(&store, new_user("b@example.org").username("bob").build())
        .await
        .unwrap();
    user.role = Role::Admin;
    user.is_active = false;
    user.email_verified = true;
    user.password_hash = Some(PasswordHash::new("$2b$04$other".into()));
    user.updated_at = t0() + Duration::seconds(5);
    let u = user.clone();
    store
        .write(move |tx| tx.users().update_user(&u))
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
        store.write(move |tx| tx.users().update_user(&clash)).await,
        Err(UserWriteError::EmailTaken)
    );
    let mut clash = user.clone();
    clash.username = Some(Username::parse("bob").unwrap());
    assert_eq!(
        store.write(move |tx| tx.users().update_user(&clash)).await,
        Err(UserWriteError::UsernameTaken)
    );
    let ghost = new_user("ghost@example.org").build();
    assert_eq!(
        store.write(move |tx| tx.users().update_user(&ghost)).await,
        Err(UserWriteError::NotFound)
    );
    assert_eq!(
        by_id(&store, user.id).await,
        Some(user),
        "failed updates changed nothing"
    );
}

/// Write units that read a user and write it back must not lose each other's changes: the
/// adapters serialize them (one writer) or lock the row they read.
pub async fn read_modify_write_loses_nothing(store: Shared) {
    let mut user = new_user("counter@example.org").build();
    user.display_name = Some(DisplayName::parse("0").unwrap());
    let uid = user.id;
    insert_user(&store, user).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<(), UserWriteError> {
                    let mut u = tx.users().user_for_update(uid)?.unwrap();
                    let n: u32 = u.display_name.as_ref().unwrap().as_str().parse().unwrap();
                    u.display_name = Some(DisplayName::parse(&(n + 1).to_string()).unwrap());
                    tx.users().update_user(&u)
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

pub async fn purge_deleted_accounts(store: Shared) {
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
            tx.sessions().insert_refresh_token(&tok)?;
            tx.email_tokens().insert_email_token(&et)?;
            tx.users().update_user(&o)?;
            tx.users().update_user(&r)
        })
        .await
        .unwrap();
    let cutoff = t0() + Duration::days(10);
    let n = store
        .write(move |tx| tx.users().purge_deleted_before(cutoff))
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
                tx.sessions().sessions_of(oid)?,
                tx.sessions().session(osid)?,
                tx.sessions()
                    .refresh_token_by_digest(&TokenDigest("old-refresh".into()))?,
                tx.email_tokens()
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
        .read(move |tx| tx.sessions().sessions_of(aid))
        .await
        .unwrap();
    assert_eq!(kept, vec![alive_session]);
}
