//! External identities, sign-in flows and pending links.

use crate::contract::prelude::*;

pub async fn external_identities_and_flows(store: Shared) {
    use accueil_domain::identity::{
        ExternalIdentity, FlowResponse, IdentityId, OAuthFlow, PendingLink, ProviderName,
    };
    let ann = new_user("ann@example.org").build();
    let bob = new_user("bob@example.org").build();
    insert_user(&store, ann.clone()).await.unwrap();
    insert_user(&store, bob.clone()).await.unwrap();
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
            .write(move |tx| tx.oauth().insert_identity(&i))
            .await
            .unwrap();
    }
    let taken = identity(3, bob.id, &google, "g-123");
    assert!(
        matches!(
            store
                .write(move |tx| tx.oauth().insert_identity(&taken))
                .await,
            Err(StoreError::Conflict(_))
        ),
        "(provider, subject) is linked once"
    );
    let gp = google.clone();
    assert_eq!(
        store
            .read(move |tx| tx.oauth().identity_by_subject(&gp, "g-123"))
            .await
            .unwrap(),
        Some(g.clone())
    );
    let (aid, bid, gid) = (ann.id, bob.id, g.id);
    store
        .write(move |tx| tx.oauth().touch_identity(gid, t0()))
        .await
        .unwrap();
    let mine = store
        .read(move |tx| tx.oauth().identities_of(aid))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].last_used_at, Some(t0()));
    assert!(
        !store
            .write(move |tx| tx.oauth().delete_identity(bid, gid))
            .await
            .unwrap(),
        "scoped"
    );
    assert!(
        store
            .write(move |tx| tx.oauth().delete_identity(aid, gid))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .read(move |tx| tx.oauth().identities_of(aid))
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
        .write(move |tx| tx.oauth().insert_oauth_flow(&fl))
        .await
        .unwrap();
    let take = || {
        let store = store.clone();
        async move {
            store
                .write(|tx| tx.oauth().take_oauth_flow(&TokenDigest("state-1".into())))
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
        .write(move |tx| tx.oauth().insert_pending_link(&l))
        .await
        .unwrap();
    let fl = OAuthFlow {
        state_digest: TokenDigest("state-2".into()),
        ..flow
    };
    store
        .write(move |tx| tx.oauth().insert_oauth_flow(&fl))
        .await
        .unwrap();
    assert_eq!(
        store
            .write(|tx| tx.oauth().purge_oauth_before(t0() + Duration::minutes(11)))
            .await
            .unwrap(),
        2,
        "expired flows and links go"
    );
    assert_eq!(
        store
            .write(|tx| tx.oauth().take_pending_link(&TokenDigest("link-1".into())))
            .await
            .unwrap(),
        None
    );
}
