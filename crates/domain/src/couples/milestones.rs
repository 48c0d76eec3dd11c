//! The couple's coming milestones: anniversaries (every year from the start date) and round
//! numbers of days together, counted on the couple's calendar (its time zone decides what day
//! it is).
//!
//! The rules, so clients and the documentation say the same:
//! - **Day N** is the day the "together" counter first shows N days: `start_date + N days`
//!   (the start date itself is day 0), the same count as `total_days`.
//! - **Year N** is `start_date + N years`; a 29 February start has its anniversary on
//!   28 February in the other years (the day before the month turns, as the counter counts a
//!   year), and on 29 February in leap years.
//! - A milestone whose day is today is still upcoming (0 days remaining), until midnight in the
//!   couple's time zone.
//! - The round numbers of days are [`ROUND_DAYS`], then every 1,000, and the repeated digits
//!   1,111 to 9,999.

use chrono::{DateTime, Months, NaiveDate, Utc};

use crate::identity::TimeZone;

/// The round numbers of days celebrated besides the multiples of 1,000 and the repeated digits
/// (1,111, 2,222, ... 9,999).
pub const ROUND_DAYS: [u32; 7] = [50, 100, 200, 300, 365, 500, 777];

/// The most upcoming milestones one answer lists.
pub const MAX_UPCOMING: usize = 50;

/// What a milestone counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MilestoneKind {
    /// Whole years since the start date.
    Anniversary,
    /// A round number of days since the start date.
    Days,
}

impl MilestoneKind {
    /// The stable name (`anniversary`, `days`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anniversary => "anniversary",
            Self::Days => "days",
        }
    }
}

/// One coming milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestone {
    /// Years or days.
    pub kind: MilestoneKind,
    /// How many years or days.
    pub number: u32,
    /// Its day, on the couple's calendar.
    pub date: NaiveDate,
    /// Days from today to it (0 when it is today).
    pub days_remaining: i64,
}

/// Where the couple stands and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestones {
    /// Today on the couple's calendar.
    pub today: NaiveDate,
    /// Days since the start date (0 until it has come).
    pub days_together: i64,
    /// Whether the start date has come.
    pub started: bool,
    /// The next milestones, soonest first (an anniversary before a day count on the same day).
    pub upcoming: Vec<Milestone>,
}

/// Whether `n` days together is a round number.
pub fn is_round_days(n: u32) -> bool {
    ROUND_DAYS.contains(&n)
        || (n > 0 && n.is_multiple_of(1000))
        || ((1111..=9999).contains(&n) && n.is_multiple_of(1111))
}

/// The round numbers of days from `from` on, smallest first, at most `limit`.
fn round_days_from(from: u32, limit: usize) -> Vec<u32> {
    let mut found: Vec<u32> = ROUND_DAYS
        .into_iter()
        .chain((1..=9).map(|d| d * 1111))
        .filter(|&n| n >= from)
        .collect();
    let first_thousand = from.div_ceil(1000).max(1);
    found.extend(
        (first_thousand..)
            .take(limit)
            .filter_map(|k| k.checked_mul(1000)),
    );
    found.sort_unstable();
    found.dedup();
    found.truncate(limit);
    found
}

