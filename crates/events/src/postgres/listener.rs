//! The listener thread: `LISTEN`, read what arrived every poll interval, deliver the other
//! instances' events locally, and reconnect (then resynchronise every local subscriber) when
//! the connection breaks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::pg::PgNotification;
use diesel::{Connection, PgConnection, RunQueryDsl};

use super::{Backoff, Link, Shared};
use crate::LocalBus;
use crate::payload::{self, Senders, Verdict};

/// How many senders a listener remembers the last number of (instances come and go with
/// every restart).
const MAX_SENDERS: usize = 1024;

/// At most one warning per this long about payloads that cannot be read (anyone who can
/// connect may notify the channel).
const GARBLED_LOG_EVERY: Duration = Duration::from_secs(10);

pub(super) struct Listener {
    pub url: String,
    pub channel: String,
    pub instance: String,
    pub poll: Duration,
    pub ping: Duration,
    pub backoff: Backoff,
    pub local: LocalBus,
    pub shared: Arc<Shared>,
}

/// Why serving a connection ended.
enum Ended {
    Stopped,
    Broken(String),
}

/// Counts what it did not log, to say so with the next line it logs.
#[derive(Default)]
struct Quiet {
    last: Option<Instant>,
    suppressed: u64,
}

impl Quiet {
    /// Whether to log now and, if so, how many were not logged since the last time.
    fn admit(&mut self, every: Duration) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < every) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

impl Listener {
    pub(super) fn run(mut self) {
        let mut senders = Senders::new(MAX_SENDERS);
        let mut garbled = Quiet::default();
        let mut failures = 0_u32;
        while !self.shared.is_stopped() {
            let mut conn = match self.listen() {
                Ok(c) => c,
                Err(e) => {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(error = %super::text(&e), "event listener cannot connect; retrying");
                    } else {
                        tracing::debug!(error = %super::text(&e), attempt = failures, "event listener still cannot connect");
                    }
                    if self.shared.sleep(self.backoff.wait()) {
                        break;
                    }
                    continue;
                }
            };
            self.backoff.reset();
            failures = 0;
            // Every sender's numbering starts afresh: the resync covers what came before.
            senders.clear();
            match self.shared.set_listening() {
                Link::Reconnecting { since } => tracing::info!(
                    down_ms = (Utc::now() - since).num_milliseconds(),
                    "event listener reconnected; local subscribers resynchronise"
                ),
                _ => tracing::info!(channel = %self.channel, "event listener listening"),
            }
            // After `LISTEN`: whatever a subscriber re-reads now, anything committed later is
            // announced to it.
            self.local.resync_all();
            match self.serve(&mut conn, &mut senders, &mut garbled) {
                Ended::Stopped => break,
                Ended::Broken(e) => {
                    self.shared
                        .set_link(Link::Reconnecting { since: Utc::now() });
                    tracing::warn!(error = %super::text(&e), "event listener lost its connection; reconnecting");
                }
            }
        }
        self.shared.set_link(Link::Stopped);
    }

    /// A new connection that listens on the channel.
    fn listen(&self) -> Result<PgConnection, String> {
        let mut conn = PgConnection::establish(&self.url).map_err(|e| e.to_string())?;
        // The channel was checked to be a plain identifier.
        diesel::sql_query(format!("LISTEN \"{}\"", self.channel))
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok(conn)
    }

    /// Reads notifications until the connection breaks or the bus stops.
    fn serve(&self, conn: &mut PgConnection, senders: &mut Senders, garbled: &mut Quiet) -> Ended {
        let mut pinged = Instant::now();
        loop {
            // Consumes what the socket holds without waiting; an error means the connection
            // is gone (a terminated backend, a restarted server).
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(n) => self.receive(&n, senders, garbled),
                    Err(e) => return Ended::Broken(e.to_string()),
                }
            }
            // Silence is not proof of life: a dead network shows only when something is sent.
            if pinged.elapsed() >= self.ping {
                if let Err(e) = diesel::sql_query("SELECT 1").execute(conn) {
                    return Ended::Broken(e.to_string());
                }
                pinged = Instant::now();
            }
            if self.shared.sleep(self.poll) {
                return Ended::Stopped;
            }
        }
    }

    /// Delivers one notification's events, after checking its sender's numbering.
    fn receive(&self, n: &PgNotification, senders: &mut Senders, garbled: &mut Quiet) {
        if n.channel != self.channel {
            return;
        }
        let message = match payload::decode(&n.payload) {
            Ok(m) => m,
            Err(e) => {
                // Its length and sender only: a payload may come from anyone.
                if let Some(suppressed) = garbled.admit(GARBLED_LOG_EVERY) {
                    tracing::warn!(
                        error = %e,
                        bytes = n.payload.len(),
                        sender_pid = n.process_id,
                        suppressed,
                        "skipped a notification on the events channel that is not an event"
                    );
                }
                return;
            }
        };
        if message.instance == self.instance {
            // Ours, back from PostgreSQL: delivered locally when published.
            return;
        }
        match senders.observe(&message.instance, message.seq) {
            Verdict::Repeated => {
                tracing::debug!(sender = %message.instance, seq = message.seq, "repeated notification skipped");
                return;
            }
            Verdict::Gap { missed } => {
                tracing::info!(
                    sender = %message.instance,
                    missed,
                    "events from another instance were lost; local subscribers resynchronise"
                );
                self.local.resync_all();
            }
            Verdict::First | Verdict::Next => {}
        }
        for event in message.events {
            self.local.deliver(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_admits_one_line_per_period_and_counts_the_rest() {
        let mut q = Quiet::default();
        assert_eq!(q.admit(Duration::from_secs(60)), Some(0));
        assert_eq!(q.admit(Duration::from_secs(60)), None);
        assert_eq!(q.admit(Duration::from_secs(60)), None);
        assert_eq!(q.admit(Duration::ZERO), Some(2));
    }
}
