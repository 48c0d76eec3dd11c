//! A tenant's catalogue in memory, on the bound view: each item keyed by (tenant, id), so a
//! page is a range of one tenant's keys. The references SQL enforces with foreign keys are
//! checked here by hand.

use std::collections::BTreeMap;
use std::ops::Bound;

use accueil_domain::identity::UserId;
use accueil_domain::queues::tickets::{Ticket, TicketEvent};
use accueil_domain::queues::{AgentProfile, Counter, Customer, Queue, Service, Site, TenantId};
use accueil_ports::StoreError;
use accueil_ports::queues::{CatalogueRepo, DayCount, DeleteItemError, SaveItemError};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::MemTenantTx;

/// One kind of item, by tenant and id.
pub(crate) type Items<T> = BTreeMap<(TenantId, Uuid), T>;

/// Every tenant's catalogue, customers and agent profiles.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantRows {
    pub(crate) sites: Items<Site>,
    pub(crate) services: Items<Service>,
    pub(crate) queues: Items<Queue>,
    pub(crate) counters: Items<Counter>,
    pub(crate) customers: Items<Customer>,
    pub(crate) agents: BTreeMap<(TenantId, UserId), AgentProfile>,
    pub(crate) tickets: Items<Ticket>,
    pub(crate) ticket_events: Vec<(TenantId, TicketEvent)>,
    pub(crate) days: BTreeMap<(TenantId, Uuid, NaiveDate), DayCount>,
}

impl TenantRows {
    /// Drops everything of `tenant` (its purge).
    pub(crate) fn forget(&mut self, tenant: TenantId) {
        let mine = |(t, _): &(TenantId, Uuid)| *t == tenant;
        self.sites.retain(|k, _| !mine(k));
        self.services.retain(|k, _| !mine(k));
        self.queues.retain(|k, _| !mine(k));
        self.counters.retain(|k, _| !mine(k));
        self.customers.retain(|k, _| !mine(k));
        self.agents.retain(|(t, _), _| *t != tenant);
        self.tickets.retain(|k, _| !mine(k));
        self.ticket_events.retain(|(t, _)| *t != tenant);
        self.days.retain(|(t, _, _), _| *t != tenant);
    }
}

/// `tenant`'s items with ids after `after`, at most `limit`.
pub(crate) fn page<T: Clone>(
    items: &Items<T>,
    tenant: TenantId,
    after: Option<Uuid>,
    limit: u32,
) -> Vec<T> {
    let from = after.map_or(Bound::Included((tenant, Uuid::nil())), |a| {
        Bound::Excluded((tenant, a))
    });
    items
        .range((from, Bound::Included((tenant, Uuid::max()))))
        .take(limit as usize)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Replaces an existing item; whether it existed.
pub(crate) fn replace<T: Clone>(items: &mut Items<T>, key: (TenantId, Uuid), item: &T) -> bool {
    match items.get_mut(&key) {
        Some(slot) => {
            *slot = item.clone();
            true
        }
        None => false,
    }
}

impl MemTenantTx<'_> {
    fn key(&self, id: Uuid) -> (TenantId, Uuid) {
        (self.tenant, id)
    }

    fn rows(&mut self) -> &mut TenantRows {
        &mut self.state.tenant_rows
    }
}

