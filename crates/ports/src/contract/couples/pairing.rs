//! Couples and invites: membership, codes, the purge of dissolved couples.

use crate::contract::couples::qna::question;
use crate::contract::prelude::*;

pub async fn membership(store: Shared) {
    let (mut couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let b = new_user("b@example.org").build();
    insert_user(&store, b.clone()).await.unwrap();
    let (aid, bid) = (a.id, b.id);
    let got = store
        .read(move |tx| tx.pairing().active_couple_of(aid))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&couple));
    assert_eq!(
        store
            .read(move |tx| tx.pairing().active_couple_of(bid))
            .await
            .unwrap(),
        None
    );
    couple.partner_b = Some(b.id);
    couple.paired_at = Some(t0() + Duration::seconds(1));
    couple.updated_at = t0() + Duration::seconds(1);
    let c = couple.clone();
    store
        .write(move |tx| tx.pairing().update_couple(&c))
        .await
        .unwrap();
    let got = store
        .read(move |tx| tx.pairing().active_couple_of(bid))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&couple), "partner B finds it too");
    let cid = couple.id;
    assert_eq!(
        store
            .write(move |tx| {
                Ok::<_, StoreError>((
                    tx.pairing().active_couple_of_for_update(bid)?,
                    tx.pairing().couple_for_update(cid)?,
                ))
            })
            .await
            .unwrap(),
        (Some(couple.clone()), Some(couple.clone())),
        "the locking reads read the same couple"
    );
    couple.profile = accueil_domain::couples::CoupleProfile {
        start_date: chrono::NaiveDate::from_ymd_opt(2023, 11, 10),
        home_message: Some(accueil_domain::couples::HomeMessage::parse("Toi et moi").unwrap()),
        intro_text: Some(
            accueil_domain::couples::IntroText::parse("Il était une fois...").unwrap(),
        ),
        time_zone: Some(TimeZone::parse("Europe/Paris").unwrap()),
    };
    let c = couple.clone();
    store
        .write(move |tx| tx.pairing().update_couple(&c))
        .await
        .unwrap();
    let cid = couple.id;
    assert_eq!(
        store
            .read(move |tx| tx.pairing().couple(cid))
            .await
            .unwrap(),
        Some(couple.clone()),
        "the profile round-trips"
    );
    couple.dissolved_at = Some(t0() + Duration::seconds(2));
    let c = couple.clone();
    store
        .write(move |tx| tx.pairing().update_couple(&c))
        .await
        .unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.pairing().active_couple_of(aid))
            .await
            .unwrap(),
        None
    );
    let latest = store
        .read(move |tx| tx.pairing().latest_couple_of(bid))
        .await
        .unwrap();
    assert_eq!(
        latest,
        Some(couple.clone()),
        "a dissolved couple is still the latest"
    );
    let id = couple.id;
    assert_eq!(
        store.read(move |tx| tx.pairing().couple(id)).await.unwrap(),
        Some(couple)
    );
}

fn invite(couple: &Couple, code: &str, created: DateTime<Utc>) -> Invite {
    Invite {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        code: code.into(),
        created_by: couple.partner_a,
        created_at: created,
        expires_at: created + Duration::minutes(60),
        used_at: None,
        revoked_at: None,
    }
}

pub async fn invites(store: Shared) {
    let (couple, _, _) = new_couple("a@example.org").insert(&store).await;
    let first = invite(&couple, "111111", t0());
    let second = invite(&couple, "111111", t0() + Duration::seconds(1));
    let (f, s2) = (first.clone(), second.clone());
    store
        .write(move |tx| {
            tx.pairing().insert_invite(&f)?;
            tx.pairing().insert_invite(&s2)
        })
        .await
        .unwrap();
    let found = store
        .read(|tx| tx.pairing().invite_by_code("111111"))
        .await
        .unwrap();
    assert_eq!(
        found,
        Some(second.clone()),
        "the newest invite with the code"
    );
    assert_eq!(
        store
            .read(|tx| tx.pairing().invite_by_code("999999"))
            .await
            .unwrap(),
        None
    );
    let live = store
        .read(|tx| tx.pairing().live_code_exists("111111", t0()))
        .await
        .unwrap();
    let expired = store
        .read(|tx| {
            tx.pairing()
                .live_code_exists("111111", t0() + Duration::hours(2))
        })
        .await
        .unwrap();
    assert!(live && !expired);
    let sid = second.id;
    let used = store
        .write(move |tx| tx.pairing().use_invite(sid, t0()))
        .await
        .unwrap();
    let again = store
        .write(move |tx| tx.pairing().use_invite(sid, t0()))
        .await
        .unwrap();
    assert!(used && !again, "single use");
    let cid = couple.id;
    let revoked = store
        .write(move |tx| tx.pairing().revoke_invites(cid, t0()))
        .await
        .unwrap();
    assert_eq!(revoked, vec![first.id], "only the unused, unrevoked one");
    let fid = first.id;
    assert!(
        !store
            .write(move |tx| tx.pairing().use_invite(fid, t0()))
            .await
            .unwrap(),
        "a revoked invite cannot be used"
    );
}

pub async fn purge_dissolved(store: Shared) {
    let (mut old, a, _) = new_couple("a@example.org").insert(&store).await;
    let (live, _, _) = new_couple("b@example.org").insert(&store).await;
    old.dissolved_at = Some(t0());
    let q = question(&old, a.id, "Gone?");
    let (o, qq) = (old.clone(), q.clone());
    let (oid, lid) = (old.id, live.id);
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.pairing().update_couple(&o)?;
            tx.qna().insert_question(&qq)?;
            tx.feed()
                .record_change(oid, EntityKind::Question, qq.id, ChangeOp::Upsert, t0())?;
            tx.feed()
                .record_change(lid, EntityKind::Couple, lid.0, ChangeOp::Upsert, t0())?;
            Ok(())
        })
        .await
        .unwrap();
    let n = store
        .write(move |tx| {
            tx.pairing()
                .purge_dissolved_before(t0() + Duration::days(31))
        })
        .await
        .unwrap();
    assert_eq!(n, vec![oid]);
    assert_eq!(
        store
            .read(move |tx| tx.pairing().couple(oid))
            .await
            .unwrap(),
        None
    );
    let qid = q.id;
    assert_eq!(
        store
            .read(move |tx| tx.qna().question(oid, qid))
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .read(move |tx| tx.feed().changes_after(oid, 0, 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .read(move |tx| tx.feed().changes_after(lid, 0, 10))
            .await
            .unwrap()
            .len(),
        1
    );
}
