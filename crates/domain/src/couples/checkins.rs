//! Daily check-ins: one per partner per local day, in the partner's own time zone (else the
//! couple's, else UTC), possibly for a recent past day; and their weekly trends.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::CoupleId;
use crate::identity::{TimeZone, UserId};
use crate::validation::{FieldError, Fields, Patch, ValidationErrors, bounded_text};

/// How many days back a check-in may be recorded (a week: yesterday's forgotten one, and the
/// weekend's, but not a rewritten month).
pub const MAX_BACKDATE_DAYS: i64 = 7;

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

/// The day a check-in is for: `requested`, or `today` (the caller's calendar) when absent;
/// never after today, at most [`MAX_BACKDATE_DAYS`] before.
///
/// # Errors
/// A [`FieldError`] on `date`: `in_future`, `too_old`.
pub fn check_in_day(
    requested: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    let day = requested.unwrap_or(today);
    if day > today {
        Err(FieldError::new(
            "date",
            "in_future",
            "must not be after today (in your time zone)",
        ))
    } else if day < today - Duration::days(MAX_BACKDATE_DAYS) {
        Err(FieldError::new(
            "date",
            "too_old",
            format!("at most {MAX_BACKDATE_DAYS} days ago"),
        ))
    } else {
        Ok(day)
    }
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
    /// The day it is for (absent: today); checked with [`check_in_day`] against the caller's
    /// calendar when recorded.
    pub date: Option<NaiveDate>,
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
        date: Option<NaiveDate>,
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
            date,
        })
    }
}

/// Changes to one's check-in: absent fields are kept; a `null` note removes it. The day does
/// not change (a check-in for another day is another check-in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInChanges {
    /// Mood.
    pub mood: Option<Score>,
    /// Stress.
    pub stress: Option<Score>,
    /// Energy.
    pub energy: Option<Score>,
    /// Note.
    pub note: Patch<Note>,
}

impl CheckInChanges {
    /// Checks every field.
    ///
    /// # Errors
    /// `mood`, `stress`, `energy` `out_of_range`; `note` as [`Note::parse`] says.
    pub fn parse(
        mood: Option<i64>,
        stress: Option<i64>,
        energy: Option<i64>,
        note: Patch<String>,
    ) -> Result<Self, ValidationErrors> {
        let (mood, stress, energy, note) = (
            mood.map(|v| Score::parse("mood", v)).transpose(),
            stress.map(|v| Score::parse("stress", v)).transpose(),
            energy.map(|v| Score::parse("energy", v)).transpose(),
            note.try_map(|n| Note::parse(&n)),
        )
            .all()?;
        Ok(Self {
            mood,
            stress,
            energy,
            note,
        })
    }

    /// Applies the changes.
    pub fn apply_to(self, c: &mut CheckIn, now: DateTime<Utc>) {
        if let Some(v) = self.mood {
            c.mood = v;
        }
        if let Some(v) = self.stress {
            c.stress = v;
        }
        if let Some(v) = self.energy {
            c.energy = v;
        }
        self.note.apply_to(&mut c.note);
        c.updated_at = now;
    }
}

/// How many weeks of trends: 1 to 52.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendWeeks(u32);

impl TrendWeeks {
    /// The default: four weeks.
    pub const DEFAULT: Self = Self(4);

    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `weeks` with code `out_of_range`.
    pub fn parse(raw: u32) -> Result<Self, FieldError> {
        if (1..=52).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(FieldError::new("weeks", "out_of_range", "1 to 52"))
        }
    }
    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// The Monday of `day`'s ISO week.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The days `weeks` ISO weeks span, ending with the week of `today`: the first Monday and the
/// last Sunday.
pub fn trend_window(today: NaiveDate, weeks: TrendWeeks) -> (NaiveDate, NaiveDate) {
    let this_monday = week_start(today);
    (
        this_monday - Duration::weeks(i64::from(weeks.get()) - 1),
        this_monday + Duration::days(6),
    )
}

/// One partner's check-ins of one ISO week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeekStats {
    /// The week's Monday.
    pub week_start: NaiveDate,
    /// How many check-ins (0 to 7).
    pub count: u32,
    /// Mean mood, `None` without check-ins.
    pub mood: Option<f64>,
    /// Mean stress.
    pub stress: Option<f64>,
    /// Mean energy.
    pub energy: Option<f64>,
}

/// One partner's weeks, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerTrend {
    /// The partner.
    pub user_id: UserId,
    /// Every week of the window, those without check-ins included (count 0).
    pub weeks: Vec<WeekStats>,
}

