//! Monthly letters: one per couple per month, optionally time-locked.
//!
//! A time lock ([`TimeLock`]) names a delivery day and the partner who set it. Until that day
//! begins in the *other* partner's time zone the letter is sealed for them: they see that it
//! exists (its id, month, delivery day, who sealed it, its times) but not its content, and
//! they may not overwrite, change or delete it. The partner who set the lock always sees
//! everything. The rule is [`Letter::sealed_for`], a pure function of the letter, the viewer,
//! the viewer's zone and the instant.

use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use uuid::Uuid;

use super::CoupleId;
use super::checkins::local_day;
use crate::identity::{TimeZone, UserId};
use crate::validation::{FieldError, Fields, Patch, ValidationErrors, bounded_text};

/// How far ahead a letter may be sealed: five years (60 months) after the writer's today.
pub const MAX_SEAL_MONTHS: u32 = 60;

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

/// A letter's time lock: sealed for the partner who is not `set_by` until `deliver_on`
/// begins in that partner's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLock {
    /// The day it opens for the other partner (local midnight in their zone).
    pub deliver_on: NaiveDate,
    /// The partner who set it (the letter's author for the purpose of the lock).
    pub set_by: UserId,
}

/// Checks a delivery day written by someone whose calendar says `today`: not before today
/// (today itself opens at once), at most [`MAX_SEAL_MONTHS`] ahead.
///
/// # Errors
/// A [`FieldError`] on `deliver_on`: `in_past`, `too_far`.
pub fn check_deliver_on(day: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if day < today {
        return Err(FieldError::new(
            "deliver_on",
            "in_past",
            "must be today or later (in your time zone)",
        ));
    }
    match today.checked_add_months(Months::new(MAX_SEAL_MONTHS)) {
        Some(last) if day <= last => Ok(day),
        _ => Err(FieldError::new(
            "deliver_on",
            "too_far",
            "at most five years ahead",
        )),
    }
}

