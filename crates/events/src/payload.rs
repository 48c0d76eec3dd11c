//! The text one PostgreSQL notification carries between instances, and how a receiver tells a
//! missed notification from a repeated one.
//!
//! A notification names events by id and number only: `NOTIFY` payloads are visible to every
//! role that may `LISTEN` on the database and are limited to 8000 bytes, so no content ever
//! travels in them and whoever receives an event re-reads what its recipient may see.
//!
//! # Format, version 1
//!
//! Tokens separated by one space:
//!
//! ```text
//! v1 <instance> <sequence> [<event> ...]
//! ```
//!
//! - `v1`: the format's version. A receiver skips (and logs) any other version, so a change of
//!   format needs a release that reads both before one that writes the new one.
//! - `<instance>`: the sending instance's id, 1 to 64 of `A-Z a-z 0-9 - _` (a random id per
//!   process, so a restarted instance is a new sender).
//! - `<sequence>`: the sender's message number, decimal, counting from 1 per instance with no
//!   holes: a receiver that sees a number more than one past the last it saw from that sender
//!   missed something and resynchronises. A sender that lost events (a full queue, a failed
//!   `NOTIFY`) skips a number on purpose, so that its receivers find out.
//! - `<event>`, zero or more (none is a bare sequence mark, sent to reveal a gap):
//!   - `cc:<couple>:<cursor>`: the couple's change feed advanced to `cursor` (decimal);
//!   - `ce:<couple>`: the couple was dissolved;
//!   - `se:<session>`: the session ended;
//!   - `ue:<user>`: every session of the user ended;
//!
//!   where ids are UUIDs in their 32-digit lower-case hexadecimal form, without hyphens.
//!
//! For example `v1 0190f3a1c2d94e7b8a55c0ffee000001 42 cc:0190f3a1c2d94e7b8a55c0ffee00ab12:17`.
//! An event takes at most 56 bytes, so a notification of [`MAX_PAYLOAD`] bytes carries over a
//! hundred; larger batches are split over several notifications, each with its own number.

use std::collections::HashMap;
use std::fmt;

use accueil_domain::couples::CoupleId;
use accueil_domain::events::Event;
use accueil_domain::identity::{SessionId, UserId};
use uuid::Uuid;

/// The version tag this module writes and reads.
pub const VERSION: &str = "v1";

/// The most bytes one notification's payload takes: PostgreSQL refuses 8000 or more; the
/// margin keeps clear of that whatever the instance id.
pub const MAX_PAYLOAD: usize = 7900;

/// The longest instance id the format allows.
pub const MAX_INSTANCE: usize = 64;

/// One decoded notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The sender.
    pub instance: String,
    /// The sender's message number.
    pub seq: u64,
    /// What it announces (possibly nothing: a sequence mark).
    pub events: Vec<Event>,
}

/// Why a payload could not be read. Says which part is wrong, never what it held: a payload
/// may come from anyone who can connect to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Not version 1 of this format (another program on the channel, or a newer release).
    Version,
    /// The instance id is missing or not of the allowed characters and length.
    Instance,
    /// The sequence number is missing or not a positive decimal number.
    Sequence,
    /// An event token is not one of the known forms.
    Event,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Version => "not an event notification of format v1",
            Self::Instance => "malformed instance id",
            Self::Sequence => "malformed sequence number",
            Self::Event => "malformed event",
        })
    }
}

impl std::error::Error for DecodeError {}

/// Whether `id` may name an instance in a payload.
pub fn valid_instance(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_INSTANCE
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn push_event(out: &mut String, event: &Event) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = match *event {
        Event::CoupleChanged { couple, cursor } => {
            write!(out, "cc:{}:{cursor}", couple.0.simple())
        }
        Event::CoupleEnded { couple } => write!(out, "ce:{}", couple.0.simple()),
        Event::SessionEnded { session } => write!(out, "se:{}", session.0.simple()),
        Event::UserSessionsEnded { user } => write!(out, "ue:{}", user.0.simple()),
        Event::TicketChanged {
            tenant,
            queue,
            ticket,
            status,
        } => write!(
            out,
            "tc:{}:{}:{}:{}",
            tenant.0.simple(),
            queue.simple(),
            ticket.simple(),
            status.as_str()
        ),
    };
}

fn header(instance: &str, seq: u64) -> String {
    format!("{VERSION} {instance} {seq}")
}

