//! One-time e-mail tokens: single use, supersession.

use crate::contract::prelude::*;

pub(crate) fn email_token(
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

pub async fn single_use_and_superseded(store: Shared) {
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
                .try_for_each(|t| tx.email_tokens().insert_email_token(t))
        })
        .await
        .unwrap();
    let dup = email_token(user.id, TokenPurpose::VerifyEmail, "v1", None);
    let err = store
        .write(move |tx| tx.email_tokens().insert_email_token(&dup))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "duplicate digest: {err:?}"
    );
    let d = TokenDigest("c1".into());
    let got = store
        .read(move |tx| tx.email_tokens().email_token_by_digest(&d))
        .await
        .unwrap();
    assert_eq!(got, Some(c1), "round-trip, new address included");

    let at = t0() + Duration::seconds(5);
    let (uid, v1id) = (user.id, v1.id);
    let n = store
        .write(move |tx| {
            tx.email_tokens()
                .supersede_email_tokens(uid, TokenPurpose::VerifyEmail, at)
        })
        .await
        .unwrap();
    assert_eq!(n, 2, "both verify tokens of this user, nothing else");
    let used = store
        .write(move |tx| tx.email_tokens().use_email_token(v1id, at))
        .await
        .unwrap();
    assert!(!used, "a superseded token cannot be used");
    let (r1id, o1id) = (r1.id, o1.id);
    let first = store
        .write(move |tx| tx.email_tokens().use_email_token(r1id, at))
        .await
        .unwrap();
    let second = store
        .write(move |tx| tx.email_tokens().use_email_token(r1id, at))
        .await
        .unwrap();
    assert!(first && !second, "single use");
    let o = store
        .read(move |tx| {
            tx.email_tokens()
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

/// Tokens that expired before the cutoff go, used or not; the others stay.
pub async fn purge_expired(store: Shared) {
    let (user, _) = user_with_session(&store, "old-links@example.org").await;
    let old = email_token(user.id, TokenPurpose::VerifyEmail, "old", None);
    let fresh = email_token(user.id, TokenPurpose::ResetPassword, "fresh", None);
    let mut fresh = fresh;
    fresh.expires_at = old.expires_at + Duration::days(2);
    let (a, b) = (old.clone(), fresh.clone());
    store
        .write(move |tx| {
            tx.email_tokens().insert_email_token(&a)?;
            tx.email_tokens().insert_email_token(&b)
        })
        .await
        .unwrap();
    let cutoff = old.expires_at + Duration::days(1);
    let n = store
        .write(move |tx| tx.email_tokens().purge_email_tokens_before(cutoff))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let gone = store
        .read(|tx| {
            tx.email_tokens()
                .email_token_by_digest(&TokenDigest("old".into()))
        })
        .await
        .unwrap();
    assert!(gone.is_none());
    let kept = store
        .read(|tx| {
            tx.email_tokens()
                .email_token_by_digest(&TokenDigest("fresh".into()))
        })
        .await
        .unwrap();
    assert_eq!(kept, Some(fresh));
}
