//! A tenant's settings and members through the view bound to it: everything it reads and
//! writes is the bound tenant's, and another tenant's members are out of reach.

use accueil_domain::identity::TimeZone;
use accueil_domain::queues::{Role, TenantName};

use super::tenant;
use crate::contract::prelude::*;

/// Members are added once, change role, are counted and removed, within their tenant only.
pub async fn members_stay_in_their_tenant(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let bob = new_user("bob@example.org").insert(&store).await;
    let eve = new_user("eve@example.org").insert(&store).await;
    let acme = tenant(&store, "acme", ann.id).await;
    let other = tenant(&store, "other", eve.id).await;
    let (a, o) = (acme.id, other.id);
    let later = t0() + Duration::hours(1);

    assert!(
        store
            .write(move |tx| tx
                .in_tenant(a)
                .members()
                .add_member(bob.id, Role::Agent, later))
            .await
            .unwrap()
    );
    assert!(
        !store
            .write(move |tx| tx
                .in_tenant(a)
                .members()
                .add_member(bob.id, Role::Admin, later))
            .await
            .unwrap(),
        "already a member: unchanged"
    );
    let members = store
        .read(move |tx| tx.in_tenant(a).members().members())
        .await
        .unwrap();
    let listed: Vec<(&str, Role)> = members
        .iter()
        .map(|m| (m.email.as_str(), m.membership.role))
        .collect();
    assert_eq!(
        listed,
        [
            ("ann@example.org", Role::Admin),
            ("bob@example.org", Role::Agent)
        ]
    );
    assert_eq!(members[0].display_name, ann.display_name);
    assert_eq!(members[1].membership.created_at, later);

    // Through the other tenant's view, acme's members do not exist.
    let (seen, role_set, removed) = store
        .write(move |tx| {
            let mut view = tx.in_tenant(o);
            let m = view.members();
            Ok::<_, StoreError>((
                m.member(bob.id)?,
                m.set_role(bob.id, Role::Admin, later)?,
                m.remove_member(ann.id)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((seen, role_set, removed), (None, false, false));
    let others = store
        .read(move |tx| tx.in_tenant(o).members().members())
        .await
        .unwrap();
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].email.as_str(), "eve@example.org");

    let promoted = later + Duration::hours(1);
    assert!(
        store
            .write(move |tx| tx
                .in_tenant(a)
                .members()
                .set_role(bob.id, Role::Admin, promoted))
            .await
            .unwrap()
    );
    let (admins, bobs) = store
        .read(move |tx| {
            let mut view = tx.in_tenant(a);
            Ok::<_, StoreError>((
                view.members().count_admins()?,
                view.members().member(bob.id)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(admins, 2);
    let bobs = bobs.unwrap();
    assert_eq!(
        (bobs.role, bobs.updated_at, bobs.created_at),
        (Role::Admin, promoted, later)
    );
    assert_eq!(
        store
            .read(move |tx| tx.in_tenant(o).members().count_admins())
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .write(move |tx| tx.in_tenant(a).members().remove_member(bob.id))
            .await
            .unwrap()
    );
    assert!(
        store
            .read(move |tx| tx.in_tenant(a).members().member(bob.id))
            .await
            .unwrap()
            .is_none()
    );
}

/// The bound tenant's settings: read and written through its view, never another's.
pub async fn settings_of_the_bound_tenant(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let acme = tenant(&store, "acme", ann.id).await;
    let other = tenant(&store, "other", ann.id).await;
    let (a, o) = (acme.id, other.id);
    let mut changed = store
        .write(move |tx| tx.in_tenant(a).members().this_tenant())
        .await
        .unwrap();
    assert_eq!(changed, acme);
    changed.name = TenantName::parse("Acme Corp").unwrap();
    changed.time_zone = TimeZone::parse("Asia/Tokyo").unwrap();
    changed.updated_at = t0() + Duration::days(1);
    // A tenant value naming another tenant still writes the bound one only.
    let mut smuggled = changed.clone();
    smuggled.id = o;
    store
        .write(move |tx| tx.in_tenant(a).members().update_tenant(&smuggled))
        .await
        .unwrap();
    let back = store
        .read(move |tx| tx.in_tenant(a).members().this_tenant())
        .await
        .unwrap();
    assert_eq!(back.name.as_str(), "Acme Corp");
    assert_eq!(back.time_zone.as_str(), "Asia/Tokyo");
    assert_eq!(back.slug, acme.slug, "the slug never changes");
    assert_eq!(back.updated_at, t0() + Duration::days(1));
    let untouched = store
        .read(move |tx| tx.in_tenant(o).members().this_tenant())
        .await
        .unwrap();
    assert_eq!(untouched, other);
}
