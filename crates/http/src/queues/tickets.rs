//! Tickets: `GET`/`POST /api/v1/tenants/{slug}/queues/{id}/tickets` (the waiting list, take
//! one), `POST …/queues/{id}/call-next`, `GET /api/v1/tenants/{slug}/tickets/{id}` and
//! `POST …/tickets/{id}/call|recall|start|close|pause|resume|no-show`.

use accueil_app::queues::{
    CallNextError, TakeTicketError, TakenTicket, TicketActionError, TicketView,
};
use accueil_domain::queues::NewCustomer;
use accueil_domain::queues::tickets::{NewTicket, TicketAction};
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::customers::CustomerRequest;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, FromQuery, MaybeValid, Now, Query};
use crate::problems::{Errors, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(waiting_list)
        .service(take_ticket)
        .service(call_next)
        .service(get_ticket)
        .service(call_ticket)
        .service(recall_ticket)
        .service(start_ticket)
        .service(close_ticket)
        .service(pause_ticket)
        .service(resume_ticket)
        .service(no_show_ticket);
}

const AGENT_BUSY: Spec = Spec::new(
    409,
    "agent_busy",
    "the caller already has a ticket called or in service: close it, pause it or mark it no-show first",
);

impl crate::problems::Problems for accueil_app::queues::AgentBusy {
    fn specs() -> Vec<Spec> {
        vec![AGENT_BUSY]
    }
}

impl From<accueil_app::queues::AgentBusy> for ApiError {
    fn from(e: accueil_app::queues::AgentBusy) -> Self {
        AGENT_BUSY.answer(e.to_string())
    }
}

crate::problems!(TakeTicketError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), Invalid(ValidationErrors), Store(accueil_app::StoreError);
    QueueClosed => Spec::new(409, "queue_closed", "the queue is closed: no ticket can be taken now"),
    QueueFull(_) => Spec::new(409, "queue_full", "the queue has as many tickets waiting as its `max_waiting` allows"),
    DailyCapReached(_) => Spec::new(409, "daily_cap_reached", "the service's tickets for today are all taken (its daily cap or range); numbers start again at local midnight"),
});

crate::problems!(CallNextError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), AgentBusy(accueil_app::queues::AgentBusy), Store(accueil_app::StoreError);
    QueueEmpty => Spec::new(409, "queue_empty", "nobody is waiting in the queue"),
});

crate::problems!(TicketActionError {
    via Denied(accueil_app::scope::TenantDenied), NotFound(accueil_app::couples::NotFound), AgentBusy(accueil_app::queues::AgentBusy), Store(accueil_app::StoreError);
    Transition(_) => Spec::new(409, "invalid_transition", "the ticket's state does not allow this action (`detail` names the state; the table is in docs/api.md)"),
});

/// What an ETA rests on.
#[derive(Serialize, ToSchema)]
pub struct EtaBody {
    /// Average minutes a ticket of the service takes.
    pub minutes_per_ticket: f64,
    /// How many of the service's last served tickets measured it; 0 when none was served yet
    /// and the service's `avg_service_minutes` stands in.
    pub measured_on: u32,
    /// Agents serving the queue now (`AVAILABLE` or `BUSY` with it in their `queue_ids`); the
    /// ETA assumes at least one.
    pub agents: u32,
}

/// A ticket.
#[derive(Serialize, ToSchema)]
pub struct QueueTicketBody {
    /// Id.
    pub id: Uuid,
    /// `A-001`: the service's prefix and its number of the local day.
    pub number: String,
    /// `WAITING`, `CALLED`, `IN_SERVICE`, `PAUSED`, `DONE`, `NO_SHOW`, `CANCELLED` or
    /// `TRANSFERRED`.
    pub status: &'static str,
    /// Its queue.
    pub queue_id: Uuid,
    /// The queue's service.
    pub service_id: Uuid,
    /// 0 to 9.
    pub priority: u8,
    /// Its customer, if known.
    pub customer_id: Option<Uuid>,
    /// While waiting: 1 for the next to be called.
    pub position: Option<u32>,
    /// While waiting: the tickets to be called before it.
    pub people_ahead: Option<u32>,
    /// While waiting: minutes until it is called (people ahead × minutes per ticket ÷ agents,
    /// rounded up).
    pub eta_minutes: Option<u32>,
    /// While waiting: what the ETA rests on.
    pub eta: Option<EtaBody>,
    /// The agent who has it or last had it.
    pub agent_id: Option<Uuid>,
    /// Their counter.
    pub counter_id: Option<Uuid>,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
    /// When it was last called.
    pub called_at: Option<DateTime<Utc>>,
    /// When its service started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Only in the answer that took it: the secret of its public follow link
    /// (`/api/v1/public/tickets/{ticket_token}`), shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_token: Option<String>,
}

