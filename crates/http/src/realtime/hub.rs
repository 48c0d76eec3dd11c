//! The hub: every open connection of this instance, and the one task that routes the event
//! bus to them.
//!
//! The hub subscribes to the bus once and routes each event to the connections it concerns,
//! by topic, session or user (an event costs the work of its recipients, not of every socket).
//! Each connection has a bounded mailbox; one that does not keep up loses the events that do
//! not fit and is told to resynchronise (it re-checks its session and topics, then tells its
//! client to re-read), so a slow client holds back nobody and never grows memory.
//!
//! **Races with the database.** A connection decides from a read (its session is live; the
//! caller is in this couple) and then registers; an ending committed between the two (logout,
//! the couple dissolved) would otherwise be missed. So every routed delivery gets a sequence
//! number, a connection takes a [`Mark`] *before* its read, and the hub remembers the recent
//! endings (sessions, users, couples, resynchronisations): registering or subscribing with a
//! mark older than a matching ending makes the connection re-check at once. An ending is
//! published only after its commit, so one that the read could not see is dispatched after
//! the mark.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use accueil_app::realtime::{Delivery, EventBus};
use accueil_domain::couples::CoupleId;
use accueil_domain::events::{Event, Topic};
use accueil_domain::identity::{SessionId, UserId};
use tokio::sync::{Notify, mpsc, watch};
use uuid::Uuid;

use super::RealtimeSettings;
use super::metrics::WsMetrics;

/// Endings remembered for registrations in flight; older marks re-check.
const REMEMBERED_ENDINGS: usize = 4096;

/// What the hub tells one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// The couple's feed advanced.
    Changed { couple: CoupleId, cursor: i64 },
    /// The couple was dissolved; the hub has dropped the subscription already.
    CoupleEnded { couple: CoupleId },
    /// This connection's session ended.
    SessionEnded,
    /// Every session of this connection's user ended (logout everywhere, account disabled).
    UserSessionsEnded,
}

/// The sequence number of the last delivery routed, taken before a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Mark(u64);

/// Why a connection was not registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The user has the most connections allowed on this instance.
    TooMany,
    /// The server is shutting down.
    Closing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Session(SessionId),
    User(UserId),
    Couple(CoupleId),
    /// Events may have been lost: every connection re-checks.
    All,
}

/// A connection's side of the hub: its mailbox and the flag that asks it to re-check.
pub(crate) struct Mailbox {
    pub(crate) signals: mpsc::Receiver<Signal>,
    pub(crate) lag: Arc<Lag>,
}

/// Set when a connection missed signals (its mailbox was full, or the bus resynchronised).
#[derive(Debug, Default)]
pub(crate) struct Lag {
    missed: AtomicBool,
    wake: Notify,
}

impl Lag {
    fn raise(&self) {
        self.missed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Waits until signals were missed, and clears the flag.
    pub(crate) async fn missed(&self) {
        loop {
            if self.missed.swap(false, Ordering::AcqRel) {
                return;
            }
            self.wake.notified().await;
        }
    }
}

struct Entry {
    user: UserId,
    session: SessionId,
    topics: HashSet<Topic>,
    signals: mpsc::Sender<Signal>,
    lag: Arc<Lag>,
}

#[derive(Default)]
struct Registry {
    seq: u64,
    conns: HashMap<Uuid, Entry>,
    by_user: HashMap<UserId, HashSet<Uuid>>,
    by_session: HashMap<SessionId, HashSet<Uuid>>,
    by_topic: HashMap<Topic, HashSet<Uuid>>,
    endings: VecDeque<(u64, Ending)>,
    /// Endings up to this sequence number were forgotten.
    forgotten: u64,
}

impl Registry {
    fn remember(&mut self, ending: Ending) {
        if self.endings.len() == REMEMBERED_ENDINGS
            && let Some((seq, _)) = self.endings.pop_front()
        {
            self.forgotten = seq;
        }
        self.endings.push_back((self.seq, ending));
    }

