//! Administration: the audit log of security-relevant events.

mod audit;

pub use audit::{AuditAction, AuditEvent};
