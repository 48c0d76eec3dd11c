//! A tenant's agent profiles, through the view bound to it. A profile belongs to a member and
//! goes with the membership.

use accueil_domain::identity::UserId;
use accueil_domain::queues::{AgentProfile, AgentStatus};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

/// The bound tenant's agent profiles.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait AgentsRepo: Send {
    /// The stored profiles (members who never set one have none), by user id.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn agents(&mut self) -> Result<Vec<AgentProfile>, StoreError>;
    /// One member's stored profile.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn agent(&mut self, user: UserId) -> Result<Option<AgentProfile>, StoreError>;
    /// A member's status and counter alone (one row), when they set a profile.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn presence(&mut self, user: UserId)
    -> Result<Option<(AgentStatus, Option<Uuid>)>, StoreError>;

    /// Sets a member's status at `at`, their counter and queues kept; returns whether they had
    /// a profile (none is made).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn set_status(
        &mut self,
        user: UserId,
        status: AgentStatus,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores a member's profile (its `updated_at` is set), replacing theirs; its counter
    /// and queues are the tenant's (the use case checked them in this unit of work).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure, or when `profile.user` is not a member.
    fn save_agent(&mut self, profile: &AgentProfile) -> Result<(), StoreError>;
}
