//! Monthly letters: one per couple per month, written, changed and deleted by either partner,
//! optionally time-locked.
//!
//! Every read goes through [`Letter::seen_by`] with the caller's zone (their own, else the
//! couple's, else UTC: [`zone_of`]), so a letter sealed for the caller comes without its
//! content from every use case (one, the list, the export); every write checks
//! [`Letter::writable_by`] first. The partner who sets a delivery day is the one it is sealed
//! by (stored with the lock, not taken from `last_author`: setting a day on a letter does not
//! make its content theirs, and writing content does not move an existing lock). Delivery days
//! are checked against the writer's own calendar, in the same zone.

use accueil_domain::couples::{
    ChangeOp, EntityKind, Letter, LetterChanges, LetterDraft, LetterView, Month, Sealed, local_day,
    zone_of,
};
use accueil_domain::validation::ValidationErrors;
use accueil_ports::StoreError;
use uuid::Uuid;

use super::{CouplesService, page_size, paged};
use crate::identity::{AuthError, Caller};
use crate::scope::{CoupleCx, CoupleDenied, InCoupleError, InCoupleLookupError, NotFound};

/// A letter the caller's couple does not have.
const NO_LETTER: NotFound = NotFound("letter");

/// A page of letters and where the next one starts.
pub type LetterPage = (Vec<LetterView>, Option<Month>);