/// A letter is sealed for the partner who asked to change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this letter is sealed until {0}; only the partner who sealed it may change it before then"
)]
pub struct Sealed(pub NaiveDate);

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
    /// The time lock, if one was set.
    pub lock: Option<TimeLock>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Letter {
    /// Whether the letter is sealed for `viewer` at `now`, `zone` being the viewer's time zone
    /// (their own, else the couple's, else UTC: see [`super::zone_of`]): it has a lock set by
    /// someone else and the viewer's local calendar has not reached its day. It opens at local
    /// midnight of `deliver_on`, however long that day is (23 or 25 hours across a change of
    /// daylight saving time).
    pub fn sealed_for(&self, viewer: UserId, zone: Option<&TimeZone>, now: DateTime<Utc>) -> bool {
        self.lock
            .is_some_and(|l| l.set_by != viewer && local_day(now, zone) < l.deliver_on)
    }

    /// Whether the letter opens for `viewer` on a day from `first` to `last` of their calendar:
    /// it has a lock set by someone else whose day falls there. What the daily job that
    /// announces opened letters looks for.
    pub fn opens_for_between(&self, viewer: UserId, first: NaiveDate, last: NaiveDate) -> bool {
        self.lock
            .is_some_and(|l| l.set_by != viewer && (first..=last).contains(&l.deliver_on))
    }

    /// Refuses a change by `by` while the letter is sealed for them.
    ///
    /// # Errors
    /// [`Sealed`] with the delivery day.
    pub fn writable_by(
        &self,
        by: UserId,
        zone: Option<&TimeZone>,
        now: DateTime<Utc>,
    ) -> Result<(), Sealed> {
        match self.lock {
            Some(l) if self.sealed_for(by, zone, now) => Err(Sealed(l.deliver_on)),
            _ => Ok(()),
        }
    }

    /// The letter as `viewer` may see it at `now` (content withheld while sealed for them).
    pub fn seen_by(
        self,
        viewer: UserId,
        zone: Option<&TimeZone>,
        now: DateTime<Utc>,
    ) -> LetterView {
        let sealed = self.sealed_for(viewer, zone, now);
        LetterView {
            id: self.id,
            month: self.month,
            content: (!sealed).then_some(self.content),
            last_author: self.last_author,
            lock: self.lock,
            sealed,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Sets or clears the lock as `by`, whose calendar says `today`.
    fn relock(
        &mut self,
        deliver_on: Patch<NaiveDate>,
        by: UserId,
        today: NaiveDate,
    ) -> Result<(), FieldError> {
        match deliver_on {
            Patch::Keep => {}
            Patch::Clear => self.lock = None,
            Patch::Set(day) => {
                self.lock = Some(TimeLock {
                    deliver_on: check_deliver_on(day, today)?,
                    set_by: by,
                });
            }
        }
        Ok(())
    }
}

/// A letter as one partner may see it: while it is sealed for them, `content` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterView {
    /// Id.
    pub id: Uuid,
    /// The month.
    pub month: Month,
    /// Content, unless sealed for the viewer.
    pub content: Option<LetterContent>,
    /// Who wrote the current content.
    pub last_author: UserId,
    /// The time lock, if any (shown to both partners: its day and who set it).
    pub lock: Option<TimeLock>,
    /// Whether it is sealed for the viewer now.
    pub sealed: bool,
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
    /// A delivery day to seal it until (absent: the stored lock, if any, is kept). Checked
    /// against the writer's calendar when applied.
    pub deliver_on: Option<NaiveDate>,
}

impl LetterDraft {
    /// Checks every field.
    ///
    /// # Errors
    /// `month` `invalid_month`; `content` as [`LetterContent::parse`] says.
    pub fn parse(
        month: &str,
        content: &str,
        deliver_on: Option<NaiveDate>,
    ) -> Result<Self, ValidationErrors> {
        let (month, content) =
            (Month::parse("month", month), LetterContent::parse(content)).all()?;
        Ok(Self {
            month,
            content,
            deliver_on,
        })
    }

    /// A new letter from this draft, written by `by` whose calendar says `today`.
    ///
    /// # Errors
    /// `deliver_on` as [`check_deliver_on`] says.
    pub fn into_letter(
        self,
        id: Uuid,
        couple_id: CoupleId,
        by: UserId,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Letter, ValidationErrors> {
        let lock = self
            .deliver_on
            .map(|d| check_deliver_on(d, today))
            .transpose()
            .map_err(|e| ValidationErrors(vec![e]))?
            .map(|deliver_on| TimeLock {
                deliver_on,
                set_by: by,
            });
        Ok(Letter {
            id,
            couple_id,
            month: self.month,
            content: self.content,
            last_author: by,
            lock,
            created_at: now,
            updated_at: now,
        })
    }

    /// Writes this draft over `letter` as `by` (the caller checked [`Letter::writable_by`]).
    ///
    /// # Errors
    /// `deliver_on` as [`check_deliver_on`] says.
    pub fn apply_to(
        self,
        letter: &mut Letter,
        by: UserId,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let lock = self.deliver_on.map_or(Patch::Keep, Patch::Set);
        letter
            .relock(lock, by, today)
            .map_err(|e| ValidationErrors(vec![e]))?;
        letter.content = self.content;
        letter.last_author = by;
        letter.updated_at = now;
        Ok(())
    }
}

/// Changes to a letter: absent fields are kept; a `null` delivery day removes the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterChanges {
    /// New content.
    pub content: Option<LetterContent>,
    /// New delivery day, or none.
    pub deliver_on: Patch<NaiveDate>,
}

impl LetterChanges {
    /// Checks every field.
    ///
    /// # Errors
    /// `content` as [`LetterContent::parse`] says.
    pub fn parse(
        content: Option<&str>,
        deliver_on: Patch<NaiveDate>,
    ) -> Result<Self, ValidationErrors> {
        let (content,) = (content.map(LetterContent::parse).transpose(),).all()?;
        Ok(Self {
            content,
            deliver_on,
        })
    }

    /// Applies the changes as `by`, whose calendar says `today` (the caller checked
    /// [`Letter::writable_by`]). New content makes `by` its last author; a new delivery day
    /// makes `by` the partner who sealed it. Only the author of the content (after these
    /// changes) may seal it: otherwise a partner could hide a letter from its own writer.
    ///
    /// # Errors
    /// `deliver_on` as [`check_deliver_on`] says, or `not_author` when `by` would seal
    /// content the other partner wrote.
    pub fn apply_to(
        self,
        letter: &mut Letter,
        by: UserId,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        if let Patch::Set(day) = self.deliver_on {
            check_deliver_on(day, today).map_err(|e| ValidationErrors(vec![e]))?;
            if self.content.is_none() && letter.last_author != by {
                return Err(ValidationErrors(vec![FieldError::new(
                    "deliver_on",
                    "not_author",
                    "only the partner who wrote the current content may seal it; send new \
                     content with the day",
                )]));
            }
        }
        letter
            .relock(self.deliver_on, by, today)
            .map_err(|e| ValidationErrors(vec![e]))?;
        if let Some(c) = self.content {
            letter.content = c;
            letter.last_author = by;
        }
        letter.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    const AUTHOR: UserId = UserId(Uuid::from_u128(1));
    const RECIPIENT: UserId = UserId(Uuid::from_u128(2));

    fn locked(deliver_on: NaiveDate) -> Letter {
        Letter {
            id: Uuid::from_u128(9),
            couple_id: CoupleId(Uuid::from_u128(8)),
            month: Month::parse("month", "2026-03").unwrap(),
            content: LetterContent::parse("Joyeux anniversaire").unwrap(),
            last_author: AUTHOR,
            lock: Some(TimeLock {
                deliver_on,
                set_by: AUTHOR,
            }),
            created_at: at(2026, 1, 1, 0, 0),
            updated_at: at(2026, 1, 1, 0, 0),
        }
    }

    /// The instant, to the minute, the letter opens for the recipient in `zone`.
    fn opens(letter: &Letter, zone: &TimeZone, sealed: DateTime<Utc>, open: DateTime<Utc>) {
        assert!(
            letter.sealed_for(RECIPIENT, Some(zone), sealed),
            "{zone} sealed at {sealed}"
        );
        assert!(
            !letter.sealed_for(RECIPIENT, Some(zone), open),
            "{zone} open at {open}"
        );
        assert_eq!(open - sealed, chrono::Duration::minutes(1));
    }

    #[test]
    fn a_letter_opens_at_local_midnight_across_daylight_saving_changes() {
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        // Clocks go forward in Paris on 29 March 2026 (02:00 → 03:00). 30 March begins at
        // 22:00 UTC on the 29th (UTC+2), not at 23:00 as the winter offset would say, and not at
        // UTC midnight.
        let spring = locked(day(2026, 3, 30));
        opens(
            &spring,
            &paris,
            at(2026, 3, 29, 21, 59),
            at(2026, 3, 29, 22, 0),
        );
        // The day of the change itself (a 23-hour day) begins at 23:00 UTC on the 28th (UTC+1).
        let change_day = locked(day(2026, 3, 29));
        opens(
            &change_day,
            &paris,
            at(2026, 3, 28, 22, 59),
            at(2026, 3, 28, 23, 0),
        );
        // Clocks go back on 25 October 2026 (03:00 → 02:00): the 25th begins at 22:00 UTC on
        // the 24th (UTC+2), the 26th at 23:00 UTC on the 25th (UTC+1), 25 hours later.
        let autumn = locked(day(2026, 10, 25));
        opens(
            &autumn,
            &paris,
            at(2026, 10, 24, 21, 59),
            at(2026, 10, 24, 22, 0),
        );
        let after = locked(day(2026, 10, 26));
        opens(
            &after,
            &paris,
            at(2026, 10, 25, 22, 59),
            at(2026, 10, 25, 23, 0),
        );
        // UTC midnight would have been wrong both ways.
        assert!(!spring.sealed_for(RECIPIENT, Some(&paris), at(2026, 3, 29, 23, 30)));
        assert!(spring.sealed_for(RECIPIENT, None, at(2026, 3, 29, 23, 30)));
    }

    #[test]
    fn a_letter_opens_at_midnight_far_from_utc() {
        // Auckland is UTC+13 in its summer (until 5 April 2026, 03:00 → 02:00) and UTC+12 after:
        // 1 January begins at 11:00 UTC the day before, 1 July at 12:00 UTC.
        let auckland = TimeZone::parse("Pacific/Auckland").unwrap();
        let new_year = locked(day(2027, 1, 1));
        opens(
            &new_year,
            &auckland,
            at(2026, 12, 31, 10, 59),
            at(2026, 12, 31, 11, 0),
        );
        let winter = locked(day(2026, 7, 1));
        opens(
            &winter,
            &auckland,
            at(2026, 6, 30, 11, 59),
            at(2026, 6, 30, 12, 0),
        );
        // The night Auckland's clocks go back: 6 April begins at 12:00 UTC on the 5th.
        let change = locked(day(2026, 4, 6));
        opens(
            &change,
            &auckland,
            at(2026, 4, 5, 11, 59),
            at(2026, 4, 5, 12, 0),
        );
        // Honolulu (UTC-10, no daylight saving): the same letter opens 23 hours later.
        let honolulu = TimeZone::parse("Pacific/Honolulu").unwrap();
        opens(
            &new_year,
            &honolulu,
            at(2027, 1, 1, 9, 59),
            at(2027, 1, 1, 10, 0),
        );
    }

    #[test]
    fn only_the_recipient_is_sealed_out() {
        let letter = locked(day(2026, 6, 1));
        let before = at(2026, 5, 20, 12, 0);
        assert!(
            !letter.sealed_for(AUTHOR, None, before),
            "the author sees it"
        );
        let seen = letter.clone().seen_by(RECIPIENT, None, before);
        assert!(seen.sealed && seen.content.is_none());
        assert_eq!((seen.id, seen.lock), (letter.id, letter.lock));
        let own = letter.clone().seen_by(AUTHOR, None, before);
        assert!(!own.sealed && own.content.is_some());
        assert_eq!(
            letter.writable_by(RECIPIENT, None, before),
            Err(Sealed(day(2026, 6, 1)))
        );
        assert_eq!(letter.writable_by(AUTHOR, None, before), Ok(()));
        let opened = at(2026, 6, 1, 0, 0);
        assert!(
            letter
                .clone()
                .seen_by(RECIPIENT, None, opened)
                .content
                .is_some()
        );
        assert_eq!(letter.writable_by(RECIPIENT, None, opened), Ok(()));
        let mut unlocked = letter;
        unlocked.lock = None;
        assert!(!unlocked.sealed_for(RECIPIENT, None, before));
    }

    #[test]
    fn a_letter_opens_for_the_recipient_on_its_day() {
        let letter = locked(day(2026, 6, 1));
        let (may31, june1, june2) = (day(2026, 5, 31), day(2026, 6, 1), day(2026, 6, 2));
        assert!(letter.opens_for_between(RECIPIENT, june1, june1));
        assert!(letter.opens_for_between(RECIPIENT, may31, june2));
        assert!(!letter.opens_for_between(RECIPIENT, may31, may31));
        assert!(!letter.opens_for_between(RECIPIENT, june2, june2));
        assert!(
            !letter.opens_for_between(AUTHOR, june1, june1),
            "it never was sealed for its author"
        );
        let mut unlocked = letter;
        unlocked.lock = None;
        assert!(!unlocked.opens_for_between(RECIPIENT, june1, june1));
    }

    #[test]
    fn delivery_days_are_today_to_five_years_ahead() {
        let today = day(2026, 12, 1);
        assert_eq!(check_deliver_on(today, today), Ok(today));
        assert_eq!(
            check_deliver_on(day(2031, 12, 1), today),
            Ok(day(2031, 12, 1))
        );
        assert_eq!(
            check_deliver_on(day(2026, 11, 30), today).unwrap_err().code,
            "in_past"
        );
        assert_eq!(
            check_deliver_on(day(2031, 12, 2), today).unwrap_err().code,
            "too_far"
        );
    }

    #[test]
    fn changes_move_the_lock_and_the_authorship() {
        let now = at(2026, 12, 1, 9, 0);
        let today = day(2026, 12, 1);
        let mut letter = locked(day(2026, 12, 24));
        // Sealing the other partner's words alone is refused, and changes nothing...
        let before = letter.clone();
        let err = LetterChanges::parse(None, Patch::Set(day(2027, 1, 1)))
            .unwrap()
            .apply_to(&mut letter, RECIPIENT, today, now)
            .unwrap_err();
        assert_eq!(
            (err.0[0].field, err.0[0].code),
            ("deliver_on", "not_author")
        );
        assert_eq!(letter, before);
        // ...but writing new content with the day makes them its author and its sealer.
        LetterChanges::parse(Some("Ma réponse"), Patch::Set(day(2027, 1, 1)))
            .unwrap()
            .apply_to(&mut letter, RECIPIENT, today, now)
            .unwrap();
        assert_eq!(
            letter.lock,
            Some(TimeLock {
                deliver_on: day(2027, 1, 1),
                set_by: RECIPIENT
            })
        );
        assert_eq!(letter.last_author, RECIPIENT);
        LetterChanges::parse(Some("Nouveau"), Patch::Clear)
            .unwrap()
            .apply_to(&mut letter, AUTHOR, today, now)
            .unwrap();
        assert_eq!((letter.lock, letter.last_author), (None, AUTHOR));
        assert_eq!(letter.content.as_str(), "Nouveau");
        let err = LetterChanges::parse(None, Patch::Set(day(2026, 1, 1)))
            .unwrap()
            .apply_to(&mut letter, AUTHOR, today, now)
            .unwrap_err();
        assert_eq!(err.0[0].code, "in_past");
        let err = LetterChanges::parse(Some(" "), Patch::Keep).unwrap_err();
        assert_eq!(err.0[0].field, "content");
        // A draft without a delivery day keeps the stored lock.
        let mut kept = locked(day(2026, 12, 24));
        LetterDraft::parse("2026-03", "Encore", None)
            .unwrap()
            .apply_to(&mut kept, AUTHOR, today, now)
            .unwrap();
        assert_eq!(kept.lock.map(|l| l.deliver_on), Some(day(2026, 12, 24)));
    }

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
