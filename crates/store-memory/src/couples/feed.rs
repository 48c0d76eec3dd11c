//! The couples' change feed in memory.

use accueil_domain::couples::{Change, ChangeOp, CoupleId, EntityKind};
use accueil_ports::StoreError;
use accueil_ports::couples::FeedRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::MemTx;

impl FeedRepo for MemTx<'_> {
    fn record_change(
        &mut self,
        couple: CoupleId,
        kind: EntityKind,
        entity: Uuid,
        op: ChangeOp,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.writable()?;
        let Some((_, seq)) = self.state.couples.get_mut(&couple) else {
            return Err(StoreError::Internal("change for an unknown couple".into()));
        };
        *seq += 1;
        let seq = *seq;
        self.state.changes.push(Change {
            couple_id: couple,
            seq,
            kind,
            entity_id: entity,
            op,
            at,
        });
        Ok(seq)
    }

    fn changes_after(
        &mut self,
        couple: CoupleId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let mut all: Vec<Change> = self
            .state
            .changes
            .iter()
            .filter(|c| c.couple_id == couple && c.seq > after)
            .cloned()
            .collect();
        all.sort_by_key(|c| c.seq);
        all.truncate(limit as usize);
        Ok(all)
    }

    fn changes_since(
        &mut self,
        couple: CoupleId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let mut all: Vec<Change> = self
            .state
            .changes
            .iter()
            .filter(|c| c.couple_id == couple && c.at > since)
            .cloned()
            .collect();
        all.sort_by_key(|c| c.seq);
        all.truncate(limit as usize);
        Ok(all)
    }
}
