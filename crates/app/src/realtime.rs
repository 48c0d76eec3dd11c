//! Realtime connections: the tickets that open them, who a connection is, and which topics it
//! may hear.
//!
//! A connection belongs to one signed-in session. It is opened with a one-time ticket (issued
//! to that session over an authenticated request, redeemable once on any instance) or with an
//! access token sent over the socket; either way the session and its user are read in a unit
//! of work, as for any request. Every later decision about the connection is taken here too, in
//! a read unit of work, never by the transport: whether it may subscribe to a topic (its own
//! user; its current couple), and, when events may have been missed, whether its session and
//! subscriptions still hold. The transport (`accueil_http::realtime`) only routes events and
//! acts on these answers.

use accueil_domain::events::{Topic, TopicKind};
use accueil_domain::identity::{SessionId, TicketProblem, UserId, WsTicket};
use accueil_domain::limits::Rate;
use accueil_ports::{StoreError, StoreExt, Tx};
use chrono::{DateTime, Duration, Utc};

pub use accueil_ports::events::{BusStats, Delivery, EventBus, Subscription};

use crate::Ports;
use crate::identity::{
    AuthError, Caller, Principal, RateLimited, SessionRequired, authenticate_in,
};
use crate::scope::NotInCouple;

/// Rate-limit bucket of ticket issuance, per user.
const TICKET_BUCKET: &str = "ws_ticket:user";

/// Realtime settings.
#[derive(Debug, Clone, Copy)]
pub struct RealtimeSettings {
    /// Tickets issued per user.
    pub ticket_user: Rate,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            ticket_user: Rate {
                count: 20,
                period: Duration::minutes(1),
            },
        }
    }
}

/// A ticket just issued; its secret is shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedTicket {
    /// What the client sends as `?ticket=`.
    pub ticket: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTicket")
            .field("ticket", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why no ticket was issued.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// An API key: a connection belongs to a session, whose end closes it (a key's revocation
    /// tells no connection).
    #[error(transparent)]
    SessionRequired(#[from] SessionRequired),
    /// Too many tickets for this user.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The ticket is unknown, used already, or expired.
    #[error(transparent)]
    Ticket(#[from] TicketProblem),
    /// The token is invalid or expired, its session ended, or its account is disabled.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl From<StoreError> for OpenError {
    fn from(e: StoreError) -> Self {
        Self::Auth(AuthError::Store(e))
    }
}

/// Who an open connection is: a session of a user, authenticated when it opened. Every check
/// after that reads the session again.
#[derive(Clone)]
pub struct SocketUser {
    caller: Caller,
    /// The user.
    pub user: UserId,
    /// The session the connection belongs to.
    pub session: SessionId,
}

impl std::fmt::Debug for SocketUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketUser")
            .field("user", &self.user)
            .field("session", &self.session)
            .finish()
    }
}

impl SocketUser {
    fn of(user: UserId, session: SessionId) -> Self {
        Self {
            caller: Caller::session(user, session),
            user,
            session,
        }
    }
}

/// What a subscription request was granted: each kind asked for, with its topic or why not.
pub type Grants = Vec<(TopicKind, Result<Topic, NotInCouple>)>;

/// The realtime use cases.
#[derive(Clone)]
pub struct RealtimeService {
    ports: Ports,
    settings: RealtimeSettings,
}

impl RealtimeService {
    /// A service over these ports.
    pub fn new(ports: Ports, settings: RealtimeSettings) -> Self {
        Self { ports, settings }
    }

