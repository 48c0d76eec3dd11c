//! Goals and actions.

use crate::contract::prelude::*;

pub async fn goals_and_actions(store: Shared) {
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let (other, _, _) = new_couple("z@example.org").insert(&store).await;
    let goal = Goal {
        id: Uuid::now_v7(),
        couple_id: couple.id,
        author: a.id,
        title: Title::parse("Learn Portuguese").unwrap(),
        description: None,
        target_date: chrono::NaiveDate::from_ymd_opt(2027, 6, 1),
        status: GoalStatus::Active,
        completed_at: None,
        created_at: t0(),
        updated_at: t0(),
    };
    let action = |title: &str| GoalAction {
        id: Uuid::now_v7(),
        goal_id: goal.id,
        couple_id: couple.id,
        title: Title::parse(title).unwrap(),
        owner: ActionOwner::Both,
        due_date: None,
        done: false,
        completed_at: None,
        created_at: t0(),
        updated_at: t0(),
    };
    let (a1, a2) = (action("Find a teacher"), action("Book lessons"));
    let (g, x1, x2) = (goal.clone(), a1.clone(), a2.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.goals().insert_goal(&g)?;
            tx.goals().insert_action(&x1)?;
            tx.goals().insert_action(&x2)
        })
        .await
        .unwrap();
    let (cid, gid, oid) = (couple.id, goal.id, other.id);
    assert_eq!(
        store
            .read(move |tx| tx.goals().goal(cid, gid))
            .await
            .unwrap(),
        Some(goal.clone())
    );
    assert_eq!(
        store
            .read(move |tx| tx.goals().goal(oid, gid))
            .await
            .unwrap(),
        None,
        "scoped"
    );
    let mut done = goal.clone();
    done.set_status(GoalStatus::Done, t0() + Duration::seconds(1))
        .unwrap();
    done.description = Some(accueil_domain::couples::Description::parse("Obrigado").unwrap());
    let d = done.clone();
    store
        .write(move |tx| tx.goals().update_goal(&d))
        .await
        .unwrap();
    assert_eq!(
        store
            .read(move |tx| tx.goals().goal(cid, gid))
            .await
            .unwrap(),
        Some(done)
    );
    let mut finished = a1.clone();
    finished.set_done(true, t0() + Duration::seconds(2));
    finished.owner = ActionOwner::A;
    finished.due_date = chrono::NaiveDate::from_ymd_opt(2027, 1, 1);
    let f = finished.clone();
    store
        .write(move |tx| tx.goals().update_action(&f))
        .await
        .unwrap();
    let listed = store
        .read(move |tx| tx.goals().actions(cid, gid))
        .await
        .unwrap();
    assert_eq!(listed, vec![finished.clone(), a2.clone()]);
    assert!(
        store
            .read(move |tx| tx.goals().actions(oid, gid))
            .await
            .unwrap()
            .is_empty()
    );
    let a2id = a2.id;
    assert!(
        !store
            .write(move |tx| tx.goals().delete_action(oid, gid, a2id))
            .await
            .unwrap(),
        "not another couple's"
    );
    assert!(
        store
            .write(move |tx| tx.goals().delete_action(cid, gid, a2id))
            .await
            .unwrap()
    );
    let page = store
        .read(move |tx| tx.goals().goals(cid, None, 10))
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let gone = store
        .write(move |tx| tx.goals().delete_goal(cid, gid))
        .await
        .unwrap();
    assert_eq!(
        gone,
        Some(vec![finished.id]),
        "its remaining actions go with it"
    );
    assert_eq!(
        store
            .write(move |tx| tx.goals().delete_goal(cid, gid))
            .await
            .unwrap(),
        None
    );
}

