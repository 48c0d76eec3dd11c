//! Tickets: taken by staff (`tickets:issue`), seen by members (`tickets:read`) and served by
//! agents (`tickets:serve`), each change one unit of work with its event row and, after
//! commit, a [`Event::TicketChanged`] for notifications and boards.
//!
//! A ticket's number is its service's next one on the local day of the site (its own zone) or
//! else of the tenant, taken with the service locked. Its position and ETA are computed on
//! each read: the tickets ahead in call order, times the service's average time (measured on
//! its last [`ETA_WINDOW`] served tickets, or the service's `avg_service_minutes` until one
//! was), divided by the agents serving the queue now (`AVAILABLE` or `BUSY` with the queue in
//! their list; at least one).

use accueil_domain::admin::{AuditAction, AuditEvent};
use accueil_domain::events::Event;
use accueil_domain::queues::tickets::{
    Actor, InvalidTransition, NewTicket, NumberingError, Ticket, TicketAction, TicketCustomer,
    next_number, service_day,
};
use accueil_domain::queues::{AgentStatus, Queue, Scope, Service};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::StoreError;
use accueil_ports::queues::TicketWriteError;
use accueil_ports::scope::TenantTx;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{QueuesService, Requires};
use crate::identity::Caller;
use crate::scope::{NotFound, TenantCx, TenantDenied};

/// The most tickets a waiting list gives at once.
pub const MAX_LINE: u32 = 200;

/// How many served tickets the ETA averages.
pub const ETA_WINDOW: u32 = 20;

const NO_QUEUE: NotFound = NotFound("queue");
const NO_TICKET: NotFound = NotFound("ticket");

/// What an ETA is based on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EtaBasis {
    /// The average minutes a ticket takes.
    pub minutes_per_ticket: f64,
    /// How many served tickets measured it (0: the service's starting value).
    pub measured_on: u32,
    /// Agents serving the queue now (at least 1 is assumed).
    pub agents: u32,
}

/// A ticket with where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketView {
    /// The ticket.
    pub ticket: Ticket,
    /// 1 for the next to be called, while waiting.
    pub position: Option<u32>,
    /// Minutes until it is called, while waiting.
    pub eta_minutes: Option<u32>,
    /// What the ETA rests on, while waiting.
    pub eta: Option<EtaBasis>,
}

/// A ticket just taken, with the secret of its follow link (shown once).
#[derive(Debug, Clone, PartialEq)]
pub struct TakenTicket {
    /// The ticket.
    pub view: TicketView,
    /// For `GET /api/v1/public/tickets/{ticket_token}`.
    pub token: String,
}

/// Why a ticket could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum TakeTicketError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such queue in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The customer named is not the tenant's.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The queue is closed.
    #[error("this queue is closed")]
    QueueClosed,
    /// The queue has its most waiting tickets.
    #[error("this queue is full: {0} tickets are waiting")]
    QueueFull(u32),
    /// The service's numbers for today are used up.
    #[error(transparent)]
    DailyCapReached(#[from] NumberingError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why calling the next ticket failed.
#[derive(Debug, thiserror::Error)]
pub enum CallNextError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such queue in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// Nobody is waiting.
    #[error("nobody is waiting in this queue")]
    QueueEmpty,
    /// The agent already has a ticket called or in service.
    #[error(transparent)]
    AgentBusy(#[from] AgentBusy),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An agent with a ticket called or in service already.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "you already have a ticket called or in service: close it, pause it or mark it no-show first"
)]
pub struct AgentBusy;

/// Why an action on a ticket failed.
#[derive(Debug, thiserror::Error)]
pub enum TicketActionError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such ticket in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The state table has no such move.
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    /// Calling or resuming it would give the agent a second active ticket.
    #[error(transparent)]
    AgentBusy(#[from] AgentBusy),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TicketWriteError> for TicketActionError {
    fn from(e: TicketWriteError) -> Self {
        match e {
            TicketWriteError::AgentBusy => Self::AgentBusy(AgentBusy),
            TicketWriteError::Store(e) => Self::Store(e),
        }
    }
}

impl From<TicketWriteError> for CallNextError {
    fn from(e: TicketWriteError) -> Self {
        match e {
            TicketWriteError::AgentBusy => Self::AgentBusy(AgentBusy),
            TicketWriteError::Store(e) => Self::Store(e),
        }
    }
}

/// Why a waiting list or a ticket could not be read.
pub type TicketLookupError = super::InTenantLookupError;

