//! A tenant's catalogue: where it serves (sites), what it serves (services, each numbering its
//! own tickets), the lines customers wait in (queues, each of one service) and the desks agents
//! call them to (counters, each at one site).
//!
//! A service belongs to a site and a queue to a service for good (moving one would renumber or
//! re-route tickets already taken): those references are set at creation and not changed
//! afterwards; everything else may be.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::tickets::{Algorithm, Numbering};
use crate::identity::TimeZone;
use crate::validation::{FieldError, Fields, Patch, ValidationErrors, bounded_text};

/// The most tickets a service numbers in a day (`A-9999`).
pub const MAX_DAILY_NUMBER: u32 = 9999;

/// The name of a site, service, queue or counter: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemName(String);

impl ItemName {
    /// Validates a name.
    ///
    /// # Errors
    /// A [`FieldError`] on `name`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("name", raw, 100).map(Self)
    }

    /// A name read back from storage.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A site's postal address, on one line: 1 to 300 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    /// Validates an address.
    ///
    /// # Errors
    /// A [`FieldError`] on `address`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("address", raw, 300).map(Self)
    }

    /// An address read back from storage.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The letters before a service's ticket numbers (`A` in `A-001`): 1 to 3 of `A`–`Z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(String);

impl Prefix {
    /// Validates a prefix (upper case: `a` is refused, not folded, so the number a customer
    /// reads is the one the screen shows).
    ///
    /// # Errors
    /// A [`FieldError`] on `prefix` with code `invalid_prefix`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if (1..=3).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "prefix",
                "invalid_prefix",
                "1 to 3 capital letters A to Z",
            ))
        }
    }

    /// A prefix read back from storage.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An integer field within `lo..=hi`.
fn bounded(field: &'static str, raw: i64, lo: u32, hi: u32) -> Result<u32, FieldError> {
    u32::try_from(raw)
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| FieldError::new(field, "out_of_range", format!("{lo} to {hi}")))
}

impl Algorithm {
    /// Its name in the API (`FIFO`, `PRIORITY`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fifo => "FIFO",
            Self::Priority => "PRIORITY",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "FIFO" => Some(Self::Fifo),
            "PRIORITY" => Some(Self::Priority),
            _ => None,
        }
    }

    fn parse_field(raw: &str) -> Result<Self, FieldError> {
        Self::parse(raw)
            .ok_or_else(|| FieldError::new("algorithm", "invalid_choice", "FIFO or PRIORITY"))
    }
}

/// A place where the tenant serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Id.
    pub id: Uuid,
    /// Its name.
    pub name: ItemName,
    /// Its address.
    pub address: Option<Address>,
    /// Its zone, when it is not the tenant's.
    pub time_zone: Option<TimeZone>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A site to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSite {
    /// Its name.
    pub name: ItemName,
    /// Its address.
    pub address: Option<Address>,
    /// Its zone, when not the tenant's.
    pub time_zone: Option<TimeZone>,
}

impl NewSite {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        name: &str,
        address: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let (name, address, time_zone) = (
            ItemName::parse(name),
            address.map(Address::parse).transpose(),
            time_zone.map(TimeZone::parse).transpose(),
        )
            .all()?;
        Ok(Self {
            name,
            address,
            time_zone,
        })
    }

    /// The site, created at `now`.
    pub fn into_site(self, id: Uuid, now: DateTime<Utc>) -> Site {
        Site {
            id,
            name: self.name,
            address: self.address,
            time_zone: self.time_zone,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Changes to a site: absent fields are kept; the address and zone can be cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteChanges {
    /// A new name.
    pub name: Option<ItemName>,
    /// A new address, or none.
    pub address: Patch<Address>,
    /// A zone of its own, or the tenant's again.
    pub time_zone: Patch<TimeZone>,
}

impl SiteChanges {
    /// Checks every field given.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        name: Option<&str>,
        address: Patch<String>,
        time_zone: Patch<String>,
    ) -> Result<Self, ValidationErrors> {
        let (name, address, time_zone) = (
            name.map(ItemName::parse).transpose(),
            address.try_map(|a| Address::parse(&a)),
            time_zone.try_map(|z| TimeZone::parse(&z)),
        )
            .all()?;
        Ok(Self {
            name,
            address,
            time_zone,
        })
    }

    /// Applies them at `now`.
    pub fn apply_to(self, site: &mut Site, now: DateTime<Utc>) {
        if let Some(name) = self.name {
            site.name = name;
        }
        self.address.apply_to(&mut site.address);
        self.time_zone.apply_to(&mut site.time_zone);
        site.updated_at = now;
    }
}

/// Something a site offers, with its own ticket numbers (`A-001`, from the first number of
/// its range each local day, up to its last and its daily cap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Id.
    pub id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Its name.
    pub name: ItemName,
    /// Its numbers' prefix.
    pub prefix: Prefix,
    /// Its daily range and cap.
    pub numbering: Numbering,
    /// The time a ticket takes, in minutes, before any ticket was served: the ETA's starting
    /// point until served tickets give a measured one.
    pub avg_service_minutes: u32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A service's numbering fields, as given (before their joint check).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberingFields {
    /// `range_start`.
    pub range_start: Option<i64>,
    /// `range_end`.
    pub range_end: Option<i64>,
    /// `daily_cap`: absent keeps it, `null` removes it.
    pub daily_cap: Patch<i64>,
}

