//! One realtime connection, from its handshake to its close: authentication (the ticket, or
//! the first message), registration in the hub, then one loop over the client's frames, the
//! hub's signals, the heartbeat and the server's shutdown.
//!
//! Decisions about who may hear what are the application's (`accueil_app::realtime`), each in
//! a read unit of work; this loop routes, answers and closes. Every write to the socket has a
//! deadline: a client that stops reading is dropped rather than allowed to hold memory.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accueil_app::identity::AuthError;
use accueil_app::realtime::{OpenError, SocketUser};
use accueil_domain::events::{Topic, TopicKind};
use accueil_domain::identity::TicketProblem;
use accueil_domain::limits::gcra;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use super::close;
use super::hub::{Hub, Mailbox, Mark, Opened, Refused, Signal};
use super::protocol::{self, ClientMessage, Notification, Refusal, ServerMessage};

type App = actix_web::web::Data<accueil_app::App>;

/// How the connection ended, and what to tell the client.
#[derive(Debug)]
enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// Answer the client's close frame with the same code.
    Echo(Option<CloseReason>),
    /// The client is gone or stopped reading: nothing can be sent.
    Gone,
}

impl End {
    fn close(code: u16, reason: impl Into<String>) -> Self {
        Self::Close(code, reason.into())
    }

    /// The close for a connection whose session no longer holds.
    fn denied(e: &AuthError) -> Self {
        match e {
            AuthError::SessionRevoked => Self::close(close::SESSION_ENDED, "session ended"),
            AuthError::AccountDisabled => Self::close(close::ACCOUNT_DISABLED, "account disabled"),
            AuthError::TokenExpired => {
                Self::close(close::AUTHENTICATION_FAILED, "access token expired")
            }
            AuthError::Store(_) => Self::close(close::INTERNAL, "storage unavailable; retry"),
            AuthError::Missing
            | AuthError::InvalidToken
            | AuthError::InvalidApiKey
            | AuthError::ReadOnlyKey => {
                Self::close(close::AUTHENTICATION_FAILED, "invalid access token")
            }
        }
    }

    fn refused(e: &OpenError) -> Self {
        match e {
            OpenError::Ticket(TicketProblem::Invalid) => Self::close(
                close::AUTHENTICATION_FAILED,
                "unknown or already used ticket",
            ),
            OpenError::Ticket(TicketProblem::Expired) => {
                Self::close(close::AUTHENTICATION_FAILED, "ticket expired")
            }
            OpenError::Auth(a) => Self::denied(a),
        }
    }
}

/// How the connection proves who it is.
pub(crate) enum Credential {
    /// `?ticket=` on the handshake.
    Ticket(String),
    /// An `auth` message, within the settings' timeout.
    FirstMessage,
}

struct Conn {
    hub: Arc<Hub>,
    app: App,
    ws: Session,
    id: Uuid,
    connected_at: DateTime<Utc>,
    received: u64,
    sent: u64,
    /// The client-message rate's state (GCRA).
    rate: Option<DateTime<Utc>>,
    last_seen: Instant,
    /// When a postponed re-check (storage did not answer) is tried again, and the delay that
    /// led there (doubling from [`RECHECK_RETRY`] up to the heartbeat).
    retry: Option<(tokio::time::Instant, Duration)>,
}

/// The first wait before a postponed re-check is tried again: a client told to re-read hears
/// of it soon after the database answers again, not at the next heartbeat.
const RECHECK_RETRY: Duration = Duration::from_millis(250);

/// Resolves at `at`, or never.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs one connection to its end.
pub(crate) async fn serve(
    hub: Arc<Hub>,
    app: App,
    ws: Session,
    stream: AggregatedMessageStream,
    credential: Credential,
    opened: Opened,
) {
    let mut shutdown = hub.shutdown_signal();
    let mut stream = stream;
    let mut conn = Conn {
        hub,
        app,
        ws,
        id: Uuid::new_v4(),
        connected_at: Utc::now(),
        received: 0,
        sent: 0,
        rate: None,
        last_seen: Instant::now(),
        retry: None,
    };
    let end = conn.run(&mut stream, &mut shutdown, credential).await;
    let (code, reason) = match &end {
        End::Close(code, reason) => (*code, reason.clone()),
        End::Echo(reason) => (
            reason.as_ref().map_or(1005, |r| u16::from(r.code)),
            "closed by the client".to_owned(),
        ),
        End::Gone => (1006, "connection lost".to_owned()),
    };
    conn.finish(end).await;
    tracing::info!(
        connection = %conn.id,
        code,
        reason = %reason,
        seconds = (Utc::now() - conn.connected_at).num_milliseconds() as f64 / 1000.0,
        received = conn.received,
        sent = conn.sent,
        "realtime connection closed"
    );
    drop(opened);
}

