//! Memories: the scoped timeline with search, no lost updates, and photo link generations.

use crate::contract::prelude::*;

pub async fn scoped_timeline_and_search(store: Shared) {
    use crate::memories::TimelineQuery;
    use accueil_domain::memories::{
        ImageFormat, Memory, Photo, Rendition, SearchTerm, TimelineCursor,
    };
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let (other, z, _) = new_couple("z@example.org").insert(&store).await;
    let r = |format, width, height, bytes| Rendition {
        format,
        width,
        height,
        bytes,
    };
    let mut first = new_memory(couple.id, a.id)
        .title("Été à Évian")
        .on(2019, 7, 14)
        .nth(1)
        .build();
    first.photo = Some(Photo {
        id: Uuid::from_u128(77),
        original: r(ImageFormat::WebP, 4000, 3000, 5_000_000_000),
        medium: r(ImageFormat::Jpeg, 1280, 960, 200_000),
        thumb: r(ImageFormat::Png, 320, 240, 30_000),
    });
    let undated = new_memory(couple.id, a.id)
        .title("Sans date")
        .nth(2)
        .build(); // timeline day: t0's day
    let same_day = new_memory(couple.id, a.id)
        .title("Le lac")
        .on(2019, 7, 14)
        .nth(3)
        .build();
    let theirs = new_memory(other.id, z.id)
        .title("Évian aussi")
        .on(2019, 7, 14)
        .nth(4)
        .build();
    for m in [
        first.clone(),
        undated.clone(),
        same_day.clone(),
        theirs.clone(),
    ] {
        store
            .write(move |tx| tx.memories().insert_memory(&m))
            .await
            .unwrap();
    }
    let dup = first.clone();
    assert!(matches!(
        store
            .write(move |tx| tx.memories().insert_memory(&dup))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let (cid, oid, fid) = (couple.id, other.id, first.id);
    let back = store
        .read(move |tx| tx.memories().memory(cid, fid))
        .await
        .unwrap();
    assert_eq!(
        back,
        Some(first.clone()),
        "a memory and its photo round-trip"
    );
    assert_eq!(
        store
            .read(move |tx| tx.memories().memory(oid, fid))
            .await
            .unwrap(),
        None,
        "another couple's memory is not found"
    );
    let timeline = |query: TimelineQuery, limit| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.memories().timeline(cid, &query, limit))
                .await
                .unwrap()
                .into_iter()
                .map(|m: Memory| m.title.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        timeline(TimelineQuery::default(), 10).await,
        vec!["Sans date", "Le lac", "Été à Évian"],
        "latest day first, then latest recorded first; only this couple's"
    );
    let page = timeline(TimelineQuery::default(), 2).await;
    assert_eq!(page.len(), 2);
    let after = TimelineQuery {
        after: Some(same_day.cursor()),
        ..Default::default()
    };
    assert_eq!(
        timeline(after, 10).await,
        vec!["Été à Évian"],
        "a cursor continues after its memory"
    );
    let search = |q: &str| TimelineQuery {
        search: SearchTerm::parse(q).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        timeline(search("ÉVIAN"), 10).await,
        vec!["Été à Évian"],
        "case folds beyond ASCII"
    );
    assert_eq!(
        timeline(search("100%"), 10).await.len(),
        3,
        "descriptions are searched"
    );
    assert!(
        timeline(search("0_%"), 10).await.is_empty(),
        "wildcards are literal"
    );
    assert!(timeline(search("%%"), 10).await.is_empty());
    let gone = TimelineCursor {
        day: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        id: first.id,
    };
    assert!(
        timeline(
            TimelineQuery {
                after: Some(gone),
                ..Default::default()
            },
            10
        )
        .await
        .is_empty()
    );

    let mut edited = first.clone();
    edited.title = accueil_domain::memories::MemoryTitle::parse("Évian, encore").unwrap();
    edited.description = None;
    edited.photo = None;
    edited.happened_on = None;
    edited.updated_at = t0() + Duration::seconds(50);
    let mut foreign = edited.clone();
    foreign.couple_id = other.id;
    assert!(
        !store
            .write(move |tx| tx.memories().update_memory(&foreign))
            .await
            .unwrap(),
        "scoped update"
    );
    let e = edited.clone();
    assert!(
        store
            .write(move |tx| tx.memories().update_memory(&e))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .read(move |tx| tx.memories().memory(cid, fid))
            .await
            .unwrap(),
        Some(edited)
    );
    let ids = vec![first.id, theirs.id, undated.id];
    let existing = store
        .read(move |tx| tx.memories().existing_memories(cid, &ids))
        .await
        .unwrap();
    assert_eq!(existing.len(), 2);
    assert!(!existing.contains(&theirs.id));
    let tid = theirs.id;
    assert!(
        !store
            .write(move |tx| tx.memories().delete_memory(cid, tid))
            .await
            .unwrap(),
        "scoped delete"
    );
    assert!(
        store
            .write(move |tx| tx.memories().delete_memory(cid, fid))
            .await
            .unwrap()
    );
    assert!(
        !store
            .write(move |tx| tx.memories().delete_memory(cid, fid))
            .await
            .unwrap()
    );
    assert_eq!(
        timeline(TimelineQuery::default(), 10).await,
        vec!["Sans date", "Le lac"]
    );
}

/// The couple's lock (taken by every unit that writes its content) makes concurrent
/// read-modify-writes of one memory run one after the other.
pub async fn couple_writers_lose_nothing(store: Shared) {
    use accueil_domain::memories::MemoryTitle;
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let m = new_memory(couple.id, a.id).title("0").nth(1).build();
    let (cid, mid, aid) = (couple.id, m.id, a.id);
    store
        .write(move |tx| tx.memories().insert_memory(&m))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<bool, StoreError> {
                    // What every couple-scoped write unit does first.
                    let locked = tx.pairing().active_couple_of_for_update(aid)?.unwrap();
                    assert_eq!(locked.id, cid);
                    let mut m = tx.memories().memory(cid, mid)?.unwrap();
                    let n: u32 = m.title.as_str().parse().unwrap();
                    m.title = MemoryTitle::parse(&(n + 1).to_string()).unwrap();
                    tx.memories().update_memory(&m)
                })
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    let m = store
        .read(move |tx| tx.memories().memory(cid, mid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.title.as_str(), "12", "every concurrent change survived");
}

pub async fn photo_link_generations(store: Shared) {
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let (other, _, _) = new_couple("z@example.org").insert(&store).await;
    let memory = new_memory(couple.id, a.id).nth(1).build();
    let m = memory.clone();
    store
        .write(move |tx| tx.memories().insert_memory(&m))
        .await
        .unwrap();
    let (cid, oid, mid) = (couple.id, other.id, memory.id);
    let generation = |c| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.memories().photo_link_generation(c))
                .await
                .unwrap()
        }
    };
    let linked = || {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.memories().memory_for_link(mid))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        generation(cid).await,
        0,
        "a couple starts at 0, without a row"
    );
    assert_eq!(
        linked().await,
        Some(crate::memories::LinkedMemory {
            memory: memory.clone(),
            generation: 0,
            dissolved: false,
        })
    );
    for expected in [1, 2] {
        let g = store
            .write(move |tx| tx.memories().rotate_photo_links(cid))
            .await
            .unwrap();
        assert_eq!(g, expected);
    }
    assert_eq!(generation(cid).await, 2);
    assert_eq!(generation(oid).await, 0, "another couple's links live on");
    assert_eq!(linked().await.unwrap().generation, 2);
    assert!(
        store
            .read(move |tx| tx.memories().rotate_photo_links(cid))
            .await
            .is_err(),
        "a read unit does not write"
    );
    assert_eq!(
        store
            .read(|tx| tx
                .memories()
                .memory_for_link(accueil_domain::memories::MemoryId(Uuid::from_u128(404))))
            .await
            .unwrap(),
        None
    );
    let mut dissolved = couple.clone();
    dissolved.dissolved_at = Some(t0());
    store
        .write(move |tx| tx.pairing().update_couple(&dissolved))
        .await
        .unwrap();
    assert!(linked().await.unwrap().dissolved);
    store
        .write(move |tx| tx.memories().delete_memory(cid, mid))
        .await
        .unwrap();
    assert_eq!(linked().await, None, "a deleted memory is not found");
}
