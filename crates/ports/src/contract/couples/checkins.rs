//! Check-ins: one per partner per day, filtered and paged; updates are scoped.

use crate::contract::prelude::*;

pub async fn one_per_day_filtered_and_paged(store: Shared) {
    let (couple, a, b) = new_couple("a@example.org")
        .partner("b@example.org")
        .insert(&store)
        .await;
    let b = b.unwrap();
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let checkin = |user: UserId, d: u32, mood: i64| CheckIn {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        user_id: user,
        day: day(d),
        mood: Score::parse("mood", mood).unwrap(),
        stress: Score::parse("stress", 3).unwrap(),
        energy: Score::parse("energy", 7).unwrap(),
        note: Some(Note::parse("ok").unwrap()),
        created_at: t0(),
        updated_at: t0(),
    };
    let first = checkin(a.id, 20, 5);
    let f = first.clone();
    let stored = store
        .write(move |tx| tx.checkins().upsert_checkin(&f))
        .await
        .unwrap();
    assert_eq!(stored, first);
    let mut again = checkin(a.id, 20, 9);
    again.note = None;
    again.updated_at = t0() + Duration::seconds(9);
    let ag = again.clone();
    let stored = store
        .write(move |tx| tx.checkins().upsert_checkin(&ag))
        .await
        .unwrap();
    assert_eq!(
        (stored.id, stored.mood.get(), stored.note.clone()),
        (first.id, 9, None),
        "one per user per day, updated"
    );
    let others = vec![
        checkin(b.id, 20, 6),
        checkin(a.id, 21, 7),
        checkin(b.id, 22, 8),
    ];
    let o = others.clone();
    store
        .write(move |tx| {
            o.iter()
                .try_for_each(|c| tx.checkins().upsert_checkin(c).map(|_| ()))
        })
        .await
        .unwrap();
    let cid = couple.id;
    let all = store
        .read(move |tx| tx.checkins().checkins(cid, None, None, None, 10))
        .await
        .unwrap();
    let days: Vec<u32> = all.iter().map(|c| chrono::Datelike::day(&c.day)).collect();
    assert_eq!(
        days,
        vec![22, 21, 20, 20],
        "newest day first; both partners'"
    );
    let ranged = store
        .read(move |tx| {
            tx.checkins()
                .checkins(cid, Some(day(21)), Some(day(21)), None, 10)
        })
        .await
        .unwrap();
    assert_eq!(ranged.len(), 1);
    let p1 = store
        .read(move |tx| tx.checkins().checkins(cid, None, None, None, 2))
        .await
        .unwrap();
    let cursor = (p1[1].day, p1[1].id);
    let p2 = store
        .read(move |tx| tx.checkins().checkins(cid, None, None, Some(cursor), 10))
        .await
        .unwrap();
    assert_eq!(p1.len() + p2.len(), 4);
    assert!(p2.iter().all(|c| !p1.contains(c)), "pages do not overlap");
    let id = first.id;
    assert!(
        store
            .write(move |tx| tx.checkins().delete_checkin(cid, id))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .read(move |tx| tx.checkins().checkin(cid, id))
            .await
            .unwrap(),
        None
    );
}

pub async fn updates_keep_the_day_and_are_scoped(store: Shared) {
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let (other, _, _) = new_couple("z@example.org").insert(&store).await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let original = CheckIn {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        user_id: a.id,
        day,
        mood: Score::parse("mood", 4).unwrap(),
        stress: Score::parse("stress", 6).unwrap(),
        energy: Score::parse("energy", 5).unwrap(),
        note: Some(Note::parse("fatiguée").unwrap()),
        created_at: t0(),
        updated_at: t0(),
    };
    let o = original.clone();
    store
        .write(move |tx| tx.checkins().upsert_checkin(&o))
        .await
        .unwrap();
    let mut edited = original.clone();
    edited.mood = Score::parse("mood", 8).unwrap();
    edited.energy = Score::parse("energy", 9).unwrap();
    edited.note = None;
    edited.updated_at = t0() + Duration::seconds(30);
    let e = edited.clone();
    store
        .write(move |tx| tx.checkins().update_checkin(&e))
        .await
        .unwrap();
    let (cid, oid, id) = (couple.id, other.id, original.id);
    assert_eq!(
        store
            .read(move |tx| tx.checkins().checkin(cid, id))
            .await
            .unwrap(),
        Some(edited.clone()),
        "scores and note replaced, day and creation kept"
    );
    let mut foreign = edited.clone();
    foreign.couple_id = oid;
    foreign.mood = Score::parse("mood", 1).unwrap();
    let err = store
        .write(move |tx| tx.checkins().update_checkin(&foreign))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Internal(_)), "{err:?}");
    assert_eq!(
        store
            .read(move |tx| tx.checkins().checkin(cid, id))
            .await
            .unwrap(),
        Some(edited),
        "another couple's update changed nothing"
    );
    assert_eq!(
        store
            .read(move |tx| tx.checkins().checkin(oid, id))
            .await
            .unwrap(),
        None
    );
    assert!(
        !store
            .write(move |tx| tx.checkins().delete_checkin(oid, id))
            .await
            .unwrap()
    );
}
