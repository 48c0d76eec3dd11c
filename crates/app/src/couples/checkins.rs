//! Daily check-ins: one per partner per local day.

use accueil_domain::couples::{ChangeOp, CheckIn, CheckInDraft, EntityKind, local_day};
use chrono::NaiveDate;
use uuid::Uuid;

use super::{CouplesService, page_size, paged};
use crate::identity::Caller;
use crate::scope::{InCoupleError, InCoupleLookupError, NotFound};

/// A check-in the caller's couple does not have (or, to delete, not the caller's own).
const NO_CHECKIN: NotFound = NotFound("check-in");

/// A page of check-ins and where the next one starts.
pub type CheckInPage = (Vec<CheckIn>, Option<(NaiveDate, Uuid)>);

impl CouplesService {
    /// Records the caller's check-in for today (their local day, in their time zone); posting
    /// again the same day updates it.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn check_in(
        &self,
        caller: &Caller,
        draft: CheckInDraft,
    ) -> Result<CheckIn, InCoupleError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<CheckIn, InCoupleError> {
                let stored = cx.tx.checkins().upsert_checkin(&CheckIn {
                    id,
                    couple_id: cx.couple.id,
                    user_id: cx.me.user.id,
                    day: local_day(cx.now, cx.me.user.time_zone.as_ref()),
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
