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

/// A deleted tenant leaves its members' lists at once, and the purge removes it with its
/// members and invitations once its deletion is older than the cutoff.
pub async fn deleted_tenants_leave_then_go(store: Shared) {
    use accueil_domain::identity::TokenDigest;
    use accueil_domain::queues::NewInvitation;
    let ann = new_user("ann@example.org").insert(&store).await;
    let gone = tenant(&store, "gone", ann.id).await;
    let kept = tenant(&store, "kept", ann.id).await;
    let (g, k) = (gone.id, kept.id);
    // A catalogue, customers and an agent profile go with the tenant too.
    super::catalogue::catalogue(&store, g).await;
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(g);
            view.customers()
                .insert_customer(&super::customers::customer("Cy"))?;
            view.agents()
                .save_agent(&accueil_domain::queues::AgentProfile {
                    updated_at: Some(t0()),
                    ..accueil_domain::queues::AgentProfile::unset(ann.id)
                })
        })
        .await
        .unwrap();
    let inv = NewInvitation::parse("zoe@example.org", "AGENT")
        .unwrap()
        .into_invitation(Uuid::now_v7(), g, TokenDigest("dg".into()), ann.id, t0());
    let deleted_at = t0() + Duration::days(1);
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(g);
            view.invitations().invite(&inv)?;
            view.members().delete_tenant(deleted_at)
        })
        .await
        .unwrap();
    let mine = store
        .read(move |tx| tx.tenants().tenants_of(ann.id))
        .await
        .unwrap();
    assert_eq!(mine.iter().map(|(t, _)| t.id).collect::<Vec<_>>(), vec![k]);
    let found = store
        .read(|tx| tx.tenants().tenant_by_slug("gone"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.deleted_at, Some(deleted_at), "still there, marked");

    assert_eq!(
        store
            .write(move |tx| tx.tenants().purge_tenants_deleted_before(deleted_at))
            .await
            .unwrap(),
        0,
        "not before the cutoff"
    );
    let later = deleted_at + Duration::seconds(1);
    assert_eq!(
        store
            .write(move |tx| tx.tenants().purge_tenants_deleted_before(later))
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .read(|tx| tx.tenants().tenant_by_slug("gone"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .read(|tx| tx.tenants().invitation_by_digest(&TokenDigest("dg".into())))
            .await
            .unwrap()
            .is_none(),
        "its invitations went with it"
    );
    assert!(
        store
            .read(move |tx| tx.tenants().membership(g, ann.id))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .read(|tx| tx.tenants().tenant_by_slug("kept"))
            .await
            .unwrap()
            .is_some()
    );
}
