//! A tenant's customers, through the view bound to it.

use accueil_domain::queues::Customer;
use uuid::Uuid;

use crate::StoreError;

/// The bound tenant's customers.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait CustomersRepo: Send {
    /// Customers with ids after `after` (creation order), at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn customers(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Customer>, StoreError>;
    /// One customer.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn customer(&mut self, id: Uuid) -> Result<Option<Customer>, StoreError>;
    /// Stores a new customer.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError>;
    /// Writes a customer's fields; returns whether they exist.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_customer(&mut self, customer: &Customer) -> Result<bool, StoreError>;
    /// Deletes a customer; returns whether they existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_customer(&mut self, id: Uuid) -> Result<bool, StoreError>;
}
