//! Couples use cases: pairing, the couple's profile, Q&A with mutual reveal, goals and
//! actions, check-ins, letters, the change feed, export.
//!
//! Every use case runs in the caller's couple scope ([`crate::scope`]): one unit of work that
//! authenticates the caller, finds their active couple (locked in a write unit, so the couple's
//! writers run one at a time) and hands it to the use case, which passes its id to every query
//! (another couple's objects are simply not found) and records each change in the couple's
//! feed through `cx.changed` in the same transaction.

mod checkins;
mod export;
mod feed;
mod goals;
mod letters;
mod milestones;
mod pairing;
mod profile;
mod qna;

use accueil_domain::couples::{ChangeOp, Couple, CoupleId, EntityKind};
use accueil_domain::events::Event;
use accueil_domain::identity::{User, UserId};
use accueil_domain::limits::Rate;
use accueil_ports::{StoreError, StoreExt, Tx};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::Ports;

pub use crate::lifecycle::CoupleExport;
pub use checkins::{CheckInError, Trends};
pub use export::ExportError;
pub use feed::{SyncPage, SyncRequest};
pub use goals::{GoalError, GoalView, GoalWithActions};
pub use letters::{DeleteLetterError, LetterError, WriteLetterError, letters_opening};
pub use pairing::{CoupleView, CreateCoupleError, InviteError, JoinError};
pub use profile::TogetherError;
pub use qna::{QnaError, QuestionView};
// Page is defined below; the couple scope's types are the scope module's.
pub use crate::scope::{CoupleDenied, InCoupleError, InCoupleLookupError, NotFound, NotInCouple};

/// Couples settings.
#[derive(Debug, Clone, Copy)]
pub struct CouplesSettings {
    /// Join attempts per user.
    pub join_user: Rate,
    /// Join attempts per client address.
    pub join_ip: Rate,
}

impl Default for CouplesSettings {
    fn default() -> Self {
        Self {
            join_user: Rate {
                count: 10,
                period: Duration::minutes(15),
            },
            join_ip: Rate {
                count: 30,
                period: Duration::minutes(15),
            },
        }
    }
}

/// The couples use cases.
#[derive(Clone)]
pub struct CouplesService {
    ports: Ports,
    settings: CouplesSettings,
    hooks: crate::lifecycle::Hooks,
}

/// A page of results and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next: Option<Uuid>,
}

/// Cuts a query result fetched with `limit + 1` rows to `limit`, and says where the next page
/// starts when there is one.
pub(crate) fn paged<T, K>(
    mut items: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Option<K>) {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if more { items.last().map(key) } else { None };
    (items, next)
}

/// A page size from a request: 1 to 200.
pub(crate) fn page_size(limit: u32) -> u32 {
    limit.clamp(1, 200)
}

impl CouplesService {
    /// A service over these ports; `hooks` are the modules that hold couple content (for the
    /// couple export).
    pub fn new(ports: Ports, settings: CouplesSettings, hooks: crate::lifecycle::Hooks) -> Self {
        Self {
            ports,
            settings,
            hooks,
        }
    }
}

