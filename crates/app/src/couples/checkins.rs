//! Daily check-ins: one per partner per local day (the partner's zone, else the couple's,
//! else UTC), for today or one of the seven days before; posting again for the same day
//! updates that day's check-in (an upsert, as the seed's get-or-create did). Weekly trends.

use accueil_domain::couples::{
    ChangeOp, CheckIn, CheckInChanges, CheckInDraft, EntityKind, PartnerTrend, TrendWeeks,
    check_in_day, local_day, trend_window, trends, zone_of,
};
use accueil_domain::validation::ValidationErrors;
use accueil_ports::StoreError;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{CouplesService, page_size, paged};
use crate::identity::{AuthError, Caller};
use crate::scope::{CoupleDenied, InCoupleError, InCoupleLookupError, NotFound};

/// Why recording a check-in failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckInError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// The day is in the future, or more than a week ago (in the caller's calendar).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AuthError> for CheckInError {
    fn from(e: AuthError) -> Self {
        Self::Denied(e.into())
    }
}

/// Both partners' weekly trends, and the zone whose calendar chose the weeks.
#[derive(Debug, Clone, PartialEq)]
pub struct Trends {
    /// Partner A's, then partner B's (once joined).
    pub partners: Vec<PartnerTrend>,
    /// The couple's time zone (`None`: UTC).
    pub time_zone: Option<accueil_domain::identity::TimeZone>,
}

/// A check-in the caller's couple does not have (or, to delete, not the caller's own).
const NO_CHECKIN: NotFound = NotFound("check-in");

/// A page of check-ins and where the next one starts.
pub type CheckInPage = (Vec<CheckIn>, Option<(NaiveDate, Uuid)>);

