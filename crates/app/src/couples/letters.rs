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
//!
//! A letter opening is announced: a partner for whom a letter is sealed has a per-user job
//! ([`letters_opening`]) at midnight on their own clock, which records the letters opening
//! that day in the couple's feed, so their devices hear of it (realtime `changes`) at the
//! moment it opens. [`sync_opening`] keeps that schedule true, inside every unit of work that
//! can change it: a letter written, changed or deleted, a partner joining, a partner's or the
//! couple's zone changing; the couple ending removes it.

use accueil_domain::couples::Couple;
use accueil_domain::couples::{
    ChangeOp, EntityKind, Letter, LetterChanges, LetterDraft, LetterView, Month, Sealed, local_day,
    zone_of,
};
use accueil_domain::identity::UserId;
use accueil_domain::jobs::{Job, JobName};
use accueil_domain::validation::ValidationErrors;
use accueil_ports::{StoreError, StoreExt, Tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CouplesService, page_size, paged, record_change};
use crate::identity::{AuthError, Caller};
use crate::jobs::UserSchedule;
use crate::scope::{CoupleCx, CoupleDenied, InCoupleError, InCoupleLookupError, NotFound};

/// The per-user job that announces the letters opening for a partner: at 00:00 on their
/// clock (their zone, else the couple's, else UTC), when a sealed letter opens.
pub fn letters_opening() -> UserSchedule {
    UserSchedule {
        name: JobName::from_trusted("couples.letters-open".to_owned()),
        cron: "0 0 * * *",
    }
}

