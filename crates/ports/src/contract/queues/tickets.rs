//! A tenant's tickets through the view bound to it: numbering per service and day, the line
//! in order, the next ticket by the queue's rule, one active ticket per agent, events kept,
//! and fifty agents calling at once each getting another ticket, none skipped.

use accueil_domain::queues::tickets::{
    Actor, Algorithm, Ticket, TicketAction, TicketStatus, next_to_call,
};
use accueil_domain::queues::{Queue, Role, Service, TenantId};

use super::catalogue::catalogue;
use super::tenant;
use crate::contract::prelude::*;
use crate::queues::{DayCount, DeleteItemError, TicketWriteError};

/// Takes a ticket in `queue` at `at` with `priority`, numbered as the store says.
async fn take(
    store: &Shared,
    t: TenantId,
    (queue, service): (&Queue, &Service),
    priority: u8,
    at: DateTime<Utc>,
) -> Ticket {
    let (queue, service) = (queue.clone(), service.clone());
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(t);
            let day = at.date_naive();
            let count = view.tickets().lock_numbering(service.id, day)?;
            let n = count.last.map_or(service.numbering.first, |l| l + 1);
            let (ticket, event) = Ticket::taken(
                (Uuid::now_v7(), Uuid::now_v7()),
                &queue,
                &service,
                (day, n),
                priority,
                None,
                Some(format!("digest-{}", Uuid::now_v7().simple())),
                (Actor::CUSTOMER, at),
            );
            view.tickets().insert_ticket(&ticket, &event)?;
            Ok::<_, StoreError>(ticket)
        })
        .await
        .unwrap()
}

/// Claims the next ticket of `queue` for `agent` at `at` and calls it; `None` when the line is
/// empty.
async fn call_next(
    store: &Shared,
    t: TenantId,
    queue: &Queue,
    agent: UserId,
    at: DateTime<Utc>,
) -> Result<Option<Ticket>, TicketWriteError> {
    let queue = queue.clone();
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(t);
            let Some(mut ticket) = view.tickets().claim_next(&queue, at)? else {
                return Ok(None);
            };
            let actor = Actor {
                agent: Some(agent),
                counter: None,
            };
            let event = ticket
                .apply(TicketAction::Call, actor, Uuid::now_v7(), at)
                .unwrap();
            view.tickets().update_ticket(&ticket, &event)?;
            Ok(Some(ticket))
        })
        .await
}