/// The ETA's basis for `queue` of `service` now.
fn eta_basis(
    t: &mut dyn TenantTx,
    queue: &Queue,
    service: &Service,
) -> Result<EtaBasis, StoreError> {
    let times = t.tickets().recent_service_times(service.id, ETA_WINDOW)?;
    let measured_on = u32::try_from(times.len()).unwrap_or(u32::MAX);
    let minutes_per_ticket = if times.is_empty() {
        f64::from(service.avg_service_minutes)
    } else {
        let seconds: i64 = times.iter().map(chrono::Duration::num_seconds).sum();
        seconds as f64 / 60.0 / times.len() as f64
    };
    let agents = t
        .agents()
        .agents()?
        .iter()
        .filter(|a| matches!(a.status, AgentStatus::Available | AgentStatus::Busy))
        .filter(|a| a.queue_ids.contains(&queue.id))
        .count();
    Ok(EtaBasis {
        minutes_per_ticket,
        measured_on,
        agents: u32::try_from(agents).unwrap_or(u32::MAX),
    })
}

/// `ticket`'s view at `position` (1 is next; `None` when it does not wait).
fn at_position(ticket: Ticket, position: Option<u32>, eta: Option<EtaBasis>) -> TicketView {
    let eta_minutes = position.zip(eta).map(|(p, eta)| {
        let ahead = f64::from(p.saturating_sub(1));
        (ahead * eta.minutes_per_ticket / f64::from(eta.agents.max(1))).ceil() as u32
    });
    TicketView {
        ticket,
        position,
        eta_minutes,
        eta,
    }
}

/// The service of `queue`.
fn service_of(t: &mut dyn TenantTx, queue: &Queue) -> Result<Service, StoreError> {
    t.catalogue()
        .service(queue.service_id)?
        .ok_or_else(|| StoreError::Internal("a queue's service vanished".into()))
}

/// One ticket's view: its position counted by the store (the tickets called before it), only
/// while it waits.
pub(super) fn view_of(
    t: &mut dyn TenantTx,
    ticket: Ticket,
    now: DateTime<Utc>,
) -> Result<TicketView, StoreError> {
    let queue = t
        .catalogue()
        .queue(ticket.queue_id)?
        .ok_or_else(|| StoreError::Internal("a ticket's queue vanished".into()))?;
    if ticket.status != accueil_domain::queues::tickets::TicketStatus::Waiting {
        return Ok(at_position(ticket, None, None));
    }
    let service = service_of(t, &queue)?;
    let eta = eta_basis(t, &queue, &service)?;
    let position = t.tickets().ahead(&queue, &ticket, now)?.saturating_add(1);
    Ok(at_position(ticket, Some(position), Some(eta)))
}

/// Takes a ticket in `queue` for `new`, the one step every way of taking one shares; returns
/// the ticket (its follow link's digest in it).
pub(super) fn take(
    cx: &mut TenantCx<'_>,
    queue_id: Uuid,
    new: NewTicket,
    (ids, token_digest): ([Uuid; 3], String),
    actor: Actor,
) -> Result<Ticket, TakeTicketError> {
    let now = cx.now;
    let (tenant_id, mut t) = (cx.id, cx.tenant());
    let queue = t.catalogue().queue(queue_id)?.ok_or(NO_QUEUE)?;
    if !queue.is_open {
        return Err(TakeTicketError::QueueClosed);
    }
    let service = t
        .catalogue()
        .service(queue.service_id)?
        .ok_or_else(|| StoreError::Internal("a queue's service vanished".into()))?;
    let zone = match t
        .catalogue()
        .site(service.site_id)?
        .and_then(|s| s.time_zone)
    {
        Some(zone) => zone,
        None => t.members().this_tenant()?.time_zone,
    };
    let day = service_day(now, &zone);
    // The service's lock first: takers of one service run one at a time from here.
    let count = t.tickets().lock_numbering(service.id, day)?;
    if let Some(max) = queue.max_waiting {
        let waiting = t.tickets().count_waiting(queue.id)?;
        if waiting >= max {
            return Err(TakeTicketError::QueueFull(waiting));
        }
    }
    let n = next_number(service.numbering, count.issued, count.last)?;
    let customer_id = match new.customer {
        TicketCustomer::Anonymous => None,
        TicketCustomer::Existing(id) => {
            if t.customers().customer(id)?.is_none() {
                return Err(ValidationErrors(vec![FieldError::new(
                    "customer_id",
                    "not_found",
                    "no customer of this tenant has this id",
                )])
                .into());
            }
            Some(id)
        }
        TicketCustomer::New(details) => {
            let customer = details.into_customer(ids[2], now);
            t.customers().insert_customer(&customer)?;
            Some(customer.id)
        }
    };
    let (ticket, event) = Ticket::taken(
        (ids[0], ids[1]),
        &queue,
        &service,
        (day, n),
        new.priority,
        customer_id,
        Some(token_digest),
        (actor, now),
    );
    t.tickets().insert_ticket(&ticket, &event)?;
    drop(t);
    cx.tx.emit(changed(tenant_id, &ticket));
    Ok(ticket)
}

