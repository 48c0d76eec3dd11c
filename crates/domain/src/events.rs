//! Domain events: what a committed unit of work tells the rest of the system, and the topics
//! realtime clients subscribe to.
//!
//! An event names what changed by id and sequence number, never by content: it may cross a
//! channel that is neither private nor large (PostgreSQL `NOTIFY`), and whoever receives it
//! re-reads what the recipient may see. Events are facts about committed state, so a receiver
//! that missed some (a dropped connection, a slow consumer) can always catch up by re-reading;
//! that is what a resynchronisation means.

use uuid::Uuid;

use crate::couples::CoupleId;
use crate::identity::{SessionId, UserId};
use crate::queues::TenantId;
use crate::queues::tickets::TicketStatus;

/// Something that happened in a committed transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The couple's change feed advanced to `cursor` (couples app and memories site alike:
    /// both write to the couple's feed).
    CoupleChanged {
        /// The couple.
        couple: CoupleId,
        /// The feed's last number after the transaction.
        cursor: i64,
    },
    /// The couple was dissolved: nobody belongs to it any more, so subscriptions to it end.
    CoupleEnded {
        /// The couple.
        couple: CoupleId,
    },
    /// One session ended (logout, refresh-token reuse, a password change ending the others).
    SessionEnded {
        /// The session.
        session: SessionId,
    },
    /// Every session of the user ended (logout everywhere, account disabled or deleted,
    /// password reset).
    UserSessionsEnded {
        /// The user.
        user: UserId,
    },
    /// A ticket was taken or changed state (SmartQueue): what notifications and boards follow.
    TicketChanged {
        /// Its tenant.
        tenant: TenantId,
        /// Its queue.
        queue: Uuid,
        /// The ticket.
        ticket: Uuid,
        /// Its state now.
        status: TicketStatus,
    },
}

impl Event {
    /// The topic whose subscribers hear of it, when it is a notification for clients; the
    /// session events are for the connections themselves.
    pub fn topic(&self) -> Option<Topic> {
        match *self {
            Self::CoupleChanged { couple, .. } | Self::CoupleEnded { couple } => {
                Some(Topic::Couple(couple))
            }
            // Boards and the customer's live status subscribe to these in the next step.
            Self::SessionEnded { .. }
            | Self::UserSessionsEnded { .. }
            | Self::TicketChanged { .. } => None,
        }
    }
}

/// Merges what one transaction emitted: of several `CoupleChanged` of one couple only the
/// highest cursor matters (a client re-reads from its own cursor anyway), and an event said
/// twice is said once. Order is otherwise kept.
pub fn coalesce(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        if let Event::CoupleChanged { couple, cursor } = event {
            let earlier = out.iter_mut().find_map(|e| match e {
                Event::CoupleChanged {
                    couple: c,
                    cursor: seen,
                } if *c == couple => Some(seen),
                _ => None,
            });
            if let Some(seen) = earlier {
                *seen = (*seen).max(cursor);
                continue;
            }
        }
        if !out.contains(&event) {
            out.push(event);
        }
    }
    out
}

/// What a realtime client subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// A user's own notifications.
    User(UserId),
    /// A couple's changes (couples app and memories site).
    Couple(CoupleId),
}

/// The kind of topic a client names when subscribing: the subscription is resolved against
/// the caller (their own user, their current couple), so a client never names another
/// user's or couple's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicKind {
    /// `user`: one's own.
    User,
    /// `couple`: one's current couple.
    Couple,
}

impl TopicKind {
    /// Every kind, in the order documented.
    pub const ALL: [Self; 2] = [Self::User, Self::Couple];

    /// The name clients use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Couple => "couple",
        }
    }

    /// The kind a client named, if it is one.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn couple(n: u128) -> CoupleId {
        CoupleId(Uuid::from_u128(n))
    }

    #[test]
    fn coalesce_keeps_the_highest_cursor_per_couple_and_the_order() {
        let (a, b) = (couple(1), couple(2));
        let user = UserId(Uuid::from_u128(3));
        let events = vec![
            Event::CoupleChanged {
                couple: a,
                cursor: 4,
            },
            Event::UserSessionsEnded { user },
            Event::CoupleChanged {
                couple: b,
                cursor: 9,
            },
            Event::CoupleChanged {
                couple: a,
                cursor: 6,
            },
            Event::CoupleChanged {
                couple: a,
                cursor: 5,
            },
            Event::UserSessionsEnded { user },
            Event::CoupleEnded { couple: a },
        ];
        assert_eq!(
            coalesce(events),
            vec![
                Event::CoupleChanged {
                    couple: a,
                    cursor: 6
                },
                Event::UserSessionsEnded { user },
                Event::CoupleChanged {
                    couple: b,
                    cursor: 9
                },
                Event::CoupleEnded { couple: a },
            ]
        );
    }

    #[test]
    fn topics_route_couple_events_and_leave_session_events_to_connections() {
        let a = couple(1);
        assert_eq!(
            Event::CoupleChanged {
                couple: a,
                cursor: 1
            }
            .topic(),
            Some(Topic::Couple(a))
        );
        assert_eq!(
            Event::CoupleEnded { couple: a }.topic(),
            Some(Topic::Couple(a))
        );
        assert_eq!(
            Event::SessionEnded {
                session: SessionId(Uuid::from_u128(2))
            }
            .topic(),
            None
        );
    }

    #[test]
    fn topic_kinds_round_trip_and_refuse_others() {
        for k in TopicKind::ALL {
            assert_eq!(TopicKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(TopicKind::parse("tenant"), None);
        assert_eq!(TopicKind::parse("User"), None);
    }
}
