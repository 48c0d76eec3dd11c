//! A tenant's customers: seen by every member (`customers:read`), kept by managers
//! (`customers:write`).

use accueil_domain::queues::{Customer, CustomerChanges, NewCustomer, Scope};
use accueil_ports::scope::TenantTx;
use uuid::Uuid;

use super::catalogue::{ChangeItemError, InTenantLookupError};
use super::{InTenantError, QueuesService, Requires};
use crate::couples::Page;
use crate::identity::Caller;
use crate::scope::NotFound;

const NO_CUSTOMER: NotFound = NotFound("customer");

impl QueuesService {
    /// The tenant's customers, in creation order (`customers:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn customers(
        &self,
        caller: &Caller,
        slug: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<Customer>, InTenantError> {
        let list = |t: &mut dyn TenantTx, a, l| t.customers().customers(a, l);
        self.page_of(
            caller,
            slug,
            Scope::CustomersRead,
            (after, limit),
            list,
            |c| c.id,
        )
        .await
    }

    /// One customer (`customers:read`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn customer(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<Customer, InTenantLookupError> {
        self.one_of(caller, slug, Scope::CustomersRead, NO_CUSTOMER, move |t| {
            t.customers().customer(id)
        })
        .await
    }

    /// Adds a customer (`customers:write`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn create_customer(
        &self,
        caller: &Caller,
        slug: &str,
        new: NewCustomer,
    ) -> Result<Customer, InTenantError> {
        let id = self.ports.ids.new_id();
        self.create_in(caller, slug, Scope::CustomersWrite, move |t, now| {
            let customer = new.into_customer(id, now);
            t.customers().insert_customer(&customer)?;
            Ok(customer)
        })
        .await
    }

    /// Changes a customer (`customers:write`); the consents are checked against the addresses
    /// that result.
    ///
    /// # Errors
    /// See [`ChangeItemError`].
    pub async fn edit_customer(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
        changes: CustomerChanges,
    ) -> Result<Customer, ChangeItemError> {
        let scope = (caller, slug, Scope::CustomersWrite);
        let change = move |c: &mut Customer, now| Ok(changes.apply_to(c, now)?);
        self.change_in(
            scope,
            NO_CUSTOMER,
            |t, id| t.customers().customer(id),
            id,
            change,
            |t, c| t.customers().update_customer(c),
        )
        .await
    }

    /// Deletes a customer (`customers:write`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn delete_customer(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<(), InTenantLookupError> {
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::CustomersWrite),
                slug,
                move |cx| -> Result<(), InTenantLookupError> {
                    if cx.tenant().customers().delete_customer(id)? {
                        Ok(())
                    } else {
                        Err(NO_CUSTOMER.into())
                    }
                },
            )
            .await
    }
}
