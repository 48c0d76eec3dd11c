//! Sessions and refresh tokens: rotation's compare-and-set, revocation, purge.

use crate::contract::prelude::*;

pub(crate) fn token(session: &Session, digest: &str, issued: DateTime<Utc>) -> RefreshToken {
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

pub async fn sessions_and_refresh_tokens(store: Shared) {
    let (_, session) = user_with_session(&store, "a@example.org").await;
    let sid = session.id;
    let got = store
        .read(move |tx| tx.sessions().session(sid))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&session), "session round-trip");

    let tok = token(&session, "digest-1", t0());
    let t = tok.clone();
    store
        .write(move |tx| tx.sessions().insert_refresh_token(&t))
        .await
        .unwrap();
    let dup = token(&session, "digest-1", t0());
    let err = store
        .write(move |tx| tx.sessions().insert_refresh_token(&dup))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "duplicate digest: {err:?}"
    );

    let d = TokenDigest("digest-1".into());
    let got = store
        .read(move |tx| tx.sessions().refresh_token_by_digest(&d))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&tok), "token round-trip");
    let d = TokenDigest("digest-unknown".into());
    let got = store
        .read(move |tx| tx.sessions().refresh_token_by_digest(&d))
        .await
        .unwrap();
    assert_eq!(got, None);

    let id = tok.id;
    let used_at = t0() + Duration::seconds(1);
    let first = store
        .write(move |tx| tx.sessions().mark_refresh_token_used(id, used_at))
        .await
        .unwrap();
    let second = store
        .write(move |tx| {
            tx.sessions()
                .mark_refresh_token_used(id, t0() + Duration::seconds(2))
        })
        .await
        .unwrap();
    assert!(first && !second, "a token is marked used once");
    let d = TokenDigest("digest-1".into());
    let got = store
        .read(move |tx| tx.sessions().refresh_token_by_digest(&d))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.used_at, Some(used_at), "the first use time is kept");

    let at = t0() + Duration::seconds(3);
    let live = store
        .write(move |tx| tx.sessions().revoke_session(sid, at, "logout"))
        .await
        .unwrap();
    let again = store
        .write(move |tx| {
            tx.sessions()
                .revoke_session(sid, at + Duration::seconds(1), "other")
        })
        .await
        .unwrap();
    assert!(live && !again, "revoked once");
    let got = store
        .read(move |tx| tx.sessions().session(sid))
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

pub async fn refresh_compare_and_set_under_concurrency(store: Shared) {
    let (_, session) = user_with_session(&store, "race@example.org").await;
    let tok = token(&session, "race", t0());
    let id = tok.id;
    store
        .write(move |tx| tx.sessions().insert_refresh_token(&tok))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    tx.sessions()
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

pub async fn revoke_user_sessions(store: Shared) {
    let (user, s1) = user_with_session(&store, "multi@example.org").await;
    let s2 = Session::start(SessionId(Uuid::now_v7()), user.id, t0());
    let s3 = Session::start(SessionId(Uuid::now_v7()), user.id, t0());
    let (a, b) = (s2.clone(), s3.clone());
    store
        .write(move |tx| {
            tx.sessions().insert_session(&a)?;
            tx.sessions().insert_session(&b)
        })
        .await
        .unwrap();
    let (_, other) = user_with_session(&store, "other@example.org").await;
    let id3 = s3.id;
    store
        .write(move |tx| tx.sessions().revoke_session(id3, t0(), "logout"))
        .await
        .unwrap();
    let uid = user.id;
    let n = store
        .write(move |tx| tx.sessions().revoke_user_sessions(uid, t0(), "logout_all"))
        .await
        .unwrap();
    assert_eq!(n, 2, "only the live sessions of this user");
    for (sid, reason) in [
        (s1.id, "logout_all"),
        (s2.id, "logout_all"),
        (s3.id, "logout"),
    ] {
        let s = store
            .read(move |tx| tx.sessions().session(sid))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.revoke_reason.as_deref(), Some(reason));
    }
    let oid = other.id;
    let o = store
        .read(move |tx| tx.sessions().session(oid))
        .await
        .unwrap()
        .unwrap();
    assert!(o.is_live(), "another user's session is untouched");
}

pub async fn purge_old_sessions(store: Shared) {
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
            tx.sessions().insert_session(&l)?;
            tx.sessions().insert_refresh_token(&a)?;
            tx.sessions().insert_refresh_token(&b)?;
            tx.sessions().insert_refresh_token(&c)?;
            tx.sessions()
                .revoke_session(oid, t0() - Duration::days(40), "logout")
                .map(|_| ())
        })
        .await
        .unwrap();
    let n = store
        .write(move |tx| {
            tx.sessions()
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
                tx.sessions().sessions_of(uid)?,
                tx.sessions()
                    .refresh_token_by_digest(&TokenDigest("used-live".into()))?,
                tx.sessions()
                    .refresh_token_by_digest(&TokenDigest("old-token".into()))?,
                tx.sessions()
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

pub async fn signed_in_reads_session_and_user(store: Shared) {
    let (user, session) = user_with_session(&store, "a@example.org").await;
    user_with_session(&store, "b@example.org").await;
    let sid = session.id;
    assert_eq!(
        store
            .read(move |tx| tx.sessions().signed_in(sid))
            .await
            .unwrap(),
        Some((session, user)),
        "the session with its own user"
    );
    assert_eq!(
        store
            .read(|tx| tx.sessions().signed_in(SessionId(Uuid::now_v7())))
            .await
            .unwrap(),
        None
    );
}
