//! Events after commit: the store every use case runs on publishes what a unit of work emitted
//! once, and only once, its transaction has committed.
//!
//! [`Publishing`] wraps the adapter's store; the application never sees the unwrapped one, so
//! no use case can forget to publish, and a rolled-back unit of work (its closure returned
//! `Err`, or the commit failed) publishes nothing because the adapter returns events only with
//! a commit. Publishing happens after the commit and before the caller gets its answer: a
//! client told "done" may already have been notified, never the other way round, and a
//! notification always points at committed state.

use std::sync::Arc;

use accueil_domain::events::coalesce;
use accueil_ports::events::EventBus;
use accueil_ports::store::{Boxed, Work};
use accueil_ports::{Access, Committed, Store, StoreError};
use async_trait::async_trait;

/// A store whose committed units of work publish their events on `bus`.
pub struct Publishing {
    inner: Arc<dyn Store>,
    bus: Arc<dyn EventBus>,
}

impl Publishing {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Store>, bus: Arc<dyn EventBus>) -> Self {
        Self { inner, bus }
    }
}

#[async_trait]
impl Store for Publishing {
    async fn run(
        &self,
        access: Access,
        work: Work,
    ) -> Result<Result<Committed, Boxed>, StoreError> {
        let mut outcome = self.inner.run(access, work).await?;
        if let Ok(done) = &mut outcome {
            let events = coalesce(std::mem::take(&mut done.events));
            if !events.is_empty() {
                self.bus.publish(events);
            }
        }
        Ok(outcome)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use accueil_domain::couples::CoupleId;
    use accueil_domain::events::Event;
    use accueil_ports::StoreExt;
    use accueil_ports::events::MockEventBus;
    use accueil_store_memory::MemoryStore;
    use uuid::Uuid;

    use super::*;

    fn changed(cursor: i64) -> Event {
        Event::CoupleChanged {
            couple: CoupleId(Uuid::from_u128(7)),
            cursor,
        }
    }

    #[tokio::test]
    async fn a_committed_unit_publishes_its_events_once_coalesced() {
        let mut bus = MockEventBus::new();
        bus.expect_publish()
            .withf(|events| events == &[changed(3)])
            .times(1)
            .return_const(());
        let store = Publishing::new(Arc::new(MemoryStore::new()), Arc::new(bus));
        let n: u32 = store
            .write(|tx| {
                tx.emit(changed(2));
                tx.emit(changed(3));
                Ok::<_, StoreError>(5)
            })
            .await
            .unwrap();
        assert_eq!(n, 5);
    }

    #[tokio::test]
    async fn a_rolled_back_or_silent_unit_publishes_nothing() {
        let mut bus = MockEventBus::new();
        bus.expect_publish().never();
        let store = Publishing::new(Arc::new(MemoryStore::new()), Arc::new(bus));
        let refused = store
            .write(|tx| {
                tx.emit(changed(1));
                Err::<(), _>(StoreError::Conflict("refused".into()))
            })
            .await;
        assert!(refused.is_err());
        store.read(|_| Ok::<_, StoreError>(())).await.unwrap();
    }

    #[tokio::test]
    async fn use_cases_announce_feed_changes_couple_endings_and_ended_sessions() {
        let h = crate::testing::Harness::new();
        let (a, b) = h.paired("ann@example.com", "bob@example.com").await;
        let couple = h.couples().get(&a.caller).await.unwrap().couple.id;
        let joined = h.events.take();
        let cursors: Vec<i64> = joined
            .iter()
            .filter_map(|e| match *e {
                Event::CoupleChanged { couple: c, cursor } if c == couple => Some(cursor),
                _ => None,
            })
            .collect();
        assert!(
            cursors.len() >= 2 && cursors.windows(2).all(|w| w[0] < w[1]),
            "create, invite and join each announce a higher cursor: {joined:?}"
        );

        h.couples().leave(&b.caller).await.unwrap();
        let left = h.events.take();
        assert!(left.contains(&Event::CoupleEnded { couple }), "{left:?}");
        assert!(
            matches!(left.first(), Some(Event::CoupleChanged { couple: c, .. }) if *c == couple),
            "the final changes come first: {left:?}"
        );

        h.app.logout_all(&a.caller).await.unwrap();
        assert_eq!(
            h.events.take(),
            vec![Event::UserSessionsEnded { user: a.user.id }]
        );
        h.app.logout(&b.caller).await.unwrap();
        assert!(
            matches!(h.events.take().as_slice(), [Event::SessionEnded { .. }]),
            "logout ends the caller's session"
        );
    }
}
