//! Realtime notifications over WebSocket: `POST /api/v1/ws/ticket` and `GET /api/v1/ws`
//! (protocol, close codes and advice for clients in docs/realtime.md).
//!
//! [`Realtime`] is the server's hub of connections, routing committed events from the bus;
//! each connection runs in its own task (`connection`), and the messages are in `protocol`.

mod connection;
mod hub;
mod metrics;
mod protocol;

use std::time::Duration;

use accueil_app::StoreError;
use accueil_app::identity::{AuthError, RateLimited, SessionRequired};
use accueil_app::realtime::TicketError;
use accueil_domain::limits::Rate;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub use hub::Realtime;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::problems::{Errors, Problems, Spec};

type App = web::Data<accueil_app::App>;

/// The close codes the server sends (docs/realtime.md has the table clients read).
pub mod close {
    /// The server is shutting down: reconnect (another instance will answer).
    pub const GOING_AWAY: u16 = 1001;
    /// A frame the protocol does not allow.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A message over the size limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The server could not check the connection (storage unavailable): reconnect later.
    pub const INTERNAL: u16 = 1011;
    /// The client answered no ping for two heartbeat intervals and a half.
    pub const HEARTBEAT_TIMEOUT: u16 = 4000;
    /// The connection's session ended (logout, logout everywhere, password change or reset,
    /// refresh-token reuse, account deleted): sign in again.
    pub const SESSION_ENDED: u16 = 4001;
    /// The ticket is unknown, used or expired, or the `auth` token is invalid or expired: get
    /// a new ticket (or refresh the token) and reconnect.
    pub const AUTHENTICATION_FAILED: u16 = 4002;
    /// The account is disabled.
    pub const ACCOUNT_DISABLED: u16 = 4003;
    /// No `auth` message arrived in time after a handshake without a ticket.
    pub const AUTHENTICATION_TIMEOUT: u16 = 4004;
    /// The user has the most connections allowed on this instance.
    pub const TOO_MANY_CONNECTIONS: u16 = 4008;
}

/// Realtime settings.
#[derive(Debug, Clone, Copy)]
pub struct RealtimeSettings {
    /// Between heartbeats (a `heartbeat` message and a ping frame).
    pub heartbeat: Duration,
    /// How long a handshake without a ticket may wait for its `auth` message.
    pub auth_timeout: Duration,
    /// Connections one user may have open on one instance.
    pub max_per_user: usize,
    /// Messages a connection may send (a burst of `count`, then one per `period / count`).
    pub message_rate: Rate,
    /// Signals a connection may fall behind by before it must resynchronise.
    pub mailbox: usize,
    /// How long a write to a client may wait for it to read: after that it is dropped.
    pub send_timeout: Duration,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(30),
            auth_timeout: Duration::from_secs(5),
            max_per_user: 8,
            message_rate: Rate {
                count: 20,
                period: chrono::Duration::seconds(10),
            },
            mailbox: 64,
            send_timeout: Duration::from_secs(10),
        }
    }
}

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ws_ticket).service(ws_connect);
}

/// A ticket for `GET /api/v1/ws?ticket=`.
#[derive(Serialize, ToSchema)]
pub struct TicketBody {
    /// Send it as `?ticket=` within 30 seconds; it opens one connection.
    pub ticket: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

crate::problems!(TicketError {
    via Auth(AuthError), SessionRequired(SessionRequired), RateLimited(RateLimited), Store(StoreError);
});

/// Get a one-time ticket to open a WebSocket connection.
///
/// The ticket opens one connection (`GET /api/v1/ws?ticket=…`, on any instance) within 30
/// seconds, for the caller's session: the connection closes when that session ends. It is the
/// way for browsers, which cannot set a header on a WebSocket handshake, and keeps access
/// tokens out of URLs and logs. Needs a signed-in session (not an API key). See
/// docs/realtime.md.
#[utoipa::path(
    tag = "realtime",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A ticket, valid 30 seconds", body = TicketBody),
        Errors<TicketError>,
    )
)]
#[post("/ws/ticket")]
async fn ws_ticket(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let issued = app.realtime.issue_ticket(&auth.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TicketBody {
            ticket: issued.ticket,
            expires_at: issued.expires_at,
        }))
}

/// The handshake's parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConnectParams {
    /// A ticket from `POST /api/v1/ws/ticket`. Without one, the first message must be
    /// `{"action":"auth","token":"<access token>"}`, within 5 seconds.
    pub ticket: Option<String>,
}

const UPGRADE_REQUIRED: Spec = Spec::new(
    426,
    "upgrade_required",
    "not a WebSocket handshake: open this URL with a WebSocket client (`Upgrade: websocket`)",
);
const INVALID_HANDSHAKE: Spec = Spec::new(
    400,
    "invalid_handshake",
    "a WebSocket handshake that RFC 6455 does not allow (version, key or `Connection` header)",
);

/// What refuses a handshake before it is upgraded.
pub struct HandshakeRefused;

impl Problems for HandshakeRefused {
    fn specs() -> Vec<Spec> {
        vec![UPGRADE_REQUIRED, INVALID_HANDSHAKE]
    }
}

/// Open a WebSocket connection for realtime notifications.
///
/// A WebSocket handshake (`Upgrade: websocket`) is answered `101 Switching Protocols`; the
/// messages both ways, the close codes, authentication (`?ticket=`, or an `auth` message
/// first), the topics (`user`, `couple`) and how to reconnect are in docs/realtime.md, with a
/// JSON schema per message under docs/realtime/. A request that is not a handshake answers
/// 426. Authentication problems are told by the close code, after the upgrade (browsers cannot
/// read a refused handshake's status).
#[utoipa::path(
    tag = "realtime",
    params(ConnectParams),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket protocol of docs/realtime.md"),
        Errors<HandshakeRefused>,
    )
)]
#[get("/ws")]
async fn ws_connect(
    app: App,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<ConnectParams>,
) -> Result<HttpResponse, ApiError> {
    let upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !upgrade {
        let mut answer = actix_web::ResponseError::error_response(
            &UPGRADE_REQUIRED.answer("this is the WebSocket endpoint"),
        );
        answer.headers_mut().insert(
            header::UPGRADE,
            header::HeaderValue::from_static("websocket"),
        );
        answer.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("Upgrade"),
        );
        return Ok(answer);
    }
    let unavailable =
        || crate::problems::UNAVAILABLE.answer("realtime connections are not accepted now; retry");
    let realtime = req
        .app_data::<web::Data<Realtime>>()
        .ok_or_else(unavailable)?;
    let hub = realtime.hub.clone();
    let opened = hub.open().ok_or_else(unavailable)?;
    let (response, session, stream) =
        actix_ws::handle(&req, body).map_err(|e| INVALID_HANDSHAKE.answer(e.to_string()))?;
    let stream = stream
        .max_frame_size(protocol::MAX_MESSAGE_BYTES)
        .aggregate_continuations()
        .max_continuation_size(protocol::MAX_MESSAGE_BYTES);
    let credential = match query.into_inner().ticket {
        Some(t) => connection::Credential::Ticket(t),
        None => connection::Credential::FirstMessage,
    };
    actix_web::rt::spawn(connection::serve(
        hub,
        app.clone(),
        session,
        stream,
        credential,
        opened,
    ));
    Ok(response)
}
