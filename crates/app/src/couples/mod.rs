//! Couples use cases: pairing, Q&A with mutual reveal, goals and actions, check-ins, letters,
//! the change feed, export.
//!
//! Every use case starts from the caller's active couple, found in the same unit of work, and
//! every query below takes that couple's id: another couple's objects are simply not found.
//! Every change records an entry in the couple's feed in the same transaction.

mod content;
mod pairing;
mod profile;
mod qna;
mod sync;

use accueil_domain::couples::{ChangeOp, Couple, CoupleId, EntityKind};
use accueil_domain::identity::{User, UserId};
use accueil_domain::limits::Rate;
use accueil_ports::{StoreError, Tx};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::Ports;

pub use content::{
    ActionInput, ActionPatch, CheckInInput, ContentError, GoalInput, GoalPatch, GoalView,
};
pub use pairing::{CoupleExport, CoupleView, InviteError, JoinError, JoinInput, PairingError};
pub use profile::{CoupleProfilePatch, ProfileError};
pub use qna::{AnswerInput, QnaError, QuestionInput, QuestionPatch, QuestionView};
pub use sync::{SyncError, SyncPage, SyncRequest};
// NotInCouple and Page are defined below.

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

/// The caller is in no couple (every couple endpoint says so the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not in a couple")]
pub struct NotInCouple;

impl CouplesService {
    /// A service over these ports.
    pub fn new(ports: Ports, settings: CouplesSettings) -> Self {
        Self { ports, settings }
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }
}

/// The caller's active couple, inside the unit of work.
pub(crate) fn my_couple(
    tx: &mut dyn Tx,
    me: UserId,
) -> Result<Result<Couple, NotInCouple>, StoreError> {
    Ok(tx.pairing().active_couple_of(me)?.ok_or(NotInCouple))
}

/// Records a change of the couple's feed, inside the unit of work.
fn changed(
    tx: &mut dyn Tx,
    couple: CoupleId,
    kind: EntityKind,
    id: Uuid,
    op: ChangeOp,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.feed()
        .record_change(couple, kind, id, op, at)
        .map(|_| ())
}

/// Dissolves `user`'s active couple, if any, inside the caller's unit of work: used when a
/// partner leaves, and when an account is deleted (so the other partner is not left paired
/// with an anonymous account, and keeps the export window).
pub(crate) fn dissolve_couple_of(
    tx: &mut dyn Tx,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Option<Couple>, StoreError> {
    let Some(mut couple) = tx.pairing().active_couple_of(user)? else {
        return Ok(None);
    };
    couple.dissolved_at = Some(now);
    couple.updated_at = now;
    tx.pairing().update_couple(&couple)?;
    for id in tx.pairing().revoke_invites(couple.id, now)? {
        changed(tx, couple.id, EntityKind::Invite, id, ChangeOp::Delete, now)?;
    }
    changed(
        tx,
        couple.id,
        EntityKind::Couple,
        couple.id.0,
        ChangeOp::Delete,
        now,
    )?;
    Ok(Some(couple))
}

/// The users of a couple, for views.
fn partners(tx: &mut dyn Tx, couple: &Couple) -> Result<(User, Option<User>), StoreError> {
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

#[cfg(test)]
mod tests {
    use accueil_domain::couples::{InviteProblem, JoinProblem, Reveal};
    use chrono::Duration;

    use super::*;
    use crate::identity::testing::Harness;

    async fn pair(h: &Harness) -> (crate::identity::Principal, crate::identity::Principal) {
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
            Err(PairingError::AlreadyInCouple)
        ));
        assert!(matches!(
            c.invite(&a, None).await,
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
        let first = c.invite(&a, Some(1)).await.unwrap();
        let second = c.invite(&a, None).await.unwrap();
        let join = |who, code: &str| {
            c.join(
                who,
                JoinInput {
                    code: code.into(),
                    client_ip: None,
                },
            )
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
        let third = c.invite(&a, None).await.unwrap();
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
                QuestionInput {
                    text: "Where next?".into(),
                    theme: Some("voyages".into()),
                },
            )
            .await
            .unwrap()
            .question;
        let answer = |status: &str, text: &str| AnswerInput {
            status: status.into(),
            text: Some(text.into()),
        };
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
            Err(QnaError::NotFound)
        ));
        assert!(matches!(
            c.answer(&z, q.id, answer("ANSWERED", "x")).await,
            Err(QnaError::NotFound)
        ));
        assert!(c.questions(&z, None, 50).await.unwrap().items.is_empty());
        // No couple at all: a clear error.
        h.registered("solo@example.org", None).await;
        let solo = h.principal("solo@example.org").await;
        assert!(matches!(
            c.questions(&solo, None, 50).await,
            Err(QnaError::NotInCouple(_))
        ));
    }

    #[tokio::test]
    async fn the_feed_reports_every_change_once_in_order() {
        let h = Harness::new();
        let (a, b) = pair(&h).await;
        let c = h.couples();
        let start = c.changes(&a, SyncRequest::After(0)).await.unwrap();
        let q = c
            .ask(
                &a,
                QuestionInput {
                    text: "Q?".into(),
                    theme: None,
                },
            )
            .await
            .unwrap()
            .question;
        c.answer(
            &b,
            q.id,
            AnswerInput {
                status: "NEEDS_TIME".into(),
                text: None,
            },
        )
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
        c.ask(
            &a,
            QuestionInput {
                text: "Q?".into(),
                theme: None,
            },
        )
        .await
        .unwrap();
        c.leave(&b).await.unwrap();
        assert!(matches!(c.get(&a).await, Err(PairingError::NotInCouple(_))));
        let export = c.export(&a).await.unwrap();
        assert_eq!(export.questions.len(), 1);
        c.create(&a).await.unwrap();
        h.advance(Duration::days(31));
        assert_eq!(c.purge_dissolved().await.unwrap().len(), 1);
    }
}