fn names(topics: &BTreeSet<Topic>) -> Vec<&'static str> {
    topics.iter().map(|t| kind_of(*t).as_str()).collect()
}

fn kind_of(topic: Topic) -> TopicKind {
    match topic {
        Topic::User(_) => TopicKind::User,
        Topic::Couple(_) => TopicKind::Couple,
    }
}

impl Conn {
    async fn run(
        &mut self,
        stream: &mut AggregatedMessageStream,
        shutdown: &mut watch::Receiver<bool>,
        credential: Credential,
    ) -> End {
        let (socket, mark, via) = match credential {
            Credential::Ticket(ticket) => {
                let mark = self.hub.mark();
                match self.app.realtime.open_with_ticket(&ticket).await {
                    Ok(socket) => (socket, mark, "ticket"),
                    Err(e) => return End::refused(&e),
                }
            }
            Credential::FirstMessage => match self.await_auth(stream, shutdown).await {
                Ok((socket, mark)) => (socket, mark, "token"),
                Err(end) => return end,
            },
        };
        let (_registered, mailbox) =
            match self
                .hub
                .register(self.id, socket.user, socket.session, mark)
            {
                Ok(r) => r,
                Err(Refused::TooMany) => {
                    return End::close(
                        close::TOO_MANY_CONNECTIONS,
                        format!(
                            "at most {} connections per user",
                            self.hub.settings.max_per_user
                        ),
                    );
                }
                Err(Refused::Closing) => {
                    return End::close(close::GOING_AWAY, "server shutting down");
                }
            };
        tracing::info!(connection = %self.id, user = %socket.user, via, "realtime connection opened");
        let hello = ServerMessage::Connection {
            message: "connected",
            connection_id: self.id,
            user_id: socket.user.0,
            heartbeat_interval: self.hub.settings.heartbeat.as_secs().max(1),
            topics: TopicKind::ALL.iter().map(|k| k.as_str()).collect(),
            subscriptions: Vec::new(),
        };
        if let Err(end) = self.send(&hello).await {
            return end;
        }
        self.open(stream, shutdown, &socket, mailbox).await
    }