/// Every letter of a couple (one per month: a few hundred at most).
fn all_letters(tx: &mut dyn Tx, couple: &Couple) -> Result<Vec<Letter>, StoreError> {
    const PAGE: u32 = 200;
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = tx.letters().letters(couple.id, before, PAGE)?;
        let full = page.len() == PAGE as usize;
        before = page.last().map(|l| l.month);
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// Makes `user`'s [`letters_opening`] schedule match the couple's letters, inside the caller's
/// unit of work: registered on their current clock while a letter is sealed for them, removed
/// otherwise.
///
/// # Errors
/// The store's error.
pub(crate) fn sync_opening(
    tx: &mut dyn Tx,
    id: Uuid,
    couple: &Couple,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let schedule = letters_opening();
    let Some(partner) = tx.users().user_by_id(user)? else {
        return schedule.remove(tx, user).map(|_| ());
    };
    let zone = zone_of(partner.time_zone.as_ref(), &couple.profile);
    let sealed = all_letters(tx, couple)?
        .iter()
        .any(|l| l.sealed_for(user, zone, now));
    if sealed {
        let zone = zone.map_or("UTC", |z| z.as_str());
        schedule.set(tx, id, user, zone, now)?;
    } else {
        schedule.remove(tx, user)?;
    }
    Ok(())
}

/// The partner of the caller's couple who is not the caller, if there is one yet.
fn other_partner(cx: &CoupleCx<'_>) -> Option<UserId> {
    let me = cx.me.user.id;
    [Some(cx.couple.partner_a), cx.couple.partner_b]
        .into_iter()
        .flatten()
        .find(|p| *p != me)
}

/// After a change to the couple's letters by the caller: only the other partner's schedule
/// can change (a letter the caller may change is never sealed for them).
fn sync_other(cx: &mut CoupleCx<'_>, id: Uuid) -> Result<(), StoreError> {
    match other_partner(cx) {
        Some(other) => sync_opening(cx.tx, id, &cx.couple.clone(), other, cx.now),
        None => Ok(()),
    }
}

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
        let (id, job) = (self.ports.ids.new_id(), self.ports.ids.new_id());
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
                sync_other(cx, job)?;
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
        let job = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<LetterView, LetterError> {
                let mut letter = writable::<LetterError>(cx, id)?;
                changes.apply_to(&mut letter, cx.me.user.id, today(cx), cx.now)?;
                cx.tx.letters().update_letter(&letter)?;
                cx.changed(EntityKind::Letter, id, ChangeOp::Upsert)?;
                sync_other(cx, job)?;
                Ok(seen(cx, letter))
            })
            .await
    }

    /// Deletes a letter as either partner, unless it is sealed for the caller.
    ///
    /// # Errors
    /// See [`DeleteLetterError`].
    pub async fn delete_letter(&self, caller: &Caller, id: Uuid) -> Result<(), DeleteLetterError> {
        let job = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<(), DeleteLetterError> {
                writable::<DeleteLetterError>(cx, id)?;
                cx.tx.letters().delete_letter(cx.couple.id, id)?;
                cx.changed(EntityKind::Letter, id, ChangeOp::Delete)?;
                sync_other(cx, job)?;
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

impl CouplesService {
    /// Runs one partner's [`letters_opening`] job: records, in the couple's feed, each letter
    /// that opens for them from the day of the job's slot to today on their clock (the slot's
    /// day alone when it runs on time; every day since when it runs late), so their devices
    /// refetch it. A partner no longer in a couple has nothing to announce.
    ///
    /// # Errors
    /// The store's error, as a message for the run history.
    pub async fn announce_opened_letters(&self, job: Job) -> Result<(), String> {
        let user = job
            .key
            .user()
            .ok_or_else(|| format!("{} is not a user's schedule", job.key.as_str()))?;
        let (slot, now) = (job.run_at, self.ports.clock.now());
        let opened = self
            .ports
            .store
            .write(move |tx| -> Result<usize, StoreError> {
                // The couple's lock, as every unit of work that writes its feed takes it.
                let Some(couple) = tx.pairing().active_couple_of_for_update(user)? else {
                    return Ok(0);
                };
                let Some(partner) = tx.users().user_by_id(user)? else {
                    return Ok(0);
                };
                let zone = zone_of(partner.time_zone.as_ref(), &couple.profile);
                let today = local_day(now, zone);
                let first = local_day(slot, zone).min(today);
                let opening: Vec<Uuid> = all_letters(tx, &couple)?
                    .into_iter()
                    .filter(|l| l.opens_for_between(user, first, today))
                    .map(|l| l.id)
                    .collect();
                for id in &opening {
                    record_change(
                        tx,
                        couple.id,
                        EntityKind::Letter,
                        *id,
                        ChangeOp::Upsert,
                        now,
                    )?;
                }
                Ok(opening.len())
            })
            .await
            .map_err(|e| e.to_string())?;
        tracing::debug!(opened, "letters opened");
        Ok(())
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

    /// The recipient's `couples.letters-open` schedule, if they have one.
    async fn opening_job(h: &Harness, user: UserId) -> Option<Job> {
        let key = accueil_domain::jobs::JobKey::for_user(&letters_opening().name, user);
        h.store
            .write(move |tx| tx.jobs().find_for_update(&key))
            .await
            .unwrap()
    }

    fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        use chrono::TimeZone as _;
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    #[tokio::test]
    async fn a_letter_opening_is_announced_at_midnight_on_the_recipients_clock() {
        use accueil_domain::couples::CoupleProfileChanges;
        use accueil_domain::events::Event;
        // The clock starts at 22 November 2026, 09:30 UTC.
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let (c, jobs) = (h.couples(), h.whole_app().jobs);
        let draft =
            |text: &str, on: Option<NaiveDate>| LetterDraft::parse("2026-11", text, on).unwrap();
        let letter = c
            .write_letter(&a, draft("Surprise", Some(day(11, 24))))
            .await
            .unwrap();
        assert!(
            opening_job(&h, a.user.id).await.is_none(),
            "never sealed for its author"
        );
        let job = opening_job(&h, b.user.id).await.expect("sealed for B");
        let schedule = job.schedule.clone().unwrap();
        assert_eq!((schedule.expr(), schedule.zone()), ("0 0 * * *", "UTC"));
        assert_eq!(
            job.run_at,
            utc(23, 0, 0),
            "B has no zone, nor the couple: UTC"
        );

        // B moves to Auckland (UTC+13): the schedule moves with the profile change.
        let auckland = |tz: &str| ProfileChanges {
            time_zone: Patch::Set(TimeZone::parse(tz).unwrap()),
            ..ProfileChanges::default()
        };
        h.app
            .update_profile(&b, auckland("Pacific/Auckland"))
            .await
            .unwrap();
        let job = opening_job(&h, b.user.id).await.unwrap();
        assert_eq!(job.schedule.as_ref().unwrap().zone(), "Pacific/Auckland");
        assert_eq!(job.run_at, utc(22, 11, 0), "23 Nov 00:00 in Auckland");
        // The couple's zone does not move a partner who has one of their own.
        let paris = CoupleProfileChanges {
            time_zone: Patch::Set(TimeZone::parse("Europe/Paris").unwrap()),
            ..CoupleProfileChanges::default()
        };
        c.update_couple_profile(&a, paris).await.unwrap();
        assert_eq!(opening_job(&h, b.user.id).await.unwrap(), job);

        let cursor = c
            .changes(&b, SyncRequest::After(0))
            .await
            .unwrap()
            .next_cursor;
        let letters_open = |report: &crate::jobs::RunReport| {
            report
                .runs
                .iter()
                .filter(|r| r.name == letters_opening().name)
                .count()
        };
        // Midnight of the 23rd in Auckland: nothing opens that day.
        h.advance(Duration::minutes(90));
        h.events.take();
        let report = jobs.run_due("test").await.unwrap();
        assert_eq!((letters_open(&report), report.failed), (1, 0));
        assert!(h.events.take().is_empty(), "nothing to announce");
        assert_eq!(
            opening_job(&h, b.user.id).await.unwrap().run_at,
            utc(23, 11, 0)
        );
        // Midnight of the 24th in Auckland: the letter opens and the couple's feed says so.
        h.advance(Duration::hours(24));
        let report = jobs.run_due("test").await.unwrap();
        assert_eq!((letters_open(&report), report.failed), (1, 0));
        let feed = c.changes(&b, SyncRequest::After(cursor)).await.unwrap();
        assert_eq!(
            feed.changes
                .iter()
                .map(|ch| (ch.entity_id, ch.op))
                .collect::<Vec<_>>(),
            vec![(letter.id, ChangeOp::Upsert)]
        );
        assert!(matches!(
            h.events.take()[..],
            [Event::CoupleChanged { cursor, .. }] if cursor == feed.next_cursor
        ));
        assert!(!c.letter(&b, letter.id).await.unwrap().sealed);

        // Nothing is sealed for B any more: the next letter write removes the schedule.
        c.write_letter(&a, draft("Encore", None)).await.unwrap();
        assert!(opening_job(&h, b.user.id).await.is_none());
        // A new sealed letter brings it back; the couple ending removes it.
        c.write_letter(&a, draft("Plus tard", Some(day(12, 25))))
            .await
            .unwrap();
        assert!(opening_job(&h, b.user.id).await.is_some());
        c.leave(&b).await.unwrap();
        assert!(opening_job(&h, b.user.id).await.is_none());
    }

    #[tokio::test]
    async fn a_partner_on_the_couples_clock_moves_with_it() {
        use accueil_domain::couples::CoupleProfileChanges;
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let c = h.couples();
        let sealed = LetterDraft::parse("2026-12", "Bientôt", Some(day(12, 24))).unwrap();
        c.write_letter(&a, sealed).await.unwrap();
        let zone = |tz: &str| CoupleProfileChanges {
            time_zone: Patch::Set(TimeZone::parse(tz).unwrap()),
            ..CoupleProfileChanges::default()
        };
        c.update_couple_profile(&a, zone("Pacific/Honolulu"))
            .await
            .unwrap();
        let job = opening_job(&h, b.user.id).await.unwrap();
        assert_eq!(job.schedule.as_ref().unwrap().zone(), "Pacific/Honolulu");
        assert_eq!(
            job.run_at,
            utc(22, 10, 0),
            "00:00 in Honolulu (UTC-10), in half an hour"
        );
        // B's own zone takes over from the couple's.
        let tokyo = ProfileChanges {
            time_zone: Patch::Set(TimeZone::parse("Asia/Tokyo").unwrap()),
            ..ProfileChanges::default()
        };
        h.app.update_profile(&b, tokyo).await.unwrap();
        let job = opening_job(&h, b.user.id).await.unwrap();
        assert_eq!(job.schedule.as_ref().unwrap().zone(), "Asia/Tokyo");
        assert_eq!(job.run_at, utc(22, 15, 0), "00:00 in Tokyo (UTC+9)");
        assert!(opening_job(&h, a.user.id).await.is_none());
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
