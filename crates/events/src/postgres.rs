//! The bus shared by every instance on one PostgreSQL database: `NOTIFY` to tell the others,
//! `LISTEN` to hear them.
//!
//! [`PgBus`] serves this instance's subscribers through an inner [`LocalBus`]. An event
//! published here is delivered locally at once, whatever PostgreSQL is doing, and queued for
//! the publisher thread, which sends it with `NOTIFY` on one channel (see [`crate::payload`]
//! for what a notification carries: ids and a sequence number, never content). The listener
//! thread `LISTEN`s on that channel and delivers what the other instances announced; its own
//! instance's notifications, which come back to it too, are recognised by the instance id and
//! skipped.
//!
//! Nothing here can hold up a request: `publish` only delivers to in-memory rings and puts the
//! batch in a bounded queue (a full queue drops the batch for the other instances and counts
//! it). Whatever is lost, the receivers find out and tell their subscribers to resynchronise:
//!
//! - each sender numbers its notifications; a receiver that sees a number skipped resyncs. A
//!   sender that dropped events (full queue, `NOTIFY` refused) skips a number on purpose;
//! - a listener whose connection broke (PostgreSQL restarted, the backend was terminated, the
//!   network went away) may have missed anything: once it has reconnected and `LISTEN`s again,
//!   it resyncs every local subscriber.
//!
//! Both threads use their own connection (not the pool's), with an `application_name`
//! ([`LISTENER_APPLICATION_NAME`], [`PUBLISHER_APPLICATION_NAME`]) so that they can be found in
//! `pg_stat_activity`, TCP keepalives and a user timeout so that a silent network failure is
//! noticed, and reconnect with a capped, jittered backoff. diesel's notification reading is
//! non-blocking (it consumes what has arrived), so the listener polls it every
//! [`PgBusOptions::poll`] and checks its connection with `SELECT 1` every
//! [`PgBusOptions::ping`]. Dropping the bus (or [`PgBus::stop`]) stops and joins both threads;
//! the publisher first sends what is already queued.

mod listener;
mod publisher;

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use accueil_domain::events::Event;
use accueil_ports::events::{BusStats, EventBus, Subscription};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::LocalBus;
use crate::local::DEFAULT_CAPACITY;
use crate::payload;

/// The channel instances notify each other on, unless told otherwise.
pub const DEFAULT_CHANNEL: &str = "accueil_events";

/// The `application_name` of the listener's connection.
pub const LISTENER_APPLICATION_NAME: &str = "accueil-events-listener";

/// The `application_name` of the publisher's connection.
pub const PUBLISHER_APPLICATION_NAME: &str = "accueil-events-publisher";

/// How the bus connects and paces itself. [`PgBusOptions::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct PgBusOptions {
    /// The database, `postgres://...` (the same as the store's).
    pub url: String,
    /// The notification channel: 1 to 63 of `a-z 0-9 _`, not starting with a digit.
    pub channel: String,
    /// This instance's id in payloads (default: a random UUID, so every process is a new
    /// sender).
    pub instance: String,
    /// How many deliveries a local subscriber may fall behind before it must resynchronise.
    pub capacity: usize,
    /// How many committed units of work may wait for the publisher before new ones are
    /// dropped (for the other instances only).
    pub queue: usize,
    /// How often the listener reads what has arrived: the added latency is half of it on
    /// average.
    pub poll: Duration,
    /// How often the listener checks its connection with `SELECT 1`.
    pub ping: Duration,
    /// The first wait before reconnecting after a failed attempt.
    pub backoff_min: Duration,
    /// The longest wait between two attempts.
    pub backoff_max: Duration,
    /// How long one connection attempt may take (unless the URL says `connect_timeout`).
    pub connect_timeout: Duration,
}

