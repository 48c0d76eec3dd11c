//! The audit log in memory.

use accueil_domain::admin::AuditEvent;
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::admin::AuditRepo;

use crate::MemTx;

impl AuditRepo for MemTx<'_> {
    fn record(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.audit.iter().any(|e| e.id == event.id) {
            return Err(StoreError::Conflict("audit_events.id".into()));
        }
        self.state.audit.push(event.clone());
        Ok(())
    }

    fn about(&mut self, subject: UserId) -> Result<Vec<AuditEvent>, StoreError> {
        let mut events: Vec<AuditEvent> = self
            .state
            .audit
            .iter()
            .filter(|e| e.subject == Some(subject))
            .cloned()
            .collect();
        events.sort_by_key(|e| (e.at, e.id));
        Ok(events)
    }
}
