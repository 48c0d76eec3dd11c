//! Share links.

use crate::contract::prelude::*;

pub async fn lifecycle(store: Shared) {
    use crate::memories::TimelineQuery;
    use accueil_domain::memories::{Share, ShareId, ShareScope};
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let (other, _, _) = new_couple("z@example.org").insert(&store).await;
    let m1 = new_memory(couple.id, a.id).title("Un").nth(1).build();
    let m2 = new_memory(couple.id, a.id).title("Deux").nth(2).build();
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
            .write(move |tx| tx.shares().insert_share(&s))
            .await
            .unwrap();
    }
    let same_token = Share {
        id: ShareId(Uuid::from_u128(3)),
        ..everything.clone()
    };
    assert!(
        store
            .write(move |tx| tx.shares().insert_share(&same_token))
            .await
            .is_err(),
        "token digests are unique"
    );
    let (cid, oid) = (couple.id, other.id);
    assert_eq!(
        store.read(move |tx| tx.shares().shares(cid)).await.unwrap(),
        vec![everything.clone(), only.clone()]
    );
    assert!(
        store
            .read(move |tx| tx.shares().shares(oid))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .read(|tx| tx.shares().share_by_digest("digest-2"))
            .await
            .unwrap(),
        Some(only.clone())
    );
    assert_eq!(
        store
            .read(|tx| tx.shares().share_by_digest("nope"))
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
        .read(|tx| tx.shares().share_by_digest("digest-2"))
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
            .write(move |tx| tx.shares().revoke_share(oid, sid, at))
            .await
            .unwrap(),
        None,
        "another couple cannot revoke it"
    );
    let revoked = store
        .write(move |tx| tx.shares().revoke_share(cid, sid, at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    let later = at + Duration::hours(1);
    let again = store
        .write(move |tx| tx.shares().revoke_share(cid, sid, later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(at),
        "the first revocation time stays"
    );
}
