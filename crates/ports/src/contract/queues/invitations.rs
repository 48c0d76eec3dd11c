//! A tenant's invitations: a newer one to an address replaces the older, pending ones are
//! listed, one is revoked or accepted once, and another tenant's view reaches none; the
//! registry finds one by its link's digest whatever the tenant.

use accueil_domain::identity::{Email, TokenDigest};
use accueil_domain::queues::{INVITATION_TTL, Invitation, NewInvitation, TenantId};

use super::tenant;
use crate::contract::prelude::*;

fn invitation(
    tenant: TenantId,
    email: &str,
    digest: &str,
    by: UserId,
    at: DateTime<Utc>,
) -> Invitation {
    NewInvitation::parse(email, "AGENT")
        .unwrap()
        .into_invitation(Uuid::now_v7(), tenant, TokenDigest(digest.into()), by, at)
}

pub async fn lifecycle(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let zoe = new_user("zoe@example.org").insert(&store).await;
    let acme = tenant(&store, "acme", ann.id).await;
    let other = tenant(&store, "other", ann.id).await;
    let (a, o) = (acme.id, other.id);
    let first = invitation(a, "Zoe@example.org", "d1", ann.id, t0());
    let later = t0() + Duration::hours(1);
    let second = invitation(a, "zoe@EXAMPLE.org", "d2", ann.id, later);
    let elsewhere = invitation(o, "zoe@example.org", "d3", ann.id, t0());
    for (view, inv) in [
        (a, first.clone()),
        (a, second.clone()),
        (o, elsewhere.clone()),
    ] {
        store
            .write(move |tx| tx.in_tenant(view).invitations().invite(&inv))
            .await
            .unwrap();
    }
    let pending = store
        .read(move |tx| tx.in_tenant(a).invitations().pending_invitations(later))
        .await
        .unwrap();
    assert_eq!(
        pending.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![second.id],
        "the newer invitation to the address replaced the older"
    );
    let replaced = store
        .read(|tx| tx.tenants().invitation_by_digest(&TokenDigest("d1".into())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.revoked_at, Some(later));
    let found = store
        .read(|tx| tx.tenants().invitation_by_digest(&TokenDigest("d2".into())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, second);
    assert_eq!(found.email, Email::parse("zoe@EXAMPLE.org").unwrap());
    assert_eq!(found.expires_at, later + INVITATION_TTL);
    assert!(
        store
            .read(|tx| tx
                .tenants()
                .invitation_by_digest(&TokenDigest("nope".into())))
            .await
            .unwrap()
            .is_none()
    );

    // Another tenant's view cannot revoke or accept acme's invitation.
    let id = second.id;
    let (revoked, accepted) = store
        .write(move |tx| {
            let mut view = tx.in_tenant(o);
            Ok::<_, StoreError>((
                view.invitations().revoke_invitation(id, later)?,
                view.invitations().accept_invitation(id, zoe.id, later)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((revoked, accepted), (false, false));
    let at = later + Duration::minutes(5);
    let accept = move |tx: &mut dyn crate::Tx| {
        tx.in_tenant(a)
            .invitations()
            .accept_invitation(id, zoe.id, at)
    };
    assert!(store.write(accept).await.unwrap());
    assert!(!store.write(accept).await.unwrap(), "accepted once");
    assert!(
        !store
            .write(move |tx| tx.in_tenant(a).invitations().revoke_invitation(id, at))
            .await
            .unwrap(),
        "an accepted invitation is not pending"
    );
    let done = store
        .read(|tx| tx.tenants().invitation_by_digest(&TokenDigest("d2".into())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.accepted, Some((at, zoe.id)));

    // The other tenant's invitation is untouched; revoking it works once; expired ones are
    // not pending.
    let eid = elsewhere.id;
    assert!(
        store
            .write(move |tx| tx.in_tenant(o).invitations().revoke_invitation(eid, at))
            .await
            .unwrap()
    );
    let expired = invitation(o, "old@example.org", "d4", ann.id, t0());
    let e = expired.clone();
    store
        .write(move |tx| tx.in_tenant(o).invitations().invite(&e))
        .await
        .unwrap();
    let gone = t0() + INVITATION_TTL;
    let pending = store
        .read(move |tx| tx.in_tenant(o).invitations().pending_invitations(gone))
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}