fn changed(tenant: accueil_domain::queues::TenantId, t: &Ticket) -> Event {
    Event::TicketChanged {
        tenant,
        queue: t.queue_id,
        ticket: t.id,
        status: t.status,
    }
}

/// The caller as the actor of an agent's action: their id and their counter.
fn me_as_agent(cx: &mut TenantCx<'_>) -> Result<Actor, StoreError> {
    let me = cx.me.user.id;
    let counter = cx.tenant().agents().presence(me)?.and_then(|(_, c)| c);
    Ok(Actor {
        agent: Some(me),
        counter,
    })
}

/// Keeps `agent`'s status in step with their tickets: `BUSY` while one is called or in
/// service, back to `AVAILABLE` when it was `BUSY` and none is. A member without a profile
/// gets one only when they become `BUSY`.
fn follow_agent(
    cx: &mut TenantCx<'_>,
    agent: Option<accueil_domain::identity::UserId>,
) -> Result<(), StoreError> {
    let Some(agent) = agent else {
        return Ok(());
    };
    let now = cx.now;
    let mut t = cx.tenant();
    let busy = t.tickets().active_ticket(agent)?.is_some();
    let had = t.agents().presence(agent)?.map(|(s, _)| s);
    let status = match (busy, had) {
        (true, _) => AgentStatus::Busy,
        (false, Some(AgentStatus::Busy)) => AgentStatus::Available,
        (false, _) => return Ok(()),
    };
    if had == Some(status) {
        return Ok(());
    }
    if !t.agents().set_status(agent, status, now)? {
        let profile = accueil_domain::queues::AgentProfile {
            status,
            updated_at: Some(now),
            ..accueil_domain::queues::AgentProfile::unset(agent)
        };
        t.agents().save_agent(&profile)?;
    }
    Ok(())
}