impl NumberingFields {
    /// Applies the fields to `numbering`, each checked, then the range as a whole.
    fn apply_to(self, mut numbering: Numbering) -> Result<Numbering, ValidationErrors> {
        let (start, end, cap) = (
            self.range_start
                .map(|v| bounded("range_start", v, 1, MAX_DAILY_NUMBER))
                .transpose(),
            self.range_end
                .map(|v| bounded("range_end", v, 1, MAX_DAILY_NUMBER))
                .transpose(),
            self.daily_cap
                .try_map(|v| bounded("daily_cap", v, 1, MAX_DAILY_NUMBER)),
        )
            .all()?;
        numbering.first = start.unwrap_or(numbering.first);
        numbering.last = end.unwrap_or(numbering.last);
        cap.apply_to(&mut numbering.cap);
        if numbering.first > numbering.last {
            return Err(ValidationErrors(vec![FieldError::new(
                "range_end",
                "before_range_start",
                format!("at least range_start ({})", numbering.first),
            )]));
        }
        Ok(numbering)
    }
}

/// A new service's default range: `001` to `999`, no cap.
const DEFAULT_NUMBERING: Numbering = Numbering {
    first: 1,
    last: 999,
    cap: None,
};

/// A service's average time before any was measured, when not given: 5 minutes.
const DEFAULT_SERVICE_MINUTES: u32 = 5;

/// The longest average service time one may give: 8 hours.
const MAX_SERVICE_MINUTES: u32 = 480;

/// A service to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    /// Its site (checked to be the tenant's by the use case).
    pub site_id: Uuid,
    /// Its name.
    pub name: ItemName,
    /// Its prefix.
    pub prefix: Prefix,
    /// Its numbering.
    pub numbering: Numbering,
    /// Its starting average service time.
    pub avg_service_minutes: u32,
}

