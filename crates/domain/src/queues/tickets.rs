//! Tickets: their states and the transitions between them, their numbers, and which waiting
//! ticket is called next.
//!
//! ## States
//! `WAITING` → `CALLED` (call) → `IN_SERVICE` (start) → `DONE` (close), with `PAUSED` ⇄
//! `IN_SERVICE` (pause, resume), `CALLED` → `CALLED` (recall), `CALLED` → `NO_SHOW`, `WAITING`
//! or `CALLED` → `CANCELLED` (the customer cancels), and any open state → `TRANSFERRED` (the
//! ticket moves to another queue as a new `WAITING` ticket). `DONE`, `NO_SHOW`, `CANCELLED` and
//! `TRANSFERRED` are final. [`TicketStatus::after`] is the whole table; anything else is an
//! [`InvalidTransition`].
//!
//! ## Numbers
//! A ticket's number is its service's prefix and a counter of the service's **local day** in
//! the tenant's time zone (`A-001`): the counter starts again at the tenant's midnight, however
//! long that day is (23 or 25 hours across a change of daylight saving time), within the
//! service's daily range and optional cap ([`next_number`]).
//!
//! ## Who is called next
//! - FIFO: the earliest arrival.
//! - PRIORITY: the highest **effective** priority, the ticket's priority (0 to 9) plus one
//!   level for each whole `aging_minutes` it has waited (no aging when 0); among equals, the
//!   earliest arrival. Every ticket ages at the same pace, so what aging rewards is having come
//!   earlier: a ticket of priority `p` that came `(9 − p) · aging_minutes` or more before
//!   another outranks it whatever that one's priority. A ticket therefore never waits forever
//!   behind a stream of higher priorities: only the tickets already there and those that came
//!   within that time after it can pass it (tested as a property below).
//!
//! A transferred ticket keeps its original arrival time, or takes its transfer time ("at the
//! back"), as the caller chooses: "arrival" here is that time.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::identity::{TimeZone, UserId};
use crate::validation::FieldError;

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    /// In the queue.
    Waiting,
    /// Called to a counter; the customer is on their way.
    Called,
    /// Being served.
    InService,
    /// Service interrupted, to resume.
    Paused,
    /// Served.
    Done,
    /// Called, and the customer did not come.
    NoShow,
    /// Cancelled by the customer (or for them).
    Cancelled,
    /// Moved to another queue, where it goes on as a new ticket.
    Transferred,
}

/// What is done to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketAction {
    /// Call it to a counter.
    Call,
    /// Call it again.
    Recall,
    /// Start serving it.
    Start,
    /// Finish serving it.
    Close,
    /// Interrupt its service.
    Pause,
    /// Resume its service.
    Resume,
    /// The customer did not come.
    NoShow,
    /// The customer cancels.
    Cancel,
    /// Move it to another queue.
    Transfer,
}

/// A transition the table does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a ticket that is {}", .action.as_str(), .from.as_str())]
pub struct InvalidTransition {
    /// The ticket's state.
    pub from: TicketStatus,
    /// What was asked.
    pub action: TicketAction,
}

impl TicketStatus {
    /// Every state.
    pub const ALL: [Self; 8] = [
        Self::Waiting,
        Self::Called,
        Self::InService,
        Self::Paused,
        Self::Done,
        Self::NoShow,
        Self::Cancelled,
        Self::Transferred,
    ];

    /// The stored and API name (`IN_SERVICE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "WAITING",
            Self::Called => "CALLED",
            Self::InService => "IN_SERVICE",
            Self::Paused => "PAUSED",
            Self::Done => "DONE",
            Self::NoShow => "NO_SHOW",
            Self::Cancelled => "CANCELLED",
            Self::Transferred => "TRANSFERRED",
        }
    }

    /// The state of a name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Done | Self::NoShow | Self::Cancelled | Self::Transferred
        )
    }

    /// The state after `action`.
    ///
    /// # Errors
    /// [`InvalidTransition`] when the table has no such move.
    pub fn after(self, action: TicketAction) -> Result<Self, InvalidTransition> {
        use TicketAction as A;
        use TicketStatus as S;
        let to = match (self, action) {
            (S::Waiting, A::Call) => S::Called,
            (S::Called, A::Recall) => S::Called,
            (S::Called, A::Start) => S::InService,
            (S::InService, A::Close) => S::Done,
            (S::InService, A::Pause) => S::Paused,
            (S::Paused, A::Resume) => S::InService,
            (S::Called, A::NoShow) => S::NoShow,
            (S::Waiting | S::Called, A::Cancel) => S::Cancelled,
            (S::Waiting | S::Called | S::InService | S::Paused, A::Transfer) => S::Transferred,
            (from, action) => return Err(InvalidTransition { from, action }),
        };
        Ok(to)
    }
}

