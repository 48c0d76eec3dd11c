//! The mail outbox in memory.

use accueil_domain::notify::{DeliveryState, OutboxEntry};
use accueil_ports::StoreError;
use accueil_ports::notify::OutboxRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::MemTx;

fn due_at(e: &OutboxEntry, now: DateTime<Utc>) -> bool {
    e.state == DeliveryState::Pending
        && e.next_attempt_at <= now
        && e.lease_until.is_none_or(|l| l <= now)
}

impl OutboxRepo for MemTx<'_> {
    fn enqueue(&mut self, entry: &OutboxEntry) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.outbox.contains_key(&entry.id) {
            return Err(StoreError::Conflict("outbox.id".into()));
        }
        self.state.outbox.insert(entry.id, entry.clone());
        Ok(())
    }

    fn due(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut due: Vec<OutboxEntry> = self
            .state
            .outbox
            .values()
            .filter(|e| due_at(e, now))
            .cloned()
            .collect();
        due.sort_by_key(|e| (e.next_attempt_at, e.id));
        due.truncate(limit as usize);
        Ok(due)
    }

    fn claim(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.outbox.get_mut(&id) {
            Some(e) if due_at(e, now) => {
                e.attempts += 1;
                e.lease_until = Some(lease_until);
                true
            }
            _ => false,
        })
    }

    fn mark_sent(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(e) = self.state.outbox.get_mut(&id) {
            e.state = DeliveryState::Sent;
            e.sent_at = Some(at);
            e.lease_until = None;
            e.mail.vars.clear();
        }
        Ok(())
    }

    fn mark_retry(
        &mut self,
        id: Uuid,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(e) = self.state.outbox.get_mut(&id) {
            e.next_attempt_at = next_attempt_at;
            e.lease_until = None;
            e.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    fn mark_failed(&mut self, id: Uuid, error: &str) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(e) = self.state.outbox.get_mut(&id) {
            e.state = DeliveryState::Failed;
            e.lease_until = None;
            e.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    fn requeue(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.outbox.get_mut(&id) {
            Some(e) if e.state == DeliveryState::Failed => {
                e.state = DeliveryState::Pending;
                e.attempts = 0;
                e.next_attempt_at = now;
                e.lease_until = None;
                true
            }
            _ => false,
        })
    }

    fn list(
        &mut self,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut all: Vec<OutboxEntry> = self
            .state
            .outbox
            .values()
            .filter(|e| state.is_none_or(|s| e.state == s))
            .cloned()
            .collect();
        all.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
        all.truncate(limit as usize);
        Ok(all)
    }

    fn get(&mut self, id: Uuid) -> Result<Option<OutboxEntry>, StoreError> {
        Ok(self.state.outbox.get(&id).cloned())
    }

    fn count_by_state(&mut self) -> Result<Vec<(DeliveryState, u64)>, StoreError> {
        let mut counts: Vec<(DeliveryState, u64)> = Vec::new();
        for e in self.state.outbox.values() {
            match counts.iter_mut().find(|(s, _)| *s == e.state) {
                Some((_, n)) => *n += 1,
                None => counts.push((e.state, 1)),
            }
        }
        Ok(counts)
    }
}
