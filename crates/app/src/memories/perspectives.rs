//! Each partner's perspective: both read both, each writes only their own, and a member
//! alone in the couple writes both until a partner joins (the rule is the domain's
//! [`may_write`]). A change is
//! recorded in the couple's feed as a `perspective` entry whose id is the perspective's number
//! ([`perspective_feed_id`]).

use accueil_domain::couples::{ChangeOp, EntityKind, Side, perspective_feed_id};
use accueil_domain::memories::{
    Perspective, PerspectiveDraft, PerspectiveText, may_write, number_of_side, side_of_number,
};
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
    /// A partner writes only their own perspective (both only while alone in the couple).
    #[error(
        "this perspective is your partner's: once both partners are in the couple, each writes only their own (A: 1, B: 2)"
    )]
    NotYours,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why creating or replacing a perspective by its number in the body failed (the number is
/// checked with the body, so it cannot be missing).
#[derive(Debug, thiserror::Error)]
pub enum UpsertPerspectiveError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// The other partner's perspective.
    #[error(
        "this perspective is your partner's: once both partners are in the couple, each writes only their own (A: 1, B: 2)"
    )]
    NotYours,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UpsertPerspectiveError> for PerspectiveError {
    fn from(e: UpsertPerspectiveError) -> Self {
        match e {
            UpsertPerspectiveError::Denied(d) => Self::Denied(d),
            UpsertPerspectiveError::NotYours => Self::NotYours,
            UpsertPerspectiveError::Store(s) => Self::Store(s),
        }
    }
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

    /// Writes the caller's own perspective (partner A writes number 1, B number 2; A writes
    /// both while nobody has joined).
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
        let (view, _) = self
            .upsert_perspective(caller, PerspectiveDraft { side, content })
            .await?;
        Ok(view)
    }

    /// Creates or replaces a perspective (the seed's `POST /perspectives`), under the same
    /// rules as [`Self::write_perspective`]; says whether it was created.
    ///
    /// # Errors
    /// See [`UpsertPerspectiveError`].
    pub async fn upsert_perspective(
        &self,
        caller: &Caller,
        draft: PerspectiveDraft,
    ) -> Result<(PerspectiveView, bool), UpsertPerspectiveError> {
        let PerspectiveDraft { side, content } = draft;
        let number = number_of_side(side);
        self.ports
            .write_in_couple(
                caller,
                move |cx| -> Result<(PerspectiveView, bool), UpsertPerspectiveError> {
                    if !may_write(&cx.couple, cx.me.user.id, side) {
                        return Err(UpsertPerspectiveError::NotYours);
                    }
                    let created = cx
                        .tx
                        .perspectives()
                        .perspective(cx.couple.id, side)?
                        .is_none();
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
                    Ok((
                        PerspectiveView {
                            number,
                            perspective: Some(stored),
                        },
                        created,
                    ))
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

    #[tokio::test]
    async fn a_solo_member_writes_both_until_the_partner_joins() {
        let h = Harness::new();
        h.registered("solo@example.org", None).await;
        h.registered("b@example.org", None).await;
        let a = h.principal("solo@example.org").await;
        let couples = h.couples();
        couples.create(&a.caller).await.unwrap();
        let m = h.memories();
        let draft = |n, s: &str| PerspectiveDraft::parse(n, s).unwrap();
        let (_, created) = m
            .upsert_perspective(&a.caller, draft(2, "Son regard, par moi"))
            .await
            .unwrap();
        assert!(created);
        let (v, created) = m
            .upsert_perspective(&a.caller, draft(2, "Son regard, revu"))
            .await
            .unwrap();
        assert!(!created, "replaced");
        assert_eq!(v.perspective.unwrap().author, a.user.id);
        m.write_perspective(&a.caller, 1, text("Le mien"))
            .await
            .unwrap();

        let b = h.principal("b@example.org").await;
        let code = couples
            .invite(&a.caller, crate::testing::ttl(None))
            .await
            .unwrap()
            .code
            .clone();
        couples.join(&b.caller, &code, None).await.unwrap();
        assert!(matches!(
            m.upsert_perspective(&a.caller, draft(2, "encore")).await,
            Err(UpsertPerspectiveError::NotYours)
        ));
        let kept = m.perspective(&b.caller, 2).await.unwrap();
        assert_eq!(
            kept.perspective
                .as_ref()
                .map(|p| (p.content.as_str(), p.author)),
            Some(("Son regard, revu", a.user.id)),
            "what A wrote alone stays"
        );
        let (v, created) = m
            .upsert_perspective(&b.caller, draft(2, "Mon regard"))
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(v.perspective.unwrap().author, b.user.id);
        assert!(matches!(
            m.write_perspective(&b.caller, 1, text("x")).await,
            Err(PerspectiveError::NotYours)
        ));
    }
}
