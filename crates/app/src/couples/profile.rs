//! The couple's profile and the "together for" counter.

use accueil_domain::couples::{
    ChangeOp, CoupleProfile, EntityKind, HomeMessage, IntroText, Together, together,
};
use accueil_domain::identity::TimeZone;
use accueil_domain::validation::ValidationErrors;
use accueil_ports::{StoreError, StoreExt};
use chrono::NaiveDate;

use super::{CouplesService, NotInCouple, changed, my_couple};
use crate::identity::{Patch, Principal};

/// Profile changes: `Keep`, `Clear` or `Set` each field.
#[derive(Debug, Clone, Default)]
pub struct CoupleProfilePatch {
    /// When they got together.
    pub start_date: Patch<NaiveDate>,
    /// Home page message.
    pub home_message: Patch<String>,
    /// Their story.
    pub intro_text: Patch<String>,
    /// IANA time zone of the counter.
    pub time_zone: Patch<String>,
}

/// Why a profile request failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// The counter needs a start date.
    #[error("the couple has no start date yet")]
    NoStartDate,
    /// Invalid input.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CouplesService {
    /// The caller's couple's profile.
    ///
    /// # Errors
    /// See [`ProfileError`].
    pub async fn couple_profile(&self, who: &Principal) -> Result<CoupleProfile, ProfileError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<CoupleProfile, ProfileError> {
                Ok(my_couple(tx, me)??.profile)
            })
            .await
    }

    /// Changes the profile (either partner).
    ///
    /// # Errors
    /// See [`ProfileError`].
    pub async fn update_couple_profile(
        &self,
        who: &Principal,
        patch: CoupleProfilePatch,
    ) -> Result<CoupleProfile, ProfileError> {
        let mut errors = Vec::new();
        let home = patch
            .home_message
            .parse(|v| HomeMessage::parse(v), &mut errors);
        let intro = patch.intro_text.parse(|v| IntroText::parse(v), &mut errors);
        let zone = patch.time_zone.parse(|v| TimeZone::parse(v), &mut errors);
        ValidationErrors::collect(errors)?;
        let now = self.now();
        let me = who.user.id;
        let start = patch.start_date;
        self.ports
            .store
            .write(move |tx| -> Result<CoupleProfile, ProfileError> {
                let mut couple = my_couple(tx, me)??;
                start.apply_to(&mut couple.profile.start_date);
                home.apply_to(&mut couple.profile.home_message);
                intro.apply_to(&mut couple.profile.intro_text);
                zone.apply_to(&mut couple.profile.time_zone);
                couple.updated_at = now;
                tx.pairing().update_couple(&couple)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Couple,
                    couple.id.0,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(couple.profile)
            })
            .await
    }

    /// How long the couple has been together, in the couple's time zone.
    ///
    /// # Errors
    /// See [`ProfileError`].
    pub async fn together(&self, who: &Principal) -> Result<(NaiveDate, Together), ProfileError> {
        let profile = self.couple_profile(who).await?;
        let start = profile.start_date.ok_or(ProfileError::NoStartDate)?;
        Ok((
            start,
            together(start, self.now(), profile.time_zone.as_ref()),
        ))
    }
}
