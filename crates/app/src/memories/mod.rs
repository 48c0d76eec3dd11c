//! The couple memories site's use cases: the partners' perspectives (memories and photos come
//! next). The couple is the caller's active couple, found through the couples port inside the
//! same unit of work.

use accueil_domain::couples::Side;
use accueil_domain::memories::{Perspective, PerspectiveText, number_of_side, side_of_number};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::{StoreError, StoreExt};
use chrono::{DateTime, Utc};

use crate::Ports;
use crate::couples::NotInCouple;
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

/// The memories site's use cases.
#[derive(Clone)]
pub struct MemoriesService {
    ports: Ports,
}

impl MemoriesService {
    /// A service over these ports.
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

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
                    let couple = tx.couples().active_couple_of(me)?.ok_or(NotInCouple)?;
                    let stored = tx.memories().perspectives(couple.id)?;
                    Ok([Side::A, Side::B]
                        .into_iter()
                        .map(|side| PerspectiveView {
                            number: number_of_side(side),
                            perspective: stored.iter().find(|p| p.side == side).cloned(),
                        })
                        .collect())
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
                let couple = tx.couples().active_couple_of(me)?.ok_or(NotInCouple)?;
                Ok(PerspectiveView {
                    number,
                    perspective: tx.memories().perspective(couple.id, side)?,
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
                let couple = tx.couples().active_couple_of(me)?.ok_or(NotInCouple)?;
                if couple.side_of(me) != Some(side) {
                    return Err(PerspectiveError::NotYours);
                }
                let stored = tx.memories().put_perspective(&Perspective {
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
    use crate::couples::JoinInput;
    use crate::identity::testing::Harness;

    #[tokio::test]
    async fn each_partner_writes_their_own() {
        let h = Harness::new();
        h.registered("a@example.org", None).await;
        h.registered("b@example.org", None).await;
        let (a, b) = (
            h.principal("a@example.org").await,
            h.principal("b@example.org").await,
        );
        let c = h.couples();
        c.create(&a).await.unwrap();
        let code = c.invite(&a, None).await.unwrap().code;
        c.join(
            &b,
            JoinInput {
                code,
                client_ip: None,
            },
        )
        .await
        .unwrap();
        let m = MemoriesService::new(h.ports_with_mailer(std::sync::Arc::new(
            crate::identity::testing::KeptMail::default(),
        )));
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