/// Why writing a month's letter failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteLetterError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// The delivery day is before the writer's today, or too far ahead.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The month's letter is sealed for the caller.
    #[error(transparent)]
    Sealed(#[from] Sealed),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why changing a letter failed.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// No such letter in the caller's couple.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The delivery day is before the writer's today, or too far ahead.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The letter is sealed for the caller.
    #[error(transparent)]
    Sealed(#[from] Sealed),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why deleting a letter failed.
#[derive(Debug, thiserror::Error)]
pub enum DeleteLetterError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// No such letter in the caller's couple.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The letter is sealed for the caller.
    #[error(transparent)]
    Sealed(#[from] Sealed),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

macro_rules! from_auth {
    ($($ty:ty),*) => {$(
        impl From<AuthError> for $ty {
            fn from(e: AuthError) -> Self {
                Self::Denied(e.into())
            }
        }
    )*};
}
from_auth!(WriteLetterError, LetterError, DeleteLetterError);

/// The caller's view of a letter.
fn seen(cx: &CoupleCx<'_>, letter: Letter) -> LetterView {
    let zone = zone_of(cx.me.user.time_zone.as_ref(), &cx.couple.profile);
    letter.seen_by(cx.me.user.id, zone, cx.now)
}

/// A letter of the caller's couple that the caller may change now.
fn writable<E>(cx: &mut CoupleCx<'_>, id: Uuid) -> Result<Letter, E>
where
    E: From<NotFound> + From<Sealed> + From<StoreError>,
{
    let letter = cx.tx.letters().letter(cx.couple.id, id)?.ok_or(NO_LETTER)?;
    let zone = zone_of(cx.me.user.time_zone.as_ref(), &cx.couple.profile);
    letter.writable_by(cx.me.user.id, zone, cx.now)?;
    Ok(letter)
}

/// Today in the caller's calendar.
fn today(cx: &CoupleCx<'_>) -> chrono::NaiveDate {
    local_day(
        cx.now,
        zone_of(cx.me.user.time_zone.as_ref(), &cx.couple.profile),
    )
}

impl CouplesService {
    /// Writes the couple's letter of a month: created the first time, its content replaced
    /// after (and its lock, when the draft has a delivery day; kept otherwise).
    ///
    /// # Errors
    /// See [`WriteLetterError`]: `Sealed` when the month's letter is sealed for the caller.
    pub async fn write_letter(
        &self,
        caller: &Caller,
        draft: LetterDraft,
    ) -> Result<LetterView, WriteLetterError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<LetterView, WriteLetterError> {
                let (me, now, today) = (cx.me.user.id, cx.now, today(cx));
                // The couple's lock is held: the month's letter cannot appear meanwhile.
                let letter = match cx.tx.letters().letter_of_month(cx.couple.id, draft.month)? {
                    Some(mut existing) => {
                        let zone = zone_of(cx.me.user.time_zone.as_ref(), &cx.couple.profile);
                        existing.writable_by(me, zone, now)?;
                        draft.apply_to(&mut existing, me, today, now)?;
                        cx.tx.letters().update_letter(&existing)?;
                        existing
                    }
                    None => {
                        let letter = draft.into_letter(id, cx.couple.id, me, today, now)?;
                        cx.tx.letters().insert_letter(&letter)?;
                        letter
                    }
                };
                cx.changed(EntityKind::Letter, letter.id, ChangeOp::Upsert)?;
                Ok(seen(cx, letter))
            })
            .await
    }

    /// Changes a letter (content, delivery day) as either partner, unless it is sealed for the
    /// caller.
    ///
    /// # Errors
    /// See [`LetterError`].
    pub async fn edit_letter(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: LetterChanges,
    ) -> Result<LetterView, LetterError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<LetterView, LetterError> {
                let mut letter = writable::<LetterError>(cx, id)?;
                changes.apply_to(&mut letter, cx.me.user.id, today(cx), cx.now)?;
                cx.tx.letters().update_letter(&letter)?;
                cx.changed(EntityKind::Letter, id, ChangeOp::Upsert)?;
                Ok(seen(cx, letter))
            })
            .await
    }

    /// Deletes a letter as either partner, unless it is sealed for the caller.
    ///
    /// # Errors
    /// See [`DeleteLetterError`].
    pub async fn delete_letter(&self, caller: &Caller, id: Uuid) -> Result<(), DeleteLetterError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<(), DeleteLetterError> {
                writable::<DeleteLetterError>(cx, id)?;
                cx.tx.letters().delete_letter(cx.couple.id, id)?;
                cx.changed(EntityKind::Letter, id, ChangeOp::Delete)?;
                Ok(())
            })
            .await
    }

    /// The couple's letters, newest month first; with `month`, that month's only. Letters
    /// sealed for the caller come without their content.
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
                let (items, next) = match month {
                    Some(m) => {
                        let one = cx.tx.letters().letter_of_month(cx.couple.id, m)?;
                        (one.into_iter().collect(), None)
                    }
                    None => paged(
                        cx.tx.letters().letters(cx.couple.id, after, limit + 1)?,
                        limit,
                        |l| l.month,
                    ),
                };
                Ok((items.into_iter().map(|l| seen(cx, l)).collect(), next))
            })
            .await
    }

    /// One letter of the couple, without its content while it is sealed for the caller.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn letter(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<LetterView, InCoupleLookupError> {
        self.ports
            .read_in_couple(
                caller,
                move |cx| -> Result<LetterView, InCoupleLookupError> {
                    let letter = cx
                        .tx
                        .letters()
                        .letter(cx.couple.id, id)?
                        .ok_or(InCoupleLookupError::NotFound(NO_LETTER))?;
                    Ok(seen(cx, letter))
                },
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use accueil_domain::couples::{LetterChanges, LetterDraft};
    use accueil_domain::identity::{ProfileChanges, TimeZone};
    use accueil_domain::validation::Patch;
    use chrono::{Duration, NaiveDate};

    use super::*;
    use crate::couples::SyncRequest;
    use crate::testing::Harness;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[tokio::test]
    async fn a_sealed_letter_opens_at_midnight_in_the_recipients_zone() {
        // The clock starts at 22 November 2026, 09:30 UTC.
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        h.app
            .update_profile(
                &b,
                ProfileChanges {
                    time_zone: Patch::Set(TimeZone::parse("Pacific/Auckland").unwrap()),
                    ..ProfileChanges::default()
                },
            )
            .await
            .unwrap();
        let c = h.couples();
        let start = c
            .changes(&a, SyncRequest::After(0))
            .await
            .unwrap()
            .next_cursor;
        let draft =
            |text: &str, on: Option<NaiveDate>| LetterDraft::parse("2026-11", text, on).unwrap();
        let mine = c
            .write_letter(&a, draft("Surprise", Some(day(11, 24))))
            .await
            .unwrap();
        assert!(!mine.sealed && mine.content.is_some(), "the author sees it");
        let seen = c.letter(&b, mine.id).await.unwrap();
        assert!(seen.sealed && seen.content.is_none(), "{seen:?}");
        assert_eq!(
            seen.lock.map(|l| (l.deliver_on, l.set_by)),
            Some((day(11, 24), a.user.id))
        );
        let (listed, _) = c.letters(&b, None, None, 50).await.unwrap();
        assert!(listed[0].sealed && listed[0].content.is_none());
        let export = c.export(&b).await.unwrap();
        assert!(export.letters[0].sealed && export.letters[0].content.is_none());
        assert!(c.export(&a).await.unwrap().letters[0].content.is_some());
        // Sealed for B: no overwrite, change or delete.
        assert!(matches!(
            c.write_letter(&b, draft("Moi aussi", None)).await,
            Err(WriteLetterError::Sealed(Sealed(d))) if d == day(11, 24)
        ));
        let changes = LetterChanges::parse(Some("x"), Patch::Keep).unwrap();
        assert!(matches!(
            c.edit_letter(&b, mine.id, changes.clone()).await,
            Err(LetterError::Sealed(_))
        ));
        assert!(matches!(
            c.delete_letter(&b, mine.id).await,
            Err(DeleteLetterError::Sealed(_))
        ));
        // 24 November begins in Auckland (UTC+13) at 11:00 UTC on the 23rd.
        h.advance(Duration::hours(24) + Duration::minutes(89)); // 23 Nov, 10:59 UTC
        assert!(c.letter(&b, mine.id).await.unwrap().sealed);
        h.advance(Duration::minutes(1));
        let open = c.letter(&b, mine.id).await.unwrap();
        assert_eq!(
            open.content.map(|t| t.as_str().to_owned()).as_deref(),
            Some("Surprise")
        );
        assert!(!open.sealed);
        // Open: B may change it, then delete it.
        let edited = c.edit_letter(&b, mine.id, changes).await.unwrap();
        assert_eq!(edited.last_author, b.user.id);
        c.delete_letter(&b, mine.id).await.unwrap();
        assert!(matches!(
            c.letter(&a, mine.id).await,
            Err(InCoupleLookupError::NotFound(_))
        ));
        let feed: Vec<(&str, &str)> = c
            .changes(&a, SyncRequest::After(start))
            .await
            .unwrap()
            .changes
            .iter()
            .map(|ch| (ch.kind.as_str(), ch.op.as_str()))
            .collect();
        assert_eq!(
            feed,
            vec![
                ("letter", "upsert"),
                ("letter", "upsert"),
                ("letter", "delete")
            ]
        );
    }

    #[tokio::test]
    async fn delivery_days_are_checked_against_the_writers_calendar() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let c = h.couples();
        let write = |on: NaiveDate| {
            let (c, a) = (c.clone(), a.clone());
            async move {
                c.write_letter(&a, LetterDraft::parse("2026-12", "x", Some(on)).unwrap())
                    .await
            }
        };
        let code = |r: Result<LetterView, WriteLetterError>| match r {
            Err(WriteLetterError::Invalid(e)) => e.0[0].code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(write(day(11, 21)).await), "in_past");
        assert_eq!(
            code(write(NaiveDate::from_ymd_opt(2031, 11, 23).unwrap()).await),
            "too_far"
        );
        let l = write(day(11, 22)).await.unwrap();
        // With the couple in Honolulu (22 Nov 09:30 UTC is the 21st there) and no zone of
        // A's own, the 21st is today for A.
        c.update_couple_profile(
            &a,
            accueil_domain::couples::CoupleProfileChanges {
                time_zone: Patch::Set(TimeZone::parse("Pacific/Honolulu").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let moved = c
            .edit_letter(
                &a,
                l.id,
                LetterChanges::parse(None, Patch::Set(day(11, 21))).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(moved.lock.map(|l| l.deliver_on), Some(day(11, 21)));
        let cleared = c
            .edit_letter(&a, l.id, LetterChanges::parse(None, Patch::Clear).unwrap())
            .await
            .unwrap();
        assert_eq!(cleared.lock, None);
    }
}
