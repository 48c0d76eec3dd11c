//! Agents: a member's working state in a tenant: whether they can take a ticket, at which
//! counter, for which queues.
//!
//! A member who never set theirs is `OFFLINE`, at no counter, serving no queue. `BUSY` is the
//! tickets' to set (an agent with a ticket called or in service) and cannot be chosen.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::identity::UserId;
use crate::validation::{FieldError, Fields, Patch, ValidationErrors};

/// An agent's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    /// Ready to call a ticket.
    Available,
    /// Serving one.
    Busy,
    /// On a break.
    Paused,
    /// Not working.
    Offline,
}

impl AgentStatus {
    /// Every status.
    pub const ALL: [AgentStatus; 4] = [Self::Available, Self::Busy, Self::Paused, Self::Offline];

    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Busy => "BUSY",
            Self::Paused => "PAUSED",
            Self::Offline => "OFFLINE",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// The most queues one agent serves at once.
pub const MAX_AGENT_QUEUES: usize = 50;

/// A member's agent profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProfile {
    /// The member.
    pub user: UserId,
    /// Their state.
    pub status: AgentStatus,
    /// The counter they work at.
    pub counter_id: Option<Uuid>,
    /// The queues they serve, in the order given.
    pub queue_ids: Vec<Uuid>,
    /// Last change (`None`: never set).
    pub updated_at: Option<DateTime<Utc>>,
}

impl AgentProfile {
    /// The profile of a member who never set one.
    pub fn unset(user: UserId) -> Self {
        Self {
            user,
            status: AgentStatus::Offline,
            counter_id: None,
            queue_ids: Vec::new(),
            updated_at: None,
        }
    }
}

/// Changes to a profile: absent fields are kept; `counter_id: null` leaves the counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentChanges {
    /// A new state.
    pub status: Option<AgentStatus>,
    /// Another counter, or none.
    pub counter_id: Patch<Uuid>,
    /// The queues served from now on.
    pub queue_ids: Option<Vec<Uuid>>,
}

impl AgentChanges {
    /// Checks every field given (that the counter and queues are the tenant's is the use
    /// case's check, with the same field names).
    ///
    /// # Errors
    /// `status` `invalid_choice` (`BUSY` included); `queue_ids` `too_many` or `duplicate`.
    pub fn parse(
        status: Option<&str>,
        counter_id: Patch<Uuid>,
        queue_ids: Option<Vec<Uuid>>,
    ) -> Result<Self, ValidationErrors> {
        let status = status
            .map(|s| {
                AgentStatus::parse(s)
                    .filter(|s| *s != AgentStatus::Busy)
                    .ok_or_else(|| {
                        FieldError::new(
                            "status",
                            "invalid_choice",
                            "AVAILABLE, PAUSED or OFFLINE (BUSY follows the agent's tickets)",
                        )
                    })
            })
            .transpose();
        let queues = queue_ids
            .map(|ids| {
                if ids.len() > MAX_AGENT_QUEUES {
                    return Err(FieldError::new(
                        "queue_ids",
                        "too_many",
                        format!("at most {MAX_AGENT_QUEUES} queues"),
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                if ids.iter().any(|id| !seen.insert(*id)) {
                    return Err(FieldError::new("queue_ids", "duplicate", "each queue once"));
                }
                Ok(ids)
            })
            .transpose();
        let (status, queue_ids) = (status, queues).all()?;
        Ok(Self {
            status,
            counter_id,
            queue_ids,
        })
    }

    /// Applies them at `now`. A profile whose ticket is called or in service stays `BUSY`
    /// until the ticket frees it.
    pub fn apply_to(self, profile: &mut AgentProfile, now: DateTime<Utc>) {
        if let Some(status) = self.status {
            profile.status = status;
        }
        self.counter_id.apply_to(&mut profile.counter_id);
        if let Some(queues) = self.queue_ids {
            profile.queue_ids = queues;
        }
        profile.updated_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_busy_cannot_be_chosen() {
        for s in AgentStatus::ALL {
            assert_eq!(AgentStatus::parse(s.as_str()), Some(s));
        }
        for bad in ["BUSY", "busy", "ON_BREAK"] {
            let e = AgentChanges::parse(Some(bad), Patch::Keep, None).unwrap_err();
            assert_eq!(e.0[0].code, "invalid_choice", "{bad}");
        }
    }

    #[test]
    fn queue_lists_are_bounded_and_distinct() {
        let a = Uuid::from_u128(1);
        let e = AgentChanges::parse(None, Patch::Keep, Some(vec![a, a])).unwrap_err();
        assert_eq!(e.0[0].code, "duplicate");
        let many = (0..=50).map(Uuid::from_u128).collect();
        let e = AgentChanges::parse(None, Patch::Keep, Some(many)).unwrap_err();
        assert_eq!(e.0[0].code, "too_many");
    }

    #[test]
    fn changes_apply() {
        let mut p = AgentProfile::unset(UserId(Uuid::nil()));
        let counter = Uuid::from_u128(7);
        AgentChanges::parse(Some("AVAILABLE"), Patch::Set(counter), Some(vec![counter]))
            .unwrap()
            .apply_to(&mut p, DateTime::UNIX_EPOCH);
        assert_eq!(
            (p.status, p.counter_id, p.queue_ids.len()),
            (AgentStatus::Available, Some(counter), 1)
        );
        AgentChanges::parse(None, Patch::Clear, None)
            .unwrap()
            .apply_to(&mut p, DateTime::UNIX_EPOCH);
        assert_eq!((p.status, p.counter_id), (AgentStatus::Available, None));
    }
}
