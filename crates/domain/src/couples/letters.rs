//! Monthly letters: one per couple per month.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

use super::CoupleId;
use crate::identity::UserId;
use crate::validation::{FieldError, Fields, ValidationErrors, bounded_text};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// Parses `YYYY-MM` for `field`.
    ///
    /// # Errors
    /// A [`FieldError`] with code `invalid_month`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new(field, "invalid_month", "a month as YYYY-MM");
        let (y, m) = raw.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        Ok(Self { year, month })
    }

    /// The month of a day.
    pub fn of(day: NaiveDate) -> Self {
        Self {
            year: day.year(),
            month: day.month(),
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A letter's content: 1 to 20,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterContent(String);

impl LetterContent {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `content`: `required`, `too_long`, `invalid_characters`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("content", raw, 20000).map(Self)
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

/// The couple's letter of a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// Id.
    pub id: Uuid,
    /// The couple.
    pub couple_id: CoupleId,
    /// The month.
    pub month: Month,
    /// Content.
    pub content: LetterContent,
    /// Who wrote the current content.
    pub last_author: UserId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A month's letter to write, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterDraft {
    /// Its month.
    pub month: Month,
    /// Its text.
    pub content: LetterContent,
}

impl LetterDraft {
    /// Checks every field.
    ///
    /// # Errors
    /// `month` `invalid_month`; `content` as [`LetterContent::parse`] says.
    pub fn parse(month: &str, content: &str) -> Result<Self, ValidationErrors> {
        let (month, content) =
            (Month::parse("month", month), LetterContent::parse(content)).all()?;
        Ok(Self { month, content })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        let m = Month::parse("month", "2026-02").unwrap();
        assert_eq!(m.to_string(), "2026-02");
        assert!(Month::parse("month", "2026-01").unwrap() < m);
        for bad in ["2026-13", "2026-2", "26-02", "2026/02", "février"] {
            assert_eq!(
                Month::parse("month", bad).unwrap_err().code,
                "invalid_month",
                "{bad}"
            );
        }
        assert_eq!(
            Month::of(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).to_string(),
            "2026-11"
        );
    }
}
