//! Realtime tickets: taken once (also under concurrency), purged when expired, and gone with
//! their session or user.

use accueil_domain::identity::WsTicket;

use crate::contract::prelude::*;

fn ticket(session: &Session, digest: &str, at: DateTime<Utc>) -> WsTicket {
    WsTicket::issue(TokenDigest(digest.into()), session.user_id, session.id, at)
}

async fn take(store: &Shared, digest: &str) -> Option<WsTicket> {
    let digest = TokenDigest(digest.into());
    store
        .write(move |tx| tx.ws_tickets().take_ws_ticket(&digest))
        .await
        .unwrap()
}

pub async fn taken_once_and_purged(store: Shared) {
    let (user, session) = user_with_session(&store, "ticket@example.org").await;
    let fresh = ticket(&session, "fresh", t0());
    let old = ticket(&session, "old", t0() - Duration::minutes(5));
    let (f, o) = (fresh.clone(), old.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.ws_tickets().insert_ws_ticket(&f)?;
            tx.ws_tickets().insert_ws_ticket(&o)
        })
        .await
        .unwrap();
    let again = fresh.clone();
    let dup = store
        .write(move |tx| tx.ws_tickets().insert_ws_ticket(&again))
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(_))),
        "a digest is stored once: {dup:?}"
    );
    let unknown = ticket(&session, "orphan", t0());
    let orphan = WsTicket {
        session_id: SessionId(Uuid::now_v7()),
        ..unknown
    };
    let refused = store
        .write(move |tx| tx.ws_tickets().insert_ws_ticket(&orphan))
        .await;
    assert!(refused.is_err(), "a ticket needs its session: {refused:?}");

    let read_only = store
        .read(|tx| tx.ws_tickets().take_ws_ticket(&TokenDigest("fresh".into())))
        .await;
    assert!(read_only.is_err(), "taking is a write");
    assert_eq!(take(&store, "fresh").await, Some(fresh), "round trip");
    assert_eq!(take(&store, "fresh").await, None, "a ticket is taken once");
    assert_eq!(take(&store, "never").await, None);

    let n = store
        .write(move |tx| tx.ws_tickets().purge_ws_tickets_before(t0()))
        .await
        .unwrap();
    assert_eq!(n, 1, "only the expired one");
    assert_eq!(take(&store, "old").await, None);

    // A ticket goes with its session, and with its user.
    let (other, other_session) = user_with_session(&store, "gone@example.org").await;
    let (a, b) = (
        ticket(&session, "of-revoked", t0()),
        ticket(&other_session, "of-deleted", t0()),
    );
    let (sid, uid) = (session.id, other.id);
    store
        .write(move |tx| -> Result<(), UserWriteError> {
            tx.ws_tickets().insert_ws_ticket(&a)?;
            tx.ws_tickets().insert_ws_ticket(&b)?;
            tx.sessions()
                .revoke_session(sid, t0() - Duration::days(60), "logout")?;
            let mut gone = tx.users().user_by_id(uid)?.unwrap();
            gone.deleted_at = Some(t0() - Duration::days(60));
            tx.users().update_user(&gone)
        })
        .await
        .unwrap();
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.sessions()
                .purge_sessions_before(t0() - Duration::days(30))?;
            tx.users().purge_deleted_before(t0() - Duration::days(30))?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        take(&store, "of-revoked").await,
        None,
        "purged with its session"
    );
    assert_eq!(
        take(&store, "of-deleted").await,
        None,
        "purged with its user"
    );
    assert!(by_id(&store, user.id).await.is_some());
}

pub async fn one_redeemer_wins_under_concurrency(store: Shared) {
    let (_, session) = user_with_session(&store, "race-ticket@example.org").await;
    let t = ticket(&session, "contested", t0());
    store
        .write(move |tx| tx.ws_tickets().insert_ws_ticket(&t))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(|tx| {
                    tx.ws_tickets()
                        .take_ws_ticket(&TokenDigest("contested".into()))
                })
                .await
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(
        winners, 1,
        "exactly one concurrent redemption gets the ticket"
    );
}