impl TicketAction {
    /// Every action.
    pub const ALL: [Self; 9] = [
        Self::Call,
        Self::Recall,
        Self::Start,
        Self::Close,
        Self::Pause,
        Self::Resume,
        Self::NoShow,
        Self::Cancel,
        Self::Transfer,
    ];

    /// Its name in routes (`no-show`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Recall => "recall",
            Self::Start => "start",
            Self::Close => "close",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::NoShow => "no-show",
            Self::Cancel => "cancel",
            Self::Transfer => "transfer",
        }
    }
}

/// A ticket's number: its service's prefix and the day's counter (`A-001`; four digits and
/// more past 999).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketNumber {
    /// The service's prefix.
    pub prefix: String,
    /// The day's counter.
    pub n: u32,
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:03}", self.prefix, self.n)
    }
}

/// The tenant's local day at `at`: the day ticket numbers count in.
pub fn service_day(at: DateTime<Utc>, zone: &TimeZone) -> NaiveDate {
    at.with_timezone(&zone.tz()).date_naive()
}

/// A service's numbering for one day: counters `first..=last`, at most `cap` tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbering {
    /// The first counter of a day.
    pub first: u32,
    /// The last.
    pub last: u32,
    /// The most tickets a day, if capped.
    pub cap: Option<u32>,
}

/// Why no ticket can be taken today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberingError {
    /// The day's cap is reached (or the range is used up): try again tomorrow.
    #[error("the service's tickets for today are all taken")]
    DailyCapReached,
}

/// The counter of the next ticket of a day when `issued` tickets were taken that day, the last
/// with counter `last_issued`.
///
/// # Errors
/// [`NumberingError::DailyCapReached`] when the cap is reached or the range used up.
pub fn next_number(
    numbering: Numbering,
    issued: u32,
    last_issued: Option<u32>,
) -> Result<u32, NumberingError> {
    if numbering.cap.is_some_and(|cap| issued >= cap) {
        return Err(NumberingError::DailyCapReached);
    }
    let next = match last_issued {
        None => numbering.first,
        Some(n) => n.checked_add(1).ok_or(NumberingError::DailyCapReached)?,
    };
    if next > numbering.last {
        return Err(NumberingError::DailyCapReached);
    }
    Ok(next)
}

/// How a queue picks the next ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// The earliest arrival.
    Fifo,
    /// The highest effective priority, then the earliest arrival.
    Priority,
}

/// A waiting ticket, as the choice of the next one sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InLine {
    /// The ticket.
    pub id: Uuid,
    /// Its priority, 0 to 9.
    pub priority: u8,
    /// When it joined the line (its original arrival, or its transfer "at the back").
    pub arrived_at: DateTime<Utc>,
}

/// `priority` plus one level per whole `aging_minutes` waited since `arrived_at` (no aging
/// when `aging_minutes` is 0). Waiting is counted in whole seconds (`timestamp()`), as the
/// stores' SQL counts it, so the database and this function always rank alike.
pub fn effective_priority(
    priority: u8,
    arrived_at: DateTime<Utc>,
    aging_minutes: u32,
    now: DateTime<Utc>,
) -> i64 {
    let waited = (now.timestamp() - arrived_at.timestamp()).max(0) / 60;
    let aged = if aging_minutes == 0 {
        0
    } else {
        waited / i64::from(aging_minutes)
    };
    i64::from(priority) + aged
}

/// The ticket to call next at `now`, by the rule of the module doc; `None` for an empty line.
/// Ties on arrival go to the smaller id (ids are time-ordered), so the choice is total.
pub fn next_to_call(
    line: &[InLine],
    algorithm: Algorithm,
    aging_minutes: u32,
    now: DateTime<Utc>,
) -> Option<Uuid> {
    line.iter()
        .min_by_key(|t| call_key(t, algorithm, aging_minutes, now))
        .map(|t| t.id)
}