    /// Issues a one-time ticket for the caller's session, valid 30 seconds. Expired tickets
    /// are removed in the same unit of work, so the table holds about a minute of them.
    ///
    /// # Errors
    /// See [`TicketError`]: `SessionRequired` for an API key, `RateLimited` past the per-user
    /// rate.
    pub async fn issue_ticket(&self, caller: &Caller) -> Result<IssuedTicket, TicketError> {
        let now = self.ports.clock.now();
        // The claimed user is the verified token's subject; an API key has none, and is
        // refused in the unit of work before anything is written.
        if let Some(user) = caller.claimed_user() {
            self.ports
                .limiter
                .hit(
                    TICKET_BUCKET,
                    &user.to_string(),
                    self.settings.ticket_user,
                    now,
                )
                .map_err(|retry_after| RateLimited { retry_after })?;
        }
        let opaque = self.ports.opaque_tokens.generate();
        let digest = opaque.digest;
        let expires_at = self
            .ports
            .write_as(caller, move |cx| -> Result<DateTime<Utc>, TicketError> {
                let session = cx.me.session_id()?;
                let ticket = WsTicket::issue(digest, cx.me.user.id, session, cx.now);
                cx.tx.ws_tickets().purge_ws_tickets_before(cx.now)?;
                cx.tx.ws_tickets().insert_ws_ticket(&ticket)?;
                Ok(ticket.expires_at)
            })
            .await?;
        Ok(IssuedTicket {
            ticket: opaque.secret,
            expires_at,
        })
    }

    /// Redeems a ticket: takes it (so it works once, on whichever instance), then checks its
    /// expiry and its session and user as they are now. A refused ticket is spent too.
    ///
    /// # Errors
    /// See [`OpenError`].
    pub async fn open_with_ticket(&self, secret: &str) -> Result<SocketUser, OpenError> {
        let digest = self.ports.opaque_tokens.digest(secret);
        let now = self.ports.clock.now();
        // The outcome is returned with `Ok` so that taking the ticket commits even when the
        // connection is refused.
        self.ports
            .store
            .write(
                move |tx| -> Result<Result<SocketUser, OpenError>, StoreError> {
                    let Some(ticket) = tx.ws_tickets().take_ws_ticket(&digest)? else {
                        return Ok(Err(TicketProblem::Invalid.into()));
                    };
                    if let Err(p) = ticket.check(now) {
                        return Ok(Err(p.into()));
                    }
                    let socket = SocketUser::of(ticket.user_id, ticket.session_id);
                    Ok(match resolve(tx, &socket, now) {
                        Ok(_) => Ok(socket),
                        Err(AuthError::Store(e)) => return Err(e),
                        Err(e) => Err(e.into()),
                    })
                },
            )
            .await?
    }

    /// Opens with an access token sent over the socket (for clients that can set no query
    /// parameter or prefer not to): the token's session and user, read now.
    ///
    /// # Errors
    /// [`OpenError::Auth`]: the token is invalid or expired, the session ended, the account
    /// is disabled, or storage failed.
    pub async fn open_with_token(&self, bearer: &str) -> Result<SocketUser, OpenError> {
        let caller = self
            .ports
            .access_tokens
            .verify(bearer, self.ports.clock.now())
            .map_err(|e| match e {
                accueil_ports::system::AccessTokenError::Expired => AuthError::TokenExpired,
                _ => AuthError::InvalidToken,
            })?;
        let socket = SocketUser::of(caller.user_id, caller.session_id);
        self.read(&socket, |_, _| Ok(())).await?;
        Ok(socket)
    }

    /// Resolves the topics a connection asks for, against the caller as stored now, in one
    /// read unit of work: `user` is always its own user, `couple` its current couple (refused
    /// outside one).
    ///
    /// # Errors
    /// [`AuthError`] when the connection's session or account no longer holds (the connection
    /// must close), or storage failed.
    pub async fn authorize(
        &self,
        socket: &SocketUser,
        kinds: Vec<TopicKind>,
    ) -> Result<Grants, AuthError> {
        self.read(socket, move |tx, me| {
            let mut couple = None;
            let mut grants = Vec::with_capacity(kinds.len());
            for kind in kinds {
                let grant = match kind {
                    TopicKind::User => Ok(Topic::User(me.user.id)),
                    TopicKind::Couple => current_couple(tx, me.user.id, &mut couple)?
                        .map(Topic::Couple)
                        .ok_or(NotInCouple),
                };
                grants.push((kind, grant));
            }
            Ok(grants)
        })
        .await
    }

