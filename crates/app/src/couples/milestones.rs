//! The couple's coming milestones (anniversaries and round numbers of days), counted by the
//! domain from the profile's start date in the couple's time zone.

use accueil_domain::couples::{CoupleProfile, Milestones, milestones};
use chrono::NaiveDate;

use super::{CouplesService, TogetherError};
use crate::identity::Caller;

impl CouplesService {
    /// The next `limit` milestones (1 to [`accueil_domain::couples::MAX_UPCOMING`]) with the
    /// profile they are counted from and its start date.
    ///
    /// # Errors
    /// See [`TogetherError`]: like the counter, milestones need a start date.
    pub async fn milestones(
        &self,
        caller: &Caller,
        limit: u32,
    ) -> Result<(CoupleProfile, NaiveDate, Milestones), TogetherError> {
        let limit = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .clamp(1, accueil_domain::couples::MAX_UPCOMING);
        self.ports
            .read_in_couple(
                caller,
                move |cx| -> Result<(CoupleProfile, NaiveDate, Milestones), TogetherError> {
                    let profile = cx.couple.profile.clone();
                    let start = profile.start_date.ok_or(TogetherError::NoStartDate)?;
                    let m = milestones(start, cx.now, profile.time_zone.as_ref(), limit);
                    Ok((profile, start, m))
                },
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use accueil_domain::couples::{CoupleProfileChanges, MilestoneKind};
    use accueil_domain::validation::Patch;
    use chrono::Duration;

    use super::*;
    use crate::testing::Harness;

    #[tokio::test]
    async fn from_the_start_date_on_the_couples_clock() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let c = h.couples();
        assert!(matches!(
            c.milestones(&a, 10).await,
            Err(TogetherError::NoStartDate)
        ));
        let today = accueil_ports::system::Clock::now(&*h.clock).date_naive();
        let start = today - Duration::days(99);
        c.update_couple_profile(
            &a,
            CoupleProfileChanges {
                start_date: Patch::Set(start),
                ..CoupleProfileChanges::default()
            },
        )
        .await
        .unwrap();
        let (_, since, m) = c.milestones(&a, 0).await.unwrap();
        assert_eq!(since, start);
        assert_eq!(m.days_together, 99);
        assert_eq!(m.upcoming.len(), 1, "0 is read as 1");
        assert_eq!(
            (
                m.upcoming[0].kind,
                m.upcoming[0].number,
                m.upcoming[0].days_remaining
            ),
            (MilestoneKind::Days, 100, 1)
        );
        h.advance(Duration::days(1));
        let (_, _, m) = c.milestones(&a, 1000).await.unwrap();
        assert_eq!(m.upcoming.len(), 50, "at most 50");
        assert_eq!(m.upcoming[0].days_remaining, 0, "the 100th day is today");
    }
}
