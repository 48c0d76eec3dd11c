//! The couple's profile and the "together for" counter.

use accueil_domain::couples::{
    ChangeOp, CoupleProfile, CoupleProfileChanges, EntityKind, Together, together,
};
use accueil_ports::StoreError;
use chrono::NaiveDate;

use super::CouplesService;
use crate::identity::Caller;
use crate::scope::{CoupleDenied, InCoupleError};

/// Why the "together for" counter could not be given. Reading and changing the profile fail
/// only as their scope can ([`InCoupleError`]).
#[derive(Debug, thiserror::Error)]
pub enum TogetherError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// The counter needs a start date.
    #[error("the couple has no start date yet; set one in the profile")]
    NoStartDate,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CouplesService {
    /// The caller's couple's profile.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn couple_profile(&self, caller: &Caller) -> Result<CoupleProfile, InCoupleError> {
        self.ports
            .read_in_couple(caller, |cx| -> Result<CoupleProfile, InCoupleError> {
                Ok(cx.couple.profile.clone())
            })
            .await
    }

    /// Changes the profile (either partner).
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn update_couple_profile(
        &self,
        caller: &Caller,
        changes: CoupleProfileChanges,
    ) -> Result<CoupleProfile, InCoupleError> {
        let ids = self.ports.ids.clone();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<CoupleProfile, InCoupleError> {
                let mut couple = cx.couple.clone();
                changes.apply_to(&mut couple.profile);
                couple.updated_at = cx.now;
                cx.tx.pairing().update_couple(&couple)?;
                cx.changed(EntityKind::Couple, couple.id.0, ChangeOp::Upsert)?;
                if couple.profile.time_zone != cx.couple.profile.time_zone {
                    // A partner without a zone of their own lives on the couple's clock.
                    for p in [Some(couple.partner_a), couple.partner_b]
                        .into_iter()
                        .flatten()
                    {
                        super::letters::sync_opening(cx.tx, ids.new_id(), &couple, p, cx.now)?;
                    }
                }
                Ok(couple.profile)
            })
            .await
    }

    /// How long the couple has been together, in the couple's time zone, with the profile it
    /// is counted from.
    ///
    /// # Errors
    /// See [`TogetherError`].
    pub async fn together(
        &self,
        caller: &Caller,
    ) -> Result<(CoupleProfile, NaiveDate, Together), TogetherError> {
        self.ports
            .read_in_couple(
                caller,
                |cx| -> Result<(CoupleProfile, NaiveDate, Together), TogetherError> {
                    let profile = cx.couple.profile.clone();
                    let start = profile.start_date.ok_or(TogetherError::NoStartDate)?;
                    let t = together(start, cx.now, profile.time_zone.as_ref());
                    Ok((profile, start, t))
                },
            )
            .await
    }
}