impl NewService {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        site_id: Uuid,
        name: &str,
        prefix: &str,
        numbering: NumberingFields,
        avg_service_minutes: Option<i64>,
    ) -> Result<Self, ValidationErrors> {
        let (name, prefix, numbering, minutes) = (
            ItemName::parse(name),
            Prefix::parse(prefix),
            numbering.apply_to(DEFAULT_NUMBERING),
            avg_service_minutes
                .map(|m| bounded("avg_service_minutes", m, 1, MAX_SERVICE_MINUTES))
                .transpose(),
        )
            .all()?;
        Ok(Self {
            site_id,
            name,
            prefix,
            numbering,
            avg_service_minutes: minutes.unwrap_or(DEFAULT_SERVICE_MINUTES),
        })
    }

    /// The service, created at `now`.
    pub fn into_service(self, id: Uuid, now: DateTime<Utc>) -> Service {
        Service {
            id,
            site_id: self.site_id,
            name: self.name,
            prefix: self.prefix,
            numbering: self.numbering,
            avg_service_minutes: self.avg_service_minutes,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Changes to a service; the range is checked as a whole against the stored one when applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceChanges {
    /// A new name.
    pub name: Option<ItemName>,
    /// A new prefix (tickets taken keep theirs).
    pub prefix: Option<Prefix>,
    /// New range or cap fields.
    pub numbering: NumberingFields,
    /// A new starting average.
    pub avg_service_minutes: Option<u32>,
}

impl ServiceChanges {
    /// Checks every field given on its own.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        name: Option<&str>,
        prefix: Option<&str>,
        numbering: NumberingFields,
        avg_service_minutes: Option<i64>,
    ) -> Result<Self, ValidationErrors> {
        let (name, prefix, _, minutes) = (
            name.map(ItemName::parse).transpose(),
            prefix.map(Prefix::parse).transpose(),
            // Each numbering field alone; the range is checked against the stored one later.
            numbering.clone().apply_to(Numbering {
                first: 1,
                last: MAX_DAILY_NUMBER,
                cap: None,
            }),
            avg_service_minutes
                .map(|m| bounded("avg_service_minutes", m, 1, MAX_SERVICE_MINUTES))
                .transpose(),
        )
            .all()?;
        Ok(Self {
            name,
            prefix,
            numbering,
            avg_service_minutes: minutes,
        })
    }

    /// Applies them at `now`.
    ///
    /// # Errors
    /// `range_end` `before_range_start` when the resulting range is empty; nothing changes.
    pub fn apply_to(
        self,
        service: &mut Service,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let numbering = self.numbering.apply_to(service.numbering)?;
        service.numbering = numbering;
        if let Some(name) = self.name {
            service.name = name;
        }
        if let Some(prefix) = self.prefix {
            service.prefix = prefix;
        }
        if let Some(minutes) = self.avg_service_minutes {
            service.avg_service_minutes = minutes;
        }
        service.updated_at = now;
        Ok(())
    }
}

/// A line customers wait in, for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Id.
    pub id: Uuid,
    /// Its service.
    pub service_id: Uuid,
    /// Its name.
    pub name: ItemName,
    /// How the next ticket is chosen.
    pub algorithm: Algorithm,
    /// Whether tickets can be taken.
    pub is_open: bool,
    /// The most tickets waiting at once, if limited.
    pub max_waiting: Option<u32>,
    /// Minutes of waiting that raise a ticket's priority by one level (PRIORITY; 0: none).
    pub aging_minutes: u32,
    /// The secret of its public join link; replaced to revoke links handed out.
    pub join_token: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The largest `max_waiting`.
const MAX_WAITING: u32 = 10_000;

/// The longest `aging_minutes`: a day.
const MAX_AGING_MINUTES: u32 = 1440;

/// A queue to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueue {
    /// Its service (checked to be the tenant's by the use case).
    pub service_id: Uuid,
    /// Its name.
    pub name: ItemName,
    /// FIFO when not given.
    pub algorithm: Algorithm,
    /// Open when not given.
    pub is_open: bool,
    /// Unlimited when not given.
    pub max_waiting: Option<u32>,
    /// 0 when not given.
    pub aging_minutes: u32,
}

