//! Perspectives: one per side.

use crate::contract::prelude::*;

pub async fn one_per_side(store: Shared) {
    use accueil_domain::couples::Side;
    use accueil_domain::memories::{Perspective, PerspectiveText};
    let (couple, a, b) = new_couple("a@example.org")
        .partner("b@example.org")
        .insert(&store)
        .await;
    let b = b.unwrap();
    let (other, _, _) = new_couple("z@example.org").insert(&store).await;
    let p = |side, author: UserId, text: &str, at| Perspective {
        couple_id: couple.id,
        side,
        author,
        content: PerspectiveText::parse(text).unwrap(),
        created_at: at,
        updated_at: at,
    };
    let first = p(Side::B, b.id, "Mon regard", t0());
    let f = first.clone();
    assert_eq!(
        store
            .write(move |tx| tx.perspectives().put_perspective(&f))
            .await
            .unwrap(),
        first
    );
    let again = p(
        Side::B,
        b.id,
        "Mon regard, revu",
        t0() + Duration::seconds(5),
    );
    let ag = again.clone();
    let stored = store
        .write(move |tx| tx.perspectives().put_perspective(&ag))
        .await
        .unwrap();
    assert_eq!(
        (
            stored.created_at,
            stored.updated_at,
            stored.content.as_str()
        ),
        (t0(), again.updated_at, "Mon regard, revu")
    );
    let mine = p(Side::A, a.id, "Le mien", t0());
    let m = mine.clone();
    store
        .write(move |tx| tx.perspectives().put_perspective(&m))
        .await
        .unwrap();
    let cid = couple.id;
    let all = store
        .read(move |tx| tx.perspectives().perspectives(cid))
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|x| x.side).collect::<Vec<_>>(),
        vec![Side::A, Side::B],
        "one per side, A first"
    );
    assert_eq!(all[1], stored);
    let oid = other.id;
    assert!(
        store
            .read(move |tx| tx.perspectives().perspectives(oid))
            .await
            .unwrap()
            .is_empty(),
        "scoped"
    );
    assert_eq!(
        store
            .read(move |tx| tx.perspectives().perspective(oid, Side::A))
            .await
            .unwrap(),
        None
    );
}