/// The next `limit` milestones (at most [`MAX_UPCOMING`]) of a couple together since `start`,
/// at `now` in `zone` (UTC when unset).
pub fn milestones(
    start: NaiveDate,
    now: DateTime<Utc>,
    zone: Option<&TimeZone>,
    limit: usize,
) -> Milestones {
    let tz = zone.map_or(chrono_tz::UTC, TimeZone::tz);
    let today = now.with_timezone(&tz).date_naive();
    let elapsed = (today - start).num_days();
    let limit = limit.min(MAX_UPCOMING);
    let at = |kind, number, date: NaiveDate| Milestone {
        kind,
        number,
        date,
        days_remaining: (date - today).num_days(),
    };
    // Days: from today's count on (a milestone today is still to celebrate), never day 0.
    let from = u32::try_from(elapsed.max(1)).unwrap_or(u32::MAX);
    let days = round_days_from(from, limit).into_iter().filter_map(|n| {
        start
            .checked_add_days(chrono::Days::new(u64::from(n)))
            .map(|d| at(MilestoneKind::Days, n, d))
    });
    // Years: the first whose day is today or later.
    let year = |n: u32| start.checked_add_months(Months::new(n.checked_mul(12)?));
    let first_year = (1..)
        .take(10_000)
        .find(|&n| year(n).is_none_or(|d| d >= today))
        .unwrap_or(1);
    let years = (first_year..)
        .take(limit)
        .filter_map(|n| year(n).map(|d| at(MilestoneKind::Anniversary, n, d)));
    let mut upcoming: Vec<Milestone> = days.chain(years).collect();
    upcoming.sort_by_key(|m| (m.date, m.kind, m.number));
    upcoming.truncate(limit);
    Milestones {
        today,
        days_together: elapsed.max(0),
        started: elapsed >= 0,
        upcoming,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn noon(y: i32, m: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, 12, 0, 0).unwrap()
    }

    fn short(m: &Milestones) -> Vec<(MilestoneKind, u32, NaiveDate, i64)> {
        m.upcoming
            .iter()
            .map(|x| (x.kind, x.number, x.date, x.days_remaining))
            .collect()
    }

    use MilestoneKind::{Anniversary, Days};

    #[test]
    fn the_next_ones_in_order() {
        // 2023-11-10 + 1117 days = 2026-12-01.
        let m = milestones(d(2023, 11, 10), noon(2026, 12, 1), None, 4);
        assert_eq!(
            (m.today, m.days_together, m.started),
            (d(2026, 12, 1), 1117, true)
        );
        assert_eq!(
            short(&m),
            vec![
                (Anniversary, 4, d(2027, 11, 10), 344),
                (Anniversary, 5, d(2028, 11, 10), 710),
                (Days, 2000, d(2029, 5, 2), 883),
                (Anniversary, 6, d(2029, 11, 10), 1075),
            ]
        );
        let m = milestones(d(2023, 11, 10), noon(2026, 12, 1), None, 6);
        assert_eq!(
            m.upcoming[4].number, 2222,
            "1,111 days are past, 2,222 come"
        );
    }

    #[test]
    fn early_days_list_the_small_round_numbers() {
        let m = milestones(d(2026, 1, 1), noon(2026, 1, 1), None, 50);
        assert_eq!(m.days_together, 0);
        let days: Vec<u32> = m
            .upcoming
            .iter()
            .filter(|x| x.kind == Days)
            .map(|x| x.number)
            .take(12)
            .collect();
        assert_eq!(
            days,
            [
                50, 100, 200, 300, 365, 500, 777, 1000, 1111, 2000, 2222, 3000
            ]
        );
        assert_eq!(
            m.upcoming[0],
            Milestone {
                kind: Days,
                number: 50,
                date: d(2026, 2, 20),
                days_remaining: 50
            }
        );
        assert_eq!(m.upcoming.len(), 50);
        assert!(m.upcoming.windows(2).all(|w| w[0].date <= w[1].date));
    }

    #[test]
    fn today_is_still_a_milestone() {
        // 100 days after 2026-01-01 is 2026-04-11.
        let m = milestones(d(2026, 1, 1), noon(2026, 4, 11), None, 1);
        assert_eq!(m.days_together, 100);
        assert_eq!(short(&m), vec![(Days, 100, d(2026, 4, 11), 0)]);
        // The anniversary day itself too.
        let m = milestones(d(2025, 4, 11), noon(2026, 4, 11), None, 1);
        assert_eq!(short(&m), vec![(Anniversary, 1, d(2026, 4, 11), 0)]);
        // The next day, they are past.
        let m = milestones(d(2026, 1, 1), noon(2026, 4, 12), None, 1);
        assert_eq!(short(&m), vec![(Days, 200, d(2026, 7, 20), 99)]);
    }

    #[test]
    fn a_leap_day_start_has_its_anniversary_on_28_february_in_other_years() {
        let m = milestones(d(2024, 2, 29), noon(2024, 3, 1), None, 50);
        let years: Vec<(u32, NaiveDate)> = m
            .upcoming
            .iter()
            .filter(|x| x.kind == Anniversary)
            .map(|x| (x.number, x.date))
            .take(4)
            .collect();
        assert_eq!(
            years,
            [
                (1, d(2025, 2, 28)),
                (2, d(2026, 2, 28)),
                (3, d(2027, 2, 28)),
                (4, d(2028, 2, 29)),
            ]
        );
        // On 28 February 2025 the first anniversary is today.
        let m = milestones(d(2024, 2, 29), noon(2025, 2, 28), None, 1);
        assert_eq!(short(&m), vec![(Anniversary, 1, d(2025, 2, 28), 0)]);
        // On 1 March 2025 it is past; the next is a year later.
        let m = milestones(d(2024, 2, 29), noon(2025, 3, 1), None, 50);
        let first = m.upcoming.iter().find(|x| x.kind == Anniversary).unwrap();
        assert_eq!((first.number, first.date), (2, d(2026, 2, 28)));
    }

    #[test]
    fn the_couples_time_zone_decides_today_near_midnight() {
        let tokyo = TimeZone::parse("Asia/Tokyo").unwrap();
        let honolulu = TimeZone::parse("Pacific/Honolulu").unwrap();
        // 23:30 UTC on 10 April 2026 is already 11 April in Tokyo (08:30), still 10 April in
        // Honolulu (13:30).
        let now = Utc.with_ymd_and_hms(2026, 4, 10, 23, 30, 0).unwrap();
        let start = d(2026, 1, 1);
        let m = milestones(start, now, Some(&tokyo), 1);
        assert_eq!((m.today, m.days_together), (d(2026, 4, 11), 100));
        assert_eq!(short(&m), vec![(Days, 100, d(2026, 4, 11), 0)]);
        let m = milestones(start, now, Some(&honolulu), 1);
        assert_eq!((m.today, m.days_together), (d(2026, 4, 10), 99));
        assert_eq!(short(&m), vec![(Days, 100, d(2026, 4, 11), 1)]);
        let m = milestones(start, now, None, 1);
        assert_eq!(m.today, d(2026, 4, 10), "UTC when unset");
    }

    #[test]
    fn a_start_date_to_come() {
        let m = milestones(d(2026, 6, 1), noon(2026, 5, 30), None, 2);
        assert_eq!((m.days_together, m.started), (0, false));
        assert_eq!(
            short(&m),
            vec![
                (Days, 50, d(2026, 7, 21), 52),
                (Days, 100, d(2026, 9, 9), 102)
            ]
        );
    }

    #[test]
    fn limits() {
        assert!(
            milestones(d(2020, 1, 1), noon(2026, 1, 1), None, 0)
                .upcoming
                .is_empty()
        );
        assert_eq!(
            milestones(d(2020, 1, 1), noon(2026, 1, 1), None, 500)
                .upcoming
                .len(),
            MAX_UPCOMING
        );
    }

    #[test]
    fn round_numbers() {
        for n in [50, 100, 365, 777, 1000, 1111, 3000, 9999, 10_000, 12_000] {
            assert!(is_round_days(n), "{n}");
        }
        for n in [0, 1, 99, 400, 1500, 11_110] {
            assert!(!is_round_days(n), "{n}");
        }
        assert!(round_days_from(1, 60).iter().all(|&n| is_round_days(n)));
    }
}