    /// Whether an ending matching `what` was routed after `mark` (or may have been).
    fn ended_since(&self, mark: Mark, what: impl Fn(&Ending) -> bool) -> bool {
        mark.0 < self.forgotten
            || self
                .endings
                .iter()
                .rev()
                .take_while(|(seq, _)| *seq > mark.0)
                .any(|(_, e)| *e == Ending::All || what(e))
    }

    fn send(&self, id: &Uuid, signal: Signal, metrics: &WsMetrics) {
        if let Some(entry) = self.conns.get(id)
            && entry.signals.try_send(signal).is_err()
        {
            // Full (or closing): the connection re-checks everything instead.
            metrics.dropped.inc();
            entry.lag.raise();
        }
    }

    fn route(&mut self, delivery: Delivery, metrics: &WsMetrics) {
        self.seq += 1;
        match delivery {
            Delivery::Resync => {
                self.remember(Ending::All);
                for entry in self.conns.values() {
                    entry.lag.raise();
                }
            }
            Delivery::Event(Event::CoupleChanged { couple, cursor }) => {
                for id in self
                    .by_topic
                    .get(&Topic::Couple(couple))
                    .into_iter()
                    .flatten()
                {
                    self.send(id, Signal::Changed { couple, cursor }, metrics);
                }
            }
            Delivery::Event(Event::CoupleEnded { couple }) => {
                self.remember(Ending::Couple(couple));
                let topic = Topic::Couple(couple);
                for id in self.by_topic.remove(&topic).unwrap_or_default() {
                    if let Some(entry) = self.conns.get_mut(&id) {
                        entry.topics.remove(&topic);
                    }
                    self.send(&id, Signal::CoupleEnded { couple }, metrics);
                }
            }
            Delivery::Event(Event::SessionEnded { session }) => {
                self.remember(Ending::Session(session));
                for id in self.by_session.get(&session).into_iter().flatten() {
                    self.send(id, Signal::SessionEnded, metrics);
                }
            }
            Delivery::Event(Event::UserSessionsEnded { user }) => {
                self.remember(Ending::User(user));
                for id in self.by_user.get(&user).into_iter().flatten() {
                    self.send(id, Signal::UserSessionsEnded, metrics);
                }
            }
            // No socket subscribes to tickets yet (boards come with the next step).
            Delivery::Event(Event::TicketChanged { .. }) => {}
        }
    }

    fn unsubscribe(&mut self, id: Uuid, topic: Topic) {
        if let Some(entry) = self.conns.get_mut(&id) {
            entry.topics.remove(&topic);
        }
        if let Some(set) = self.by_topic.get_mut(&topic) {
            set.remove(&id);
            if set.is_empty() {
                self.by_topic.remove(&topic);
            }
        }
    }
}

fn detach<K: std::hash::Hash + Eq>(map: &mut HashMap<K, HashSet<Uuid>>, key: K, id: Uuid) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}

pub(crate) struct Hub {
    pub(crate) settings: RealtimeSettings,
    pub(crate) metrics: WsMetrics,
    registry: Mutex<Registry>,
    /// Sockets open now, authenticated or not.
    open: AtomicUsize,
    closing: AtomicBool,
    shutdown: watch::Sender<bool>,
}

/// Every realtime connection of this server, and the task that routes committed events to
/// them. Cheap to clone; one per server, shared by its workers. Dropping the last clone stops
/// the routing task.
#[derive(Clone)]
pub struct Realtime {
    pub(crate) hub: Arc<Hub>,
    _router: Arc<Router>,
}

struct Router(tokio::task::AbortHandle);