/// The payloads announcing `events` from `instance`, numbered from `*next_seq` on (which is
/// left at the number after the last one used). Each payload holds as many events as fit in
/// `budget` bytes (at least one); no events give one bare sequence mark.
pub fn encode(instance: &str, next_seq: &mut u64, events: &[Event], budget: usize) -> Vec<Encoded> {
    let mut out = Vec::new();
    let mut current: Option<Encoded> = None;
    let mut token = String::with_capacity(64);
    for event in events {
        token.clear();
        push_event(&mut token, event);
        if let Some(c) = &current
            && c.payload.len() + 1 + token.len() > budget
            && c.events > 0
        {
            out.extend(current.take());
        }
        let c = current.get_or_insert_with(|| {
            let seq = *next_seq;
            *next_seq += 1;
            Encoded {
                payload: header(instance, seq),
                events: 0,
            }
        });
        c.payload.push(' ');
        c.payload.push_str(&token);
        c.events += 1;
    }
    out.extend(current);
    if out.is_empty() {
        let seq = *next_seq;
        *next_seq += 1;
        out.push(Encoded {
            payload: header(instance, seq),
            events: 0,
        });
    }
    out
}

/// One payload ready to send, and how many events it carries (to count them if it is lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The notification's payload.
    pub payload: String,
    /// How many events it announces.
    pub events: usize,
}

fn id(raw: &str) -> Result<Uuid, DecodeError> {
    // Only the simple form: one spelling per id keeps the format strict and the size known.
    if raw.len() != 32 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DecodeError::Event);
    }
    Uuid::try_parse(raw).map_err(|_| DecodeError::Event)
}

fn event(token: &str) -> Result<Event, DecodeError> {
    let (kind, rest) = token.split_once(':').ok_or(DecodeError::Event)?;
    match kind {
        "cc" => {
            let (couple, cursor) = rest.split_once(':').ok_or(DecodeError::Event)?;
            if cursor.is_empty() || !cursor.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                return Err(DecodeError::Event);
            }
            Ok(Event::CoupleChanged {
                couple: CoupleId(id(couple)?),
                cursor: cursor.parse().map_err(|_| DecodeError::Event)?,
            })
        }
        "ce" => Ok(Event::CoupleEnded {
            couple: CoupleId(id(rest)?),
        }),
        "se" => Ok(Event::SessionEnded {
            session: SessionId(id(rest)?),
        }),
        "ue" => Ok(Event::UserSessionsEnded {
            user: UserId(id(rest)?),
        }),
        "tc" => {
            let mut parts = rest.split(':');
            let (Some(tenant), Some(queue), Some(ticket), Some(status), None) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return Err(DecodeError::Event);
            };
            Ok(Event::TicketChanged {
                tenant: accueil_domain::queues::TenantId(id(tenant)?),
                queue: id(queue)?,
                ticket: id(ticket)?,
                status: accueil_domain::queues::tickets::TicketStatus::parse(status)
                    .ok_or(DecodeError::Event)?,
            })
        }
        _ => Err(DecodeError::Event),
    }
}

/// Reads one payload.
///
/// # Errors
/// [`DecodeError`] when it is not a well-formed version 1 payload.
pub fn decode(payload: &str) -> Result<Message, DecodeError> {
    let mut tokens = payload.split(' ');
    if tokens.next() != Some(VERSION) {
        return Err(DecodeError::Version);
    }
    let instance = tokens.next().ok_or(DecodeError::Instance)?;
    if !valid_instance(instance) {
        return Err(DecodeError::Instance);
    }
    let seq = tokens.next().ok_or(DecodeError::Sequence)?;
    if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError::Sequence);
    }
    let seq: u64 = seq.parse().map_err(|_| DecodeError::Sequence)?;
    if seq == 0 {
        return Err(DecodeError::Sequence);
    }
    let events = tokens.map(event).collect::<Result<Vec<_>, _>>()?;
    Ok(Message {
        instance: instance.to_owned(),
        seq,
        events,
    })
}

/// What a receiver makes of a sender's message number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The first heard from this sender (since the receiver started listening): accepted.
    First,
    /// The number after the last one: nothing missed.
    Next,
    /// Numbers were skipped: `missed` messages never arrived (or carried lost events).
    Gap {
        /// How many numbers were skipped.
        missed: u64,
    },
    /// A number already seen (a sender that retried a notification that had gone through):
    /// ignored.
    Repeated,
}

