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
