//! A tenant's catalogue through the view bound to it: items round-trip and page in creation
//! order, references stay inside the tenant, an item others refer to cannot be deleted, and
//! another tenant's items are out of reach.

use accueil_domain::queues::tickets::Numbering;
use accueil_domain::queues::{
    Counter, NewCounter, NewQueue, NewService, NewSite, NumberingFields, Queue, Service, Site,
    TenantId,
};
use accueil_domain::validation::Patch;

use super::tenant;
use crate::contract::prelude::*;
use crate::queues::{DeleteItemError, SaveItemError};

pub(crate) fn site(name: &str) -> Site {
    NewSite::parse(name, Some("1 rue de la Paix"), Some("Europe/Paris"))
        .unwrap()
        .into_site(Uuid::now_v7(), t0())
}

pub(crate) fn service(site: Uuid, prefix: &str) -> Service {
    NewService::parse(
        site,
        "Accounts",
        prefix,
        NumberingFields {
            range_start: Some(100),
            range_end: Some(499),
            daily_cap: Patch::Set(300),
        },
        Some(7),
    )
    .unwrap()
    .into_service(Uuid::now_v7(), t0())
}

pub(crate) fn queue(service: Uuid) -> Queue {
    NewQueue::parse(
        service,
        "Main",
        Some("PRIORITY"),
        Some(true),
        Some(40),
        Some(15),
    )
    .unwrap()
    .into_queue(
        Uuid::now_v7(),
        format!("join-{}", Uuid::now_v7().simple()),
        t0(),
    )
}

pub(crate) fn counter(site: Uuid) -> Counter {
    NewCounter::parse(site, "Desk 1")
        .unwrap()
        .into_counter(Uuid::now_v7(), t0())
}

/// A site with a service, a queue and a counter in tenant `t`.
pub(crate) async fn catalogue(store: &Shared, t: TenantId) -> (Site, Service, Queue, Counter) {
    let s = site("HQ");
    let sv = service(s.id, "A");
    let q = queue(sv.id);
    let c = counter(s.id);
    let items = (s.clone(), sv.clone(), q.clone(), c.clone());
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(t);
            let cat = view.catalogue();
            cat.insert_site(&s)?;
            cat.insert_service(&sv)?;
            cat.insert_queue(&q)?;
            cat.insert_counter(&c)?;
            Ok::<_, SaveItemError>(())
        })
        .await
        .unwrap();
    items
}

/// Tenant `t`'s site, service, queue and counter with these ids.
async fn read_all(
    store: &Shared,
    t: TenantId,
    [s, sv, q, c]: [Uuid; 4],
) -> (
    Option<Site>,
    Option<Service>,
    Option<Queue>,
    Option<Counter>,
) {
    store
        .read(move |tx| {
            let mut view = tx.in_tenant(t);
            let cat = view.catalogue();
            Ok::<_, StoreError>((
                cat.site(s)?,
                cat.service(sv)?,
                cat.queue(q)?,
                cat.counter(c)?,
            ))
        })
        .await
        .unwrap()
}

/// An item to insert.
enum Attempt {
    Service(Service),
    Counter(Counter),
    Queue(Queue),
}