/// The waiting tickets in the order they will be called at `now` (the first is
/// [`next_to_call`]'s), for positions and waiting lists.
pub fn call_order(
    line: &[InLine],
    algorithm: Algorithm,
    aging_minutes: u32,
    now: DateTime<Utc>,
) -> Vec<Uuid> {
    let mut ranked: Vec<_> = line.iter().collect();
    ranked.sort_by_key(|t| call_key(t, algorithm, aging_minutes, now));
    ranked.into_iter().map(|t| t.id).collect()
}

/// What orders the line, smallest first: the effective priority highest first (PRIORITY),
/// then the earliest arrival, then the smaller id, so the order is total.
fn call_key(
    t: &InLine,
    algorithm: Algorithm,
    aging_minutes: u32,
    now: DateTime<Utc>,
) -> (std::cmp::Reverse<i64>, DateTime<Utc>, Uuid) {
    let rank = match algorithm {
        Algorithm::Fifo => 0,
        Algorithm::Priority => effective_priority(t.priority, t.arrived_at, aging_minutes, now),
    };
    (std::cmp::Reverse(rank), t.arrived_at, t.id)
}

/// Who a ticket is for, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketCustomer {
    /// Nobody known.
    Anonymous,
    /// A customer of the tenant (the use case checks it is).
    Existing(Uuid),
    /// A new customer, stored with the ticket.
    New(super::NewCustomer),
}

/// A ticket to take, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// 0 (default) to 9; the public link always takes 0.
    pub priority: u8,
    /// Its customer.
    pub customer: TicketCustomer,
}

impl NewTicket {
    /// Checks every field: a customer by id or by details, not both.
    ///
    /// # Errors
    /// Every field's problem; `customer` `one_of` when both are given.
    pub fn parse(
        priority: Option<i64>,
        customer_id: Option<Uuid>,
        customer: Option<Result<super::NewCustomer, crate::validation::ValidationErrors>>,
    ) -> Result<Self, crate::validation::ValidationErrors> {
        use crate::validation::Fields;
        let both = if customer_id.is_some() && customer.is_some() {
            Err(FieldError::new(
                "customer",
                "one_of",
                "give customer_id or customer, not both",
            ))
        } else {
            Ok(())
        };
        let (priority, customer, ()) = (
            priority.map(parse_priority).transpose(),
            customer.transpose(),
            both,
        )
            .all()?;
        let customer = match (customer_id, customer) {
            (Some(id), _) => TicketCustomer::Existing(id),
            (None, Some(new)) => TicketCustomer::New(new),
            (None, None) => TicketCustomer::Anonymous,
        };
        Ok(Self {
            priority: priority.unwrap_or(0),
            customer,
        })
    }
}

/// The most a ticket's priority can be.
pub const MAX_PRIORITY: u8 = 9;

/// A ticket's priority, 0 (default) to 9.
///
/// # Errors
/// A [`FieldError`] on `priority` with code `out_of_range`.
pub fn parse_priority(raw: i64) -> Result<u8, FieldError> {
    u8::try_from(raw)
        .ok()
        .filter(|p| *p <= MAX_PRIORITY)
        .ok_or_else(|| FieldError::new("priority", "out_of_range", "0 to 9"))
}

/// Who acts on a ticket: the agent and the counter they are at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The agent (`None`: the customer, or the system).
    pub agent: Option<UserId>,
    /// Their counter.
    pub counter: Option<Uuid>,
}

impl Actor {
    /// The customer themself (through the public link), or a job.
    pub const CUSTOMER: Actor = Actor {
        agent: None,
        counter: None,
    };
}