/// The last number heard from each sender.
///
/// Senders come and go (every restart is a new one), so the table keeps at most `capacity`
/// of them, forgetting the one heard from least recently: a sender forgotten and heard again
/// is taken as new, which only loses the detection of a gap across that silence.
#[derive(Debug)]
pub struct Senders {
    last: HashMap<String, (u64, u64)>,
    capacity: usize,
    clock: u64,
}

impl Senders {
    /// A table of at most `capacity` senders (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            last: HashMap::new(),
            capacity: capacity.max(1),
            clock: 0,
        }
    }

    /// Forgets every sender: after a resynchronisation, what came before no longer matters.
    pub fn clear(&mut self) {
        self.last.clear();
    }

    /// How many senders are remembered.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether no sender is remembered.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// Records `seq` from `instance` and says how it follows the last one.
    pub fn observe(&mut self, instance: &str, seq: u64) -> Verdict {
        self.clock += 1;
        let clock = self.clock;
        if let Some((last, heard)) = self.last.get_mut(instance) {
            *heard = clock;
            if seq <= *last {
                return Verdict::Repeated;
            }
            let missed = seq - *last - 1;
            *last = seq;
            return if missed == 0 {
                Verdict::Next
            } else {
                Verdict::Gap { missed }
            };
        }
        if self.last.len() >= self.capacity
            && let Some(oldest) = self
                .last
                .iter()
                .min_by_key(|(_, (_, heard))| *heard)
                .map(|(k, _)| k.clone())
        {
            self.last.remove(&oldest);
        }
        self.last.insert(instance.to_owned(), (seq, clock));
        Verdict::First
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn every_kind() -> Vec<Event> {
        vec![
            Event::CoupleChanged {
                couple: CoupleId(uuid(0x0190_f3a1_c2d9_4e7b_8a55_c0ff_ee00_ab12)),
                cursor: 17,
            },
            Event::CoupleEnded {
                couple: CoupleId(uuid(2)),
            },
            Event::SessionEnded {
                session: SessionId(uuid(u128::MAX)),
            },
            Event::UserSessionsEnded {
                user: UserId(uuid(4)),
            },
            Event::CoupleChanged {
                couple: CoupleId(uuid(5)),
                cursor: i64::MAX,
            },
            Event::TicketChanged {
                tenant: accueil_domain::queues::TenantId(uuid(6)),
                queue: uuid(7),
                ticket: uuid(8),
                status: accueil_domain::queues::tickets::TicketStatus::InService,
            },
        ]
    }

    #[test]
    fn every_event_round_trips_and_the_numbers_advance() {
        let events = every_kind();
        let mut seq = 41;
        let out = encode("inst-1", &mut seq, &events, MAX_PAYLOAD);
        assert_eq!(seq, 42);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].events, events.len());
        assert!(
            out[0]
                .payload
                .starts_with("v1 inst-1 41 cc:0190f3a1c2d94e7b8a55c0ffee00ab12:17 ce:"),
            "{}",
            out[0].payload
        );
        let back = decode(&out[0].payload).unwrap();
        assert_eq!(
            back,
            Message {
                instance: "inst-1".into(),
                seq: 41,
                events
            }
        );
    }

    #[test]
    fn nothing_to_say_is_one_bare_sequence_mark() {
        let mut seq = 7;
        let out = encode("a", &mut seq, &[], MAX_PAYLOAD);
        assert_eq!(
            out,
            vec![Encoded {
                payload: "v1 a 7".into(),
                events: 0
            }]
        );
        assert_eq!(seq, 8);
        assert_eq!(decode("v1 a 7").unwrap().events, vec![]);
    }

    #[test]
    fn large_batches_split_under_the_limit_with_consecutive_numbers() {
        let instance = "x".repeat(MAX_INSTANCE);
        let events: Vec<Event> = (0..1000)
            .map(|n| Event::CoupleChanged {
                couple: CoupleId(uuid(u128::MAX - n)),
                cursor: i64::MIN,
            })
            .collect();
        let mut seq = 1;
        let out = encode(&instance, &mut seq, &events, MAX_PAYLOAD);
        assert!(out.len() > 1);
        assert_eq!(seq, 1 + out.len() as u64);
        let mut back = Vec::new();
        for (i, e) in out.iter().enumerate() {
            assert!(e.payload.len() <= MAX_PAYLOAD, "{}", e.payload.len());
            let m = decode(&e.payload).unwrap();
            assert_eq!(m.seq, 1 + i as u64);
            assert_eq!(m.events.len(), e.events);
            back.extend(m.events);
        }
        assert_eq!(back, events, "every event once, in order");
        assert!(
            out[0].events > 100,
            "a notification carries over a hundred events: {}",
            out[0].events
        );
    }

    #[test]
    fn an_event_longer_than_the_budget_still_goes_alone() {
        let mut seq = 1;
        let out = encode("a", &mut seq, &every_kind()[..2], 10);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|e| e.events == 1));
    }

    #[test]
    fn garbled_payloads_are_refused_by_part() {
        let good = "0190f3a1c2d94e7b8a55c0ffee00ab12";
        for (payload, why) in [
            ("", DecodeError::Version),
            ("hello", DecodeError::Version),
            ("v2 a 1", DecodeError::Version),
            ("V1 a 1", DecodeError::Version),
            ("v1", DecodeError::Instance),
            ("v1  1", DecodeError::Instance),
            ("v1 a;b 1", DecodeError::Instance),
            (&format!("v1 {} 1", "a".repeat(65)), DecodeError::Instance),
            ("v1 a", DecodeError::Sequence),
            ("v1 a 0", DecodeError::Sequence),
            ("v1 a -1", DecodeError::Sequence),
            ("v1 a +1", DecodeError::Sequence),
            ("v1 a 99999999999999999999999", DecodeError::Sequence),
            ("v1 a 1 ", DecodeError::Event),
            ("v1 a 1 xx:00", DecodeError::Event),
            (&format!("v1 a 1 ue:{good}:3"), DecodeError::Event),
            (&format!("v1 a 1 cc:{good}"), DecodeError::Event),
            (&format!("v1 a 1 cc:{good}:"), DecodeError::Event),
            (&format!("v1 a 1 cc:{good}:+4"), DecodeError::Event),
            (&format!("v1 a 1 cc:{good}:1e3"), DecodeError::Event),
            (
                "v1 a 1 ue:0190f3a1-c2d9-4e7b-8a55-c0ffee00ab12",
                DecodeError::Event,
            ),
            (
                "v1 a 1 ue:0190f3a1c2d94e7b8a55c0ffee00ab1z",
                DecodeError::Event,
            ),
            (
                "v1 a 1 ue:é190f3a1c2d94e7b8a55c0ffee00ab1",
                DecodeError::Event,
            ),
        ] {
            assert_eq!(decode(payload), Err(why), "{payload:?}");
        }
        assert!(
            !DecodeError::Event.to_string().contains(good),
            "errors never repeat content"
        );
    }

    #[test]
    fn senders_tell_next_gaps_and_repeats_per_instance() {
        let mut s = Senders::new(8);
        assert_eq!(s.observe("a", 5), Verdict::First);
        assert_eq!(s.observe("a", 6), Verdict::Next);
        assert_eq!(s.observe("b", 1), Verdict::First);
        assert_eq!(s.observe("a", 9), Verdict::Gap { missed: 2 });
        assert_eq!(s.observe("a", 9), Verdict::Repeated);
        assert_eq!(s.observe("a", 3), Verdict::Repeated);
        assert_eq!(s.observe("b", 2), Verdict::Next);
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.observe("a", 12), Verdict::First, "after a resync");
    }

    #[test]
    fn senders_forget_the_least_recently_heard_beyond_capacity() {
        let mut s = Senders::new(2);
        s.observe("a", 1);
        s.observe("b", 1);
        s.observe("a", 2);
        assert_eq!(s.observe("c", 1), Verdict::First);
        assert_eq!(s.len(), 2);
        assert_eq!(s.observe("a", 3), Verdict::Next, "a was heard recently");
        assert_eq!(s.observe("b", 5), Verdict::First, "b was forgotten");
    }

    #[test]
    fn instance_ids_are_checked() {
        assert!(valid_instance("0190f3a1c2d94e7b8a55c0ffee000001"));
        assert!(valid_instance("web-1_a"));
        for bad in ["", "a b", "a:b", "é", &"a".repeat(65)] {
            assert!(!valid_instance(bad), "{bad:?}");
        }
    }
}
