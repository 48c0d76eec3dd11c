//! A tenant's catalogue (sites, services, queues, counters), through the view bound to it.
//! Lists are in id order (ids are time-ordered: creation order), a page at a time.

use accueil_domain::queues::{Counter, Queue, Service, Site};
use uuid::Uuid;

use crate::StoreError;

/// Why an item could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteItemError {
    /// Other items, or tickets, still refer to it.
    #[error("still in use")]
    InUse,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an item could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SaveItemError {
    /// The site or service it belongs to is not the bound tenant's (or no longer exists).
    #[error("its parent is missing")]
    ParentMissing,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The bound tenant's catalogue.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait CatalogueRepo: Send {
    /// Sites with ids after `after`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn sites(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Site>, StoreError>;
    /// One site.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn site(&mut self, id: Uuid) -> Result<Option<Site>, StoreError>;
    /// Stores a new site.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn insert_site(&mut self, site: &Site) -> Result<(), StoreError>;
    /// Writes a site's fields; returns whether it exists.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_site(&mut self, site: &Site) -> Result<bool, StoreError>;
    /// Deletes a site; returns whether it existed.
    ///
    /// # Errors
    /// [`DeleteItemError::InUse`] while services or counters are at it.
    fn delete_site(&mut self, id: Uuid) -> Result<bool, DeleteItemError>;

    /// Services with ids after `after`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn services(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Service>, StoreError>;
    /// One service.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn service(&mut self, id: Uuid) -> Result<Option<Service>, StoreError>;
    /// Stores a new service.
    ///
    /// # Errors
    /// [`SaveItemError::ParentMissing`] when its site is not the tenant's.
    fn insert_service(&mut self, service: &Service) -> Result<(), SaveItemError>;
    /// Writes a service's fields (not its site); returns whether it exists.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_service(&mut self, service: &Service) -> Result<bool, StoreError>;
    /// Deletes a service; returns whether it existed.
    ///
    /// # Errors
    /// [`DeleteItemError::InUse`] while queues are of it.
    fn delete_service(&mut self, id: Uuid) -> Result<bool, DeleteItemError>;

    /// Queues with ids after `after`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn queues(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Queue>, StoreError>;
    /// One queue.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn queue(&mut self, id: Uuid) -> Result<Option<Queue>, StoreError>;
    /// Stores a new queue.
    ///
    /// # Errors
    /// [`SaveItemError::ParentMissing`] when its service is not the tenant's.
    fn insert_queue(&mut self, queue: &Queue) -> Result<(), SaveItemError>;
    /// Writes a queue's fields, its join token included (not its service); returns whether it
    /// exists.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_queue(&mut self, queue: &Queue) -> Result<bool, StoreError>;
    /// Deletes a queue (agents stop serving it); returns whether it existed.
    ///
    /// # Errors
    /// [`DeleteItemError::InUse`] while tickets are of it.
    fn delete_queue(&mut self, id: Uuid) -> Result<bool, DeleteItemError>;

    /// Counters with ids after `after`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn counters(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Counter>, StoreError>;
    /// One counter.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn counter(&mut self, id: Uuid) -> Result<Option<Counter>, StoreError>;
    /// Stores a new counter.
    ///
    /// # Errors
    /// [`SaveItemError::ParentMissing`] when its site is not the tenant's.
    fn insert_counter(&mut self, counter: &Counter) -> Result<(), SaveItemError>;
    /// Writes a counter's fields (not its site); returns whether it exists.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_counter(&mut self, counter: &Counter) -> Result<bool, StoreError>;
    /// Deletes a counter (agents at it are at none); returns whether it existed.
    ///
    /// # Errors
    /// `Store` on failure.
    fn delete_counter(&mut self, id: Uuid) -> Result<bool, DeleteItemError>;
}
