//! API keys.

use crate::contract::prelude::*;

pub async fn lifecycle(store: Shared) {
    use accueil_domain::identity::{ApiKey, ApiKeyId, ApiKeyName, ApiKeyScope};
    let ann = new_user("ann@example.org").build();
    let bob = new_user("bob@example.org").build();
    insert_user(&store, ann.clone()).await.unwrap();
    insert_user(&store, bob.clone()).await.unwrap();
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
            .write(move |tx| tx.api_keys().insert_api_key(&k))
            .await
            .unwrap();
    }
    let same_digest = ApiKey {
        id: ApiKeyId(Uuid::from_u128(9)),
        ..k1.clone()
    };
    assert!(
        store
            .write(move |tx| tx.api_keys().insert_api_key(&same_digest))
            .await
            .is_err(),
        "digests are unique"
    );
    let (aid, bid) = (ann.id, bob.id);
    assert_eq!(
        store
            .read(move |tx| tx.api_keys().api_keys_of(aid))
            .await
            .unwrap(),
        vec![k1.clone(), k2.clone()],
        "a user's keys, oldest first"
    );
    assert_eq!(
        store
            .read(|tx| tx
                .api_keys()
                .api_key_by_digest(&TokenDigest("key-digest-3".into())))
            .await
            .unwrap(),
        Some(k3.clone())
    );
    assert_eq!(
        store
            .read(|tx| tx
                .api_keys()
                .key_and_user(&TokenDigest("key-digest-3".into())))
            .await
            .unwrap(),
        Some((k3.clone(), bob.clone())),
        "a key with its user, in one read"
    );
    assert_eq!(
        store
            .read(|tx| tx.api_keys().key_and_user(&TokenDigest("nope".into())))
            .await
            .unwrap(),
        None
    );
    let (id1, at) = (k1.id, t0() + Duration::hours(1));
    assert_eq!(
        store
            .write(move |tx| tx.api_keys().revoke_api_key(bid, id1, at))
            .await
            .unwrap(),
        None,
        "another user cannot revoke it"
    );
    let revoked = store
        .write(move |tx| tx.api_keys().revoke_api_key(aid, id1, at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    let later = at + Duration::hours(1);
    let again = store
        .write(move |tx| tx.api_keys().revoke_api_key(aid, id1, later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(at), "the first revocation stays");
    let id2 = k2.id;
    store
        .write(move |tx| tx.api_keys().touch_api_key(id2, later))
        .await
        .unwrap();
    assert_eq!(
        store
            .write(move |tx| tx.api_keys().revoke_api_keys_of(aid, later))
            .await
            .unwrap(),
        1,
        "only the live one"
    );
    let keys = store
        .read(move |tx| tx.api_keys().api_keys_of(aid))
        .await
        .unwrap();
    assert_eq!(keys[1].last_used_at, Some(later));
    assert_eq!(keys[1].revoked_at, Some(later));
    assert_eq!(
        store
            .read(move |tx| tx.api_keys().api_keys_of(bid))
            .await
            .unwrap()[0]
            .revoked_at,
        None,
        "other users' keys are untouched"
    );
}
