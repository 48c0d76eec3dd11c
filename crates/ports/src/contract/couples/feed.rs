//! The change feed: gapless and ordered under concurrent writers.

use crate::contract::prelude::*;

pub async fn gapless_under_concurrency(store: Shared) {
    let (couple, _, _) = new_couple("a@example.org").insert(&store).await;
    let (other, _, _) = new_couple("z@example.org").insert(&store).await;
    let cid = couple.id;
    let mut tasks = Vec::new();
    for i in 0..20_i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    tx.feed().record_change(
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
            tx.feed()
                .record_change(oid, EntityKind::Couple, oid.0, ChangeOp::Delete, t0())
        })
        .await
        .unwrap();
    assert_eq!(first_other, 1, "each couple has its own sequence");
    let after = store
        .read(move |tx| tx.feed().changes_after(cid, 15, 100))
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
        .read(move |tx| tx.feed().changes_after(cid, 0, 3))
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let theirs = store
        .read(move |tx| tx.feed().changes_after(oid, 0, 100))
        .await
        .unwrap();
    assert_eq!((theirs.len(), theirs[0].op), (1, ChangeOp::Delete));
    let since = store
        .read(move |tx| {
            tx.feed()
                .changes_since(cid, t0() + Duration::seconds(17), 100)
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 2, "changes after the instant (18 s and 19 s)");
}