impl PgBusOptions {
    /// The defaults for this database: channel [`DEFAULT_CHANNEL`], a random instance id, a
    /// queue of 1024 units of work, polling every 20 ms, a ping every 5 s, reconnecting after
    /// 100 ms doubling up to 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            channel: DEFAULT_CHANNEL.to_owned(),
            instance: uuid::Uuid::new_v4().simple().to_string(),
            capacity: DEFAULT_CAPACITY,
            queue: 1024,
            poll: Duration::from_millis(20),
            ping: Duration::from_secs(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
pub enum PgBusError {
    /// The URL is not a PostgreSQL one.
    #[error("event bus: the database URL must start with postgres:// or postgresql://")]
    Url,
    /// The channel name is not a plain identifier.
    #[error(
        "event bus: channel {0:?} must be 1 to 63 of a-z, 0-9 and _, not starting with a digit"
    )]
    Channel(String),
    /// The instance id cannot go in a payload.
    #[error("event bus: the instance id must be 1 to 64 of A-Z, a-z, 0-9, - and _")]
    Instance,
    /// A thread could not be started.
    #[error("event bus: cannot start its threads: {0}")]
    Thread(#[from] std::io::Error),
}

/// Where the listener stands, for [`EventBus::health`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not listening yet since the bus started.
    Connecting { since: DateTime<Utc> },
    /// Listening: every instance's events arrive.
    Listening,
    /// The connection broke at `since`; reconnecting.
    Reconnecting { since: DateTime<Utc> },
    /// The bus was stopped.
    Stopped,
}

/// What the bus's threads and its handle share.
#[derive(Debug)]
struct Shared {
    stopped: Mutex<bool>,
    wake: Condvar,
    link: Mutex<Link>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent whatever panicked while holding them.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn is_stopped(&self) -> bool {
        *lock(&self.stopped)
    }

    fn stop(&self) {
        *lock(&self.stopped) = true;
        self.wake.notify_all();
    }

    /// Waits `d`, or less if the bus stops; whether it stopped.
    fn sleep(&self, d: Duration) -> bool {
        let guard = lock(&self.stopped);
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, d, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }

    fn link(&self) -> Link {
        *lock(&self.link)
    }

    /// Marks the listener as listening; returns where it stood before.
    fn set_listening(&self) -> Link {
        std::mem::replace(&mut *lock(&self.link), Link::Listening)
    }

    fn set_link(&self, to: Link) {
        *lock(&self.link) = to;
    }
}

/// The events bus of several instances on one PostgreSQL database. See the module
/// documentation.
pub struct PgBus {
    local: LocalBus,
    queue: SyncSender<publisher::Outbound>,
    /// Set when a batch could not be queued; the publisher then skips a sequence number.
    lost: Arc<AtomicBool>,
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    instance: String,
    channel: String,
}

impl std::fmt::Debug for PgBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBus")
            .field("instance", &self.instance)
            .field("channel", &self.channel)
            .field("link", &self.shared.link())
            .finish_non_exhaustive()
    }
}

fn valid_channel(c: &str) -> bool {
    let mut bytes = c.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && c.len() <= 63
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// `url` with the parameters the bus's own connections need: its `application_name` (in place
/// of any the URL has), and unless the URL sets them, a connection timeout, TCP keepalives
/// (a dead peer is noticed within about 25 s while idle) and a TCP user timeout (15 s for
/// unacknowledged data, so a `SELECT 1` over a dead network fails rather than hangs).
fn session_url(url: &str, application_name: &str, connect_timeout: Duration) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let key = |p: &str| p.split_once('=').map_or(p, |(k, _)| k).to_owned();
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && key(p) != "application_name")
        .map(str::to_owned)
        .collect();
    let timeout = connect_timeout.as_secs().max(2).to_string();
    for (k, v) in [
        ("connect_timeout", timeout.as_str()),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "5"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "15000"),
    ] {
        if !params.iter().any(|p| key(p) == k) {
            params.push(format!("{k}={v}"));
        }
    }
    params.push(format!("application_name={application_name}"));
    format!("{base}?{}", params.join("&"))
}

/// A capped exponential backoff with jitter (so instances do not reconnect in step after a
/// restart).
#[derive(Debug)]
struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    state: u64,
}