impl CouplesService {
    /// Records the caller's check-in for the draft's day (default today, their local day:
    /// their time zone, else the couple's, else UTC); posting again for the same day updates it.
    ///
    /// # Errors
    /// See [`CheckInError`]: `Invalid` for a day after today or more than seven days before.
    pub async fn check_in(
        &self,
        caller: &Caller,
        draft: CheckInDraft,
    ) -> Result<CheckIn, CheckInError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<CheckIn, CheckInError> {
                let zone = zone_of(cx.me.user.time_zone.as_ref(), &cx.couple.profile);
                let day = check_in_day(draft.date, local_day(cx.now, zone))
                    .map_err(|e| ValidationErrors(vec![e]))?;
                let stored = cx.tx.checkins().upsert_checkin(&CheckIn {
                    id,
                    couple_id: cx.couple.id,
                    user_id: cx.me.user.id,
                    day,
                    mood: draft.mood,
                    stress: draft.stress,
                    energy: draft.energy,
                    note: draft.note,
                    created_at: cx.now,
                    updated_at: cx.now,
                })?;
                cx.changed(EntityKind::CheckIn, stored.id, ChangeOp::Upsert)?;
                Ok(stored)
            })
            .await
    }

    /// Both partners' check-ins between two days (inclusive), newest first.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn checkins(
        &self,
        caller: &Caller,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        after: Option<(NaiveDate, Uuid)>,
        limit: u32,
    ) -> Result<CheckInPage, InCoupleError> {
        let limit = page_size(limit);
        self.ports
            .read_in_couple(caller, move |cx| -> Result<CheckInPage, InCoupleError> {
                Ok(paged(
                    cx.tx
                        .checkins()
                        .checkins(cx.couple.id, from, to, after, limit + 1)?,
                    limit,
                    |c| (c.day, c.id),
                ))
            })
            .await
    }

    /// One check-in of the couple.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn checkin(&self, caller: &Caller, id: Uuid) -> Result<CheckIn, InCoupleLookupError> {
        self.ports
            .read_in_couple(caller, move |cx| -> Result<CheckIn, InCoupleLookupError> {
                cx.tx
                    .checkins()
                    .checkin(cx.couple.id, id)?
                    .ok_or(InCoupleLookupError::NotFound(NO_CHECKIN))
            })
            .await
    }

    /// Changes one of the caller's own check-ins. A partner's answers 404 as it does for a
    /// delete: check-ins are each partner's own record, and the couple's writes on them name
    /// "my check-in" (the partner can still read it; no write reveals more than that).
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn edit_checkin(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: CheckInChanges,
    ) -> Result<CheckIn, InCoupleLookupError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<CheckIn, InCoupleLookupError> {
                let mut c = cx
                    .tx
                    .checkins()
                    .checkin(cx.couple.id, id)?
                    .filter(|c| c.user_id == cx.me.user.id)
                    .ok_or(NO_CHECKIN)?;
                changes.apply_to(&mut c, cx.now);
                cx.tx.checkins().update_checkin(&c)?;
                cx.changed(EntityKind::CheckIn, id, ChangeOp::Upsert)?;
                Ok(c)
            })
            .await
    }

    /// Each partner's averages per ISO week (Monday to Sunday) over the last `weeks` weeks,
    /// the current one included, "current" by the couple's calendar (its time zone, else UTC).
    /// One read of the window's check-ins; weeks without any come with a count of 0.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn checkin_trends(
        &self,
        caller: &Caller,
        weeks: TrendWeeks,
    ) -> Result<Trends, InCoupleError> {
        self.ports
            .read_in_couple(caller, move |cx| -> Result<Trends, InCoupleError> {
                let zone = cx.couple.profile.time_zone.clone();
                let today = local_day(cx.now, zone.as_ref());
                let (from, to) = trend_window(today, weeks);
                // At most one check-in per partner per day: the window's rows fit one read.
                let most = 2 * 7 * weeks.get() + 1;
                let rows =
                    cx.tx
                        .checkins()
                        .checkins(cx.couple.id, Some(from), Some(to), None, most)?;
                let partners: Vec<_> = std::iter::once(cx.couple.partner_a)
                    .chain(cx.couple.partner_b)
                    .collect();
                Ok(Trends {
                    partners: trends(&rows, &partners, today, weeks),
                    time_zone: zone,
                })
            })
            .await
    }

    /// Deletes one of the caller's own check-ins (a partner's is not the caller's to delete:
    /// it answers 404 like any object the caller may not change).
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn delete_checkin(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(), InCoupleLookupError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<(), InCoupleLookupError> {
                let c = cx
                    .tx
                    .checkins()
                    .checkin(cx.couple.id, id)?
                    .ok_or(NO_CHECKIN)?;
                if c.user_id != cx.me.user.id {
                    return Err(NO_CHECKIN.into());
                }
                cx.tx.checkins().delete_checkin(cx.couple.id, id)?;
                cx.changed(EntityKind::CheckIn, id, ChangeOp::Delete)?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use accueil_domain::couples::{CheckInChanges, CheckInDraft, TrendWeeks};
    use accueil_domain::identity::TimeZone;
    use accueil_domain::validation::Patch;
    use chrono::{Duration, NaiveDate};

    use super::*;
    use crate::testing::Harness;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn draft(mood: i64, date: Option<NaiveDate>) -> CheckInDraft {
        CheckInDraft::parse(mood, 5, 5, None, date).unwrap()
    }

    #[tokio::test]
    async fn back_dated_edited_and_averaged() {
        // 22 November 2026 (a Sunday), 09:30 UTC; nobody has a time zone: UTC.
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let c = h.couples();
        let today = c.check_in(&a, draft(6, None)).await.unwrap();
        assert_eq!(today.day, day(22));
        let yesterday = c.check_in(&a, draft(8, Some(day(21)))).await.unwrap();
        assert_eq!(yesterday.day, day(21));
        let again = c.check_in(&a, draft(4, Some(day(21)))).await.unwrap();
        assert_eq!(
            (again.id, again.mood.get()),
            (yesterday.id, 4),
            "one per day: updated"
        );
        c.check_in(&a, draft(2, Some(day(15)))).await.unwrap();
        for (date, code) in [(day(23), "in_future"), (day(14), "too_old")] {
            match c.check_in(&a, draft(5, Some(date))).await {
                Err(CheckInError::Invalid(e)) => assert_eq!(e.0[0].code, code),
                other => panic!("{other:?}"),
            }
        }
        // Edits: one's own only; a partner's is not found, like another couple's.
        let changes = CheckInChanges::parse(Some(9), None, None, Patch::Keep).unwrap();
        let edited = c.edit_checkin(&a, again.id, changes.clone()).await.unwrap();
        assert_eq!((edited.mood.get(), edited.day), (9, day(21)));
        assert!(matches!(
            c.edit_checkin(&b, again.id, changes).await,
            Err(InCoupleLookupError::NotFound(_))
        ));
        c.check_in(&b, draft(3, Some(day(17)))).await.unwrap();
        // Weeks 9–15, 16–22 November: A has 15 (2), 21 (9), 22 (6); B has 17 (3).
        let t = c
            .checkin_trends(&a, TrendWeeks::parse(3).unwrap())
            .await
            .unwrap();
        assert_eq!(t.partners.len(), 2);
        let a_weeks: Vec<(NaiveDate, u32, Option<f64>)> = t.partners[0]
            .weeks
            .iter()
            .map(|w| (w.week_start, w.count, w.mood))
            .collect();
        assert_eq!(
            a_weeks,
            vec![
                (day(2), 0, None),
                (day(9), 1, Some(2.0)),
                (day(16), 2, Some(7.5))
            ]
        );
        assert_eq!(t.partners[1].user_id, b.user.id);
        assert_eq!(t.partners[1].weeks[2].count, 1);
        // A day later (Monday the 23rd) a new week begins.
        h.advance(Duration::days(1));
        let t = c.checkin_trends(&b, TrendWeeks::DEFAULT).await.unwrap();
        let starts: Vec<NaiveDate> = t.partners[0].weeks.iter().map(|w| w.week_start).collect();
        assert_eq!(starts, vec![day(2), day(9), day(16), day(23)]);
    }

    #[tokio::test]
    async fn today_follows_the_users_zone_then_the_couples() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let c = h.couples();
        // 09:30 UTC on the 22nd is 23:30 on the 21st in Honolulu.
        c.update_couple_profile(
            &a,
            accueil_domain::couples::CoupleProfileChanges {
                time_zone: Patch::Set(TimeZone::parse("Pacific/Honolulu").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(c.check_in(&a, draft(5, None)).await.unwrap().day, day(21));
        assert!(
            matches!(
                c.check_in(&a, draft(5, Some(day(22)))).await,
                Err(CheckInError::Invalid(_))
            ),
            "the 22nd has not begun in the couple's zone"
        );
    }
}
