//! The couple export: the couple and every module's content of it, for a partner to take with
//! them (also after leaving, for 30 days).

use accueil_domain::couples::zone_of;
use accueil_domain::identity::UserId;
use accueil_ports::{StoreError, Tx};

use super::qna::view_of;
use super::{CouplesService, GoalWithActions};
use crate::identity::{AuthError, Caller};
use crate::lifecycle::CoupleExport;
use crate::scope::NotInCouple;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// No couple now, and none left less than 30 days ago.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CouplesService {
    /// The caller's couple and its content, from every module: the active couple, or the last
    /// one dissolved less than 30 days ago.
    ///
    /// # Errors
    /// See [`ExportError`].
    pub async fn export(&self, caller: &Caller) -> Result<CoupleExport, ExportError> {
        let hooks = self.hooks.clone();
        self.ports
            .read_as(caller, move |cx| -> Result<CoupleExport, ExportError> {
                Ok(hooks
                    .couple_export(cx.tx, cx.me.user.id, cx.now)?
                    .ok_or(NotInCouple)?)
            })
            .await
    }
}

/// The couples module's content of a couple export: questions and letters (as the viewer may
/// see them: mutual reveal and time locks apply), goals with their actions, check-ins, every
/// page of each.
pub(super) fn content(
    tx: &mut dyn Tx,
    viewer: UserId,
    into: &mut CoupleExport,
) -> Result<(), StoreError> {
    let couple = into.couple.couple.id;
    let mut before = None;
    loop {
        let page = tx.qna().questions(couple, before, 200)?;
        let Some(last) = page.last().map(|q| q.id) else {
            break;
        };
        for q in page {
            let answers = tx.qna().answers(couple, q.id)?;
            into.questions.push(view_of(q, answers, viewer));
        }
        before = Some(last);
    }
    let mut before = None;
    loop {
        let page = tx.goals().goals(couple, before, 200)?;
        let Some(last) = page.last().map(|g| g.id) else {
            break;
        };
        for goal in page {
            let actions = tx.goals().actions(couple, goal.id)?;
            into.goals.push(GoalWithActions { goal, actions });
        }
        before = Some(last);
    }
    let mut after = None;
    loop {
        let page = tx.checkins().checkins(couple, None, None, after, 500)?;
        let Some(last) = page.last().map(|c| (c.day, c.id)) else {
            break;
        };
        into.checkins.extend(page);
        after = Some(last);
    }
    // The viewer's zone, as in the letters use cases: their own, else the couple's, else UTC.
    let view = &into.couple;
    let own_zone = std::iter::once(&view.partner_a)
        .chain(view.partner_b.as_ref())
        .find(|u| u.id == viewer)
        .and_then(|u| u.time_zone.clone());
    let zone = zone_of(own_zone.as_ref(), &view.couple.profile).cloned();
    let at = into.at;
    let mut month = None;
    loop {
        let page = tx.letters().letters(couple, month, 200)?;
        let Some(last) = page.last().map(|l| l.month) else {
            break;
        };
        into.letters.extend(
            page.into_iter()
                .map(|l| l.seen_by(viewer, zone.as_ref(), at)),
        );
        month = Some(last);
    }
    Ok(())
}