impl Backoff {
    fn new(min: Duration, max: Duration, seed: &str) -> Self {
        // FNV-1a of the instance id: a different sequence per instance, no random source.
        let state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        }) | 1;
        let min = min.max(Duration::from_millis(1));
        Self {
            min,
            max: max.max(min),
            next: min,
            state,
        }
    }

    fn reset(&mut self) {
        self.next = self.min;
    }

    /// The wait before the next attempt: the current step, 75 % to 125 % of it.
    fn wait(&mut self) -> Duration {
        // xorshift64
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let factor = 0.75 + (self.state % 1000) as f64 / 2000.0;
        let wait = self.next.mul_f64(factor).min(self.max);
        self.next = (self.next * 2).min(self.max);
        wait
    }
}

/// An error's message for a log line (libpq's end with a newline).
fn text(e: &dyn std::fmt::Display) -> String {
    e.to_string().trim_end().to_owned()
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl PgBus {
    /// Starts the listener and publisher threads and returns at once: the listener connects
    /// in the background, and [`EventBus::health`] says when it listens.
    ///
    /// # Errors
    /// [`PgBusError`] for unusable options or when a thread cannot be started.
    pub fn start(options: PgBusOptions) -> Result<Self, PgBusError> {
        let url = options.url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(PgBusError::Url);
        }
        if !valid_channel(&options.channel) {
            return Err(PgBusError::Channel(options.channel));
        }
        if !payload::valid_instance(&options.instance) {
            return Err(PgBusError::Instance);
        }
        let local = LocalBus::new(options.capacity);
        let shared = Arc::new(Shared {
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            link: Mutex::new(Link::Connecting { since: Utc::now() }),
        });
        let lost = Arc::new(AtomicBool::new(false));
        let (queue, outbound) = std::sync::mpsc::sync_channel(options.queue.max(1));
        let backoff = |role: &str| {
            Backoff::new(
                options.backoff_min,
                options.backoff_max,
                &format!("{}-{role}", options.instance),
            )
        };
        let listener = listener::Listener {
            url: session_url(url, LISTENER_APPLICATION_NAME, options.connect_timeout),
            channel: options.channel.clone(),
            instance: options.instance.clone(),
            poll: options.poll.max(Duration::from_millis(1)),
            ping: options.ping,
            backoff: backoff("listener"),
            local: local.clone(),
            shared: shared.clone(),
        };
        let publisher = publisher::Publisher {
            url: session_url(url, PUBLISHER_APPLICATION_NAME, options.connect_timeout),
            channel: options.channel.clone(),
            instance: options.instance.clone(),
            queue: outbound,
            lost: lost.clone(),
            backoff: backoff("publisher"),
            local: local.clone(),
            shared: shared.clone(),
            conn: None,
            seq: 1,
            failures: 0,
        };
        let mut threads = Vec::with_capacity(2);
        let spawned = std::thread::Builder::new()
            .name("events-listener".into())
            .spawn(move || listener.run())
            .map(|t| threads.push(t))
            .and_then(|()| {
                std::thread::Builder::new()
                    .name("events-publisher".into())
                    .spawn(move || publisher.run())
            });
        let bus = Self {
            local,
            queue,
            lost,
            shared,
            threads: Mutex::new(threads),
            instance: options.instance,
            channel: options.channel,
        };
        match spawned {
            Ok(t) => lock(&bus.threads).push(t),
            // Dropping `bus` stops the thread that did start.
            Err(e) => return Err(PgBusError::Thread(e)),
        }
        tracing::info!(
            instance = %bus.instance,
            channel = %bus.channel,
            "event bus: PostgreSQL LISTEN/NOTIFY"
        );
        Ok(bus)
    }

    /// This instance's id in payloads.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The notification channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Stops both threads and waits for them: the publisher first sends what is queued (as
    /// long as PostgreSQL answers). Blocking; called by `Drop`. Later publications are only
    /// delivered locally.
    pub fn stop(&self) {
        self.shared.stop();
        // Wakes the publisher if it waits on an empty queue (a full one wakes it anyway).
        let _ = self.queue.try_send(publisher::Outbound::Wake);
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            if t.join().is_err() {
                tracing::error!("an event bus thread panicked");
            }
        }
        self.shared.set_link(Link::Stopped);
    }
}

