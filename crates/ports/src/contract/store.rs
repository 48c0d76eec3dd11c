//! The unit of work: rollback, read-only units, concurrent writers, readiness.

use crate::contract::prelude::*;

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

pub async fn rollback_discards_every_write(store: Shared) {
    let user = new_user("rollback@example.org").build();
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
            tx.users()
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

pub async fn read_units_cannot_write(store: Shared) {
    let user = new_user("reader@example.org").build();
    let uid = user.id;
    let res = store.read(move |tx| tx.users().insert_user(&user)).await;
    assert!(
        matches!(res, Err(UserWriteError::Store(StoreError::Internal(_)))),
        "a write in a read unit fails: {res:?}"
    );
    assert_eq!(by_id(&store, uid).await, None);
}

pub async fn concurrent_writes_all_succeed(store: Shared) {
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let user = new_user(&format!("writer{i}@example.org")).build();
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
                    tx.users().insert_user(&user)?;
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

pub async fn ping_answers(store: Shared) {
    store.ping().await.expect("a migrated store is ready");
}

pub async fn events_come_back_only_with_a_commit(store: Shared) {
    use crate::store::{Access, Boxed, Work};
    use accueil_domain::events::Event;
    let ended = |n: u128| Event::SessionEnded {
        session: SessionId(Uuid::from_u128(n)),
    };
    let emitting = |ok: bool| -> Work {
        Box::new(move |tx| {
            tx.emit(ended(1));
            tx.emit(ended(2));
            if ok {
                Ok(Box::new(()) as Boxed)
            } else {
                Err(Box::new(()) as Boxed)
            }
        })
    };
    let committed = store.run(Access::Write, emitting(true)).await.unwrap();
    let events = committed.map(|done| done.events).ok();
    assert_eq!(
        events,
        Some(vec![ended(1), ended(2)]),
        "a commit returns what the work emitted, in order"
    );
    let rolled_back = store.run(Access::Write, emitting(false)).await.unwrap();
    assert!(
        rolled_back.is_err(),
        "a rolled-back unit of work returns no events, only its error"
    );
    let silent: Work = Box::new(|_| Ok(Box::new(()) as Boxed));
    let done = store.run(Access::Write, silent).await.unwrap();
    assert!(
        done.is_ok_and(|d| d.events.is_empty()),
        "a unit that emitted nothing returns nothing, and the previous unit's events are gone"
    );
}