    /// The connection after authentication, until it ends.
    async fn open(
        &mut self,
        stream: &mut AggregatedMessageStream,
        shutdown: &mut watch::Receiver<bool>,
        socket: &SocketUser,
        mut mailbox: Mailbox,
    ) -> End {
        let every = self.hub.settings.heartbeat;
        // Connections opened together (the reconnections after a restart) would beat, and
        // re-check their sessions, together: the first beat comes after half an interval to a
        // whole one, spread by the connection's random id, and the others keep that phase.
        let spread = u32::try_from(self.id.as_u128() % 1000).unwrap_or(0);
        let first = every / 2 + every / 2 * spread / 1000;
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + first, every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut topics: BTreeSet<Topic> = BTreeSet::new();
        let mut recheck_pending = false;
        let lag = mailbox.lag.clone();
        loop {
            let retry_at = self.retry.filter(|_| recheck_pending).map(|(at, _)| at);
            let step = tokio::select! {
                biased;
                _ = shutdown.wait_for(|closing| *closing) => {
                    Err(End::close(close::GOING_AWAY, "server shutting down"))
                }
                signal = mailbox.signals.recv() => match signal {
                    Some(signal) => self.on_signal(signal, socket, &mut topics).await,
                    None => Err(End::close(close::GOING_AWAY, "server shutting down")),
                },
                () = lag.missed() => {
                    recheck_pending = true;
                    self.recheck(socket, &mut topics, &mut recheck_pending).await
                }
                frame = stream.recv() => self.on_frame(frame, Some((socket, &mut topics))).await,
                _ = heartbeat.tick() => {
                    self.beat(socket, &mut topics, &mut recheck_pending).await
                }
                () = until(retry_at) => {
                    self.recheck(socket, &mut topics, &mut recheck_pending).await
                }
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Waits for the `auth` message; anything else is answered and the clock keeps running.
    async fn await_auth(
        &mut self,
        stream: &mut AggregatedMessageStream,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(SocketUser, Mark), End> {
        let deadline = tokio::time::sleep(self.hub.settings.auth_timeout);
        tokio::pin!(deadline);
        loop {
            let frame = tokio::select! {
                biased;
                _ = shutdown.wait_for(|closing| *closing) => {
                    return Err(End::close(close::GOING_AWAY, "server shutting down"));
                }
                () = &mut deadline => {
                    return Err(End::close(
                        close::AUTHENTICATION_TIMEOUT,
                        "send {\"action\":\"auth\",\"token\":\"…\"} first",
                    ));
                }
                frame = stream.recv() => frame,
            };
            if let Some(Ok(AggregatedMessage::Text(text))) = &frame {
                self.last_seen = Instant::now();
                match self.read(text) {
                    Ok(ClientMessage::Auth { token }) => {
                        let mark = self.hub.mark();
                        return match self.app.realtime.open_with_token(&token).await {
                            Ok(socket) => Ok((socket, mark)),
                            Err(e) => Err(End::refused(&e)),
                        };
                    }
                    Ok(other) => {
                        let refusal = Refusal::new(
                            "auth_required",
                            "authenticate first: {\"action\":\"auth\",\"token\":\"<access token>\"}",
                        );
                        self.send(&ServerMessage::error(refusal, Some(other.action())))
                            .await?;
                    }
                    Err(refusal) => self.send(&ServerMessage::error(refusal, None)).await?,
                }
                continue;
            }
            self.on_frame(frame, None).await?;
        }
    }

    /// Counts and reads a text message, under the per-connection rate.
    fn read(&mut self, text: &str) -> Result<ClientMessage, Refusal> {
        self.received += 1;
        let parsed = protocol::parse(text);
        let label = parsed.as_ref().map_or("invalid", ClientMessage::action);
        self.hub.metrics.received.with_label_values(&[label]).inc();
        let now = Utc::now();
        match gcra(self.rate, now, self.hub.settings.message_rate) {
            Ok(tat) => self.rate = Some(tat),
            Err(wait) => {
                return Err(Refusal::new(
                    "rate_limited",
                    format!(
                        "too many messages; retry in {} ms",
                        wait.num_milliseconds().max(1)
                    ),
                ));
            }
        }
        parsed
    }

    /// A frame other than an authenticated connection's text message (`open` is `None`
    /// before authentication, when text is handled by [`Self::await_auth`]).
    async fn on_frame(
        &mut self,
        frame: Option<Result<AggregatedMessage, actix_ws::ProtocolError>>,
        open: Option<(&SocketUser, &mut BTreeSet<Topic>)>,
    ) -> Result<(), End> {
        let frame = match frame {
            None => return Err(End::Gone),
            Some(Err(actix_ws::ProtocolError::Overflow)) => {
                return Err(End::close(
                    close::MESSAGE_TOO_BIG,
                    format!("messages are at most {} bytes", protocol::MAX_MESSAGE_BYTES),
                ));
            }
            Some(Err(e)) => {
                tracing::debug!(connection = %self.id, error = %e, "realtime protocol error");
                return Err(End::close(close::PROTOCOL_ERROR, "protocol error"));
            }
            Some(Ok(frame)) => frame,
        };
        self.last_seen = Instant::now();
        match frame {
            AggregatedMessage::Text(text) => {
                if let Some((socket, topics)) = open {
                    self.on_text(&text, socket, topics).await?;
                }
            }
            AggregatedMessage::Binary(_) => {
                self.received += 1;
                self.hub
                    .metrics
                    .received
                    .with_label_values(&["invalid"])
                    .inc();
                let refusal = Refusal::new("binary_not_supported", "send JSON in text frames");
                self.send(&ServerMessage::error(refusal, None)).await?;
            }
            AggregatedMessage::Ping(bytes) => {
                timed(self.hub.settings.send_timeout, self.ws.pong(&bytes)).await?;
            }
            AggregatedMessage::Pong(_) => {}
            AggregatedMessage::Close(reason) => return Err(End::Echo(reason)),
        }
        Ok(())
    }

    async fn on_text(
        &mut self,
        text: &str,
        socket: &SocketUser,
        topics: &mut BTreeSet<Topic>,
    ) -> Result<(), End> {
        let message = match self.read(text) {
            Ok(m) => m,
            Err(refusal) => return self.send(&ServerMessage::error(refusal, None)).await,
        };
        match message {
            ClientMessage::Auth { .. } => {
                let refusal = Refusal::new("already_authenticated", "this connection is open");
                self.send(&ServerMessage::error(refusal, Some("auth")))
                    .await
            }
            ClientMessage::Ping => {
                self.send(&ServerMessage::Pong {
                    timestamp: Utc::now(),
                })
                .await
            }
            ClientMessage::Subscribe(kinds) => self.subscribe(socket, kinds, topics).await,
            ClientMessage::Unsubscribe(kinds) => {
                let dropped: Vec<Topic> = topics
                    .iter()
                    .copied()
                    .filter(|t| kinds.contains(&kind_of(*t)))
                    .collect();
                for t in &dropped {
                    topics.remove(t);
                }
                self.hub.unsubscribe(self.id, &dropped);
                self.send(&ServerMessage::Unsubscribed {
                    topics: kinds.iter().map(|k| k.as_str()).collect(),
                    subscriptions: names(topics),
                })
                .await
            }
            ClientMessage::GetStats => {
                let stats = ServerMessage::Stats {
                    connection_id: self.id,
                    connections: self.hub.connections_of(socket.user),
                    subscriptions: names(topics),
                    connected_at: self.connected_at,
                    messages_received: self.received,
                    messages_sent: self.sent,
                };
                self.send(&stats).await
            }
        }
    }

    async fn subscribe(
        &mut self,
        socket: &SocketUser,
        kinds: Vec<TopicKind>,
        topics: &mut BTreeSet<Topic>,
    ) -> Result<(), End> {
        let mark = self.hub.mark();
        let grants = match self.app.realtime.authorize(socket, kinds).await {
            Ok(g) => g,
            Err(AuthError::Store(e)) => {
                tracing::warn!(connection = %self.id, error = %e, "realtime subscription not checked");
                let refusal = Refusal::new("unavailable", "storage unavailable; retry shortly");
                return self
                    .send(&ServerMessage::error(refusal, Some("subscribe")))
                    .await;
            }
            Err(e) => return Err(End::denied(&e)),
        };
        let mut granted = Vec::new();
        let mut added = Vec::new();
        let mut refused = Vec::new();
        for (kind, grant) in grants {
            match grant {
                Ok(topic) => {
                    // One couple at a time: a couple left since is replaced by the current one.
                    let stale: Vec<Topic> = topics
                        .iter()
                        .copied()
                        .filter(|t| kind_of(*t) == kind && *t != topic)
                        .collect();
                    for t in &stale {
                        topics.remove(t);
                    }
                    self.hub.unsubscribe(self.id, &stale);
                    if topics.insert(topic) {
                        added.push(topic);
                    }
                    granted.push(kind.as_str());
                }
                Err(not_in_couple) => refused.push((kind, not_in_couple)),
            }
        }
        self.hub.subscribe(self.id, &added, mark);
        if !granted.is_empty() {
            self.send(&ServerMessage::Subscribed {
                topics: granted,
                subscriptions: names(topics),
            })
            .await?;
        }
        for (kind, why) in refused {
            let refusal = Refusal::new(
                "not_in_couple",
                format!("cannot subscribe to {}: {why}", kind.as_str()),
            );
            self.send(&ServerMessage::error(refusal, Some("subscribe")))
                .await?;
        }
        Ok(())
    }

    async fn on_signal(
        &mut self,
        signal: Signal,
        socket: &SocketUser,
        topics: &mut BTreeSet<Topic>,
    ) -> Result<(), End> {
        match signal {
            Signal::Changed { couple, cursor } => {
                if topics.contains(&Topic::Couple(couple)) {
                    self.send(&ServerMessage::Notification(Notification::Changes {
                        topic: TopicKind::Couple.as_str(),
                        cursor: cursor.to_string(),
                    }))
                    .await?;
                }
                Ok(())
            }
            Signal::CoupleEnded { couple } => {
                if topics.remove(&Topic::Couple(couple)) {
                    self.send(&ServerMessage::Notification(Notification::Unsubscribed {
                        topic: TopicKind::Couple.as_str(),
                        reason: "couple_ended",
                    }))
                    .await?;
                }
                Ok(())
            }
            Signal::SessionEnded => Err(End::close(close::SESSION_ENDED, "session ended")),
            Signal::UserSessionsEnded => match self.app.realtime.still_signed_in(socket).await {
                // A session opened after the logout-everywhere (the event reached us late).
                Ok(_) => Ok(()),
                Err(AuthError::AccountDisabled) => Err(End::denied(&AuthError::AccountDisabled)),
                Err(_) => Err(End::close(close::SESSION_ENDED, "session ended")),
            },
        }
    }

    /// Re-checks the session and the topics: after missed events (`pending`), when it then
    /// tells the client to re-read, and quietly at every heartbeat, which bounds how long a
    /// connection can outlive its session when no event could reach this instance (a
    /// command-line `disable-user` on SQLite: its events stay in its own process). When
    /// storage cannot answer, a pending re-check is tried again after [`RECHECK_RETRY`],
    /// doubling up to the heartbeat.
    async fn recheck(
        &mut self,
        socket: &SocketUser,
        topics: &mut BTreeSet<Topic>,
        pending: &mut bool,
    ) -> Result<(), End> {
        let announce = *pending;
        let kept = match self
            .app
            .realtime
            .recheck(socket, topics.iter().copied().collect())
            .await
        {
            Ok(kept) => kept,
            Err(AuthError::Store(e)) => {
                tracing::warn!(connection = %self.id, error = %e, "realtime re-check postponed");
                if *pending {
                    let delay = self.retry.map_or(RECHECK_RETRY, |(_, d)| {
                        (d * 2).min(self.hub.settings.heartbeat)
                    });
                    self.retry = Some((tokio::time::Instant::now() + delay, delay));
                }
                return Ok(());
            }
            Err(e) => return Err(End::denied(&e)),
        };
        *pending = false;
        self.retry = None;
        let dropped: Vec<Topic> = topics
            .iter()
            .copied()
            .filter(|t| !kept.contains(t))
            .collect();
        self.hub.unsubscribe(self.id, &dropped);
        for topic in dropped {
            topics.remove(&topic);
            self.send(&ServerMessage::Notification(Notification::Unsubscribed {
                topic: kind_of(topic).as_str(),
                reason: "couple_ended",
            }))
            .await?;
        }
        if announce {
            self.hub.metrics.resyncs.inc();
            self.send(&ServerMessage::Notification(Notification::Resync {}))
                .await?;
        }
        Ok(())
    }

    async fn beat(
        &mut self,
        socket: &SocketUser,
        topics: &mut BTreeSet<Topic>,
        recheck_pending: &mut bool,
    ) -> Result<(), End> {
        let every = self.hub.settings.heartbeat;
        if self.last_seen.elapsed() > every * 2 + every / 2 {
            return Err(End::close(
                close::HEARTBEAT_TIMEOUT,
                "no answer to the last two pings",
            ));
        }
        self.send(&ServerMessage::Heartbeat {
            timestamp: Utc::now(),
        })
        .await?;
        timed(self.hub.settings.send_timeout, self.ws.ping(b"")).await?;
        self.recheck(socket, topics, recheck_pending).await
    }

    async fn send(&mut self, message: &ServerMessage) -> Result<(), End> {
        let text = serde_json::to_string(message).map_err(|e| {
            tracing::error!(error = %e, "realtime message not serialisable");
            End::close(close::INTERNAL, "internal error")
        })?;
        timed(self.hub.settings.send_timeout, self.ws.text(text)).await?;
        self.sent += 1;
        self.hub
            .metrics
            .sent
            .with_label_values(&[message.kind()])
            .inc();
        Ok(())
    }

    /// Sends the close frame (when the client can still get one).
    async fn finish(&mut self, end: End) {
        let reason = match end {
            End::Gone => return,
            End::Echo(reason) => reason,
            End::Close(code, description) => Some(CloseReason {
                code: CloseCode::from(code),
                description: Some(description),
            }),
        };
        let _ = tokio::time::timeout(
            self.hub.settings.send_timeout,
            self.ws.clone().close(reason),
        )
        .await;
    }
}

/// A write, within `limit`: a client that reads nothing for that long is gone.
async fn timed(
    limit: Duration,
    write: impl std::future::Future<Output = Result<(), actix_ws::Closed>>,
) -> Result<(), End> {
    match tokio::time::timeout(limit, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(End::Gone),
    }
}
