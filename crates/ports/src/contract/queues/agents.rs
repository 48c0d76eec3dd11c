//! A tenant's agent profiles through the view bound to it: one per member, its queues in the
//! order given, cleared of deleted counters and queues, gone with the membership.

use accueil_domain::queues::{AgentProfile, AgentStatus, Role};

use super::catalogue::{catalogue, queue};
use super::tenant;
use crate::contract::prelude::*;
use crate::queues::{DeleteItemError, SaveItemError};

/// Profiles are saved and replaced whole, follow deletions of what they name, and stay in
/// their tenant.
pub async fn profiles_follow_their_member(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let bob = new_user("bob@example.org").insert(&store).await;
    let acme = tenant(&store, "acme", ann.id).await.id;
    let other = tenant(&store, "other", ann.id).await.id;
    let (_, sv, q1, c) = catalogue(&store, acme).await;
    let q2 = queue(sv.id);
    let q2_id = q2.id;
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(acme);
            view.catalogue().insert_queue(&q2)?;
            view.members().add_member(bob.id, Role::Agent, t0())?;
            Ok::<_, SaveItemError>(())
        })
        .await
        .unwrap();

    let first = AgentProfile {
        user: bob.id,
        status: AgentStatus::Available,
        counter_id: Some(c.id),
        queue_ids: vec![q2_id, q1.id],
        updated_at: Some(t0()),
    };
    let p = first.clone();
    store
        .write(move |tx| tx.in_tenant(acme).agents().save_agent(&p))
        .await
        .unwrap();
    let read = store
        .read(move |tx| tx.in_tenant(acme).agents().agent(bob.id))
        .await
        .unwrap();
    assert_eq!(read, Some(first.clone()), "queues in the order given");

    let second = AgentProfile {
        status: AgentStatus::Paused,
        queue_ids: vec![q1.id],
        updated_at: Some(t0() + Duration::minutes(5)),
        ..first.clone()
    };
    let p = second.clone();
    store
        .write(move |tx| tx.in_tenant(acme).agents().save_agent(&p))
        .await
        .unwrap();
    let all = store
        .read(move |tx| tx.in_tenant(acme).agents().agents())
        .await
        .unwrap();
    assert_eq!(all, vec![second.clone()]);

    // Status alone: one row, the counter and queues kept; no profile, nothing made.
    let later = t0() + Duration::minutes(9);
    let (presence, set, none) = store
        .write(move |tx| {
            let mut view = tx.in_tenant(acme);
            let set = view.agents().set_status(bob.id, AgentStatus::Busy, later)?;
            let none = view.agents().set_status(ann.id, AgentStatus::Busy, later)?;
            Ok::<_, StoreError>((view.agents().presence(bob.id)?, set, none))
        })
        .await
        .unwrap();
    assert_eq!(
        (presence, set, none),
        (Some((AgentStatus::Busy, Some(c.id))), true, false)
    );
    let read = store
        .read(move |tx| tx.in_tenant(acme).agents().agent(bob.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.queue_ids, read.updated_at),
        (vec![q1.id], Some(later))
    );
    let p = second.clone();
    store
        .write(move |tx| tx.in_tenant(acme).agents().save_agent(&p))
        .await
        .unwrap();

    // Not a member, or through another tenant's view: no profile.
    let stranger = AgentProfile {
        user: ann.id,
        ..second.clone()
    };
    let refused = store
        .write(move |tx| {
            tx.in_tenant(other).agents().save_agent(&AgentProfile {
                user: bob.id,
                ..stranger
            })
        })
        .await;
    assert!(refused.is_err(), "bob is not a member of other");
    let seen = store
        .read(move |tx| {
            let mut view = tx.in_tenant(other);
            Ok::<_, StoreError>((view.agents().agents()?, view.agents().agent(bob.id)?))
        })
        .await
        .unwrap();
    assert_eq!(seen, (vec![], None));

    // Deleting the counter and a queue clears them from the profile.
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(acme);
            view.catalogue().delete_counter(c.id)?;
            view.catalogue().delete_queue(q1.id)?;
            Ok::<_, DeleteItemError>(())
        })
        .await
        .unwrap();
    let read = store
        .read(move |tx| tx.in_tenant(acme).agents().agent(bob.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.status, read.counter_id, read.queue_ids),
        (AgentStatus::Paused, None, vec![])
    );

    // The profile goes with the membership.
    store
        .write(move |tx| tx.in_tenant(acme).members().remove_member(bob.id))
        .await
        .unwrap();
    let gone = store
        .read(move |tx| tx.in_tenant(acme).agents().agents())
        .await
        .unwrap();
    assert!(gone.is_empty());
}
