//! Letters: one per couple per month.

use crate::contract::prelude::*;

pub async fn one_per_month(store: Shared) {
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let letter = |m: &str| Letter {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        month: Month::parse("month", m).unwrap(),
        content: LetterContent::parse("Mon amour").unwrap(),
        last_author: a.id,
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