    /// Re-checks a connection that may have missed events: its session and account, and which
    /// of its topics it may still hear (a couple it left, or that was dissolved, is dropped).
    /// Returns the topics that still hold.
    ///
    /// # Errors
    /// [`AuthError`] when the session or the account no longer holds (the connection must
    /// close), or storage failed.
    pub async fn recheck(
        &self,
        socket: &SocketUser,
        topics: Vec<Topic>,
    ) -> Result<Vec<Topic>, AuthError> {
        self.read(socket, move |tx, me| {
            let me = me.user.id;
            let mut couple = None;
            let mut kept = Vec::with_capacity(topics.len());
            for topic in topics {
                let holds = match topic {
                    Topic::User(u) => u == me,
                    Topic::Couple(c) => current_couple(tx, me, &mut couple)? == Some(c),
                };
                if holds {
                    kept.push(topic);
                }
            }
            Ok(kept)
        })
        .await
    }

    /// Whether the connection's session and account still hold, and why not.
    ///
    /// # Errors
    /// The [`AuthError`] that now refuses the connection's session, or a storage failure.
    pub async fn still_signed_in(&self, socket: &SocketUser) -> Result<Principal, AuthError> {
        self.read(socket, |_, me| Ok(me)).await
    }

    /// Runs `f` in one read unit of work with the connection's caller resolved.
    async fn read<T, F>(&self, socket: &SocketUser, f: F) -> Result<T, AuthError>
    where
        F: FnOnce(&mut dyn Tx, Principal) -> Result<T, AuthError> + Send + 'static,
        T: Send + 'static,
    {
        let socket = socket.clone();
        let now = self.ports.clock.now();
        self.ports
            .store
            .read(move |tx| {
                let me = resolve(tx, &socket, now)?;
                f(tx, me)
            })
            .await
    }

    /// Removes expired tickets. Returns how many.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn purge_tickets(&self) -> Result<u64, StoreError> {
        let now = self.ports.clock.now();
        self.ports
            .store
            .write(move |tx| tx.ws_tickets().purge_ws_tickets_before(now))
            .await
    }

    /// The event bus, for the transport to subscribe to.
    pub fn bus(&self) -> std::sync::Arc<dyn EventBus> {
        self.ports.events.clone()
    }
}

/// The connection's caller as stored now. A disabled account's sessions are ended with it, so
/// an ended session whose account is disabled says so: its connections close with "account
/// disabled" rather than "session ended".
fn resolve(
    tx: &mut dyn Tx,
    socket: &SocketUser,
    now: DateTime<Utc>,
) -> Result<Principal, AuthError> {
    match authenticate_in(tx, &socket.caller, now, false) {
        Ok((me, _)) => Ok(me),
        Err(AuthError::SessionRevoked) => match tx.users().user_by_id(socket.user)? {
            Some(u) if !u.is_active && !u.is_deleted() => Err(AuthError::AccountDisabled),
            _ => Err(AuthError::SessionRevoked),
        },
        Err(e) => Err(e),
    }
}