impl From<&TicketView> for QueueTicketBody {
    fn from(v: &TicketView) -> Self {
        let t = &v.ticket;
        Self {
            id: t.id,
            number: t.number.to_string(),
            status: t.status.as_str(),
            queue_id: t.queue_id,
            service_id: t.service_id,
            priority: t.priority,
            customer_id: t.customer_id,
            position: v.position,
            people_ahead: v.position.map(|p| p - 1),
            eta_minutes: v.eta_minutes,
            eta: v.eta.map(|e| EtaBody {
                minutes_per_ticket: e.minutes_per_ticket,
                measured_on: e.measured_on,
                agents: e.agents,
            }),
            agent_id: t.agent.map(|a| a.0),
            counter_id: t.counter_id,
            created_at: t.created_at,
            called_at: t.called_at,
            started_at: t.started_at,
            finished_at: t.finished_at,
            ticket_token: None,
        }
    }
}

impl From<&TakenTicket> for QueueTicketBody {
    fn from(t: &TakenTicket) -> Self {
        Self {
            ticket_token: Some(t.token.clone()),
            ..Self::from(&t.view)
        }
    }
}

/// A queue's waiting tickets.
#[derive(Serialize, ToSchema)]
pub struct QueueTicketList {
    /// In the order they will be called.
    pub items: Vec<QueueTicketBody>,
}

/// A ticket to take at the desk: all fields optional.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct QueueTicketRequest {
    /// 0 (default) to 9.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 0, maximum = 9)]
    pub priority: Option<i64>,
    /// A customer of the tenant; or give `customer`, not both.
    pub customer_id: Option<Uuid>,
    /// A new customer, stored with the ticket.
    #[serde(default, deserialize_with = "crate::json::object")]
    pub customer: Option<CustomerRequest>,
}

impl FromBody for NewTicket {
    type Body = QueueTicketRequest;
    fn from_body(b: Self::Body, now: Now) -> Result<Self, ValidationErrors> {
        let customer = b.customer.map(|c| NewCustomer::from_body(c, now));
        NewTicket::parse(b.priority, b.customer_id, customer)
    }
}

/// How much of the line.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LineParams {
    /// The first 1 to 200 (default 50); more is read as 200, 0 as 1.
    #[param(minimum = 0, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
}

impl FromQuery for LineParams {
    type Query = LineParams;
    fn from_query(q: LineParams) -> Result<Self, ApiError> {
        Ok(q)
    }
}

/// The first waiting tickets of a queue (`?limit=`, default 50), in the order they will be
/// called, with positions and ETAs (`tickets:read`).
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("id" = Uuid, Path, description = "The queue's id"),
    LineParams,
), responses(
    (status = 200, description = "The waiting list", body = QueueTicketList),
    Errors<accueil_app::queues::InTenantLookupError>,
))]
#[get("/tenants/{slug}/queues/{id}/tickets")]
async fn waiting_list(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
    Query(line): Query<LineParams>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let limit = line.limit.unwrap_or(50);
    let list = app.queues.waiting_list(&auth.0, &slug, id, limit).await?;
    Ok(HttpResponse::Ok().json(QueueTicketList {
        items: list.iter().map(QueueTicketBody::from).collect(),
    }))
}

