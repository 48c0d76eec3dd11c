//! A tenant's tickets in SQL, on the view bound to it. Numbering locks the service's row
//! (`FOR UPDATE` on PostgreSQL; SQLite's writer is alone anyway); the next ticket is claimed
//! with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so agents calling at once each get another
//! ticket, and none is skipped once its claimer commits.

use accueil_domain::identity::UserId;
use accueil_domain::queues::Queue;
use accueil_domain::queues::tickets::{Algorithm, Ticket, TicketEvent, TicketNumber, TicketStatus};
use accueil_ports::StoreError;
use accueil_ports::queues::{DayCount, TicketWriteError, TicketsRepo};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::BigInt;
use uuid::Uuid;

use super::corrupt;
use crate::connection::AnyConnection;
use crate::one::OneRow;
use crate::schema::{service_days as sd, services, ticket_events as te, tickets};
use crate::tx::{TenantView, first_for_update, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
struct TicketRow {
    id: String,
    tenant_id: String,
    queue_id: String,
    service_id: String,
    prefix: String,
    number: i32,
    service_day: NaiveDate,
    status: String,
    priority: i32,
    customer_id: Option<String>,
    token_digest: Option<String>,
    line_at: NaiveDateTime,
    line_sec: i64,
    created_at: NaiveDateTime,
    called_at: Option<NaiveDateTime>,
    started_at: Option<NaiveDateTime>,
    finished_at: Option<NaiveDateTime>,
    agent_id: Option<String>,
    counter_id: Option<String>,
    updated_at: NaiveDateTime,
}

fn status(raw: &str) -> Result<TicketStatus, StoreError> {
    TicketStatus::parse(raw).ok_or_else(|| corrupt("ticket status", raw))
}

fn opt_uuid(raw: Option<String>) -> Result<Option<Uuid>, StoreError> {
    raw.as_deref().map(uuid).transpose()
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;
    fn try_from(r: TicketRow) -> Result<Self, StoreError> {
        Ok(Ticket {
            id: uuid(&r.id)?,
            queue_id: uuid(&r.queue_id)?,
            service_id: uuid(&r.service_id)?,
            number: TicketNumber {
                prefix: r.prefix,
                n: u32::try_from(r.number)
                    .map_err(|_| corrupt("ticket number", &r.number.to_string()))?,
            },
            service_day: r.service_day,
            status: status(&r.status)?,
            priority: u8::try_from(r.priority)
                .map_err(|_| corrupt("ticket priority", &r.priority.to_string()))?,
            customer_id: opt_uuid(r.customer_id)?,
            token_digest: r.token_digest,
            line_at: utc(r.line_at),
            created_at: utc(r.created_at),
            called_at: r.called_at.map(utc),
            started_at: r.started_at.map(utc),
            finished_at: r.finished_at.map(utc),
            agent: opt_uuid(r.agent_id)?.map(UserId),
            counter_id: opt_uuid(r.counter_id)?,
            updated_at: utc(r.updated_at),
        })
    }
}

impl TenantView<'_> {
    fn row(&self, t: &Ticket) -> TicketRow {
        TicketRow {
            id: t.id.to_string(),
            tenant_id: self.tenant.to_string(),
            queue_id: t.queue_id.to_string(),
            service_id: t.service_id.to_string(),
            prefix: t.number.prefix.clone(),
            number: i32::try_from(t.number.n).unwrap_or(i32::MAX),
            service_day: t.service_day,
            status: t.status.as_str().to_owned(),
            priority: i32::from(t.priority),
            customer_id: t.customer_id.map(|c| c.to_string()),
            token_digest: t.token_digest.clone(),
            line_at: naive(t.line_at),
            line_sec: t.line_at.timestamp(),
            created_at: naive(t.created_at),
            called_at: t.called_at.map(naive),
            started_at: t.started_at.map(naive),
            finished_at: t.finished_at.map(naive),
            agent_id: t.agent.map(|a| a.to_string()),
            counter_id: t.counter_id.map(|c| c.to_string()),
            updated_at: naive(t.updated_at),
        }
    }

    fn record(&mut self, e: &TicketEvent) -> Result<(), StoreError> {
        diesel::insert_into(te::table)
            .values((
                te::id.eq(e.id.to_string()),
                te::tenant_id.eq(self.tenant.to_string()),
                te::ticket_id.eq(e.ticket_id.to_string()),
                te::from_status.eq(e.from.map(TicketStatus::as_str)),
                te::to_status.eq(e.to.as_str()),
                te::at.eq(naive(e.at)),
                te::agent_id.eq(e.agent.map(|a| a.to_string())),
                te::counter_id.eq(e.counter_id.map(|c| c.to_string())),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn find(&mut self, id: Uuid, lock: bool) -> Result<Option<Ticket>, StoreError> {
        self.bind()?;
        let (tenant, id) = (self.tenant.to_string(), id.to_string());
        // Written twice: each use settles the query's backend.
        macro_rules! query {
            () => {
                tickets::table
                    .filter(tickets::tenant_id.eq(&tenant))
                    .filter(tickets::id.eq(&id))
                    .select(TicketRow::as_select())
            };
        }
        let row: Option<TicketRow> = if lock {
            first_for_update!(self, query!()).map_err(store_error)?
        } else {
            query!()
                .one()
                .get_result(self.conn)
                .optional()
                .map_err(store_error)?
        };
        row.map(Ticket::try_from).transpose()
    }
}

/// The SQL rank of a waiting ticket in `queue` at `now` (higher first), by
/// `next_to_call`'s rule: nothing for FIFO, the priority plus one level per whole
/// `aging_minutes` waited (in whole seconds) for PRIORITY. Only integers from the domain go
/// into the text.
fn rank(queue: &Queue, now: DateTime<Utc>, greatest: &str) -> String {
    match (queue.algorithm, queue.aging_minutes) {
        // FIFO orders by arrival alone (see `in_call_order!`); as a rank, nothing.
        (Algorithm::Fifo, _) => "0".to_owned(),
        (Algorithm::Priority, 0) => "priority".to_owned(),
        (Algorithm::Priority, aging) => format!(
            "priority + ({greatest}({} - line_sec, 0) / 60) / {aging}",
            now.timestamp()
        ),
    }
}

/// Runs `$pg_run` (PostgreSQL) or `$run` (SQLite) with `$line`, the bound tenant's waiting
/// tickets of `$queue` ordered as they will be called at `$now`, and `$conn`: by arrival for FIFO
/// (the index on `(tenant_id, queue_id, status, line_at)` gives that order without a sort), by
/// [`rank`] then arrival for PRIORITY. One arm per dialect and order: each settles the query's
/// types.
macro_rules! in_call_order {
    ($view:ident, $queue:expr, $now:expr, $tenant:expr, $q:expr, |$line:ident, $conn:ident| pg => $pg_run:expr, sqlite => $run:expr) => {{
        macro_rules! waiting {
            () => {
                tickets::table
                    .filter(tickets::tenant_id.eq($tenant))
                    .filter(tickets::queue_id.eq($q))
                    .filter(tickets::status.eq(TicketStatus::Waiting.as_str()))
                    .select(TicketRow::as_select())
            };
        }
        let fifo = $queue.algorithm == Algorithm::Fifo;
        match &mut *$view.conn {
            AnyConnection::Postgresql($conn) if fifo => {
                let $line = waiting!().order((tickets::line_at.asc(), tickets::id.asc()));
                $pg_run
            }
            AnyConnection::Postgresql($conn) => {
                let rank = sql::<BigInt>(&rank($queue, $now, "GREATEST")).desc();
                let $line = waiting!().order((rank, tickets::line_at.asc(), tickets::id.asc()));
                $pg_run
            }
            AnyConnection::Sqlite($conn) if fifo => {
                let $line = waiting!().order((tickets::line_at.asc(), tickets::id.asc()));
                $run
            }
            AnyConnection::Sqlite($conn) => {
                let rank = sql::<BigInt>(&rank($queue, $now, "MAX")).desc();
                let $line = waiting!().order((rank, tickets::line_at.asc(), tickets::id.asc()));
                $run
            }
        }
    }};
}

impl TicketsRepo for TenantView<'_> {
    fn lock_numbering(&mut self, service: Uuid, day: NaiveDate) -> Result<DayCount, StoreError> {
        self.bind()?;
        let tenant = self.tenant.to_string();
        let locked: Option<String> = first_for_update!(
            self,
            services::table
                .filter(services::tenant_id.eq(&tenant))
                .filter(services::id.eq(service.to_string()))
                .select(services::id)
        )
        .map_err(store_error)?;
        if locked.is_none() {
            return Err(StoreError::Internal("numbering an unknown service".into()));
        }
        let row: Option<(i32, i32)> = sd::table
            .filter(sd::tenant_id.eq(&tenant))
            .filter(sd::service_id.eq(service.to_string()))
            .filter(sd::day.eq(day))
            .select((sd::issued, sd::last_number))
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        Ok(
            row.map_or_else(DayCount::default, |(issued, last)| DayCount {
                issued: u32::try_from(issued).unwrap_or_default(),
                last: u32::try_from(last).ok(),
            }),
        )
    }

    fn insert_ticket(&mut self, t: &Ticket, event: &TicketEvent) -> Result<(), StoreError> {
        self.writable()?;
        self.bind()?;
        let row = self.row(t);
        diesel::insert_into(tickets::table)
            .values(row)
            .execute(self.conn)
            .map_err(store_error)?;
        self.record(event)?;
        let (tenant, service) = (self.tenant.to_string(), t.service_id.to_string());
        let number = i32::try_from(t.number.n).unwrap_or(i32::MAX);
        let counted = diesel::update(
            sd::table
                .filter(sd::tenant_id.eq(&tenant))
                .filter(sd::service_id.eq(&service))
                .filter(sd::day.eq(t.service_day)),
        )
        .set((sd::issued.eq(sd::issued + 1), sd::last_number.eq(number)))
        .execute(self.conn)
        .map_err(store_error)?;
        if counted == 0 {
            diesel::insert_into(sd::table)
                .values((
                    sd::tenant_id.eq(&tenant),
                    sd::service_id.eq(&service),
                    sd::day.eq(t.service_day),
                    sd::issued.eq(1),
                    sd::last_number.eq(number),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
        }
        Ok(())
    }

    fn ticket(&mut self, id: Uuid) -> Result<Option<Ticket>, StoreError> {
        self.find(id, false)
    }

    fn ticket_for_update(&mut self, id: Uuid) -> Result<Option<Ticket>, StoreError> {
        self.find(id, true)
    }

    fn waiting(&mut self, queue: Uuid) -> Result<Vec<Ticket>, StoreError> {
        self.bind()?;
        let rows: Vec<TicketRow> = tickets::table
            .filter(tickets::tenant_id.eq(self.tenant.to_string()))
            .filter(tickets::queue_id.eq(queue.to_string()))
            .filter(tickets::status.eq(TicketStatus::Waiting.as_str()))
            .order((tickets::line_at.asc(), tickets::id.asc()))
            .select(TicketRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        rows.into_iter().map(Ticket::try_from).collect()
    }

    fn count_waiting(&mut self, queue: Uuid) -> Result<u32, StoreError> {
        self.bind()?;
        let n: i64 = tickets::table
            .filter(tickets::tenant_id.eq(self.tenant.to_string()))
            .filter(tickets::queue_id.eq(queue.to_string()))
            .filter(tickets::status.eq(TicketStatus::Waiting.as_str()))
            .count()
            .get_result(self.conn)
            .map_err(store_error)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn claim_next(
        &mut self,
        queue: &Queue,
        now: DateTime<Utc>,
    ) -> Result<Option<Ticket>, StoreError> {
        self.bind()?;
        let lock = !self.read_only;
        let (tenant, q) = (self.tenant.to_string(), queue.id.to_string());
        let row: Option<TicketRow> = in_call_order!(self, queue, now, &tenant, &q, |line, conn|
            pg => if lock {
                line.limit(1).for_update().skip_locked().get_result(conn).optional()
            } else {
                line.limit(1).get_result(conn).optional()
            },
            sqlite => line.one().get_result(conn).optional()
        )
        .map_err(store_error)?;
        row.map(Ticket::try_from).transpose()
    }

    fn line(
        &mut self,
        queue: &Queue,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Ticket>, StoreError> {
        self.bind()?;
        let (tenant, q) = (self.tenant.to_string(), queue.id.to_string());
        let rows: Vec<TicketRow> = in_call_order!(self, queue, now, &tenant, &q, |line, conn|
            pg => line.limit(i64::from(limit)).load(conn),
            sqlite => line.limit(i64::from(limit)).load(conn)
        )
        .map_err(store_error)?;
        rows.into_iter().map(Ticket::try_from).collect()
    }

    fn ahead(
        &mut self,
        queue: &Queue,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        self.bind()?;
        let (tenant, q) = (self.tenant.to_string(), queue.id.to_string());
        let (at, id) = (naive(ticket.line_at), ticket.id.to_string());
        macro_rules! waiting {
            () => {
                tickets::table
                    .filter(tickets::tenant_id.eq(&tenant))
                    .filter(tickets::queue_id.eq(&q))
                    .filter(tickets::status.eq(TicketStatus::Waiting.as_str()))
            };
        }
        macro_rules! earlier {
            () => {
                tickets::line_at
                    .lt(at)
                    .or(tickets::line_at.eq(at).and(tickets::id.lt(&id)))
            };
        }
        let n: i64 = match queue.algorithm {
            // The index on (tenant, queue, status, line_at) counts it.
            Algorithm::Fifo => waiting!().filter(earlier!()).count().get_result(self.conn),
            Algorithm::Priority => {
                let mine = accueil_domain::queues::tickets::effective_priority(
                    ticket.priority,
                    ticket.line_at,
                    queue.aging_minutes,
                    now,
                );
                let greatest = match &*self.conn {
                    AnyConnection::Postgresql(_) => "GREATEST",
                    AnyConnection::Sqlite(_) => "MAX",
                };
                let rank = rank(queue, now, greatest);
                // Only integers from the domain are in the text.
                let higher = sql::<diesel::sql_types::Bool>(&format!("({rank}) > {mine}"));
                let equal = sql::<diesel::sql_types::Bool>(&format!("({rank}) = {mine}"));
                waiting!()
                    .filter(higher.or(equal.and(earlier!())))
                    .count()
                    .get_result(self.conn)
            }
        }
        .map_err(store_error)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn update_ticket(&mut self, t: &Ticket, event: &TicketEvent) -> Result<(), TicketWriteError> {
        self.writable()?;
        self.bind()?;
        diesel::update(
            tickets::table
                .filter(tickets::tenant_id.eq(self.tenant.to_string()))
                .filter(tickets::id.eq(t.id.to_string())),
        )
        .set((
            tickets::status.eq(t.status.as_str()),
            tickets::priority.eq(i32::from(t.priority)),
            tickets::customer_id.eq(t.customer_id.map(|c| c.to_string())),
            tickets::line_at.eq(naive(t.line_at)),
            tickets::line_sec.eq(t.line_at.timestamp()),
            tickets::called_at.eq(t.called_at.map(naive)),
            tickets::started_at.eq(t.started_at.map(naive)),
            tickets::finished_at.eq(t.finished_at.map(naive)),
            tickets::agent_id.eq(t.agent.map(|a| a.to_string())),
            tickets::counter_id.eq(t.counter_id.map(|c| c.to_string())),
            tickets::updated_at.eq(naive(t.updated_at)),
        ))
        .execute(self.conn)
        .map_err(|e| match e {
            // The one unique rule an update can break: the agent's one active ticket.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                TicketWriteError::AgentBusy
            }
            other => TicketWriteError::Store(store_error(other)),
        })?;
        self.record(event)?;
        Ok(())
    }

    fn active_ticket(&mut self, agent: UserId) -> Result<Option<Ticket>, StoreError> {
        self.bind()?;
        let row: Option<TicketRow> = tickets::table
            .filter(tickets::tenant_id.eq(self.tenant.to_string()))
            .filter(tickets::agent_id.eq(agent.to_string()))
            .filter(tickets::status.eq_any([
                TicketStatus::Called.as_str(),
                TicketStatus::InService.as_str(),
            ]))
            .select(TicketRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        row.map(Ticket::try_from).transpose()
    }

    fn recent_service_times(
        &mut self,
        service: Uuid,
        n: u32,
    ) -> Result<Vec<chrono::Duration>, StoreError> {
        self.bind()?;
        let rows: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)> = tickets::table
            .filter(tickets::tenant_id.eq(self.tenant.to_string()))
            .filter(tickets::service_id.eq(service.to_string()))
            .filter(tickets::status.eq(TicketStatus::Done.as_str()))
            .filter(tickets::started_at.is_not_null())
            .order(tickets::finished_at.desc())
            .limit(i64::from(n))
            .select((tickets::started_at, tickets::finished_at))
            .load(self.conn)
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|(start, end)| Some(end? - start?))
            .collect())
    }

    fn events(&mut self, ticket: Uuid) -> Result<Vec<TicketEvent>, StoreError> {
        self.bind()?;
        type EventRow = (
            String,
            String,
            Option<String>,
            String,
            NaiveDateTime,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<EventRow> = te::table
            .filter(te::tenant_id.eq(self.tenant.to_string()))
            .filter(te::ticket_id.eq(ticket.to_string()))
            .order((te::at.asc(), te::id.asc()))
            .select((
                te::id,
                te::ticket_id,
                te::from_status,
                te::to_status,
                te::at,
                te::agent_id,
                te::counter_id,
            ))
            .load(self.conn)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(id, ticket, from, to, at, agent, counter)| {
                Ok(TicketEvent {
                    id: uuid(&id)?,
                    ticket_id: uuid(&ticket)?,
                    from: from.as_deref().map(status).transpose()?,
                    to: status(&to)?,
                    at: utc(at),
                    agent: opt_uuid(agent)?.map(UserId),
                    counter_id: opt_uuid(counter)?,
                })
            })
            .collect()
    }
}
