//! Each partner's perspective: both read both, each writes only their own. A change is
//! recorded in the couple's feed as a `perspective` entry whose id is the perspective's number
//! ([`perspective_feed_id`]).

use accueil_domain::couples::{ChangeOp, EntityKind, Side, perspective_feed_id};
use accueil_domain::memories::{Perspective, PerspectiveText, number_of_side, side_of_number};
use accueil_ports::StoreError;

use super::MemoriesService;
use crate::identity::Caller;
use crate::scope::{CoupleDenied, InCoupleError, InCoupleLookupError, NotFound};

/// A perspective number that is not one.
const NO_PERSPECTIVE: NotFound =
    NotFound("perspective: numbers are 1 (partner A) and 2 (partner B)");

/// A perspective slot: number 1 is partner A's, 2 is partner B's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerspectiveView {
    /// 1 or 2.
    pub number: u8,
    /// The text, once written.
    pub perspective: Option<Perspective>,
}

/// Why writing a perspective failed. Reading them fails only as their scope can
/// ([`InCoupleError`]), or with a number that is not one ([`InCoupleLookupError`]).
#[derive(Debug, thiserror::Error)]
pub enum PerspectiveError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// Not 1 or 2.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// A partner writes only their own perspective.
    #[error("a partner writes only their own perspective")]
    NotYours,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Both slots, 1 then 2, from the perspectives stored for a couple.
pub(super) fn slots(stored: Vec<Perspective>) -> Vec<PerspectiveView> {
    [Side::A, Side::B]
        .into_iter()
        .map(|side| PerspectiveView {
            number: number_of_side(side),
            perspective: stored.iter().find(|p| p.side == side).cloned(),
        })
        .collect()
}

impl MemoriesService {
    /// Both slots of the caller's couple.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn perspectives(
        &self,
        caller: &Caller,
    ) -> Result<Vec<PerspectiveView>, InCoupleError> {
        self.ports
            .read_in_couple(
                caller,
                |cx| -> Result<Vec<PerspectiveView>, InCoupleError> {
                    Ok(slots(cx.tx.perspectives().perspectives(cx.couple.id)?))
                },
            )
            .await
    }

    /// One slot.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn perspective(
        &self,
        caller: &Caller,
        number: u8,
    ) -> Result<PerspectiveView, InCoupleLookupError> {
        let side = side_of_number(number).ok_or(NO_PERSPECTIVE)?;
        self.ports
            .read_in_couple(
                caller,
                move |cx| -> Result<PerspectiveView, InCoupleLookupError> {
                    Ok(PerspectiveView {
                        number,
                        perspective: cx.tx.perspectives().perspective(cx.couple.id, side)?,
                    })
                },
            )
            .await
    }

    /// Writes the caller's own perspective (partner A writes number 1, B number 2).
    ///
    /// # Errors
    /// See [`PerspectiveError`].
    pub async fn write_perspective(
        &self,
        caller: &Caller,
        number: u8,
        content: PerspectiveText,
    ) -> Result<PerspectiveView, PerspectiveError> {
        let side = side_of_number(number).ok_or(NO_PERSPECTIVE)?;
        self.ports
            .write_in_couple(
                caller,
                move |cx| -> Result<PerspectiveView, PerspectiveError> {
                    if cx.couple.side_of(cx.me.user.id) != Some(side) {
                        return Err(PerspectiveError::NotYours);
                    }
                    let stored = cx.tx.perspectives().put_perspective(&Perspective {
                        couple_id: cx.couple.id,
                        side,
                        author: cx.me.user.id,
                        content,
                        created_at: cx.now,
                        updated_at: cx.now,
                    })?;
                    cx.changed(
                        EntityKind::Perspective,
                        perspective_feed_id(number),
                        ChangeOp::Upsert,
                    )?;
                    Ok(PerspectiveView {
                        number,
                        perspective: Some(stored),
                    })
                },
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Harness;

    fn text(s: &str) -> PerspectiveText {
        PerspectiveText::parse(s).unwrap()
    }

    #[tokio::test]
    async fn each_partner_writes_their_own() {
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        m.write_perspective(&a, 1, text("Le mien")).await.unwrap();
        assert!(matches!(
            m.write_perspective(&a, 2, text("Le sien")).await,
            Err(PerspectiveError::NotYours)
        ));
        assert!(matches!(
            m.write_perspective(&b, 3, text("x")).await,
            Err(PerspectiveError::NotFound(_))
        ));
        m.write_perspective(&b, 2, text("Le mien aussi"))
            .await
            .unwrap();
        let both = m.perspectives(&b).await.unwrap();
        assert_eq!(
            both[0].perspective.as_ref().unwrap().content.as_str(),
            "Le mien"
        );
        assert_eq!(
            both[1].perspective.as_ref().unwrap().content.as_str(),
            "Le mien aussi"
        );
    }
}
