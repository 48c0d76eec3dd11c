//! Each partner's perspective: both read both, each writes only their own.

use accueil_domain::couples::Side;
use accueil_domain::memories::{Perspective, PerspectiveText, number_of_side, side_of_number};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::{StoreError, StoreExt};

use super::MemoriesService;
use crate::couples::{NotInCouple, my_couple};
use crate::identity::Principal;

/// A perspective slot: number 1 is partner A's, 2 is partner B's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerspectiveView {
    /// 1 or 2.
    pub number: u8,
    /// The text, once written.
    pub perspective: Option<Perspective>,
}

/// Why a perspective request failed.
#[derive(Debug, thiserror::Error)]
pub enum PerspectiveError {
    /// No couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// Not 1 or 2.
    #[error("no such perspective")]
    NotFound,
    /// A partner writes only their own perspective.
    #[error("not your perspective")]
    NotYours,
    /// Invalid content.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
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
    /// See [`PerspectiveError`].
    pub async fn perspectives(
        &self,
        who: &Principal,
    ) -> Result<Vec<PerspectiveView>, PerspectiveError> {
        let me = who.user.id;
        self.ports
            .store
            .read(
                move |tx| -> Result<Vec<PerspectiveView>, PerspectiveError> {
                    let couple = my_couple(tx, me)??;
                    Ok(slots(tx.perspectives().perspectives(couple.id)?))
                },
            )
            .await
    }

    /// One slot.
    ///
    /// # Errors
    /// See [`PerspectiveError`].
    pub async fn perspective(
        &self,
        who: &Principal,
        number: u8,
    ) -> Result<PerspectiveView, PerspectiveError> {
        let side = side_of_number(number).ok_or(PerspectiveError::NotFound)?;
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<PerspectiveView, PerspectiveError> {
                let couple = my_couple(tx, me)??;
                Ok(PerspectiveView {
                    number,
                    perspective: tx.perspectives().perspective(couple.id, side)?,
                })
            })
            .await
    }

    /// Writes the caller's own perspective (partner A writes number 1, B number 2).
    ///
    /// # Errors
    /// See [`PerspectiveError`].
    pub async fn write_perspective(
        &self,
        who: &Principal,
        number: u8,
        content: &str,
    ) -> Result<PerspectiveView, PerspectiveError> {
        let side = side_of_number(number).ok_or(PerspectiveError::NotFound)?;
        let content =
            PerspectiveText::parse(content).map_err(|e: FieldError| ValidationErrors(vec![e]))?;
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<PerspectiveView, PerspectiveError> {
                let couple = my_couple(tx, me)??;
                if couple.side_of(me) != Some(side) {
                    return Err(PerspectiveError::NotYours);
                }
                let stored = tx.perspectives().put_perspective(&Perspective {
                    couple_id: couple.id,
                    side,
                    author: me,
                    content,
                    created_at: now,
                    updated_at: now,
                })?;
                Ok(PerspectiveView {
                    number,
                    perspective: Some(stored),
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::testing::Harness;

    #[tokio::test]
    async fn each_partner_writes_their_own() {
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        m.write_perspective(&a, 1, "Le mien").await.unwrap();
        assert!(matches!(
            m.write_perspective(&a, 2, "Le sien").await,
            Err(PerspectiveError::NotYours)
        ));
        assert!(matches!(
            m.write_perspective(&b, 3, "x").await,
            Err(PerspectiveError::NotFound)
        ));
        m.write_perspective(&b, 2, "Le mien aussi").await.unwrap();
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