/// Dissolves `user`'s active couple, if any, inside the caller's unit of work: used when a
/// partner leaves, and when an account is deleted (so the other partner is not left paired
/// with an anonymous account, and keeps the export window).
pub(crate) fn dissolve_couple_of(
    tx: &mut dyn Tx,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Option<Couple>, StoreError> {
    let Some(mut couple) = tx.pairing().active_couple_of_for_update(user)? else {
        return Ok(None);
    };
    couple.dissolved_at = Some(now);
    couple.updated_at = now;
    tx.pairing().update_couple(&couple)?;
    for id in tx.pairing().revoke_invites(couple.id, now)? {
        record_change(tx, couple.id, EntityKind::Invite, id, ChangeOp::Delete, now)?;
    }
    record_change(
        tx,
        couple.id,
        EntityKind::Couple,
        couple.id.0,
        ChangeOp::Delete,
        now,
    )?;
    tx.emit(Event::CoupleEnded { couple: couple.id });
    for partner in [Some(couple.partner_a), couple.partner_b]
        .into_iter()
        .flatten()
    {
        letters_opening().remove(tx, partner)?;
    }
    Ok(Some(couple))
}

/// Appends a change to the couple's feed and emits the event that tells the couple's realtime
/// subscribers its cursor advanced: the one way use cases write to the feed (clippy refuses
/// `FeedRepo::record_change` elsewhere), so no change goes unannounced.
///
/// # Errors
/// The store's error.
#[allow(clippy::disallowed_methods)]
pub(crate) fn record_change(
    tx: &mut dyn Tx,
    couple: CoupleId,
    kind: EntityKind,
    entity: Uuid,
    op: ChangeOp,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let cursor = tx.feed().record_change(couple, kind, entity, op, at)?;
    tx.emit(Event::CoupleChanged { couple, cursor });
    Ok(cursor)
}

/// The users of a couple, for views.
pub(crate) fn partners(
    tx: &mut dyn Tx,
    couple: &Couple,
) -> Result<(User, Option<User>), StoreError> {
    let a = tx
        .users()
        .user_by_id(couple.partner_a)?
        .ok_or_else(|| StoreError::Internal("partner A vanished".into()))?;
    let b = match couple.partner_b {
        Some(id) => tx.users().user_by_id(id)?,
        None => None,
    };
    Ok((a, b))
}

/// What the couples module does when an account's lifecycle needs it: dissolve the couple of
/// a deleted account, export it, purge dissolved couples.
pub(crate) struct Lifecycle {
    pub(crate) ports: Ports,
}

impl crate::lifecycle::Lifecycle for Lifecycle {
    fn name(&self) -> &'static str {
        "couples"
    }

    fn account_deleted(
        &self,
        tx: &mut dyn Tx,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dissolve_couple_of(tx, user, now).map(|_| ())
    }

    fn time_zone_changed(
        &self,
        tx: &mut dyn Tx,
        user: &accueil_domain::identity::User,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Their letters open at midnight on their new clock.
        match tx.pairing().active_couple_of_for_update(user.id)? {
            Some(couple) => {
                letters::sync_opening(tx, self.ports.ids.new_id(), &couple, user.id, now)
            }
            None => Ok(()),
        }
    }

    fn export_couple(
        &self,
        tx: &mut dyn Tx,
        viewer: UserId,
        into: &mut crate::lifecycle::CoupleExport,
    ) -> Result<(), StoreError> {
        export::content(tx, viewer, into)
    }

    fn purge<'a>(
        &'a self,
        now: DateTime<Utc>,
        log: &'a mut crate::lifecycle::PurgeLog,
    ) -> crate::lifecycle::PurgeFuture<'a> {
        Box::pin(async move {
            let cutoff = now - accueil_domain::couples::SHARED_CONTENT_RETENTION;
            let gone = self
                .ports
                .store
                .write(move |tx| tx.pairing().purge_dissolved_before(cutoff))
                .await
                .map_err(|e| e.to_string())?;
            log.couples.extend(gone);
            Ok(())
        })
    }
}
#[cfg(test)]
mod tests {
    use accueil_domain::couples::{AnswerDraft, InviteProblem, JoinProblem, NewQuestion, Reveal};
    use chrono::Duration;

    use super::*;
    use crate::testing::{Harness, TestUser, ttl};

    async fn pair(h: &Harness) -> (TestUser, TestUser) {
        h.paired("a@example.org", "b@example.org").await
    }

    #[tokio::test]
    async fn pairing_by_code() {
        let h = Harness::new();
        let (a, b) = pair(&h).await;
        let c = h.couples();
        let view = c.get(&b).await.unwrap();
        assert_eq!(view.partner_a.id, a.user.id);
        assert_eq!(view.partner_b.map(|u| u.id), Some(b.user.id));
        assert!(matches!(
            c.create(&a).await,
            Err(CreateCoupleError::AlreadyInCouple)
        ));
        assert!(matches!(
            c.invite(&a, ttl(None)).await,
            Err(InviteError::CoupleFull)
        ));
    }

    #[tokio::test]
    async fn join_errors_are_distinct() {
        let h = Harness::new();
        for e in ["a", "b", "c", "d"] {
            h.registered(&format!("{e}@example.org"), None).await;
        }
        let p = |e: &'static str| h.principal(e);
        let (a, b, c2, d) = (
            p("a@example.org").await,
            p("b@example.org").await,
            p("c@example.org").await,
            p("d@example.org").await,
        );
        let c = h.couples();
        c.create(&a).await.unwrap();
        let first = c.invite(&a, ttl(Some(1))).await.unwrap();
        let second = c.invite(&a, ttl(None)).await.unwrap();
        let join = |who, code: &str| {
            let (c, code) = (c.clone(), code.to_owned());
            async move { c.join(who, &code, None).await }
        };
        assert!(
            matches!(
                join(&b, &first.code).await,
                Err(JoinError::Refused(JoinProblem::Invite(
                    InviteProblem::Invalid
                )))
            ),
            "a new invite revokes the previous one"
        );
        assert!(matches!(
            join(&b, "12ab56").await,
            Err(JoinError::Refused(JoinProblem::Invite(
                InviteProblem::Invalid
            )))
        ));
        c.create(&d).await.unwrap();
        assert!(matches!(
            join(&d, &second.code).await,
            Err(JoinError::Refused(JoinProblem::AlreadyInCouple))
        ));
        h.advance(Duration::minutes(61));
        assert!(matches!(
            join(&b, &second.code).await,
            Err(JoinError::Refused(JoinProblem::Invite(
                InviteProblem::Expired
            )))
        ));
        let third = c.invite(&a, ttl(None)).await.unwrap();
        join(&b, &third.code).await.unwrap();
        assert!(matches!(
            join(&c2, &third.code).await,
            Err(JoinError::Refused(JoinProblem::Invite(InviteProblem::Used)))
        ));
    }