/// A ticket in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Id (time-ordered).
    pub id: Uuid,
    /// Its queue.
    pub queue_id: Uuid,
    /// The queue's service, whose numbering it has.
    pub service_id: Uuid,
    /// `A-001`.
    pub number: TicketNumber,
    /// The tenant's local day it was numbered in.
    pub service_day: NaiveDate,
    /// Where it is in its life.
    pub status: TicketStatus,
    /// 0 to 9.
    pub priority: u8,
    /// Its customer, if known.
    pub customer_id: Option<Uuid>,
    /// The digest of its public follow link's secret, when it has one.
    pub token_digest: Option<String>,
    /// When it joined the line: what the order of calls counts from.
    pub line_at: DateTime<Utc>,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
    /// When it was last called.
    pub called_at: Option<DateTime<Utc>>,
    /// When its service started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    pub finished_at: Option<DateTime<Utc>>,
    /// The agent who has it (called, in service, paused) or last had it.
    pub agent: Option<UserId>,
    /// Their counter.
    pub counter_id: Option<Uuid>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One transition of a ticket, kept for analytics and audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketEvent {
    /// Id.
    pub id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its state before (`None`: taken).
    pub from: Option<TicketStatus>,
    /// After.
    pub to: TicketStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: the agent, if any.
    pub agent: Option<UserId>,
    /// At which counter.
    pub counter_id: Option<Uuid>,
}

impl Ticket {
    /// A new `WAITING` ticket numbered `number` on `day`, its event `taken`.
    #[allow(clippy::too_many_arguments)]
    pub fn taken(
        (id, event_id): (Uuid, Uuid),
        queue: &super::Queue,
        service: &super::Service,
        (day, n): (NaiveDate, u32),
        priority: u8,
        customer_id: Option<Uuid>,
        token_digest: Option<String>,
        (actor, now): (Actor, DateTime<Utc>),
    ) -> (Self, TicketEvent) {
        let ticket = Self {
            id,
            queue_id: queue.id,
            service_id: service.id,
            number: TicketNumber {
                prefix: service.prefix.as_str().to_owned(),
                n,
            },
            service_day: day,
            status: TicketStatus::Waiting,
            priority,
            customer_id,
            token_digest,
            line_at: now,
            created_at: now,
            called_at: None,
            started_at: None,
            finished_at: None,
            agent: None,
            counter_id: None,
            updated_at: now,
        };
        let event = TicketEvent {
            id: event_id,
            ticket_id: id,
            from: None,
            to: TicketStatus::Waiting,
            at: now,
            agent: actor.agent,
            counter_id: actor.counter,
        };
        (ticket, event)
    }

