//! The system clock and id generator.

use accueil_ports::system::{Clock, IdGenerator};
use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// The real time, truncated to microseconds: the precision every storage backend keeps, so a
/// value read back equals the value written.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// UUIDv7 ids: random, and ordered by creation time, which keeps B-tree inserts local.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}
