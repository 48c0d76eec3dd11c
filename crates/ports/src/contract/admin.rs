//! The audit log.

use crate::contract::prelude::*;

pub async fn round_trip(store: Shared) {
    let user = new_user("audited@example.org").build();
    let uid = user.id;
    insert_user(&store, user).await.unwrap();
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
