//! The change feed: every change to a couple's resources, numbered by a per-couple sequence
//! that the database advances in the same transaction as the change. Clients keep the last
//! number they saw; unlike a wall-clock "since", no change can be missed when clocks skew or
//! two writes share a timestamp.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::CoupleId;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// The couple itself (pairing, profile).
    Couple,
    /// A pairing invite.
    Invite,
    /// A Q&A question.
    Question,
    /// An answer to a question.
    Answer,
    /// A goal.
    Goal,
    /// An action under a goal.
    GoalAction,
    /// A daily check-in.
    CheckIn,
    /// A monthly letter.
    Letter,
    /// A memory of the memories site (its photo included).
    Memory,
    /// A partner's perspective. Its `id` is the perspective's number (1 or 2) as a UUID
    /// ([`perspective_feed_id`]): perspectives are addressed by number, not by id.
    Perspective,
    /// A share link (its token never appears anywhere after creation).
    Share,
}

impl EntityKind {
    /// Every kind, in a stable order (for documentation and parsing).
    pub const ALL: [Self; 11] = [
        Self::Couple,
        Self::Invite,
        Self::Question,
        Self::Answer,
        Self::Goal,
        Self::GoalAction,
        Self::CheckIn,
        Self::Letter,
        Self::Memory,
        Self::Perspective,
        Self::Share,
    ];
}

/// The feed id of perspective `number` (1 or 2): `00000000-0000-0000-0000-00000000000N`.
pub fn perspective_feed_id(number: u8) -> Uuid {
    Uuid::from_u128(u128::from(number))
}

impl EntityKind {
    /// The stable name, sent to clients and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Couple => "couple",
            Self::Invite => "invite",
            Self::Question => "question",
            Self::Answer => "answer",
            Self::Goal => "goal",
            Self::GoalAction => "goal_action",
            Self::CheckIn => "checkin",
            Self::Letter => "letter",
            Self::Memory => "memory",
            Self::Perspective => "perspective",
            Self::Share => "share",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeOp {
    /// Created or updated: fetch it again.
    Upsert,
    /// Deleted: drop it (a tombstone).
    Delete,
}

impl ChangeOp {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upsert => "upsert",
            Self::Delete => "delete",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "upsert" => Some(Self::Upsert),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// One entry of the feed. It names the entity, never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The couple.
    pub couple_id: CoupleId,
    /// Position in the couple's feed (1, 2, 3...).
    pub seq: i64,
    /// What.
    pub kind: EntityKind,
    /// Which.
    pub entity_id: Uuid,
    /// How.
    pub op: ChangeOp,
    /// When.
    pub at: DateTime<Utc>,
}
