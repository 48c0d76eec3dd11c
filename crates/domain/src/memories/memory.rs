//! Memories: a title, an optional description, an optional day it happened and an optional
//! photo, shown as a timeline.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Photo;
use crate::couples::CoupleId;
use crate::identity::UserId;
use crate::validation::{FieldError, Fields, Patch, ValidationErrors, bounded_text};

/// A memory's id (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryId(pub Uuid);

/// A memory's title: 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryTitle(String);

impl MemoryTitle {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `title`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("title", raw, 200).map(Self)
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A memory's description: 1 to 10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryDescription(String);

impl MemoryDescription {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `description`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("description", raw, 10_000).map(Self)
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// Its id.
    pub id: MemoryId,
    /// Whose.
    pub couple_id: CoupleId,
    /// Its title.
    pub title: MemoryTitle,
    /// Its description.
    pub description: Option<MemoryDescription>,
    /// The day it happened, when known.
    pub happened_on: Option<NaiveDate>,
    /// The day it was recorded, in the couple's time zone (a memory recorded at 23:30 in Paris
    /// belongs to that day, not to the next UTC day).
    pub recorded_on: NaiveDate,
    /// Its photo.
    pub photo: Option<Photo>,
    /// Who created it.
    pub created_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Memory {
    /// Its place on the timeline: the day it happened, or else the day it was recorded.
    pub fn timeline_day(&self) -> NaiveDate {
        self.happened_on.unwrap_or(self.recorded_on)
    }

    /// What text search looks in: title and description, lower-cased so that search ignores
    /// case in every script (SQL `LIKE` only folds ASCII on SQLite).
    pub fn search_text(&self) -> String {
        let mut s = self.title.as_str().to_lowercase();
        if let Some(d) = &self.description {
            s.push('\n');
            s.push_str(&d.as_str().to_lowercase());
        }
        s
    }

    /// Its position on the timeline, for cursors.
    pub fn cursor(&self) -> TimelineCursor {
        TimelineCursor {
            day: self.timeline_day(),
            id: self.id,
        }
    }
}

/// Where a timeline page starts: after the memory with this day and id (the timeline runs from
/// the latest day to the earliest, and within a day from the latest recorded to the earliest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineCursor {
    /// The last shown memory's timeline day.
    pub day: NaiveDate,
    /// The last shown memory's id.
    pub id: MemoryId,
}

impl TimelineCursor {
    /// The opaque form sent to clients.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.day.format("%Y%m%d"), self.id.0.simple())
    }

    /// Parses [`TimelineCursor::encode`]'s output.
    ///
    /// # Errors
    /// A [`FieldError`] on `cursor` when it is not one.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new("cursor", "invalid", "not a cursor from a previous page");
        let (day, id) = raw.split_once('_').ok_or_else(bad)?;
        let day = NaiveDate::parse_from_str(day, "%Y%m%d").map_err(|_| bad())?;
        let id = Uuid::try_parse(id).map_err(|_| bad())?;
        Ok(Self {
            day,
            id: MemoryId(id),
        })
    }
}

/// A normalised search: trimmed, lower-cased, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// Validates; a blank search is no search.
    ///
    /// # Errors
    /// A [`FieldError`] on `q` when it is too long or has control characters.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        bounded_text("q", raw, 100).map(|s| Some(Self(s.to_lowercase())))
    }
    /// The lower-cased term.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether a memory matches.
    pub fn matches(&self, memory: &Memory) -> bool {
        memory.search_text().contains(&self.0)
    }
}

/// An uploaded photo: only its bytes count (the client's file name and type are ignored; the
/// type comes from the bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct PhotoUpload(pub Vec<u8>);

impl std::fmt::Debug for PhotoUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhotoUpload({} bytes)", self.0.len())
    }
}

/// A memory to record, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMemory {
    /// Title.
    pub title: MemoryTitle,
    /// Description.
    pub description: Option<MemoryDescription>,
    /// The day it happened.
    pub happened_on: Option<NaiveDate>,
    /// Its photo.
    pub photo: Option<PhotoUpload>,
}

impl NewMemory {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        title: &str,
        description: Option<&str>,
        happened_on: Option<NaiveDate>,
        photo: Option<PhotoUpload>,
    ) -> Result<Self, ValidationErrors> {
        let (title, description) = (
            MemoryTitle::parse(title),
            description.map(MemoryDescription::parse).transpose(),
        )
            .all()?;
        Ok(Self {
            title,
            description,
            happened_on,
            photo,
        })
    }
}