impl NewQueue {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        service_id: Uuid,
        name: &str,
        algorithm: Option<&str>,
        is_open: Option<bool>,
        max_waiting: Option<i64>,
        aging_minutes: Option<i64>,
    ) -> Result<Self, ValidationErrors> {
        let (name, algorithm, max_waiting, aging) = (
            ItemName::parse(name),
            algorithm.map(Algorithm::parse_field).transpose(),
            max_waiting
                .map(|m| bounded("max_waiting", m, 1, MAX_WAITING))
                .transpose(),
            aging_minutes
                .map(|m| bounded("aging_minutes", m, 0, MAX_AGING_MINUTES))
                .transpose(),
        )
            .all()?;
        Ok(Self {
            service_id,
            name,
            algorithm: algorithm.unwrap_or(Algorithm::Fifo),
            is_open: is_open.unwrap_or(true),
            max_waiting,
            aging_minutes: aging.unwrap_or(0),
        })
    }

    /// The queue, created at `now` with the join link secret `join_token`.
    pub fn into_queue(self, id: Uuid, join_token: String, now: DateTime<Utc>) -> Queue {
        Queue {
            id,
            service_id: self.service_id,
            name: self.name,
            algorithm: self.algorithm,
            is_open: self.is_open,
            max_waiting: self.max_waiting,
            aging_minutes: self.aging_minutes,
            join_token,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Changes to a queue: absent fields are kept; `max_waiting` can be cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueChanges {
    /// A new name.
    pub name: Option<ItemName>,
    /// Another algorithm.
    pub algorithm: Option<Algorithm>,
    /// Open or close it.
    pub is_open: Option<bool>,
    /// A new limit, or none.
    pub max_waiting: Patch<u32>,
    /// New aging.
    pub aging_minutes: Option<u32>,
}

impl QueueChanges {
    /// Checks every field given.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        name: Option<&str>,
        algorithm: Option<&str>,
        is_open: Option<bool>,
        max_waiting: Patch<i64>,
        aging_minutes: Option<i64>,
    ) -> Result<Self, ValidationErrors> {
        let (name, algorithm, max_waiting, aging_minutes) = (
            name.map(ItemName::parse).transpose(),
            algorithm.map(Algorithm::parse_field).transpose(),
            max_waiting.try_map(|m| bounded("max_waiting", m, 1, MAX_WAITING)),
            aging_minutes
                .map(|m| bounded("aging_minutes", m, 0, MAX_AGING_MINUTES))
                .transpose(),
        )
            .all()?;
        Ok(Self {
            name,
            algorithm,
            is_open,
            max_waiting,
            aging_minutes,
        })
    }

    /// Applies them at `now`.
    pub fn apply_to(self, queue: &mut Queue, now: DateTime<Utc>) {
        if let Some(name) = self.name {
            queue.name = name;
        }
        if let Some(algorithm) = self.algorithm {
            queue.algorithm = algorithm;
        }
        if let Some(open) = self.is_open {
            queue.is_open = open;
        }
        self.max_waiting.apply_to(&mut queue.max_waiting);
        if let Some(aging) = self.aging_minutes {
            queue.aging_minutes = aging;
        }
        queue.updated_at = now;
    }
}

/// A desk at a site, where agents call tickets to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// Id.
    pub id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Its name (`Desk 3`).
    pub name: ItemName,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A counter to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCounter {
    /// Its site (checked to be the tenant's by the use case).
    pub site_id: Uuid,
    /// Its name.
    pub name: ItemName,
}

impl NewCounter {
    /// Checks every field.
    ///
    /// # Errors
    /// `name`'s problem.
    pub fn parse(site_id: Uuid, name: &str) -> Result<Self, ValidationErrors> {
        let (name,) = (ItemName::parse(name),).all()?;
        Ok(Self { site_id, name })
    }

    /// The counter, created at `now`.
    pub fn into_counter(self, id: Uuid, now: DateTime<Utc>) -> Counter {
        Counter {
            id,
            site_id: self.site_id,
            name: self.name,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Changes to a counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterChanges {
    /// A new name.
    pub name: Option<ItemName>,
}

impl CounterChanges {
    /// Checks the name, if given.
    ///
    /// # Errors
    /// `name`'s problem.
    pub fn parse(name: Option<&str>) -> Result<Self, ValidationErrors> {
        let (name,) = (name.map(ItemName::parse).transpose(),).all()?;
        Ok(Self { name })
    }

    /// Applies them at `now`.
    pub fn apply_to(self, counter: &mut Counter, now: DateTime<Utc>) {
        if let Some(name) = self.name {
            counter.name = name;
        }
        counter.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: &ValidationErrors) -> Vec<(&'static str, &'static str)> {
        e.0.iter().map(|f| (f.field, f.code)).collect()
    }

    fn service() -> Service {
        NewService::parse(Uuid::nil(), "Desk", "A", NumberingFields::default(), None)
            .unwrap()
            .into_service(Uuid::nil(), DateTime::UNIX_EPOCH)
    }

    #[test]
    fn prefixes() {
        for ok in ["A", "AB", "XYZ"] {
            assert!(Prefix::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "ABCD", "A1", "É", "A-"] {
            assert_eq!(
                Prefix::parse(bad).unwrap_err().code,
                "invalid_prefix",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_new_service_has_defaults_and_reports_every_field() {
        let s = service();
        assert_eq!(s.numbering, DEFAULT_NUMBERING);
        assert_eq!(s.avg_service_minutes, 5);
        let e = NewService::parse(
            Uuid::nil(),
            " ",
            "a",
            NumberingFields {
                range_start: Some(0),
                range_end: Some(10_000),
                daily_cap: Patch::Set(0),
            },
            Some(481),
        )
        .unwrap_err();
        assert_eq!(
            codes(&e),
            [
                ("name", "required"),
                ("prefix", "invalid_prefix"),
                ("range_start", "out_of_range"),
                ("range_end", "out_of_range"),
                ("daily_cap", "out_of_range"),
                ("avg_service_minutes", "out_of_range"),
            ]
        );
    }

    #[test]
    fn a_range_is_checked_whole_against_the_stored_one() {
        let e = NewService::parse(
            Uuid::nil(),
            "Desk",
            "A",
            NumberingFields {
                range_start: Some(500),
                range_end: Some(100),
                daily_cap: Patch::Keep,
            },
            None,
        )
        .unwrap_err();
        assert_eq!(codes(&e), [("range_end", "before_range_start")]);

        // 2000 alone is a valid start; against the stored end (999) it is not.
        let mut s = service();
        let c = ServiceChanges::parse(
            None,
            Some("B"),
            NumberingFields {
                range_start: Some(2000),
                ..NumberingFields::default()
            },
            None,
        )
        .unwrap();
        let e = c.apply_to(&mut s, DateTime::UNIX_EPOCH).unwrap_err();
        assert_eq!(codes(&e), [("range_end", "before_range_start")]);
        assert_eq!(s.prefix.as_str(), "A", "nothing changed");

        let c = ServiceChanges::parse(
            None,
            None,
            NumberingFields {
                range_start: Some(100),
                range_end: Some(199),
                daily_cap: Patch::Set(50),
            },
            Some(12),
        )
        .unwrap();
        c.apply_to(&mut s, DateTime::UNIX_EPOCH).unwrap();
        assert_eq!(
            (s.numbering, s.avg_service_minutes),
            (
                Numbering {
                    first: 100,
                    last: 199,
                    cap: Some(50)
                },
                12
            )
        );
        let c = ServiceChanges::parse(
            None,
            None,
            NumberingFields {
                daily_cap: Patch::Clear,
                ..NumberingFields::default()
            },
            None,
        )
        .unwrap();
        c.apply_to(&mut s, DateTime::UNIX_EPOCH).unwrap();
        assert_eq!(s.numbering.cap, None);
    }

    #[test]
    fn queues_default_and_change() {
        let q = NewQueue::parse(Uuid::nil(), "Main", None, None, None, None).unwrap();
        assert_eq!(
            (q.algorithm, q.is_open, q.max_waiting, q.aging_minutes),
            (Algorithm::Fifo, true, None, 0)
        );
        let e =
            NewQueue::parse(Uuid::nil(), "", Some("LIFO"), None, Some(0), Some(1441)).unwrap_err();
        assert_eq!(
            codes(&e),
            [
                ("name", "required"),
                ("algorithm", "invalid_choice"),
                ("max_waiting", "out_of_range"),
                ("aging_minutes", "out_of_range"),
            ]
        );
        let mut q = q.into_queue(Uuid::nil(), "secret".into(), DateTime::UNIX_EPOCH);
        QueueChanges::parse(
            None,
            Some("PRIORITY"),
            Some(false),
            Patch::Set(20),
            Some(10),
        )
        .unwrap()
        .apply_to(&mut q, DateTime::UNIX_EPOCH);
        assert_eq!(
            (q.algorithm, q.is_open, q.max_waiting, q.aging_minutes),
            (Algorithm::Priority, false, Some(20), 10)
        );
        QueueChanges::parse(None, None, None, Patch::Clear, None)
            .unwrap()
            .apply_to(&mut q, DateTime::UNIX_EPOCH);
        assert_eq!(q.max_waiting, None);
    }

    #[test]
    fn sites_clear_what_may_be_cleared() {
        let mut s = NewSite::parse("HQ", Some("1 rue de la Paix"), Some("Europe/Paris"))
            .unwrap()
            .into_site(Uuid::nil(), DateTime::UNIX_EPOCH);
        let e =
            SiteChanges::parse(Some(""), Patch::Keep, Patch::Set("Mars/Base".into())).unwrap_err();
        assert_eq!(
            codes(&e),
            [("name", "required"), ("time_zone", "unknown_time_zone")]
        );
        SiteChanges::parse(None, Patch::Clear, Patch::Clear)
            .unwrap()
            .apply_to(&mut s, DateTime::UNIX_EPOCH);
        assert_eq!((s.address, s.time_zone), (None, None));
    }
}