/// The user's active couple, read once per unit of work.
fn current_couple(
    tx: &mut dyn Tx,
    user: UserId,
    cache: &mut Option<Option<accueil_domain::couples::CoupleId>>,
) -> Result<Option<accueil_domain::couples::CoupleId>, StoreError> {
    if let Some(known) = *cache {
        return Ok(known);
    }
    let found = tx.pairing().active_couple_of(user)?.map(|c| c.id);
    *cache = Some(found);
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::Harness;

    fn service(h: &Harness) -> RealtimeService {
        h.whole.realtime.clone()
    }

    #[tokio::test]
    async fn a_ticket_opens_one_connection_of_its_session_within_thirty_seconds() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        let ann = h.signed_in(&pair).await;
        let rt = service(&h);
        let issued = rt.issue_ticket(&ann).await.unwrap();
        assert_eq!(
            issued.expires_at,
            accueil_ports::system::Clock::now(&*h.clock) + Duration::seconds(30)
        );
        assert!(!format!("{issued:?}").contains(&issued.ticket));
        let socket = rt.open_with_ticket(&issued.ticket).await.unwrap();
        assert_eq!(socket.user, user.id);
        let session = h.app.me(&ann).await.unwrap().session_id().unwrap();
        assert_eq!(socket.session, session);
        assert!(matches!(
            rt.open_with_ticket(&issued.ticket).await,
            Err(OpenError::Ticket(TicketProblem::Invalid))
        ));
        assert!(matches!(
            rt.open_with_ticket("never-issued").await,
            Err(OpenError::Ticket(TicketProblem::Invalid))
        ));

        let late = rt.issue_ticket(&ann).await.unwrap();
        h.advance(Duration::seconds(30));
        assert!(matches!(
            rt.open_with_ticket(&late.ticket).await,
            Err(OpenError::Ticket(TicketProblem::Expired))
        ));
        assert!(
            matches!(
                rt.open_with_ticket(&late.ticket).await,
                Err(OpenError::Ticket(TicketProblem::Invalid))
            ),
            "a refused ticket is spent"
        );
    }

    #[tokio::test]
    async fn a_ticket_of_an_ended_session_or_disabled_account_opens_nothing() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let ann = h.principal("ann@example.org").await;
        let rt = service(&h);
        let t = rt.issue_ticket(&ann).await.unwrap();
        h.app.logout(&ann).await.unwrap();
        assert!(matches!(
            rt.open_with_ticket(&t.ticket).await,
            Err(OpenError::Auth(AuthError::SessionRevoked))
        ));

        let again = h.principal("ann@example.org").await;
        let t = rt.issue_ticket(&again).await.unwrap();
        h.disable(user.id).await;
        assert!(matches!(
            rt.open_with_ticket(&t.ticket).await,
            Err(OpenError::Auth(AuthError::AccountDisabled))
        ));
        assert!(matches!(
            rt.issue_ticket(&again).await,
            Err(TicketError::Auth(AuthError::AccountDisabled))
        ));
    }

    #[tokio::test]
    async fn tickets_need_a_session_and_are_rate_limited_per_user() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        h.registered("bob@example.org", None).await;
        let ann = h.principal("ann@example.org").await;
        let bob = h.principal("bob@example.org").await;
        let rt = RealtimeService::new(
            h.whole_app().realtime.ports.clone(),
            RealtimeSettings {
                ticket_user: Rate {
                    count: 2,
                    period: Duration::minutes(1),
                },
            },
        );
        rt.issue_ticket(&ann).await.unwrap();
        rt.issue_ticket(&ann).await.unwrap();
        assert!(matches!(
            rt.issue_ticket(&ann).await,
            Err(TicketError::RateLimited(_))
        ));
        rt.issue_ticket(&bob).await.unwrap();

        let key = h
            .app
            .create_api_key(
                &ann,
                accueil_domain::identity::NewApiKey::parse(
                    "script",
                    "read_write",
                    None,
                    accueil_ports::system::Clock::now(&*h.clock),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let by_key = h.app.caller_from_api_key(&key.secret, true).unwrap();
        assert!(matches!(
            rt.issue_ticket(&by_key).await,
            Err(TicketError::SessionRequired(_))
        ));
    }

    #[tokio::test]
    async fn a_token_opens_a_connection_of_its_session() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        let rt = service(&h);
        let socket = rt.open_with_token(&pair.access_token).await.unwrap();
        assert_eq!(socket.user, user.id);
        assert!(matches!(
            rt.open_with_token("garbage").await,
            Err(OpenError::Auth(AuthError::InvalidToken))
        ));
        h.advance(Duration::minutes(15));
        assert!(matches!(
            rt.open_with_token(&pair.access_token).await,
            Err(OpenError::Auth(AuthError::TokenExpired))
        ));
    }

    #[tokio::test]
    async fn partners_may_hear_their_couple_and_a_third_user_may_not() {
        let h = Harness::new();
        let (a, b) = h.paired("ann@example.org", "bob@example.org").await;
        h.registered("eve@example.org", None).await;
        let eve = h.principal("eve@example.org").await;
        let couple = h.couples().get(&a).await.unwrap().couple.id;
        let rt = service(&h);
        let open = |who: &crate::testing::TestUser| {
            let rt = rt.clone();
            let who = who.clone();
            async move {
                let t = rt.issue_ticket(&who).await.unwrap();
                rt.open_with_ticket(&t.ticket).await.unwrap()
            }
        };
        let (sa, sb, se) = (open(&a).await, open(&b).await, open(&eve).await);
        for (s, who) in [(&sa, &a), (&sb, &b)] {
            let grants = rt
                .authorize(s, vec![TopicKind::Couple, TopicKind::User])
                .await
                .unwrap();
            assert_eq!(
                grants,
                vec![
                    (TopicKind::Couple, Ok(Topic::Couple(couple))),
                    (TopicKind::User, Ok(Topic::User(who.user.id))),
                ]
            );
        }
        assert_eq!(
            rt.authorize(&se, vec![TopicKind::Couple, TopicKind::User])
                .await
                .unwrap(),
            vec![
                (TopicKind::Couple, Err(NotInCouple)),
                (TopicKind::User, Ok(Topic::User(eve.user.id))),
            ],
            "a third user gets their own topic and not the couple"
        );
    }

    #[tokio::test]
    async fn a_recheck_drops_a_couple_left_and_refuses_an_ended_session() {
        let h = Harness::new();
        let (a, b) = h.paired("ann@example.org", "bob@example.org").await;
        let couple = h.couples().get(&a).await.unwrap().couple.id;
        let rt = service(&h);
        let t = rt.issue_ticket(&a).await.unwrap();
        let sa = rt.open_with_ticket(&t.ticket).await.unwrap();
        let topics = vec![Topic::Couple(couple), Topic::User(a.user.id)];
        assert_eq!(
            rt.recheck(&sa, topics.clone()).await.unwrap(),
            topics,
            "nothing changed"
        );
        assert_eq!(
            rt.recheck(&sa, vec![Topic::User(b.user.id)]).await.unwrap(),
            vec![],
            "never another user's topic"
        );
        h.couples().leave(&b).await.unwrap();
        assert_eq!(
            rt.recheck(&sa, topics).await.unwrap(),
            vec![Topic::User(a.user.id)],
            "the dissolved couple is dropped"
        );
        h.app.logout_all(&a).await.unwrap();
        assert!(matches!(
            rt.recheck(&sa, vec![]).await,
            Err(AuthError::SessionRevoked)
        ));
        assert!(matches!(
            rt.still_signed_in(&sa).await,
            Err(AuthError::SessionRevoked)
        ));
        let again = h.principal("ann@example.org").await;
        let t = rt.issue_ticket(&again).await.unwrap();
        let s2 = rt.open_with_ticket(&t.ticket).await.unwrap();
        h.admin()
            .set_active(crate::testing::email("ann@example.org"), false)
            .await
            .unwrap();
        assert!(
            matches!(
                rt.recheck(&s2, vec![]).await,
                Err(AuthError::AccountDisabled)
            ),
            "a disabled account says so, though its sessions ended with it"
        );
    }

    #[tokio::test]
    async fn expired_tickets_are_purged() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let ann = h.principal("ann@example.org").await;
        let rt = service(&h);
        rt.issue_ticket(&ann).await.unwrap();
        rt.issue_ticket(&ann).await.unwrap();
        assert_eq!(rt.purge_tickets().await.unwrap(), 0);
        h.advance(Duration::seconds(31));
        assert_eq!(rt.purge_tickets().await.unwrap(), 2);
        rt.issue_ticket(&ann).await.unwrap();
        h.advance(Duration::seconds(31));
        let report = h.whole_app().purge().await.unwrap();
        assert_eq!(
            report.links, 1,
            "the application's purge removes expired tickets"
        );
    }
}