impl Drop for Router {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime")
            .field("settings", &self.hub.settings)
            .field("open", &self.hub.open.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Realtime {
    /// Subscribes to `bus` and starts routing its events, on the current tokio runtime. The
    /// instruments are registered in `metrics` when given.
    ///
    /// # Errors
    /// The metrics library's error when the instruments cannot be registered (twice in one
    /// registry).
    pub fn start(
        bus: Arc<dyn EventBus>,
        settings: RealtimeSettings,
        metrics: Option<&crate::Metrics>,
    ) -> Result<Self, prometheus::Error> {
        let ws_metrics = WsMetrics::new()?;
        if let Some(m) = metrics {
            ws_metrics.register(m.registry())?;
        }
        let (shutdown, _) = watch::channel(false);
        let hub = Arc::new(Hub {
            settings,
            metrics: ws_metrics,
            registry: Mutex::new(Registry::default()),
            open: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            shutdown,
        });
        let mut subscription = bus.subscribe();
        let weak = Arc::downgrade(&hub);
        let task = tokio::spawn(async move {
            while let Some(delivery) = subscription.next().await {
                let Some(hub) = weak.upgrade() else { break };
                hub.lock().route(delivery, &hub.metrics);
            }
            tracing::info!("realtime: the event bus closed; no more events are routed");
        });
        Ok(Self {
            hub,
            _router: Arc::new(Router(task.abort_handle())),
        })
    }

    /// Closes every connection with 1001 (going away), so that clients reconnect to another
    /// instance, and refuses new ones; waits until they are closed, at most `within`. Returns
    /// how many were still open then.
    pub async fn shutdown(&self, within: Duration) -> usize {
        self.hub.closing.store(true, Ordering::SeqCst);
        self.hub.shutdown.send_replace(true);
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let open = self.hub.open.load(Ordering::SeqCst);
            if open == 0 || tokio::time::Instant::now() >= deadline {
                if open > 0 {
                    tracing::warn!(open, "realtime: connections still open at shutdown");
                } else {
                    tracing::info!("realtime: every connection closed");
                }
                return open;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sockets open now on this instance (authenticated or not).
    pub fn open_connections(&self) -> usize {
        self.hub.open.load(Ordering::SeqCst)
    }
}

/// Counts a socket as open until dropped.
pub(crate) struct Opened(Arc<Hub>);

impl Drop for Opened {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.metrics.connections.dec();
    }
}

/// Removes a registered connection from the hub when dropped.
pub(crate) struct Registered {
    hub: Arc<Hub>,
    pub(crate) id: Uuid,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut r = self.hub.lock();
        if let Some(entry) = r.conns.remove(&self.id) {
            detach(&mut r.by_user, entry.user, self.id);
            detach(&mut r.by_session, entry.session, self.id);
            for topic in entry.topics {
                detach(&mut r.by_topic, topic, self.id);
            }
        }
    }
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A poisoned lock only means a panic mid-update of maps that stay valid maps.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a new socket; `None` when the server is shutting down.
    pub(crate) fn open(self: &Arc<Self>) -> Option<Opened> {
        if self.closing.load(Ordering::SeqCst) {
            return None;
        }
        self.open.fetch_add(1, Ordering::SeqCst);
        self.metrics.connections.inc();
        Some(Opened(self.clone()))
    }

    /// Resolves when the server starts shutting down.
    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The sequence number to take before a read that a registration or subscription
    /// depends on.
    pub(crate) fn mark(&self) -> Mark {
        Mark(self.lock().seq)
    }

    /// Registers an authenticated connection. It re-checks at once (its lag is raised) when
    /// its session or user may have ended since `mark`.
    pub(crate) fn register(
        self: &Arc<Self>,
        id: Uuid,
        user: UserId,
        session: SessionId,
        mark: Mark,
    ) -> Result<(Registered, Mailbox), Refused> {
        let mut r = self.lock();
        if self.closing.load(Ordering::SeqCst) {
            return Err(Refused::Closing);
        }
        if r.by_user.get(&user).map_or(0, HashSet::len) >= self.settings.max_per_user {
            return Err(Refused::TooMany);
        }
        let (tx, rx) = mpsc::channel(self.settings.mailbox.max(1));
        let lag = Arc::new(Lag::default());
        if r.ended_since(mark, |e| {
            *e == Ending::Session(session) || *e == Ending::User(user)
        }) {
            lag.raise();
        }
        r.conns.insert(
            id,
            Entry {
                user,
                session,
                topics: HashSet::new(),
                signals: tx,
                lag: lag.clone(),
            },
        );
        r.by_user.entry(user).or_default().insert(id);
        r.by_session.entry(session).or_default().insert(id);
        Ok((
            Registered {
                hub: self.clone(),
                id,
            },
            Mailbox { signals: rx, lag },
        ))
    }

    /// Adds topics to a registered connection. It re-checks at once when one of their couples
    /// may have ended since `mark`.
    pub(crate) fn subscribe(&self, id: Uuid, topics: &[Topic], mark: Mark) {
        let mut r = self.lock();
        let ended = r.ended_since(mark, |e| {
            topics
                .iter()
                .any(|t| matches!((t, e), (Topic::Couple(c), Ending::Couple(d)) if c == d))
        });
        let Some(entry) = r.conns.get_mut(&id) else {
            return;
        };
        entry.topics.extend(topics.iter().copied());
        if ended {
            entry.lag.raise();
        }
        for topic in topics {
            r.by_topic.entry(*topic).or_default().insert(id);
        }
    }

    /// Removes topics from a registered connection.
    pub(crate) fn unsubscribe(&self, id: Uuid, topics: &[Topic]) {
        let mut r = self.lock();
        for topic in topics {
            r.unsubscribe(id, *topic);
        }
    }

    /// How many connections `user` has registered on this instance.
    pub(crate) fn connections_of(&self, user: UserId) -> usize {
        self.lock().by_user.get(&user).map_or(0, HashSet::len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hub(max_per_user: usize, mailbox: usize) -> Arc<Hub> {
        let (shutdown, _) = watch::channel(false);
        Arc::new(Hub {
            settings: RealtimeSettings {
                max_per_user,
                mailbox,
                ..RealtimeSettings::default()
            },
            metrics: WsMetrics::new().unwrap(),
            registry: Mutex::new(Registry::default()),
            open: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            shutdown,
        })
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn route(h: &Hub, event: Event) {
        h.lock().route(Delivery::Event(event), &h.metrics);
    }

    fn lagging(m: &Mailbox) -> bool {
        m.lag.missed.load(Ordering::Acquire)
    }

    #[test]
    fn events_reach_the_connections_they_concern_only() {
        let h = hub(8, 16);
        let (ua, ub) = (UserId(id(1)), UserId(id(2)));
        let (sa, sb) = (SessionId(id(11)), SessionId(id(12)));
        let couple = CoupleId(id(21));
        let (_ra, mut a) = h.register(id(101), ua, sa, h.mark()).unwrap();
        let (_rb, mut b) = h.register(id(102), ub, sb, h.mark()).unwrap();
        h.subscribe(id(101), &[Topic::Couple(couple)], h.mark());
        route(&h, Event::CoupleChanged { couple, cursor: 7 });
        route(
            &h,
            Event::CoupleChanged {
                couple: CoupleId(id(22)),
                cursor: 1,
            },
        );
        route(&h, Event::SessionEnded { session: sb });
        assert_eq!(
            a.signals.try_recv().unwrap(),
            Signal::Changed { couple, cursor: 7 }
        );
        assert!(a.signals.try_recv().is_err(), "another couple's change");
        assert_eq!(b.signals.try_recv().unwrap(), Signal::SessionEnded);
        assert!(b.signals.try_recv().is_err());

        route(&h, Event::CoupleEnded { couple });
        assert_eq!(
            a.signals.try_recv().unwrap(),
            Signal::CoupleEnded { couple }
        );
        route(&h, Event::CoupleChanged { couple, cursor: 8 });
        assert!(
            a.signals.try_recv().is_err(),
            "the subscription ended with the couple"
        );
        route(&h, Event::UserSessionsEnded { user: ua });
        assert_eq!(a.signals.try_recv().unwrap(), Signal::UserSessionsEnded);
    }

    #[test]
    fn a_full_mailbox_loses_signals_and_asks_for_a_recheck() {
        let h = hub(8, 2);
        let couple = CoupleId(id(21));
        let (_r, mut m) = h
            .register(id(101), UserId(id(1)), SessionId(id(11)), h.mark())
            .unwrap();
        h.subscribe(id(101), &[Topic::Couple(couple)], h.mark());
        for cursor in 1..=5 {
            route(&h, Event::CoupleChanged { couple, cursor });
        }
        assert!(lagging(&m));
        assert_eq!(
            m.signals.try_recv().unwrap(),
            Signal::Changed { couple, cursor: 1 }
        );
        assert_eq!(
            m.signals.try_recv().unwrap(),
            Signal::Changed { couple, cursor: 2 }
        );
        assert!(m.signals.try_recv().is_err(), "bounded");
        assert_eq!(h.metrics.dropped.get(), 3);
    }

    #[test]
    fn endings_between_a_read_and_its_registration_are_not_missed() {
        let h = hub(8, 16);
        let (user, session) = (UserId(id(1)), SessionId(id(11)));
        let couple = CoupleId(id(21));
        // The session ends after the connection's read and before it registers.
        let mark = h.mark();
        route(&h, Event::SessionEnded { session });
        let (_r, m) = h.register(id(101), user, session, mark).unwrap();
        assert!(lagging(&m), "the connection re-checks its session");

        let other = SessionId(id(12));
        let mark = h.mark();
        route(
            &h,
            Event::SessionEnded {
                session: SessionId(id(13)),
            },
        );
        let (_r2, m2) = h.register(id(102), user, other, mark).unwrap();
        assert!(!lagging(&m2), "another session's ending is not this one's");

        let mark = h.mark();
        route(&h, Event::CoupleEnded { couple });
        h.subscribe(id(102), &[Topic::Couple(couple)], mark);
        assert!(
            lagging(&m2),
            "the couple ended after the subscription's read"
        );

        let mark = h.mark();
        h.lock().route(Delivery::Resync, &h.metrics);
        let (_r3, m3) = h
            .register(id(103), UserId(id(2)), SessionId(id(14)), mark)
            .unwrap();
        assert!(lagging(&m3), "events may have been lost meanwhile");
    }

    #[test]
    fn forgotten_endings_count_as_possible_ones() {
        let h = hub(8, 16);
        let mark = h.mark();
        for n in 0..=REMEMBERED_ENDINGS as u128 {
            route(
                &h,
                Event::SessionEnded {
                    session: SessionId(id(1000 + n)),
                },
            );
        }
        let (_r, m) = h
            .register(id(101), UserId(id(1)), SessionId(id(11)), mark)
            .unwrap();
        assert!(lagging(&m));
    }

    #[test]
    fn a_user_has_at_most_the_cap_and_the_slot_frees_on_drop() {
        let h = hub(2, 16);
        let user = UserId(id(1));
        let a = h
            .register(id(101), user, SessionId(id(11)), h.mark())
            .unwrap();
        let _b = h
            .register(id(102), user, SessionId(id(11)), h.mark())
            .unwrap();
        assert_eq!(
            h.register(id(103), user, SessionId(id(12)), h.mark()).err(),
            Some(Refused::TooMany)
        );
        h.register(id(104), UserId(id(2)), SessionId(id(13)), h.mark())
            .unwrap();
        assert_eq!(h.connections_of(user), 2);
        drop(a);
        assert_eq!(h.connections_of(user), 1);
        h.register(id(105), user, SessionId(id(12)), h.mark())
            .unwrap();
        assert!(h.lock().by_topic.is_empty());
    }

    #[test]
    fn a_closing_hub_refuses_sockets_and_registrations() {
        let h = hub(8, 16);
        let opened = h.open().unwrap();
        assert_eq!(h.open.load(Ordering::SeqCst), 1);
        h.closing.store(true, Ordering::SeqCst);
        assert!(h.open().is_none());
        assert_eq!(
            h.register(id(101), UserId(id(1)), SessionId(id(11)), h.mark())
                .err(),
            Some(Refused::Closing)
        );
        drop(opened);
        assert_eq!(h.open.load(Ordering::SeqCst), 0);
    }
}