/// Changes to a memory, checked: text fields, the day, and the photo (replaced or removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryChanges {
    /// A new title.
    pub title: Option<MemoryTitle>,
    /// Set or clear the description.
    pub description: Patch<MemoryDescription>,
    /// Set or clear the day.
    pub happened_on: Patch<NaiveDate>,
    /// Replace or remove the photo.
    pub photo: Patch<PhotoUpload>,
}

impl MemoryChanges {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        title: Option<&str>,
        description: Patch<String>,
        happened_on: Patch<NaiveDate>,
        photo: Patch<PhotoUpload>,
    ) -> Result<Self, ValidationErrors> {
        let (title, description) = (
            title.map(MemoryTitle::parse).transpose(),
            description.try_map(|d| MemoryDescription::parse(&d)),
        )
            .all()?;
        Ok(Self {
            title,
            description,
            happened_on,
            photo,
        })
    }
}

/// Which page of a timeline to read, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelinePage {
    /// Start after this memory.
    pub after: Option<TimelineCursor>,
    /// Only memories whose text contains this.
    pub search: Option<SearchTerm>,
    /// How many (1 to 100).
    pub limit: u32,
}

impl TimelinePage {
    /// The default page size.
    pub const DEFAULT_LIMIT: u32 = 20;

    /// Checks every parameter; a missing or zero `limit` is the default, more than 100 is 100.
    ///
    /// # Errors
    /// `cursor` and `q` as their types say.
    pub fn parse(
        cursor: Option<&str>,
        q: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Self, ValidationErrors> {
        let (after, search) = (
            cursor.map(TimelineCursor::parse).transpose(),
            q.map(SearchTerm::parse).transpose(),
        )
            .all()?;
        Ok(Self {
            after,
            search: search.flatten(),
            limit: match limit.unwrap_or(0) {
                0 => Self::DEFAULT_LIMIT,
                n => n.min(100),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(title: &str, description: Option<&str>) -> Memory {
        let at = DateTime::parse_from_rfc3339("2025-03-04T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Memory {
            id: MemoryId(Uuid::nil()),
            couple_id: CoupleId(Uuid::nil()),
            title: MemoryTitle::parse(title).unwrap(),
            description: description.map(|d| MemoryDescription::parse(d).unwrap()),
            happened_on: None,
            recorded_on: at.date_naive(),
            photo: None,
            created_by: UserId(Uuid::nil()),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn titles_and_descriptions_are_bounded() {
        assert!(MemoryTitle::parse("  ").is_err());
        assert!(MemoryTitle::parse(&"x".repeat(201)).is_err());
        assert_eq!(MemoryTitle::parse(" Paris ").unwrap().as_str(), "Paris");
        assert!(MemoryDescription::parse(&"x".repeat(10_001)).is_err());
    }

    #[test]
    fn search_ignores_case_beyond_ascii() {
        let m = memory("Été à ÉVIAN", Some("Le LAC"));
        let q = SearchTerm::parse(" évian ").unwrap().unwrap();
        assert!(q.matches(&m));
        assert!(SearchTerm::parse("lac").unwrap().unwrap().matches(&m));
        assert!(!SearchTerm::parse("paris").unwrap().unwrap().matches(&m));
        assert_eq!(SearchTerm::parse("   ").unwrap(), None);
        assert!(SearchTerm::parse(&"x".repeat(101)).is_err());
    }

    #[test]
    fn the_timeline_day_falls_back_to_the_recording_day() {
        let mut m = memory("x", None);
        assert_eq!(
            m.timeline_day(),
            NaiveDate::from_ymd_opt(2025, 3, 4).unwrap()
        );
        m.happened_on = NaiveDate::from_ymd_opt(2019, 7, 14);
        assert_eq!(
            m.timeline_day(),
            NaiveDate::from_ymd_opt(2019, 7, 14).unwrap()
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = TimelineCursor {
            day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            id: MemoryId(Uuid::from_u128(0x0193_1234_5678_7abc_8def_0123_4567_89ab)),
        };
        assert_eq!(TimelineCursor::parse(&c.encode()).unwrap(), c);
        for bad in [
            "",
            "x",
            "20240230_00000000000000000000000000000000",
            "20240229_zz",
        ] {
            assert!(TimelineCursor::parse(bad).is_err(), "{bad}");
        }
    }
}