    #[tokio::test]
    async fn mutual_reveal_and_scope() {
        let h = Harness::new();
        let (a, b) = pair(&h).await;
        let c = h.couples();
        let q = c
            .ask(
                &a,
                NewQuestion::parse("Where next?", Some("voyages")).unwrap(),
            )
            .await
            .unwrap()
            .question;
        let answer = |status: &str, text: &str| AnswerDraft::parse(status, Some(text)).unwrap();
        let va = c
            .answer(&a, q.id, answer("ANSWERED", "Lisbon"))
            .await
            .unwrap();
        assert_eq!(va.reveal, Reveal::WaitingForPartner);
        let vb = c.question(&b, q.id).await.unwrap();
        assert_eq!(vb.reveal, Reveal::WaitingForYou);
        assert_eq!(
            vb.partners.as_ref().unwrap().text,
            None,
            "hidden until B answers"
        );
        let vb = c
            .answer(&b, q.id, answer("ANSWERED", "Kyoto"))
            .await
            .unwrap();
        assert_eq!(vb.reveal, Reveal::Revealed);
        assert_eq!(vb.partners.unwrap().text.unwrap().as_str(), "Lisbon");
        // Only the author edits or deletes.
        assert!(matches!(
            c.delete_question(&b, q.id).await,
            Err(QnaError::NotAuthor)
        ));
        // Another couple sees nothing.
        h.registered("z@example.org", None).await;
        let z = h.principal("z@example.org").await;
        c.create(&z).await.unwrap();
        assert!(matches!(
            c.question(&z, q.id).await,
            Err(InCoupleLookupError::NotFound(_))
        ));
        assert!(matches!(
            c.answer(&z, q.id, answer("ANSWERED", "x")).await,
            Err(InCoupleLookupError::NotFound(_))
        ));
        assert!(c.questions(&z, None, 50).await.unwrap().items.is_empty());
        // No couple at all: a clear error.
        h.registered("solo@example.org", None).await;
        let solo = h.principal("solo@example.org").await;
        assert!(matches!(
            c.questions(&solo, None, 50).await,
            Err(InCoupleError::Denied(CoupleDenied::NotInCouple(_)))
        ));
    }

    #[tokio::test]
    async fn the_feed_reports_every_change_once_in_order() {
        let h = Harness::new();
        let (a, b) = pair(&h).await;
        let c = h.couples();
        let start = c.changes(&a, SyncRequest::After(0)).await.unwrap();
        let q = c
            .ask(&a, NewQuestion::parse("Q?", None).unwrap())
            .await
            .unwrap()
            .question;
        c.answer(&b, q.id, AnswerDraft::parse("NEEDS_TIME", None).unwrap())
            .await
            .unwrap();
        c.delete_question(&a, q.id).await.unwrap();
        let page = c
            .changes(&b, SyncRequest::After(start.next_cursor))
            .await
            .unwrap();
        let seen: Vec<(&str, &str)> = page
            .changes
            .iter()
            .map(|ch| (ch.kind.as_str(), ch.op.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("question", "upsert"),
                ("answer", "upsert"),
                ("answer", "delete"),
                ("question", "delete")
            ]
        );
        let again = c
            .changes(&b, SyncRequest::After(page.next_cursor))
            .await
            .unwrap();
        assert!(again.changes.is_empty() && again.next_cursor == page.next_cursor);
    }

    #[tokio::test]
    async fn leaving_dissolves_for_both_and_keeps_the_export_for_30_days() {
        let h = Harness::new();
        let (a, b) = pair(&h).await;
        let c = h.couples();
        c.ask(&a, NewQuestion::parse("Q?", None).unwrap())
            .await
            .unwrap();
        c.leave(&b).await.unwrap();
        assert!(matches!(
            c.get(&a).await,
            Err(InCoupleError::Denied(CoupleDenied::NotInCouple(_)))
        ));
        let export = c.export(&a).await.unwrap();
        assert_eq!(export.questions.len(), 1);
        c.create(&a).await.unwrap();
        h.advance(Duration::days(31));
        assert_eq!(h.whole_app().purge().await.unwrap().couples, 1);
    }
}
