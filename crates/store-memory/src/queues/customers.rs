//! A tenant's customers in memory, on the bound view.

use accueil_domain::queues::Customer;
use accueil_ports::StoreError;
use accueil_ports::queues::CustomersRepo;
use uuid::Uuid;

use super::catalogue::{page, replace};
use crate::MemTenantTx;

impl CustomersRepo for MemTenantTx<'_> {
    fn customers(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Customer>, StoreError> {
        Ok(page(
            &self.state.tenant_rows.customers,
            self.tenant,
            after,
            limit,
        ))
    }

    fn customer(&mut self, id: Uuid) -> Result<Option<Customer>, StoreError> {
        Ok(self
            .state
            .tenant_rows
            .customers
            .get(&(self.tenant, id))
            .cloned())
    }

    fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError> {
        self.writable()?;
        self.state
            .tenant_rows
            .customers
            .insert((self.tenant, customer.id), customer.clone());
        Ok(())
    }

    fn update_customer(&mut self, customer: &Customer) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(replace(
            &mut self.state.tenant_rows.customers,
            (self.tenant, customer.id),
            customer,
        ))
    }

    fn delete_customer(&mut self, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        // Their tickets stay, without a customer (SQL: ON DELETE SET NULL).
        for ((t, _), ticket) in &mut self.state.tenant_rows.tickets {
            if *t == self.tenant && ticket.customer_id == Some(id) {
                ticket.customer_id = None;
            }
        }
        Ok(self
            .state
            .tenant_rows
            .customers
            .remove(&(self.tenant, id))
            .is_some())
    }
}