/// Take a ticket for a customer at the desk (`tickets:issue`). The answer carries
/// `ticket_token`, the secret of the ticket's public follow link, this once.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("id" = Uuid, Path, description = "The queue's id"),
), request_body(content = Option<QueueTicketRequest>, description = "Optional; no body for an anonymous ticket of priority 0"), responses(
    (status = 201, description = "Taken; `Location` is the ticket's URL", body = QueueTicketBody),
    Errors<TakeTicketError>,
))]
#[post("/tenants/{slug}/queues/{id}/tickets")]
async fn take_ticket(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
    MaybeValid(new): MaybeValid<NewTicket>,
) -> Result<HttpResponse, ApiError> {
    let (slug, queue) = path.into_inner();
    let new = match new {
        Some(new) => new,
        None => NewTicket::parse(None, None, None)?,
    };
    let taken = app.queues.take_ticket(&auth.0, &slug, queue, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/tenants/{slug}/tickets/{}", taken.view.ticket.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(QueueTicketBody::from(&taken)))
}

/// Call the next ticket of a queue to the caller's counter (`tickets:serve`): FIFO takes the
/// earliest, PRIORITY the highest effective priority (docs/api.md); the caller becomes
/// `BUSY`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("id" = Uuid, Path, description = "The queue's id"),
), responses(
    (status = 200, description = "The ticket called", body = QueueTicketBody),
    Errors<CallNextError>,
))]
#[post("/tenants/{slug}/queues/{id}/call-next")]
async fn call_next(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, queue) = path.into_inner();
    let view = app.queues.call_next(&auth.0, &slug, queue).await?;
    Ok(HttpResponse::Ok().json(QueueTicketBody::from(&view)))
}

/// One ticket, with its position and ETA while waiting (`tickets:read`).
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(
    ("slug" = String, Path, description = "The tenant's slug"),
    ("id" = Uuid, Path, description = "The ticket's id"),
), responses(
    (status = 200, description = "The ticket", body = QueueTicketBody),
    Errors<accueil_app::queues::InTenantLookupError>,
))]
#[get("/tenants/{slug}/tickets/{id}")]
async fn get_ticket(
    app: App,
    auth: Auth,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let view = app.queues.ticket(&auth.0, &slug, id).await?;
    Ok(HttpResponse::Ok().json(QueueTicketBody::from(&view)))
}

/// The routes of the agent's actions on one ticket, one per action.
macro_rules! ticket_actions {
    ($($name:ident => $path:tt, $action:expr, $doc:tt;)+) => {$(
        #[doc = $doc]
        #[utoipa::path(tag = "tickets", security(("bearer" = [])), params(
            ("slug" = String, Path, description = "The tenant's slug"),
            ("id" = Uuid, Path, description = "The ticket's id"),
        ), responses(
            (status = 200, description = "The ticket after the action", body = QueueTicketBody),
            Errors<TicketActionError>,
        ))]
        #[post($path)]
        async fn $name(
            app: App,
            auth: Auth,
            path: web::Path<(String, Uuid)>,
        ) -> Result<HttpResponse, ApiError> {
            let (slug, id) = path.into_inner();
            let view = app.queues.act_on_ticket(&auth.0, &slug, id, $action).await?;
            Ok(HttpResponse::Ok().json(QueueTicketBody::from(&view)))
        }
    )+};
}

ticket_actions! {
    call_ticket => "/tenants/{slug}/tickets/{id}/call", TicketAction::Call,
        "Call this ticket, out of turn when it is not the next (audited) (`tickets:serve`): `WAITING` → `CALLED`.";
    recall_ticket => "/tenants/{slug}/tickets/{id}/recall", TicketAction::Recall,
        "Call a called ticket again (`tickets:serve`): `CALLED` → `CALLED`.";
    start_ticket => "/tenants/{slug}/tickets/{id}/start", TicketAction::Start,
        "Start serving it (`tickets:serve`): `CALLED` → `IN_SERVICE`.";
    close_ticket => "/tenants/{slug}/tickets/{id}/close", TicketAction::Close,
        "Finish serving it (`tickets:serve`): `IN_SERVICE` → `DONE`; its agent is free.";
    pause_ticket => "/tenants/{slug}/tickets/{id}/pause", TicketAction::Pause,
        "Interrupt its service (`tickets:serve`): `IN_SERVICE` → `PAUSED`; its agent may call another.";
    resume_ticket => "/tenants/{slug}/tickets/{id}/resume", TicketAction::Resume,
        "Resume its service (`tickets:serve`): `PAUSED` → `IN_SERVICE`.";
    no_show_ticket => "/tenants/{slug}/tickets/{id}/no-show", TicketAction::NoShow,
        "The customer did not come (`tickets:serve`): `CALLED` → `NO_SHOW`.";
}