/// Each partner's weekly averages over `weeks` ISO weeks ending with the week of `today`,
/// from `checkins` (any order; those outside the window or of other users are ignored).
pub fn trends(
    checkins: &[CheckIn],
    partners: &[UserId],
    today: NaiveDate,
    weeks: TrendWeeks,
) -> Vec<PartnerTrend> {
    let (first, _) = trend_window(today, weeks);
    let n = weeks.get() as usize;
    partners
        .iter()
        .map(|&user_id| {
            // Sums of mood, stress, energy and the count, per week.
            let mut sums = vec![(0u32, 0u32, 0u32, 0u32); n];
            for c in checkins.iter().filter(|c| c.user_id == user_id) {
                let offset = (week_start(c.day) - first).num_weeks();
                let Some(slot) = usize::try_from(offset).ok().and_then(|i| sums.get_mut(i)) else {
                    continue;
                };
                slot.0 += u32::from(c.mood.get());
                slot.1 += u32::from(c.stress.get());
                slot.2 += u32::from(c.energy.get());
                slot.3 += 1;
            }
            let weeks = sums
                .into_iter()
                .zip(0i64..)
                .map(|((m, s, e, count), i)| {
                    let mean = |sum: u32| (count > 0).then(|| f64::from(sum) / f64::from(count));
                    WeekStats {
                        week_start: first + Duration::weeks(i),
                        count,
                        mood: mean(m),
                        stress: mean(s),
                        energy: mean(e),
                    }
                })
                .collect();
            PartnerTrend { user_id, weeks }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn a_check_in_is_for_today_or_one_of_the_seven_days_before() {
        let today = d(12, 1);
        assert_eq!(check_in_day(None, today), Ok(today));
        assert_eq!(check_in_day(Some(d(11, 30)), today), Ok(d(11, 30)));
        assert_eq!(check_in_day(Some(d(11, 24)), today), Ok(d(11, 24)));
        assert_eq!(
            check_in_day(Some(d(11, 23)), today).unwrap_err().code,
            "too_old"
        );
        let future = check_in_day(Some(d(12, 2)), today).unwrap_err();
        assert_eq!((future.field, future.code), ("date", "in_future"));
    }

    fn checkin(user: u128, day: NaiveDate, mood: u8, stress: u8, energy: u8) -> CheckIn {
        CheckIn {
            id: Uuid::from_u128(u128::from(day.ordinal()) << 8 | user),
            couple_id: CoupleId(Uuid::from_u128(7)),
            user_id: UserId(Uuid::from_u128(user)),
            day,
            mood: Score::from_trusted(mood),
            stress: Score::from_trusted(stress),
            energy: Score::from_trusted(energy),
            note: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn trends_average_each_partners_iso_weeks() {
        // Tuesday 1 December 2026: the window of 3 weeks starts Monday 16 November.
        let today = d(12, 1);
        let weeks = TrendWeeks::parse(3).unwrap();
        assert_eq!(trend_window(today, weeks), (d(11, 16), d(12, 6)));
        assert_eq!(week_start(d(11, 22)), d(11, 16), "a Sunday ends its week");
        assert_eq!(week_start(d(11, 23)), d(11, 23));
        let (a, b) = (UserId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        let rows = vec![
            checkin(1, d(11, 16), 4, 6, 5),
            checkin(1, d(11, 22), 7, 3, 8),
            checkin(1, d(12, 1), 9, 2, 9),
            checkin(2, d(11, 24), 5, 5, 5),
            checkin(1, d(11, 15), 1, 1, 1), // before the window
            checkin(3, d(11, 24), 1, 1, 1), // nobody's partner
        ];
        let t = trends(&rows, &[a, b], today, weeks);
        assert_eq!(t.len(), 2);
        let first = t[0].weeks[0];
        assert_eq!((first.week_start, first.count), (d(11, 16), 2));
        assert_eq!(
            (first.mood, first.stress, first.energy),
            (Some(5.5), Some(4.5), Some(6.5))
        );
        let empty = t[0].weeks[1];
        assert_eq!(
            (empty.week_start, empty.count, empty.mood),
            (d(11, 23), 0, None)
        );
        assert_eq!((t[0].weeks[2].count, t[0].weeks[2].mood), (1, Some(9.0)));
        let bs: Vec<u32> = t[1].weeks.iter().map(|w| w.count).collect();
        assert_eq!((t[1].user_id, bs), (b, vec![0, 1, 0]));
        assert_eq!(TrendWeeks::parse(0).unwrap_err().code, "out_of_range");
        assert_eq!(TrendWeeks::parse(53).unwrap_err().code, "out_of_range");
        assert!(TrendWeeks::parse(52).is_ok());
    }

    #[test]
    fn changes_keep_what_is_absent() {
        let mut c = checkin(1, d(12, 1), 4, 6, 5);
        c.note = Some(Note::parse("x").unwrap());
        let later = c.updated_at + Duration::seconds(5);
        CheckInChanges::parse(Some(8), None, None, Patch::Clear)
            .unwrap()
            .apply_to(&mut c, later);
        assert_eq!(
            (c.mood.get(), c.stress.get(), c.note.clone(), c.updated_at),
            (8, 6, None, later)
        );
        let bad =
            CheckInChanges::parse(Some(0), Some(11), None, Patch::Set(" ".into())).unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["mood", "stress", "note"]);
    }

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
