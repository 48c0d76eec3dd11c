//! A tenant's tickets in memory, on the bound view. The whole store is one lock, so numbering
//! and claiming need no more than the domain's rules.

use accueil_domain::identity::UserId;
use accueil_domain::queues::Queue;
use accueil_domain::queues::tickets::{
    Ticket, TicketEvent, TicketStatus, call_order, next_to_call,
};
use accueil_ports::StoreError;
use accueil_ports::queues::{DayCount, TicketWriteError, TicketsRepo};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::MemTenantTx;

/// Called or in service: what an agent has at most one of.
fn with_agent(status: TicketStatus) -> bool {
    matches!(status, TicketStatus::Called | TicketStatus::InService)
}

impl MemTenantTx<'_> {
    fn tenant_tickets(&self) -> impl Iterator<Item = &Ticket> {
        let tenant = self.tenant;
        self.state
            .tenant_rows
            .tickets
            .iter()
            .filter(move |((t, _), _)| *t == tenant)
            .map(|(_, v)| v)
    }
}

impl TicketsRepo for MemTenantTx<'_> {
    fn lock_numbering(&mut self, service: Uuid, day: NaiveDate) -> Result<DayCount, StoreError> {
        if !self
            .state
            .tenant_rows
            .services
            .contains_key(&(self.tenant, service))
        {
            return Err(StoreError::Internal("numbering an unknown service".into()));
        }
        Ok(self
            .state
            .tenant_rows
            .days
            .get(&(self.tenant, service, day))
            .copied()
            .unwrap_or_default())
    }

    fn insert_ticket(&mut self, ticket: &Ticket, event: &TicketEvent) -> Result<(), StoreError> {
        self.writable()?;
        let taken = self.tenant_tickets().any(|t| {
            t.service_id == ticket.service_id
                && t.service_day == ticket.service_day
                && t.number.n == ticket.number.n
        });
        if taken {
            return Err(StoreError::Conflict("tickets_number".into()));
        }
        let rows = &mut self.state.tenant_rows;
        let day = rows
            .days
            .entry((self.tenant, ticket.service_id, ticket.service_day))
            .or_default();
        day.issued += 1;
        day.last = Some(ticket.number.n);
        rows.tickets
            .insert((self.tenant, ticket.id), ticket.clone());
        rows.ticket_events.push((self.tenant, event.clone()));
        Ok(())
    }

    fn ticket(&mut self, id: Uuid) -> Result<Option<Ticket>, StoreError> {
        Ok(self
            .state
            .tenant_rows
            .tickets
            .get(&(self.tenant, id))
            .cloned())
    }

    fn ticket_for_update(&mut self, id: Uuid) -> Result<Option<Ticket>, StoreError> {
        self.ticket(id)
    }

    fn waiting(&mut self, queue: Uuid) -> Result<Vec<Ticket>, StoreError> {
        let mut line: Vec<Ticket> = self
            .tenant_tickets()
            .filter(|t| t.queue_id == queue && t.status == TicketStatus::Waiting)
            .cloned()
            .collect();
        line.sort_by_key(|t| (t.line_at, t.id));
        Ok(line)
    }

    fn line(
        &mut self,
        queue: &Queue,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Ticket>, StoreError> {
        let waiting = self.waiting(queue.id)?;
        let line: Vec<_> = waiting.iter().map(Ticket::in_line).collect();
        let order = call_order(&line, queue.algorithm, queue.aging_minutes, now);
        Ok(order
            .into_iter()
            .take(limit as usize)
            .filter_map(|id| waiting.iter().find(|t| t.id == id).cloned())
            .collect())
    }

    fn ahead(
        &mut self,
        queue: &Queue,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let line: Vec<_> = self
            .waiting(queue.id)?
            .iter()
            .map(Ticket::in_line)
            .collect();
        let order = call_order(&line, queue.algorithm, queue.aging_minutes, now);
        let ahead = order.iter().take_while(|id| **id != ticket.id).count();
        Ok(u32::try_from(ahead).unwrap_or(u32::MAX))
    }

    fn count_waiting(&mut self, queue: Uuid) -> Result<u32, StoreError> {
        let n = self
            .tenant_tickets()
            .filter(|t| t.queue_id == queue && t.status == TicketStatus::Waiting)
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn claim_next(
        &mut self,
        queue: &Queue,
        now: DateTime<Utc>,
    ) -> Result<Option<Ticket>, StoreError> {
        let line: Vec<_> = self
            .waiting(queue.id)?
            .iter()
            .map(Ticket::in_line)
            .collect();
        let next = next_to_call(&line, queue.algorithm, queue.aging_minutes, now);
        Ok(next.and_then(|id| {
            self.state
                .tenant_rows
                .tickets
                .get(&(self.tenant, id))
                .cloned()
        }))
    }

    fn update_ticket(
        &mut self,
        ticket: &Ticket,
        event: &TicketEvent,
    ) -> Result<(), TicketWriteError> {
        self.writable()?;
        if with_agent(ticket.status)
            && ticket.agent.is_some()
            && self
                .tenant_tickets()
                .any(|t| t.id != ticket.id && with_agent(t.status) && t.agent == ticket.agent)
        {
            return Err(TicketWriteError::AgentBusy);
        }
        let rows = &mut self.state.tenant_rows;
        if let Some(slot) = rows.tickets.get_mut(&(self.tenant, ticket.id)) {
            *slot = ticket.clone();
            rows.ticket_events.push((self.tenant, event.clone()));
        }
        Ok(())
    }

    fn active_ticket(&mut self, agent: UserId) -> Result<Option<Ticket>, StoreError> {
        Ok(self
            .tenant_tickets()
            .find(|t| with_agent(t.status) && t.agent == Some(agent))
            .cloned())
    }

    fn recent_service_times(
        &mut self,
        service: Uuid,
        n: u32,
    ) -> Result<Vec<chrono::Duration>, StoreError> {
        let mut served: Vec<_> = self
            .tenant_tickets()
            .filter(|t| t.service_id == service && t.status == TicketStatus::Done)
            .filter_map(|t| Some((t.finished_at?, t.finished_at? - t.started_at?)))
            .collect();
        served.sort_by_key(|s| std::cmp::Reverse(s.0));
        Ok(served
            .into_iter()
            .take(n as usize)
            .map(|(_, d)| d)
            .collect())
    }

    fn events(&mut self, ticket: Uuid) -> Result<Vec<TicketEvent>, StoreError> {
        Ok(self
            .state
            .tenant_rows
            .ticket_events
            .iter()
            .filter(|(t, e)| *t == self.tenant && e.ticket_id == ticket)
            .map(|(_, e)| e.clone())
            .collect())
    }
}
