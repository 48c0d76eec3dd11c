//! Administration use cases: operators' actions on accounts, and the audit log they write.

mod users;

pub use users::{AdminOutcome, CreateAdminError, SetActiveError};

use accueil_domain::admin::{AuditAction, AuditEvent};
use accueil_domain::identity::UserId;
use chrono::{DateTime, Utc};

use crate::Ports;
use crate::identity::IdentitySettings;

/// The administration use cases.
#[derive(Clone)]
pub struct AdminService {
    ports: Ports,
    #[allow(dead_code)]
    settings: IdentitySettings,
}

impl AdminService {
    /// A service over these ports.
    pub fn new(ports: Ports, settings: IdentitySettings) -> Self {
        Self { ports, settings }
    }
}

/// An audit event with a new id.
pub(crate) fn audit_event(
    ports: &Ports,
    at: DateTime<Utc>,
    action: AuditAction,
    actor: Option<UserId>,
    subject: UserId,
    detail: impl Into<String>,
) -> AuditEvent {
    AuditEvent {
        id: ports.ids.new_id(),
        at,
        actor,
        action,
        subject: Some(subject),
        detail: detail.into(),
    }
}