/// Every kind of item comes back as stored, changes, pages in creation order, and is not
/// seen, changed or deleted through another tenant's view.
pub async fn items_round_trip_in_their_tenant(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let (a, o) = (
        tenant(&store, "acme", ann.id).await.id,
        tenant(&store, "other", ann.id).await.id,
    );
    let (s, sv, q, c) = catalogue(&store, a).await;
    let read = read_all(&store, a, [s.id, sv.id, q.id, c.id]).await;
    assert_eq!(
        read,
        (
            Some(s.clone()),
            Some(sv.clone()),
            Some(q.clone()),
            Some(c.clone())
        )
    );
    assert_eq!(
        sv.numbering,
        Numbering {
            first: 100,
            last: 499,
            cap: Some(300)
        }
    );

    // Changes, each written whole; a service keeps its site, a queue its service.
    let later = t0() + Duration::hours(1);
    let mut s2 = s.clone();
    s2.address = None;
    s2.time_zone = None;
    s2.updated_at = later;
    let mut sv2 = sv.clone();
    sv2.numbering.cap = None;
    sv2.avg_service_minutes = 3;
    sv2.site_id = Uuid::now_v7();
    sv2.updated_at = later;
    let mut q2 = q.clone();
    q2.is_open = false;
    q2.max_waiting = None;
    q2.join_token = "rotated".into();
    q2.service_id = Uuid::now_v7();
    q2.updated_at = later;
    let mut c2 = c.clone();
    c2.name = accueil_domain::queues::ItemName::parse("Desk 9").unwrap();
    c2.updated_at = later;
    let written = store
        .write({
            let (s2, sv2, q2, c2) = (s2.clone(), sv2.clone(), q2.clone(), c2.clone());
            move |tx| {
                let mut view = tx.in_tenant(a);
                let cat = view.catalogue();
                Ok::<_, StoreError>([
                    cat.update_site(&s2)?,
                    cat.update_service(&sv2)?,
                    cat.update_queue(&q2)?,
                    cat.update_counter(&c2)?,
                ])
            }
        })
        .await
        .unwrap();
    assert_eq!(written, [true; 4]);
    let read = read_all(&store, a, [s.id, sv.id, q.id, c.id]).await;
    sv2.site_id = s.id;
    q2.service_id = sv.id;
    assert_eq!(read, (Some(s2), Some(sv2), Some(q2), Some(c2)));

    // Pages, in creation order.
    let more: Vec<Site> = (1..=4).map(|n| site(&format!("Site {n}"))).collect();
    let ids: Vec<Uuid> = std::iter::once(s.id)
        .chain(more.iter().map(|s| s.id))
        .collect();
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(a);
            more.iter()
                .try_for_each(|s| view.catalogue().insert_site(s))
        })
        .await
        .unwrap();
    let (first, second, last) = store
        .read(move |tx| {
            let mut view = tx.in_tenant(a);
            let cat = view.catalogue();
            let first = cat.sites(None, 2)?;
            let second = cat.sites(Some(first[1].id), 2)?;
            let last = cat.sites(Some(second[1].id), 2)?;
            Ok::<_, StoreError>((first, second, last))
        })
        .await
        .unwrap();
    let paged: Vec<Uuid> = first
        .iter()
        .chain(&second)
        .chain(&last)
        .map(|s| s.id)
        .collect();
    assert_eq!(paged, ids);
    assert_eq!(last.len(), 1);

    // The other tenant's view: nothing there, nothing to change or delete.
    let (listed, found, changed, deleted) = store
        .write({
            let (s, sv, q, c) = (s.clone(), sv.clone(), q.clone(), c.clone());
            move |tx| {
                let mut view = tx.in_tenant(o);
                let cat = view.catalogue();
                let listed = cat.sites(None, 50)?.len()
                    + cat.services(None, 50)?.len()
                    + cat.queues(None, 50)?.len()
                    + cat.counters(None, 50)?.len();
                let found = [
                    cat.site(s.id)?.is_some(),
                    cat.service(sv.id)?.is_some(),
                    cat.queue(q.id)?.is_some(),
                    cat.counter(c.id)?.is_some(),
                ];
                let changed = [
                    cat.update_site(&s)?,
                    cat.update_service(&sv)?,
                    cat.update_queue(&q)?,
                    cat.update_counter(&c)?,
                ];
                let deleted = [
                    cat.delete_counter(c.id)?,
                    cat.delete_queue(q.id)?,
                    cat.delete_service(sv.id)?,
                    cat.delete_site(s.id)?,
                ];
                Ok::<_, DeleteItemError>((listed, found, changed, deleted))
            }
        })
        .await
        .unwrap();
    assert_eq!(
        (listed, found, changed, deleted),
        (0, [false; 4], [false; 4], [false; 4])
    );
    let still = store
        .read(move |tx| tx.in_tenant(a).catalogue().queue(q.id))
        .await
        .unwrap();
    assert!(still.is_some_and(|q| q.name.as_str() == "Main"));
}

/// A service or counter needs a site of its tenant and a queue a service of its tenant; an
/// item others refer to cannot be deleted; once they are gone it can.
pub async fn references_stay_in_the_tenant(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let (a, o) = (
        tenant(&store, "acme", ann.id).await.id,
        tenant(&store, "other", ann.id).await.id,
    );
    let (s, sv, q, c) = catalogue(&store, a).await;

    // Into the other tenant, pointing at acme's items: refused. Each in its own unit of
    // work: on PostgreSQL a refused statement ends the transaction.
    let attempts = [
        Attempt::Service(service(s.id, "B")),
        Attempt::Counter(counter(s.id)),
        Attempt::Queue(queue(sv.id)),
        Attempt::Queue(queue(Uuid::now_v7())),
    ];
    for attempt in attempts {
        let refused = store
            .write(move |tx| {
                let mut view = tx.in_tenant(o);
                let cat = view.catalogue();
                match &attempt {
                    Attempt::Service(x) => cat.insert_service(x),
                    Attempt::Counter(x) => cat.insert_counter(x),
                    Attempt::Queue(x) => cat.insert_queue(x),
                }
            })
            .await;
        assert!(
            matches!(refused, Err(SaveItemError::ParentMissing)),
            "{refused:?}"
        );
    }

    // Two queues cannot share a join link.
    let mut twin = queue(sv.id);
    twin.join_token = q.join_token.clone();
    let shared = store
        .write(move |tx| tx.in_tenant(a).catalogue().insert_queue(&twin))
        .await;
    assert!(
        matches!(shared, Err(SaveItemError::Store(StoreError::Conflict(_)))),
        "{shared:?}"
    );

    let site_used = store
        .write(move |tx| tx.in_tenant(a).catalogue().delete_site(s.id))
        .await;
    assert!(
        matches!(site_used, Err(DeleteItemError::InUse)),
        "{site_used:?}"
    );
    let service_used = store
        .write(move |tx| tx.in_tenant(a).catalogue().delete_service(sv.id))
        .await;
    assert!(
        matches!(service_used, Err(DeleteItemError::InUse)),
        "{service_used:?}"
    );

    let gone = store
        .write(move |tx| {
            let mut view = tx.in_tenant(a);
            let cat = view.catalogue();
            Ok::<_, DeleteItemError>([
                cat.delete_queue(q.id)?,
                cat.delete_service(sv.id)?,
                cat.delete_counter(c.id)?,
                cat.delete_site(s.id)?,
                cat.delete_site(s.id)?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(gone, [true, true, true, true, false]);
}
