//! A tenant's customers through the view bound to it.

use accueil_domain::queues::{ConsentFields, Customer, CustomerChanges, NewCustomer};
use accueil_domain::validation::Patch;

use super::tenant;
use crate::contract::prelude::*;

pub(crate) fn customer(name: &str) -> Customer {
    NewCustomer::parse(
        Some(name),
        Some("+33 6 12 34 56 78"),
        Some("c@example.org"),
        ConsentFields {
            sms: Some(true),
            email: Some(true),
            ..ConsentFields::default()
        },
        Some("fr"),
    )
    .unwrap()
    .into_customer(Uuid::now_v7(), t0())
}

/// Customers round-trip, change, page in creation order and are deleted, in their tenant only.
pub async fn customers_stay_in_their_tenant(store: Shared) {
    let ann = new_user("ann@example.org").insert(&store).await;
    let (a, o) = (
        tenant(&store, "acme", ann.id).await.id,
        tenant(&store, "other", ann.id).await.id,
    );
    let all: Vec<Customer> = ["Cy", "Di", "Ed"].into_iter().map(customer).collect();
    let stored = all.clone();
    store
        .write(move |tx| {
            let mut view = tx.in_tenant(a);
            stored
                .iter()
                .try_for_each(|c| view.customers().insert_customer(c))
        })
        .await
        .unwrap();
    let (first, rest) = store
        .read(move |tx| {
            let mut view = tx.in_tenant(a);
            let first = view.customers().customers(None, 2)?;
            let rest = view.customers().customers(Some(first[1].id), 2)?;
            Ok::<_, StoreError>((first, rest))
        })
        .await
        .unwrap();
    assert_eq!([first, rest].concat(), all);

    let mut changed = all[0].clone();
    CustomerChanges::parse(
        Patch::Clear,
        Patch::Clear,
        Patch::Keep,
        ConsentFields {
            push: Some(true),
            ..ConsentFields::default()
        },
        Patch::Clear,
    )
    .unwrap()
    .apply_to(&mut changed, t0() + Duration::hours(1))
    .unwrap();
    let c = changed.clone();
    assert!(
        store
            .write(move |tx| tx.in_tenant(a).customers().update_customer(&c))
            .await
            .unwrap()
    );
    let id = changed.id;
    let read = store
        .read(move |tx| tx.in_tenant(a).customers().customer(id))
        .await
        .unwrap();
    assert_eq!(read, Some(changed.clone()));
    assert!(read.is_some_and(|c| c.phone.is_none() && c.consent.push && !c.consent.sms));

    let c = changed.clone();
    let elsewhere = store
        .write(move |tx| {
            let mut view = tx.in_tenant(o);
            let r = view.customers();
            Ok::<_, StoreError>((
                r.customers(None, 50)?.len(),
                r.customer(c.id)?,
                r.update_customer(&c)?,
                r.delete_customer(c.id)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(elsewhere, (0, None, false, false));
    let deleted = store
        .write(move |tx| {
            let mut view = tx.in_tenant(a);
            Ok::<_, StoreError>((
                view.customers().delete_customer(id)?,
                view.customers().delete_customer(id)?,
                view.customers().customers(None, 50)?.len(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(deleted, (true, false, 2));
}