impl CatalogueRepo for MemTenantTx<'_> {
    fn sites(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Site>, StoreError> {
        Ok(page(
            &self.state.tenant_rows.sites,
            self.tenant,
            after,
            limit,
        ))
    }

    fn site(&mut self, id: Uuid) -> Result<Option<Site>, StoreError> {
        Ok(self.state.tenant_rows.sites.get(&self.key(id)).cloned())
    }

    fn insert_site(&mut self, site: &Site) -> Result<(), StoreError> {
        self.writable()?;
        let key = self.key(site.id);
        self.rows().sites.insert(key, site.clone());
        Ok(())
    }

    fn update_site(&mut self, site: &Site) -> Result<bool, StoreError> {
        self.writable()?;
        let key = self.key(site.id);
        Ok(replace(&mut self.rows().sites, key, site))
    }

    fn delete_site(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        self.writable()?;
        let (key, rows) = (self.key(id), &self.state.tenant_rows);
        let used = rows
            .services
            .iter()
            .any(|(k, s)| k.0 == key.0 && s.site_id == id)
            || rows
                .counters
                .iter()
                .any(|(k, c)| k.0 == key.0 && c.site_id == id);
        if used {
            return Err(DeleteItemError::InUse);
        }
        Ok(self.rows().sites.remove(&key).is_some())
    }

    fn services(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Service>, StoreError> {
        Ok(page(
            &self.state.tenant_rows.services,
            self.tenant,
            after,
            limit,
        ))
    }

    fn service(&mut self, id: Uuid) -> Result<Option<Service>, StoreError> {
        Ok(self.state.tenant_rows.services.get(&self.key(id)).cloned())
    }

    fn insert_service(&mut self, service: &Service) -> Result<(), SaveItemError> {
        self.writable()?;
        if !self
            .state
            .tenant_rows
            .sites
            .contains_key(&self.key(service.site_id))
        {
            return Err(SaveItemError::ParentMissing);
        }
        let key = self.key(service.id);
        self.rows().services.insert(key, service.clone());
        Ok(())
    }

    fn update_service(&mut self, service: &Service) -> Result<bool, StoreError> {
        self.writable()?;
        let key = self.key(service.id);
        let Some(stored) = self.rows().services.get(&key) else {
            return Ok(false);
        };
        let service = Service {
            site_id: stored.site_id,
            ..service.clone()
        };
        Ok(replace(&mut self.rows().services, key, &service))
    }

    fn delete_service(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        self.writable()?;
        let key = self.key(id);
        if self
            .rows()
            .queues
            .iter()
            .any(|(k, q)| k.0 == key.0 && q.service_id == id)
        {
            return Err(DeleteItemError::InUse);
        }
        Ok(self.rows().services.remove(&key).is_some())
    }

    fn queues(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Queue>, StoreError> {
        Ok(page(
            &self.state.tenant_rows.queues,
            self.tenant,
            after,
            limit,
        ))
    }

    fn queue(&mut self, id: Uuid) -> Result<Option<Queue>, StoreError> {
        Ok(self.state.tenant_rows.queues.get(&self.key(id)).cloned())
    }

    fn insert_queue(&mut self, queue: &Queue) -> Result<(), SaveItemError> {
        self.writable()?;
        if !self
            .state
            .tenant_rows
            .services
            .contains_key(&self.key(queue.service_id))
        {
            return Err(SaveItemError::ParentMissing);
        }
        let taken = self
            .state
            .tenant_rows
            .queues
            .values()
            .any(|q| q.join_token == queue.join_token);
        if taken {
            return Err(StoreError::Conflict("queues.join_token".into()).into());
        }
        let key = self.key(queue.id);
        self.rows().queues.insert(key, queue.clone());
        Ok(())
    }

    fn update_queue(&mut self, queue: &Queue) -> Result<bool, StoreError> {
        self.writable()?;
        let key = self.key(queue.id);
        let Some(stored) = self.rows().queues.get(&key) else {
            return Ok(false);
        };
        let queue = Queue {
            service_id: stored.service_id,
            ..queue.clone()
        };
        Ok(replace(&mut self.rows().queues, key, &queue))
    }

    fn delete_queue(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        self.writable()?;
        let (key, tenant) = (self.key(id), self.tenant);
        if self
            .rows()
            .tickets
            .iter()
            .any(|(k, t)| k.0 == tenant && t.queue_id == id)
        {
            return Err(DeleteItemError::InUse);
        }
        let gone = self.rows().queues.remove(&key).is_some();
        for ((t, _), agent) in &mut self.rows().agents {
            if *t == tenant {
                agent.queue_ids.retain(|q| *q != id);
            }
        }
        Ok(gone)
    }

    fn counters(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Counter>, StoreError> {
        Ok(page(
            &self.state.tenant_rows.counters,
            self.tenant,
            after,
            limit,
        ))
    }

    fn counter(&mut self, id: Uuid) -> Result<Option<Counter>, StoreError> {
        Ok(self.state.tenant_rows.counters.get(&self.key(id)).cloned())
    }

    fn insert_counter(&mut self, counter: &Counter) -> Result<(), SaveItemError> {
        self.writable()?;
        if !self
            .state
            .tenant_rows
            .sites
            .contains_key(&self.key(counter.site_id))
        {
            return Err(SaveItemError::ParentMissing);
        }
        let key = self.key(counter.id);
        self.rows().counters.insert(key, counter.clone());
        Ok(())
    }

    fn update_counter(&mut self, counter: &Counter) -> Result<bool, StoreError> {
        self.writable()?;
        let key = self.key(counter.id);
        let Some(stored) = self.rows().counters.get(&key) else {
            return Ok(false);
        };
        let counter = Counter {
            site_id: stored.site_id,
            ..counter.clone()
        };
        Ok(replace(&mut self.rows().counters, key, &counter))
    }

    fn delete_counter(&mut self, id: Uuid) -> Result<bool, DeleteItemError> {
        self.writable()?;
        let (key, tenant) = (self.key(id), self.tenant);
        let gone = self.rows().counters.remove(&key).is_some();
        for ((t, _), agent) in &mut self.rows().agents {
            if *t == tenant && agent.counter_id == Some(id) {
                agent.counter_id = None;
            }
        }
        Ok(gone)
    }
}
