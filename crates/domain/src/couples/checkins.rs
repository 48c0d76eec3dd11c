//! Daily check-ins: one per partner per local day, in the partner's own time zone.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::CoupleId;
use crate::identity::{TimeZone, UserId};
use crate::validation::{FieldError, Fields, ValidationErrors, bounded_text};

/// A 1-to-10 score (mood, stress, energy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u8);

impl Score {
    /// Validates a score for `field`.
    ///
    /// # Errors
    /// A [`FieldError`] on `field` with code `out_of_range`.
    pub fn parse(field: &'static str, raw: i64) -> Result<Self, FieldError> {
        u8::try_from(raw)
            .ok()
            .filter(|v| (1..=10).contains(v))
            .map(Self)
            .ok_or_else(|| FieldError::new(field, "out_of_range", "1 to 10"))
    }
    /// The value.
    pub fn get(self) -> u8 {
        self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(v: u8) -> Self {
        Self(v)
    }
}

/// A check-in note: 1 to 2,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `note`: `required`, `too_long`, `invalid_characters`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("note", raw, 2000).map(Self)
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

/// The calendar day at `now` in the user's time zone (UTC when unset).
pub fn local_day(now: DateTime<Utc>, zone: Option<&TimeZone>) -> NaiveDate {
    let tz: Tz = zone.map_or(chrono_tz::UTC, TimeZone::tz);
    now.with_timezone(&tz).date_naive()
}

/// One partner's check-in for one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    /// Id.
    pub id: Uuid,
    /// The couple.
    pub couple_id: CoupleId,
    /// Whose.
    pub user_id: UserId,
    /// The local day it is for.
    pub day: NaiveDate,
    /// Mood.
    pub mood: Score,
    /// Stress.
    pub stress: Score,
    /// Energy.
    pub energy: Score,
    /// Note.
    pub note: Option<Note>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A day's check-in to record, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInDraft {
    /// Mood.
    pub mood: Score,
    /// Stress.
    pub stress: Score,
    /// Energy.
    pub energy: Score,
    /// Note.
    pub note: Option<Note>,
}

impl CheckInDraft {
    /// Checks every field.
    ///
    /// # Errors
    /// `mood`, `stress`, `energy` `out_of_range`; `note` as [`Note::parse`] says.
    pub fn parse(
        mood: i64,
        stress: i64,
        energy: i64,
        note: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let (mood, stress, energy, note) = (
            Score::parse("mood", mood),
            Score::parse("stress", stress),
            Score::parse("energy", energy),
            note.map(Note::parse).transpose(),
        )
            .all()?;
        Ok(Self {
            mood,
            stress,
            energy,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn scores() {
        assert_eq!(Score::parse("mood", 1).unwrap().get(), 1);
        assert_eq!(Score::parse("mood", 10).unwrap().get(), 10);
        for bad in [0, 11, -1, 300] {
            assert_eq!(
                Score::parse("stress", bad).unwrap_err().code,
                "out_of_range"
            );
        }
    }

    #[test]
    fn the_day_is_the_users_local_day() {
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        // 23:30 UTC on 1 June is already 2 June in Paris (UTC+2).
        let late = Utc.with_ymd_and_hms(2026, 6, 1, 23, 30, 0).unwrap();
        assert_eq!(
            local_day(late, None),
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
        );
        assert_eq!(
            local_day(late, Some(&paris)),
            NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()
        );
        let la = TimeZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(
            local_day(late, Some(&la)),
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
        );
    }

    #[test]
    fn days_follow_daylight_saving_changes() {
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        // The night clocks go forward (29 March 2026, 02:00 → 03:00 local): the day is
        // 29 March from 22:00 UTC on the 28th (UTC+1) and ends at 22:00 UTC on the 29th (UTC+2).
        let start = Utc.with_ymd_and_hms(2026, 3, 28, 23, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 3, 29, 21, 59, 0).unwrap();
        let next = Utc.with_ymd_and_hms(2026, 3, 29, 22, 0, 0).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(local_day(start, Some(&paris)), day);
        assert_eq!(local_day(end, Some(&paris)), day, "a 23-hour day");
        assert_eq!(local_day(next, Some(&paris)), day.succ_opt().unwrap());
        // The night clocks go back (25 October 2026): a 25-hour day.
        let first = Utc.with_ymd_and_hms(2026, 10, 24, 22, 0, 0).unwrap();
        let last = Utc.with_ymd_and_hms(2026, 10, 25, 22, 59, 0).unwrap();
        let oct = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        assert_eq!(local_day(first, Some(&paris)), oct);
        assert_eq!(local_day(last, Some(&paris)), oct);
        assert_eq!(
            local_day(last + chrono::Duration::minutes(1), Some(&paris)),
            oct.succ_opt().unwrap()
        );
    }
}