/// Numbers count per service and day; the line and its count are the queue's waiting tickets;
/// another tenant's view sees none of it.
pub async fn numbering_and_the_line(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let (a, o) = (
        tenant(&store, "acme", ann.id).await.id,
        tenant(&store, "other", ann.id).await.id,
    );
    let (_, service, queue, _) = catalogue(&store, a).await;
    let first = take(&store, a, (&queue, &service), 0, t0()).await;
    let second = take(
        &store,
        a,
        (&queue, &service),
        0,
        t0() + Duration::minutes(1),
    )
    .await;
    assert_eq!(
        (first.number.to_string(), second.number.to_string()),
        ("A-100".to_owned(), "A-101".to_owned())
    );
    let next_day = t0() + Duration::days(1);
    let tomorrow = take(&store, a, (&queue, &service), 0, next_day).await;
    assert_eq!(tomorrow.number.n, 100, "a new day starts again");
    let sid = service.id;
    let counts = store
        .write(move |tx| {
            let mut view = tx.in_tenant(a);
            Ok::<_, StoreError>((
                view.tickets().lock_numbering(sid, t0().date_naive())?,
                view.tickets().lock_numbering(sid, next_day.date_naive())?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        counts,
        (
            DayCount {
                issued: 2,
                last: Some(101)
            },
            DayCount {
                issued: 1,
                last: Some(100)
            }
        )
    );

    // The same number twice is refused.
    let mut twin = first.clone();
    twin.id = Uuid::now_v7();
    twin.token_digest = None;
    let event = accueil_domain::queues::tickets::TicketEvent {
        id: Uuid::now_v7(),
        ticket_id: twin.id,
        ..store
            .read(move |tx| tx.in_tenant(a).tickets().events(first.id))
            .await
            .unwrap()[0]
            .clone()
    };
    let refused = store
        .write(move |tx| tx.in_tenant(a).tickets().insert_ticket(&twin, &event))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );

    let (q, f) = (queue.id, first.id);
    let (line, count, found) = store
        .read(move |tx| {
            let mut view = tx.in_tenant(a);
            Ok::<_, StoreError>((
                view.tickets().waiting(q)?,
                view.tickets().count_waiting(q)?,
                view.tickets().ticket(f)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        line.iter().map(|t| t.id).collect::<Vec<_>>(),
        [first.id, second.id, tomorrow.id]
    );
    assert_eq!((count, found), (3, Some(first.clone())));
    let elsewhere = store
        .read(move |tx| {
            let mut view = tx.in_tenant(o);
            Ok::<_, StoreError>((
                view.tickets().waiting(q)?.len(),
                view.tickets().ticket(f)?,
                view.tickets().events(f)?.len(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(elsewhere, (0, None, 0));

    // A queue with tickets cannot be deleted.
    let kept = store
        .write(move |tx| tx.in_tenant(a).catalogue().delete_queue(q))
        .await;
    assert!(matches!(kept, Err(DeleteItemError::InUse)), "{kept:?}");
}

/// The store picks what `next_to_call` picks: FIFO by arrival, PRIORITY by priority and aging;
/// an agent holds one active ticket; every transition is an event.
pub async fn the_next_ticket_follows_the_rule(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let bob = new_user("bob@example.org").insert(&store).await;
    let a = tenant(&store, "acme", ann.id).await.id;
    let (_, service, mut queue, _) = catalogue(&store, a).await;
    store
        .write(move |tx| {
            tx.in_tenant(a)
                .members()
                .add_member(bob.id, Role::Agent, t0())
        })
        .await
        .unwrap();
    queue.algorithm = Algorithm::Priority;
    queue.aging_minutes = 10;
    let q = queue.clone();
    store
        .write(move |tx| tx.in_tenant(a).catalogue().update_queue(&q))
        .await
        .unwrap();

    // Arrivals a minute apart with assorted priorities; compare the store's picks with the
    // domain's, at a time when aging has reordered them.
    let mut line = Vec::new();
    for (i, p) in [0u8, 3, 9, 1, 5, 0, 7, 2].into_iter().enumerate() {
        let at = t0() + Duration::seconds(61 * i as i64 + 7);
        line.push(take(&store, a, (&queue, &service), p, at).await);
    }
    let now = t0() + Duration::minutes(47) + Duration::seconds(13);
    let mut left: Vec<_> = line.iter().map(Ticket::in_line).collect();

    // The line in call order, and each ticket's count of those ahead, as the domain says.
    let expected = accueil_domain::queues::tickets::call_order(&left, Algorithm::Priority, 10, now);
    let (q, all) = (queue.clone(), line.clone());
    let (ordered, ahead) = store
        .read(move |tx| {
            let mut view = tx.in_tenant(a);
            let ordered: Vec<Uuid> = view
                .tickets()
                .line(&q, now, 100)?
                .iter()
                .map(|t| t.id)
                .collect();
            let mut ahead = Vec::new();
            for t in &all {
                ahead.push((t.id, view.tickets().ahead(&q, t, now)?));
            }
            Ok::<_, StoreError>((ordered, ahead))
        })
        .await
        .unwrap();
    assert_eq!(ordered, expected);
    for (id, n) in ahead {
        let at = expected.iter().position(|e| *e == id).unwrap();
        assert_eq!(n as usize, at, "ahead of {id}");
    }
    let q = queue.clone();
    let first_two = store
        .read(move |tx| tx.in_tenant(a).tickets().line(&q, now, 2))
        .await
        .unwrap();
    assert_eq!(
        first_two.iter().map(|t| t.id).collect::<Vec<_>>(),
        expected[..2]
    );
    let agents: Vec<UserId> = (0..line.len()).map(|_| UserId(Uuid::now_v7())).collect();
    for agent in agents {
        let expected = next_to_call(&left, Algorithm::Priority, 10, now).unwrap();
        let called = call_next(&store, a, &queue, agent, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(called.id, expected);
        assert_eq!(
            (called.status, called.agent),
            (TicketStatus::Called, Some(agent))
        );
        left.retain(|t| t.id != expected);
    }
    assert!(
        call_next(&store, a, &queue, bob.id, now)
            .await
            .unwrap()
            .is_none()
    );

    // FIFO: arrival order whatever the priority.
    queue.algorithm = Algorithm::Fifo;
    let q = queue.clone();
    store
        .write(move |tx| tx.in_tenant(a).catalogue().update_queue(&q))
        .await
        .unwrap();
    let early = take(&store, a, (&queue, &service), 0, now).await;
    let late = take(&store, a, (&queue, &service), 9, now + Duration::seconds(1)).await;
    let first = call_next(&store, a, &queue, bob.id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, early.id);

    // Bob has a ticket called: a second one is refused, and the first stays his.
    let second = call_next(&store, a, &queue, bob.id, now).await;
    assert!(
        matches!(second, Err(TicketWriteError::AgentBusy)),
        "{second:?}"
    );
    let (active, still) = store
        .read(move |tx| {
            let mut view = tx.in_tenant(a);
            Ok::<_, StoreError>((
                view.tickets().active_ticket(bob.id)?,
                view.tickets().ticket(late.id)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(active.map(|t| t.id), Some(early.id));
    assert_eq!(still.map(|t| t.status), Some(TicketStatus::Waiting));

    // Its events: taken, called.
    let events = store
        .read(move |tx| tx.in_tenant(a).tickets().events(early.id))
        .await
        .unwrap();
    let moves: Vec<_> = events.iter().map(|e| (e.from, e.to, e.agent)).collect();
    assert_eq!(
        moves,
        [
            (None, TicketStatus::Waiting, None),
            (
                Some(TicketStatus::Waiting),
                TicketStatus::Called,
                Some(bob.id)
            )
        ]
    );
}

/// Fifty agents call the next ticket of one queue at once: each gets a ticket of their own,
/// and every ticket is called exactly once.
pub async fn fifty_agents_never_share_a_ticket(store: Shared) {
    const AGENTS: usize = 50;
    let ann = new_user("ann@example.org").insert(&store).await;
    let a = tenant(&store, "acme", ann.id).await.id;
    let (_, service, queue, _) = catalogue(&store, a).await;
    let mut taken = Vec::new();
    for i in 0..AGENTS {
        let at = t0() + Duration::seconds(i as i64);
        taken.push(
            take(&store, a, (&queue, &service), (i % 10) as u8, at)
                .await
                .id,
        );
    }
    let now = t0() + Duration::hours(1);
    let calls: Vec<_> = (0..AGENTS)
        .map(|_| {
            let (store, queue) = (store.clone(), queue.clone());
            tokio::spawn(
                async move { call_next(&store, a, &queue, UserId(Uuid::now_v7()), now).await },
            )
        })
        .collect();
    let mut called = Vec::new();
    for call in calls {
        called.push(
            call.await
                .unwrap()
                .unwrap()
                .expect("a ticket for every agent")
                .id,
        );
    }
    called.sort();
    taken.sort();
    assert_eq!(called, taken, "each ticket called once, none skipped");
    let q = queue.id;
    let (left, events) = store
        .read(move |tx| {
            let mut view = tx.in_tenant(a);
            let mut calls = 0;
            for id in &taken {
                calls += view
                    .tickets()
                    .events(*id)?
                    .iter()
                    .filter(|e| e.to == TicketStatus::Called)
                    .count();
            }
            Ok::<_, StoreError>((view.tickets().count_waiting(q)?, calls))
        })
        .await
        .unwrap();
    assert_eq!((left, events), (0, AGENTS));
}
