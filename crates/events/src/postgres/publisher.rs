//! The publisher thread: takes committed batches from the bounded queue, numbers them and
//! sends them with `NOTIFY`, reconnecting with backoff when PostgreSQL is away.
//!
//! While PostgreSQL is unreachable the batch at hand waits for the connection (later ones
//! wait in the queue, which drops new ones once full), so a short outage delays events rather
//! than losing them. A notification that fails on a connection that was idle is sent again on
//! a new one (a receiver that got it twice skips the repeated number); one that fails on a
//! fresh connection is dropped and counted, and its number stays used, so the receivers see
//! the gap and resynchronise.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use accueil_domain::events::Event;
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, RunQueryDsl};

use super::{Backoff, Shared};
use crate::LocalBus;
use crate::payload::{self, Encoded, MAX_PAYLOAD};

/// What the queue carries.
pub(super) enum Outbound {
    /// One committed unit of work's events.
    Events(Vec<Event>),
    /// Nothing: wakes the thread to notice that the bus stops.
    Wake,
}

/// How many queued batches one round takes before sending (they are packed into as few
/// notifications as fit).
const MAX_DRAIN: usize = 256;

/// How long the thread waits on an empty queue before looking at the stop flag anyway.
const IDLE: Duration = Duration::from_secs(1);

pub(super) struct Publisher {
    pub url: String,
    pub channel: String,
    pub instance: String,
    pub queue: Receiver<Outbound>,
    pub lost: Arc<AtomicBool>,
    pub backoff: Backoff,
    pub local: LocalBus,
    pub shared: Arc<Shared>,
    pub conn: Option<PgConnection>,
    /// The number of the next notification.
    pub seq: u64,
    /// Failed connection attempts in a row.
    pub failures: u32,
}

enum Sent {
    Done,
    Dropped,
    Stopped,
}

impl Publisher {
    pub(super) fn run(mut self) {
        // Connected before the first event, so that it does not wait for a handshake.
        match PgConnection::establish(&self.url) {
            Ok(c) => self.conn = Some(c),
            Err(e) => {
                tracing::warn!(error = %super::text(&e), "event publisher cannot connect yet")
            }
        }
        loop {
            let mut batches = Vec::new();
            let mut closed = false;
            match self.queue.recv_timeout(IDLE) {
                Ok(Outbound::Events(e)) => batches.push(e),
                Ok(Outbound::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => closed = true,
            }
            let mut drained = closed;
            while !drained && batches.len() < MAX_DRAIN {
                match self.queue.try_recv() {
                    Ok(Outbound::Events(e)) => batches.push(e),
                    Ok(Outbound::Wake) => {}
                    Err(TryRecvError::Empty) => drained = true,
                    Err(TryRecvError::Disconnected) => {
                        drained = true;
                        closed = true;
                    }
                }
            }
            // After taking from the queue: a batch refused because the queue was full was
            // refused before this round took its place, so the skipped number comes no later
            // than the events that followed it.
            let lost = self.lost.swap(false, Ordering::AcqRel);
            if lost {
                self.seq += 1;
            }
            if !batches.is_empty() || lost {
                let events: Vec<Event> = batches.into_iter().flatten().collect();
                let messages = payload::encode(&self.instance, &mut self.seq, &events, MAX_PAYLOAD);
                self.send_all(messages);
            }
            if closed || (drained && self.shared.is_stopped()) {
                break;
            }
        }
    }

    fn send_all(&mut self, messages: Vec<Encoded>) {
        let mut rest = messages.into_iter();
        while let Some(m) = rest.next() {
            match self.send(&m.payload) {
                Sent::Done => {}
                Sent::Dropped => self.local.count_dropped(m.events as u64),
                Sent::Stopped => {
                    let n = m.events + rest.map(|m| m.events).sum::<usize>();
                    self.local.count_dropped(n as u64);
                    if n > 0 {
                        tracing::warn!(
                            events = n,
                            "event bus stopped while PostgreSQL was unreachable: events not sent to the other instances"
                        );
                    }
                    return;
                }
            }
        }
    }

    fn send(&mut self, payload: &str) -> Sent {
        loop {
            let fresh = self.conn.is_none();
            if fresh {
                match PgConnection::establish(&self.url) {
                    Ok(c) => self.conn = Some(c),
                    Err(e) => {
                        self.failures += 1;
                        if self.failures == 1 {
                            tracing::warn!(error = %super::text(&e), "event publisher cannot connect; retrying");
                        }
                        if self.shared.is_stopped() || self.shared.sleep(self.backoff.wait()) {
                            return Sent::Stopped;
                        }
                        continue;
                    }
                }
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            match notify(conn, &self.channel, payload) {
                Ok(()) => {
                    if self.failures > 0 {
                        tracing::info!("event publisher reconnected");
                    }
                    self.failures = 0;
                    self.backoff.reset();
                    return Sent::Done;
                }
                Err(e) => {
                    self.conn = None;
                    if fresh {
                        tracing::warn!(
                            error = %super::text(&e),
                            "NOTIFY failed: events dropped for the other instances, which will resynchronise"
                        );
                        return Sent::Dropped;
                    }
                    // An idle connection may have died unnoticed: try once more on a new one.
                    tracing::debug!(error = %super::text(&e), "event publisher's connection failed; reconnecting");
                }
            }
        }
    }
}

fn notify(conn: &mut PgConnection, channel: &str, payload: &str) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(channel)
        .bind::<Text, _>(payload)
        .execute(conn)
        .map(|_| ())
}
