//! The couple's profile (start date, messages, time zone) and the "together for" counter.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};

use crate::identity::TimeZone;
use crate::validation::{FieldError, Fields, Patch, ValidationErrors, bounded_text};

/// The message on the couple's home page: 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeMessage(String);

impl HomeMessage {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `home_message`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("home_message", raw, 500).map(Self)
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

/// The couple's story: 1 to 10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntroText(String);

impl IntroText {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `intro_text`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("intro_text", raw, 10_000).map(Self)
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

/// What a couple says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoupleProfile {
    /// When they got together.
    pub start_date: Option<NaiveDate>,
    /// Home page message.
    pub home_message: Option<HomeMessage>,
    /// Their story.
    pub intro_text: Option<IntroText>,
    /// The couple's IANA time zone, for the counter (UTC when unset).
    pub time_zone: Option<TimeZone>,
}

/// The time zone a partner's calendar follows: their own (`user`), else the couple's, else
/// UTC (`None`). Check-in days, time-locked letters and the "today" of every date check use it.
pub fn zone_of<'a>(user: Option<&'a TimeZone>, couple: &'a CoupleProfile) -> Option<&'a TimeZone> {
    user.or(couple.time_zone.as_ref())
}

/// Time together, as a calendar says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Together {
    /// Whole years.
    pub years: u32,
    /// Whole months after the years (0 to 11).
    pub months: u32,
    /// Whole days after the months.
    pub days: u32,
    /// Whole hours after the days (0 to 23).
    pub hours: u32,
    /// Days since the start date.
    pub total_days: i64,
    /// Whether the start date has come (a future date counts zero).
    pub started: bool,
}

/// Years, months, days and hours from `start` (midnight, in the couple's time zone) to `now`,
/// counted on the calendar: a month is from one day-of-month to the same one (the last day when
/// the month is shorter, so 31 January + 1 month is 28 or 29 February), and leap days count.
pub fn together(start: NaiveDate, now: DateTime<Utc>, zone: Option<&TimeZone>) -> Together {
    let tz = zone.map_or(chrono_tz::UTC, TimeZone::tz);
    let local_now: NaiveDateTime = now.with_timezone(&tz).naive_local();
    let from = start.and_time(chrono::NaiveTime::MIN);
    if local_now < from {
        return Together {
            years: 0,
            months: 0,
            days: 0,
            hours: 0,
            total_days: 0,
            started: false,
        };
    }
    let add = |m: u32| from.checked_add_months(Months::new(m));
    let mut months =
        (local_now.year() - from.year()) * 12 + local_now.month() as i32 - from.month() as i32;
    let mut total = u32::try_from(months.max(0)).unwrap_or(0);
    while total > 0 && add(total).is_none_or(|t| t > local_now) {
        total -= 1;
    }
    months = i32::try_from(total).unwrap_or(0);
    let anchor = add(total).unwrap_or(from);
    let rest = local_now - anchor;
    let days = rest.num_days();
    let hours = (rest - chrono::Duration::days(days)).num_hours();
    Together {
        years: u32::try_from(months / 12).unwrap_or(0),
        months: u32::try_from(months % 12).unwrap_or(0),
        days: u32::try_from(days).unwrap_or(0),
        hours: u32::try_from(hours).unwrap_or(0),
        total_days: (local_now.date() - start).num_days(),
        started: true,
    }
}

/// Changes to a couple's profile, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoupleProfileChanges {
    /// When they got together.
    pub start_date: Patch<NaiveDate>,
    /// Home page message.
    pub home_message: Patch<HomeMessage>,
    /// Their story.
    pub intro_text: Patch<IntroText>,
    /// IANA time zone of the counter.
    pub time_zone: Patch<TimeZone>,
}

impl CoupleProfileChanges {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        start_date: Patch<NaiveDate>,
        home_message: Patch<String>,
        intro_text: Patch<String>,
        time_zone: Patch<String>,
    ) -> Result<Self, ValidationErrors> {
        let (home_message, intro_text, time_zone) = (
            home_message.try_map(|v| HomeMessage::parse(&v)),
            intro_text.try_map(|v| IntroText::parse(&v)),
            time_zone.try_map(|v| TimeZone::parse(&v)),
        )
            .all()?;
        Ok(Self {
            start_date,
            home_message,
            intro_text,
            time_zone,
        })
    }

    /// Applies the changes to `profile`.
    pub fn apply_to(self, profile: &mut CoupleProfile) {
        self.start_date.apply_to(&mut profile.start_date);
        self.home_message.apply_to(&mut profile.home_message);
        self.intro_text.apply_to(&mut profile.intro_text);
        self.time_zone.apply_to(&mut profile.time_zone);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn counts_like_a_calendar() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
        let t = together(d(2023, 11, 10), now, None);
        assert_eq!((t.years, t.months, t.days, t.hours), (3, 0, 13, 15));
        assert_eq!(t.total_days, 1109);
        assert!(t.started);
    }

    #[test]
    fn short_months_and_leap_days() {
        // 31 January + 1 month is the last day of February.
        let now = Utc.with_ymd_and_hms(2024, 2, 29, 0, 0, 0).unwrap();
        let t = together(d(2024, 1, 31), now, None);
        assert_eq!((t.years, t.months, t.days), (0, 1, 0));
        assert_eq!(t.total_days, 29, "2024 is a leap year");
        let t = together(
            d(2024, 2, 29),
            Utc.with_ymd_and_hms(2025, 2, 28, 0, 0, 0).unwrap(),
            None,
        );
        assert_eq!(
            (t.years, t.months, t.days),
            (1, 0, 0),
            "a leap-day start has its anniversary on 28 February"
        );
    }

    #[test]
    fn the_couples_time_zone_decides_the_day() {
        let tokyo = TimeZone::parse("Asia/Tokyo").unwrap();
        // 20:00 UTC on 9 November is 05:00 on 10 November in Tokyo.
        let now = Utc.with_ymd_and_hms(2026, 11, 9, 20, 0, 0).unwrap();
        let t = together(d(2026, 11, 10), now, Some(&tokyo));
        assert_eq!((t.days, t.hours, t.started), (0, 5, true));
        let t = together(d(2026, 11, 10), now, None);
        assert!(!t.started, "not yet in UTC");
        assert_eq!(t.total_days, 0);
    }
}
