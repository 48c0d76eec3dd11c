//! The tenant registry: creation with its first ADMIN, unique slugs, lookups, a user's tenants.

use accueil_domain::identity::Language;
use accueil_domain::queues::{NewTenant, Role, TenantId};

use super::tenant;
use crate::contract::prelude::*;
use crate::queues::TenantWriteError;

/// A tenant comes with its ADMIN, is found by its slug, and its slug is unique.
pub async fn registry(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let bob = new_user("bob@example.org").insert(&store).await;
    let acme = tenant(&store, "acme", ann.id).await;
    let found = store
        .read(|tx| tx.tenants().tenant_by_slug("acme"))
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&acme));
    assert_eq!(found.unwrap().locale, Language::Fr);
    assert!(
        store
            .read(|tx| tx.tenants().tenant_by_slug("nobody"))
            .await
            .unwrap()
            .is_none()
    );
    let m = store
        .read(move |tx| tx.tenants().membership(acme.id, ann.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.tenant, m.user, m.role, m.created_at),
        (acme.id, ann.id, Role::Admin, t0())
    );
    let acme_id = acme.id;
    assert!(
        store
            .read(move |tx| tx.tenants().membership(acme_id, bob.id))
            .await
            .unwrap()
            .is_none()
    );

    let again = NewTenant::parse("acme", "Other", "UTC", None)
        .unwrap()
        .into_tenant(TenantId(Uuid::now_v7()), t0());
    let taken = store
        .write(move |tx| tx.tenants().create_tenant(&again, bob.id))
        .await;
    assert!(
        matches!(taken, Err(TenantWriteError::SlugTaken)),
        "{taken:?}"
    );
    assert!(
        store
            .read(move |tx| tx.tenants().tenants_of(bob.id))
            .await
            .unwrap()
            .is_empty(),
        "the refused tenant left no membership behind"
    );
}

/// A user's tenants, by slug, with their role in each.
pub async fn tenants_of_a_user(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let bob = new_user("bob@example.org").insert(&store).await;
    let zeta = tenant(&store, "zeta", ann.id).await;
    let alpha = tenant(&store, "alpha", bob.id).await;
    let alpha_id = alpha.id;
    store
        .write(move |tx| {
            tx.in_tenant(alpha_id)
                .members()
                .add_member(ann.id, Role::Agent, t0())
        })
        .await
        .unwrap();
    let mine = store
        .read(move |tx| tx.tenants().tenants_of(ann.id))
        .await
        .unwrap();
    let mine: Vec<(&str, Role)> = mine.iter().map(|(t, r)| (t.slug.as_str(), *r)).collect();
    assert_eq!(mine, [("alpha", Role::Agent), ("zeta", Role::Admin)]);
    let bobs = store
        .read(move |tx| tx.tenants().tenants_of(bob.id))
        .await
        .unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].0.id, alpha.id);
    let _ = zeta;
}