/// Actions page by page, oldest first, and the counts of several goals in one read, each
/// scoped to its couple.
pub async fn action_pages_and_counts(store: Shared) {
    use accueil_domain::couples::ActionCounts;
    let (couple, a, _) = new_couple("a@example.org").insert(&store).await;
    let (other, z, _) = new_couple("z@example.org").insert(&store).await;
    let goal = |couple: CoupleId, author: UserId, title: &str| Goal {
        id: Uuid::now_v7(),
        couple_id: couple,
        author,
        title: Title::parse(title).unwrap(),
        description: None,
        target_date: None,
        status: GoalStatus::Active,
        completed_at: None,
        created_at: t0(),
        updated_at: t0(),
    };
    let (g1, g2, empty, theirs) = (
        goal(couple.id, a.id, "Learn Portuguese"),
        goal(couple.id, a.id, "Move house"),
        goal(couple.id, a.id, "Nothing yet"),
        goal(other.id, z.id, "Theirs"),
    );
    let action = |g: &Goal, n: usize, done: bool| GoalAction {
        id: Uuid::now_v7(),
        goal_id: g.id,
        couple_id: g.couple_id,
        title: Title::parse(&format!("Step {n}")).unwrap(),
        owner: ActionOwner::Both,
        due_date: None,
        done,
        completed_at: done.then_some(t0()),
        created_at: t0(),
        updated_at: t0(),
    };
    // Five actions of g1 (two done), one of g2 (done), one of the other couple's goal.
    let first: Vec<GoalAction> = (0..5).map(|n| action(&g1, n, n % 2 == 1)).collect();
    let second = action(&g2, 9, true);
    let foreign = action(&theirs, 0, true);
    let goals = [g1.clone(), g2.clone(), empty.clone(), theirs.clone()];
    let actions: Vec<GoalAction> = first
        .iter()
        .cloned()
        .chain([second.clone(), foreign.clone()])
        .collect();
    store
        .write(move |tx| -> Result<(), StoreError> {
            for g in &goals {
                tx.goals().insert_goal(g)?;
            }
            for x in &actions {
                tx.goals().insert_action(x)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let (cid, oid, gid) = (couple.id, other.id, g1.id);
    let page = |after: Option<Uuid>, limit: u32, couple: CoupleId| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.goals().action_page(couple, gid, after, limit))
                .await
                .unwrap()
        }
    };
    let p1 = page(None, 2, cid).await;
    assert_eq!(p1, first[..2].to_vec(), "oldest first");
    let p2 = page(Some(p1[1].id), 2, cid).await;
    assert_eq!(p2, first[2..4].to_vec(), "after the cursor");
    let p3 = page(Some(p2[1].id), 2, cid).await;
    assert_eq!(p3, first[4..].to_vec());
    assert!(page(Some(p3[0].id), 2, cid).await.is_empty());
    assert_eq!(page(None, 10, cid).await, first, "all on one page");
    assert!(page(None, 10, oid).await.is_empty(), "scoped");

    let ids = [g1.id, g2.id, empty.id, theirs.id];
    let counts = store
        .read(move |tx| tx.goals().action_counts(cid, &ids))
        .await
        .unwrap();
    assert_eq!(
        counts.len(),
        2,
        "no entry for a goal without actions or another couple's"
    );
    assert_eq!(counts[&g1.id], ActionCounts { total: 5, done: 2 });
    assert_eq!(counts[&g2.id], ActionCounts { total: 1, done: 1 });
    let tid = theirs.id;
    let counts = store
        .read(move |tx| tx.goals().action_counts(oid, &[tid, gid]))
        .await
        .unwrap();
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![(tid, ActionCounts { total: 1, done: 1 })]
    );
    assert!(
        store
            .read(move |tx| tx.goals().action_counts(cid, &[]))
            .await
            .unwrap()
            .is_empty()
    );
    // Marking one done moves the count.
    let mut x = first[0].clone();
    x.set_done(true, t0() + Duration::seconds(1));
    store
        .write(move |tx| tx.goals().update_action(&x))
        .await
        .unwrap();
    let counts = store
        .read(move |tx| tx.goals().action_counts(cid, &[gid]))
        .await
        .unwrap();
    assert_eq!(counts[&gid], ActionCounts { total: 5, done: 3 });
}