impl Drop for PgBus {
    fn drop(&mut self) {
        self.stop();
    }
}

impl EventBus for PgBus {
    fn publish(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let n = events.len() as u64;
        self.local.count_published(n);
        for event in &events {
            self.local.deliver(*event);
        }
        match self.queue.try_send(publisher::Outbound::Events(events)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.local.count_dropped(n);
                if !self.lost.swap(true, std::sync::atomic::Ordering::AcqRel) {
                    tracing::warn!(
                        events = n,
                        "event publisher's queue is full (PostgreSQL slow or unreachable): \
                         events dropped for the other instances, which will resynchronise"
                    );
                }
            }
            // Stopped: the other instances are no longer told.
            Err(TrySendError::Disconnected(_)) => self.local.count_dropped(n),
        }
    }

    fn subscribe(&self) -> Box<dyn Subscription> {
        self.local.subscribe()
    }

    fn health(&self) -> Result<(), String> {
        match self.shared.link() {
            Link::Listening => Ok(()),
            Link::Connecting { since } => Err(format!(
                "event listener connecting since {}",
                timestamp(since)
            )),
            Link::Reconnecting { since } => Err(format!(
                "event listener reconnecting since {}",
                timestamp(since)
            )),
            Link::Stopped => Err("event listener stopped".into()),
        }
    }

    fn stats(&self) -> BusStats {
        self.local.local_stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_connections_name_themselves_and_keep_the_urls_other_parameters() {
        let url = session_url(
            "postgres://u:p@db:5432/app?sslmode=require&application_name=web&connect_timeout=9",
            LISTENER_APPLICATION_NAME,
            Duration::from_secs(5),
        );
        assert_eq!(
            url,
            "postgres://u:p@db:5432/app?sslmode=require&connect_timeout=9&keepalives_idle=10\
             &keepalives_interval=5&keepalives_count=3&tcp_user_timeout=15000\
             &application_name=accueil-events-listener"
        );
        assert_eq!(
            session_url("postgres://db/app", "x", Duration::from_millis(10)),
            "postgres://db/app?connect_timeout=2&keepalives_idle=10&keepalives_interval=5\
             &keepalives_count=3&tcp_user_timeout=15000&application_name=x",
            "libpq takes whole seconds, and under 2 as 2"
        );
    }

    #[test]
    fn channels_are_plain_identifiers() {
        for good in ["accueil_events", "_x", "a1", &"a".repeat(63)] {
            assert!(valid_channel(good), "{good:?}");
        }
        for bad in ["", "1a", "A", "a-b", "a\"b", "a b", &"a".repeat(64)] {
            assert!(!valid_channel(bad), "{bad:?}");
        }
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_and_resets() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        let mut b = Backoff::new(min, max, "i");
        let waits: Vec<Duration> = (0..8).map(|_| b.wait()).collect();
        for (i, w) in waits.iter().enumerate() {
            let step = (min * 2u32.pow(i as u32)).min(max);
            assert!(
                *w >= step.mul_f64(0.75) && *w <= step.mul_f64(1.25).min(max),
                "wait {i}: {w:?} for step {step:?}"
            );
        }
        assert!(waits[7] <= max);
        b.reset();
        assert!(b.wait() <= min.mul_f64(1.25));
        let mut other = Backoff::new(min, max, "j");
        let theirs: Vec<Duration> = (0..8).map(|_| other.wait()).collect();
        assert_ne!(waits, theirs, "instances do not retry in step");
    }

    #[test]
    fn unusable_options_are_refused_before_any_thread_starts() {
        let mut o = PgBusOptions::new("sqlite://x.db");
        assert!(matches!(PgBus::start(o.clone()), Err(PgBusError::Url)));
        o.url = "postgres://127.0.0.1:1/x".into();
        o.channel = "Bad-Name".into();
        assert!(matches!(
            PgBus::start(o.clone()),
            Err(PgBusError::Channel(_))
        ));
        o.channel = DEFAULT_CHANNEL.into();
        o.instance = "has space".into();
        assert!(matches!(PgBus::start(o), Err(PgBusError::Instance)));
    }
}