    /// Applies `action` by `actor` at `now`, by the state table; returns the event to record.
    ///
    /// # Errors
    /// [`InvalidTransition`] with the current state; the ticket is unchanged.
    pub fn apply(
        &mut self,
        action: TicketAction,
        actor: Actor,
        event_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, InvalidTransition> {
        let from = self.status;
        let to = from.after(action)?;
        match action {
            TicketAction::Call | TicketAction::Recall => {
                self.called_at = Some(now);
                self.agent = actor.agent;
                self.counter_id = actor.counter;
            }
            TicketAction::Start => self.started_at = Some(now),
            _ => {}
        }
        if to.is_final() {
            self.finished_at = Some(now);
        }
        self.status = to;
        self.updated_at = now;
        Ok(TicketEvent {
            id: event_id,
            ticket_id: self.id,
            from: Some(from),
            to,
            at: now,
            agent: actor.agent,
            counter_id: actor.counter,
        })
    }

    /// The line entry the choice of the next ticket sees.
    pub fn in_line(&self) -> InLine {
        InLine {
            id: self.id,
            priority: self.priority,
            arrived_at: self.line_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_transition_table() {
        use TicketAction as A;
        use TicketStatus as S;
        let legal = [
            (S::Waiting, A::Call, S::Called),
            (S::Called, A::Recall, S::Called),
            (S::Called, A::Start, S::InService),
            (S::InService, A::Close, S::Done),
            (S::InService, A::Pause, S::Paused),
            (S::Paused, A::Resume, S::InService),
            (S::Called, A::NoShow, S::NoShow),
            (S::Waiting, A::Cancel, S::Cancelled),
            (S::Called, A::Cancel, S::Cancelled),
            (S::Waiting, A::Transfer, S::Transferred),
            (S::Called, A::Transfer, S::Transferred),
            (S::InService, A::Transfer, S::Transferred),
            (S::Paused, A::Transfer, S::Transferred),
        ];
        for from in S::ALL {
            for action in A::ALL {
                let expected = legal
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(from.after(action), Ok(to), "{from:?} {action:?}"),
                    None => assert_eq!(
                        from.after(action),
                        Err(InvalidTransition { from, action }),
                        "{from:?} {action:?}"
                    ),
                }
            }
            if from.is_final() {
                assert!(
                    A::ALL.iter().all(|a| from.after(*a).is_err()),
                    "{from:?} is final"
                );
            }
            assert_eq!(S::parse(from.as_str()), Some(from));
        }
        let e = S::Done.after(A::Call).unwrap_err();
        assert_eq!(e.to_string(), "cannot call a ticket that is DONE");
    }

    #[test]
    fn numbers_count_per_day_within_range_and_cap() {
        let n = Numbering {
            first: 1,
            last: 999,
            cap: Some(3),
        };
        assert_eq!(next_number(n, 0, None), Ok(1));
        assert_eq!(next_number(n, 2, Some(2)), Ok(3));
        assert_eq!(
            next_number(n, 3, Some(3)),
            Err(NumberingError::DailyCapReached)
        );
        let small = Numbering {
            first: 100,
            last: 101,
            cap: None,
        };
        assert_eq!(next_number(small, 0, None), Ok(100));
        assert_eq!(
            next_number(small, 2, Some(101)),
            Err(NumberingError::DailyCapReached)
        );
        let t = |prefix: &str, n| TicketNumber {
            prefix: prefix.into(),
            n,
        };
        assert_eq!(t("A", 1).to_string(), "A-001");
        assert_eq!(t("VIP", 1234).to_string(), "VIP-1234");
    }

    #[test]
    fn the_day_turns_at_the_tenants_midnight_across_dst() {
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        let utc = |m, d, h, min| Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap();
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        // Winter: midnight in Paris is 23:00 UTC the day before.
        assert_eq!(service_day(utc(1, 9, 22, 59), &paris), day(1, 9));
        assert_eq!(service_day(utc(1, 9, 23, 0), &paris), day(1, 10));
        // Summer: 22:00 UTC.
        assert_eq!(service_day(utc(7, 9, 21, 59), &paris), day(7, 9));
        assert_eq!(service_day(utc(7, 9, 22, 0), &paris), day(7, 10));
        // 29 March 2026 has 23 hours in Paris, 25 October 25: still one day each.
        assert_eq!(service_day(utc(3, 28, 23, 0), &paris), day(3, 29));
        assert_eq!(service_day(utc(3, 29, 21, 59), &paris), day(3, 29));
        assert_eq!(service_day(utc(3, 29, 22, 0), &paris), day(3, 30));
        assert_eq!(service_day(utc(10, 24, 22, 0), &paris), day(10, 25));
        assert_eq!(service_day(utc(10, 25, 22, 59), &paris), day(10, 25));
        assert_eq!(service_day(utc(10, 25, 23, 0), &paris), day(10, 26));
    }

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn ticket(id: u128, priority: u8, arrived: i64) -> InLine {
        InLine {
            id: Uuid::from_u128(id),
            priority,
            arrived_at: at(arrived),
        }
    }

    #[test]
    fn fifo_priority_and_aging_orders() {
        let line = [
            ticket(1, 0, 0),
            ticket(2, 5, 3),
            ticket(3, 5, 2),
            ticket(4, 9, 10),
        ];
        let id = |n| Some(Uuid::from_u128(n));
        assert_eq!(next_to_call(&line, Algorithm::Fifo, 10, at(10)), id(1));
        assert_eq!(next_to_call(&line, Algorithm::Priority, 0, at(10)), id(4));
        // Equal priorities: the earliest arrival.
        assert_eq!(
            next_to_call(&line[..3], Algorithm::Priority, 0, at(10)),
            id(3)
        );
        // Aging one level per 5 minutes ages every ticket alike: what counts is how much
        // earlier one came. Ticket 1 (priority 0, 09:00) against ticket 5 (priority 9, 09:50):
        // at 10:00, 0 + 12 beats 9 + 2; against ticket 4 (09:10), 0 + 12 loses to 9 + 10.
        let late = [ticket(1, 0, 0), ticket(5, 9, 50)];
        assert_eq!(next_to_call(&late, Algorithm::Priority, 5, at(60)), id(1));
        assert_eq!(
            next_to_call(&late, Algorithm::Priority, 0, at(60)),
            id(5),
            "no aging"
        );
        assert_eq!(next_to_call(&line, Algorithm::Priority, 5, at(60)), id(4));
        assert_eq!(effective_priority(0, at(0), 5, at(60)), 12);
        assert_eq!(effective_priority(9, at(10), 5, at(60)), 19);
        assert_eq!(effective_priority(3, at(10), 0, at(500)), 3, "no aging");
        assert_eq!(next_to_call(&[], Algorithm::Fifo, 0, at(0)), None);
    }

    proptest! {
        /// No ticket waits forever: one ticket of priority `p` joins a line of `ahead` tickets;
        /// every minute a ticket of any priority arrives and one agent calls the next. It is
        /// called within `ahead + (10 - p) * aging + 2` calls, whatever the priorities.
        #[test]
        fn aging_bounds_every_wait(
            p in 0u8..=9,
            aging in 1u32..=30,
            ahead in proptest::collection::vec(0u8..=9, 0..20),
            arrivals in proptest::collection::vec(0u8..=9, 400),
        ) {
            let mut line: Vec<InLine> = ahead
                .iter()
                .enumerate()
                .map(|(i, prio)| ticket(i as u128 + 1, *prio, -(i as i64) - 1))
                .collect();
            let me = Uuid::from_u128(1_000);
            line.push(InLine { id: me, priority: p, arrived_at: at(0) });
            let bound = ahead.len() + (10 - usize::from(p)) * aging as usize + 2;
            let mut called_after = None;
            for (minute, priority) in arrivals.iter().enumerate() {
                let now = at(minute as i64);
                line.push(ticket(2_000 + minute as u128, *priority, minute as i64));
                let next = next_to_call(&line, Algorithm::Priority, aging, now).unwrap();
                line.retain(|t| t.id != next);
                if next == me {
                    called_after = Some(minute + 1);
                    break;
                }
            }
            let calls = called_after.expect("called within 400 minutes");
            prop_assert!(calls <= bound, "called after {calls} calls, bound {bound}");
        }
    }

    #[test]
    fn a_ticket_records_who_and_when_and_refuses_what_the_table_lacks() {
        use crate::queues::{NewQueue, NewService, NumberingFields};
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let service = NewService::parse(Uuid::nil(), "S", "A", NumberingFields::default(), None)
            .unwrap()
            .into_service(Uuid::from_u128(1), t0);
        let queue = NewQueue::parse(service.id, "Q", None, None, None, None)
            .unwrap()
            .into_queue(Uuid::from_u128(2), "j".into(), t0);
        let (mut t, taken) = Ticket::taken(
            (Uuid::from_u128(3), Uuid::from_u128(4)),
            &queue,
            &service,
            (t0.date_naive(), 7),
            2,
            None,
            None,
            (Actor::CUSTOMER, t0),
        );
        assert_eq!(
            (t.number.to_string(), t.status, taken.from, taken.to),
            (
                "A-007".to_owned(),
                TicketStatus::Waiting,
                None,
                TicketStatus::Waiting
            )
        );
        let agent = Actor {
            agent: Some(UserId(Uuid::from_u128(9))),
            counter: Some(Uuid::from_u128(10)),
        };
        let before = t.clone();
        let e = t
            .apply(TicketAction::Start, agent, Uuid::nil(), t0)
            .unwrap_err();
        assert_eq!(e.from, TicketStatus::Waiting);
        assert_eq!(t, before, "unchanged");
        let later = t0 + Duration::minutes(3);
        let called = t
            .apply(TicketAction::Call, agent, Uuid::nil(), later)
            .unwrap();
        assert_eq!(
            (called.from, called.to, called.agent, called.counter_id),
            (
                Some(TicketStatus::Waiting),
                TicketStatus::Called,
                agent.agent,
                agent.counter
            )
        );
        assert_eq!((t.called_at, t.agent), (Some(later), agent.agent));
        t.apply(TicketAction::Start, agent, Uuid::nil(), later)
            .unwrap();
        t.apply(TicketAction::Close, agent, Uuid::nil(), later)
            .unwrap();
        assert_eq!(
            (t.status, t.started_at, t.finished_at),
            (TicketStatus::Done, Some(later), Some(later))
        );
    }
}