impl QueuesService {
    /// Takes a ticket for a customer at the desk (`tickets:issue`), with a priority; the
    /// answer carries its follow link's secret, once.
    ///
    /// # Errors
    /// See [`TakeTicketError`].
    pub async fn take_ticket(
        &self,
        caller: &Caller,
        slug: &str,
        queue: Uuid,
        new: NewTicket,
    ) -> Result<TakenTicket, TakeTicketError> {
        let ids = [
            self.ports.ids.new_id(),
            self.ports.ids.new_id(),
            self.ports.ids.new_id(),
        ];
        let token = self.ports.opaque_tokens.generate();
        let digest = token.digest.0.clone();
        let view = self
            .ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::TicketsIssue),
                slug,
                move |cx| -> Result<TicketView, TakeTicketError> {
                    let actor = me_as_agent(cx)?;
                    let ticket = take(cx, queue, new, (ids, digest), actor)?;
                    let now = cx.now;
                    Ok(view_of(&mut *cx.tenant(), ticket, now)?)
                },
            )
            .await?;
        Ok(TakenTicket {
            view,
            token: token.secret,
        })
    }

    /// The first `limit` (1 to 200) waiting tickets of a queue in the order they will be
    /// called, with positions and ETAs (`tickets:read`).
    ///
    /// # Errors
    /// See [`TicketLookupError`].
    pub async fn waiting_list(
        &self,
        caller: &Caller,
        slug: &str,
        queue: Uuid,
        limit: u32,
    ) -> Result<Vec<TicketView>, TicketLookupError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::TicketsRead),
                slug,
                move |cx| -> Result<Vec<TicketView>, TicketLookupError> {
                    let now = cx.now;
                    let mut t = cx.tenant();
                    let queue = t.catalogue().queue(queue)?.ok_or(NO_QUEUE)?;
                    let service = service_of(&mut *t, &queue)?;
                    let eta = eta_basis(&mut *t, &queue, &service)?;
                    let line = t.tickets().line(&queue, now, limit.clamp(1, MAX_LINE))?;
                    let list = line
                        .into_iter()
                        .zip(1..)
                        .map(|(ticket, p)| at_position(ticket, Some(p), Some(eta)))
                        .collect();
                    Ok(list)
                },
            )
            .await
    }

    /// One ticket, with where it stands (`tickets:read`).
    ///
    /// # Errors
    /// See [`TicketLookupError`].
    pub async fn ticket(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<TicketView, TicketLookupError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::TicketsRead),
                slug,
                move |cx| -> Result<TicketView, TicketLookupError> {
                    let now = cx.now;
                    let mut t = cx.tenant();
                    let ticket = t.tickets().ticket(id)?.ok_or(NO_TICKET)?;
                    Ok(view_of(&mut *t, ticket, now)?)
                },
            )
            .await
    }

    /// Calls the next ticket of a queue to the caller's counter (`tickets:serve`), by the
    /// queue's rule; the caller becomes `BUSY`.
    ///
    /// # Errors
    /// See [`CallNextError`].
    pub async fn call_next(
        &self,
        caller: &Caller,
        slug: &str,
        queue: Uuid,
    ) -> Result<TicketView, CallNextError> {
        let event_id = self.ports.ids.new_id();
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::TicketsServe),
                slug,
                move |cx| -> Result<TicketView, CallNextError> {
                    let (now, tenant, me) = (cx.now, cx.id, cx.me.user.id);
                    let actor = me_as_agent(cx)?;
                    let mut t = cx.tenant();
                    let queue = t.catalogue().queue(queue)?.ok_or(NO_QUEUE)?;
                    if t.tickets().active_ticket(me)?.is_some() {
                        return Err(AgentBusy.into());
                    }
                    let mut ticket = t
                        .tickets()
                        .claim_next(&queue, now)?
                        .ok_or(CallNextError::QueueEmpty)?;
                    let event = ticket
                        .apply(TicketAction::Call, actor, event_id, now)
                        .map_err(|e| StoreError::Internal(format!("a claimed ticket: {e}")))?;
                    t.tickets().update_ticket(&ticket, &event)?;
                    let view = view_of(&mut *t, ticket.clone(), now)?;
                    drop(t);
                    cx.tx.emit(changed(tenant, &ticket));
                    follow_agent(cx, Some(me))?;
                    Ok(view)
                },
            )
            .await
    }

    /// Does `action` to a ticket as the caller (`tickets:serve`): `call` (out of turn, which
    /// is audited), `recall`, `start`, `close`, `pause`, `resume`, `no-show`.
    ///
    /// # Errors
    /// See [`TicketActionError`].
    pub async fn act_on_ticket(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
        action: TicketAction,
    ) -> Result<TicketView, TicketActionError> {
        let (event_id, audit_id) = (self.ports.ids.new_id(), self.ports.ids.new_id());
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::TicketsServe),
                slug,
                move |cx| -> Result<TicketView, TicketActionError> {
                    let (now, tenant) = (cx.now, cx.id);
                    let actor = me_as_agent(cx)?;
                    let mut t = cx.tenant();
                    let mut ticket = t.tickets().ticket_for_update(id)?.ok_or(NO_TICKET)?;
                    // Out of turn: others are to be called before it (counted, not locked).
                    let out_of_turn = action == TicketAction::Call
                        && ticket.status == accueil_domain::queues::tickets::TicketStatus::Waiting
                        && match t.catalogue().queue(ticket.queue_id)? {
                            Some(q) => t.tickets().ahead(&q, &ticket, now)? > 0,
                            None => false,
                        };
                    let event = ticket.apply(action, actor, event_id, now)?;
                    t.tickets().update_ticket(&ticket, &event)?;
                    let view = view_of(&mut *t, ticket.clone(), now)?;
                    drop(t);
                    if out_of_turn {
                        cx.tx.audit().record(&AuditEvent {
                            id: audit_id,
                            at: now,
                            actor: actor.agent,
                            action: AuditAction::TicketCalledOutOfTurn,
                            // Filed under the agent: who an investigator looks up.
                            subject: actor.agent,
                            detail: format!(
                                "tenant {tenant} ticket {} ({})",
                                ticket.id, ticket.number
                            ),
                        })?;
                    }
                    cx.tx.emit(changed(tenant, &ticket));
                    // The ticket's agent (who may not be the caller: a manager closing it).
                    follow_agent(cx, ticket.agent)?;
                    if actor.agent != ticket.agent {
                        follow_agent(cx, actor.agent)?;
                    }
                    Ok(view)
                },
            )
            .await
    }
}
