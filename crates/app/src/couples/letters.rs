//! Monthly letters: one per couple per month, written by either partner.

use accueil_domain::couples::{ChangeOp, EntityKind, Letter, LetterDraft, Month};
use uuid::Uuid;

use super::{CouplesService, page_size, paged};
use crate::identity::Caller;
use crate::scope::{InCoupleError, InCoupleLookupError, NotFound};

/// A letter the caller's couple does not have.
const NO_LETTER: NotFound = NotFound("letter");

/// A page of letters and where the next one starts.
pub type LetterPage = (Vec<Letter>, Option<Month>);

impl CouplesService {
    /// Writes the couple's letter of a month: created the first time, updated after.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn write_letter(
        &self,
        caller: &Caller,
        draft: LetterDraft,
    ) -> Result<Letter, InCoupleError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<Letter, InCoupleError> {
                let (me, now) = (cx.me.user.id, cx.now);
                // The couple's lock is held: the month's letter cannot appear meanwhile.
                let letter = match cx.tx.letters().letter_of_month(cx.couple.id, draft.month)? {
                    Some(mut existing) => {
                        existing.content = draft.content;
                        existing.last_author = me;
                        existing.updated_at = now;
                        cx.tx.letters().update_letter(&existing)?;
                        existing
                    }
                    None => {
                        let letter = Letter {
                            id,
                            couple_id: cx.couple.id,
                            month: draft.month,
                            content: draft.content,
                            last_author: me,
                            created_at: now,
                            updated_at: now,
                        };
                        cx.tx.letters().insert_letter(&letter)?;
                        letter
                    }
                };
                cx.changed(EntityKind::Letter, letter.id, ChangeOp::Upsert)?;
                Ok(letter)
            })
            .await
    }

    /// The couple's letters, newest month first; with `month`, that month's only.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn letters(
        &self,
        caller: &Caller,
        month: Option<Month>,
        after: Option<Month>,
        limit: u32,
    ) -> Result<LetterPage, InCoupleError> {
        let limit = page_size(limit);
        self.ports
            .read_in_couple(caller, move |cx| -> Result<LetterPage, InCoupleError> {
                if let Some(m) = month {
                    let one = cx.tx.letters().letter_of_month(cx.couple.id, m)?;
                    return Ok((one.into_iter().collect(), None));
                }
                Ok(paged(
                    cx.tx.letters().letters(cx.couple.id, after, limit + 1)?,
                    limit,
                    |l| l.month,
                ))
            })
            .await
    }

    /// One letter of the couple.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn letter(&self, caller: &Caller, id: Uuid) -> Result<Letter, InCoupleLookupError> {
        self.ports
            .read_in_couple(caller, move |cx| -> Result<Letter, InCoupleLookupError> {
                cx.tx
                    .letters()
                    .letter(cx.couple.id, id)?
                    .ok_or(InCoupleLookupError::NotFound(NO_LETTER))
            })
            .await
    }
}
