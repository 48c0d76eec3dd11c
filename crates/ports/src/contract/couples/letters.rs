//! Letters: one per couple per month; time locks round-trip; deletes and updates are scoped.

use crate::contract::prelude::*;

pub async fn one_per_month(store: Shared) {
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let letter = |m: &str| Letter {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        month: Month::parse("month", m).unwrap(),
        content: LetterContent::parse("Mon amour").unwrap(),
        last_author: a.id,
        lock: None,
        created_at: t0(),
        updated_at: t0(),
    };
    let (nov, oct, dup) = (letter("2026-11"), letter("2026-10"), letter("2026-11"));
    let (n, o) = (nov.clone(), oct.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.letters().insert_letter(&n)?;
            tx.letters().insert_letter(&o)
        })
        .await
        .unwrap();
    let err = store
        .write(move |tx| tx.letters().insert_letter(&dup))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "one letter per couple per month: {err:?}"
    );
    let cid = couple.id;
    let month = Month::parse("month", "2026-11").unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.letters().letter_of_month(cid, month))
            .await
            .unwrap(),
        Some(nov.clone())
    );
    let mut edited = nov.clone();
    edited.content = LetterContent::parse("Mon amour, encore").unwrap();
    edited.updated_at = t0() + Duration::seconds(4);
    let e = edited.clone();
    store
        .write(move |tx| tx.letters().update_letter(&e))
        .await
        .unwrap();
    let id = nov.id;
    assert_eq!(
        store
            .read(move |tx| tx.letters().letter(cid, id))
            .await
            .unwrap(),
        Some(edited.clone())
    );
    let listed = store
        .read(move |tx| tx.letters().letters(cid, None, 10))
        .await
        .unwrap();
    assert_eq!(listed, vec![edited, oct.clone()], "newest month first");
    let older = store
        .read(move |tx| tx.letters().letters(cid, Some(month), 10))
        .await
        .unwrap();
    assert_eq!(older, vec![oct]);
}

pub async fn time_locks_round_trip_and_writes_are_scoped(store: Shared) {
    let (couple, a, b) = new_couple("a@example.org")
        .partner("b@example.org")
        .insert(&store)
        .await;
    let b = b.unwrap();
    let (other, z, _) = new_couple("z@example.org").insert(&store).await;
    let lock = |by: UserId, d: u32| {
        Some(TimeLock {
            deliver_on: chrono::NaiveDate::from_ymd_opt(2027, 2, d).unwrap(),
            set_by: by,
        })
    };
    let letter = Letter {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        month: Month::parse("month", "2027-02").unwrap(),
        content: LetterContent::parse("Pour la Saint-Valentin").unwrap(),
        last_author: a.id,
        lock: lock(a.id, 14),
        created_at: t0(),
        updated_at: t0(),
    };
    let l = letter.clone();
    store
        .write(move |tx| tx.letters().insert_letter(&l))
        .await
        .unwrap();
    let (cid, oid, id) = (couple.id, other.id, letter.id);
    let read = |c: CoupleId| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.letters().letter(c, id))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        read(cid).await,
        Some(letter.clone()),
        "the lock round-trips"
    );

    // Moving the lock to the other partner and another day, then removing it.
    let mut moved = letter.clone();
    moved.lock = lock(b.id, 20);
    moved.updated_at = t0() + Duration::seconds(3);
    let m = moved.clone();
    store
        .write(move |tx| tx.letters().update_letter(&m))
        .await
        .unwrap();
    assert_eq!(read(cid).await, Some(moved.clone()));
    let mut open = moved.clone();
    open.lock = None;
    open.content = LetterContent::parse("Ouverte").unwrap();
    open.last_author = b.id;
    let o = open.clone();
    store
        .write(move |tx| tx.letters().update_letter(&o))
        .await
        .unwrap();
    assert_eq!(read(cid).await, Some(open.clone()), "a lock can be removed");

    // Another couple can neither change nor delete it, nor see it.
    let mut hijack = open.clone();
    hijack.couple_id = oid;
    hijack.last_author = z.id;
    hijack.content = LetterContent::parse("À moi").unwrap();
    let err = store
        .write(move |tx| tx.letters().update_letter(&hijack))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Internal(_)), "{err:?}");
    assert!(
        !store
            .write(move |tx| tx.letters().delete_letter(oid, id))
            .await
            .unwrap(),
        "another couple's letter is not deleted"
    );
    assert_eq!(read(oid).await, None);
    assert_eq!(read(cid).await, Some(open), "untouched");

    // Deleted: gone, and its month free again.
    assert!(
        store
            .write(move |tx| tx.letters().delete_letter(cid, id))
            .await
            .unwrap()
    );
    assert!(
        !store
            .write(move |tx| tx.letters().delete_letter(cid, id))
            .await
            .unwrap(),
        "only once"
    );
    assert_eq!(read(cid).await, None);
    let month = letter.month;
    assert_eq!(
        store
            .read(move |tx| tx.letters().letter_of_month(cid, month))
            .await
            .unwrap(),
        None
    );
    let mut again = letter;
    again.id = Uuid::now_v7();
    again.lock = None;
    store
        .write(move |tx| tx.letters().insert_letter(&again))
        .await
        .unwrap();
}
