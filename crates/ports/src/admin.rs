//! Administration ports: the audit log.

use accueil_domain::admin::AuditEvent;
use accueil_domain::identity::UserId;

use crate::StoreError;

/// The append-only audit log.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AuditRepo: Send {
    /// Appends an event.
    ///
    /// # Errors
    /// `StoreError::Conflict` when an event with the same id exists; `StoreError::Internal`
    /// otherwise.
    fn record(&mut self, event: &AuditEvent) -> Result<(), StoreError>;

    /// Every event about `subject`, oldest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn about(&mut self, subject: UserId) -> Result<Vec<AuditEvent>, StoreError>;
}
