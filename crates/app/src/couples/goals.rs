//! Goals and their actions, with status transitions enforced in the domain.

use accueil_domain::couples::{
    ActionChanges, ActionCounts, ChangeOp, EntityKind, Goal, GoalAction, GoalChanges, GoalStatus,
    NewAction, NewGoal, TransitionRefused,
};
use accueil_ports::StoreError;
use uuid::Uuid;

use super::{CouplesService, Page, page_size, paged};
use crate::identity::Caller;
use crate::scope::{CoupleCx, CoupleDenied, InCoupleError, InCoupleLookupError, NotFound};

/// A goal or an action the caller's couple does not have (one text for both, as before the
/// operations' errors were told apart).
const NO_GOAL: NotFound = NotFound("goal or action");

/// Why a goal change failed. The other goal and action use cases fail only as their scope
/// can ([`InCoupleError`]), or with a missing goal or action ([`InCoupleLookupError`]).
#[derive(Debug, thiserror::Error)]
pub enum GoalError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// No such goal in the caller's couple.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// A status change the rules forbid.
    #[error(transparent)]
    Transition(#[from] TransitionRefused),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A goal with the counts of its actions (the actions themselves are listed page by page).
#[derive(Debug, Clone)]
pub struct GoalView {
    /// The goal.
    pub goal: Goal,
    /// How many actions it has, and how many are done.
    pub actions: ActionCounts,
}

/// A goal with all its actions, for the couple's export (a document of record, not a page).
#[derive(Debug, Clone)]
pub struct GoalWithActions {
    /// The goal.
    pub goal: Goal,
    /// Its actions, oldest first.
    pub actions: Vec<GoalAction>,
}

/// Goals of the couple with their counts, read in one grouped query for all of them.
fn views(cx: &mut CoupleCx<'_>, goals: Vec<Goal>) -> Result<Vec<GoalView>, StoreError> {
    let ids: Vec<Uuid> = goals.iter().map(|g| g.id).collect();
    let counts = cx.tx.goals().action_counts(cx.couple.id, &ids)?;
    Ok(goals
        .into_iter()
        .map(|goal| GoalView {
            actions: counts.get(&goal.id).copied().unwrap_or_default(),
            goal,
        })
        .collect())
}

/// A goal of the couple with its counts.
fn view(cx: &mut CoupleCx<'_>, goal: Goal) -> Result<GoalView, StoreError> {
    let id = goal.id;
    views(cx, vec![goal])?
        .pop()
        .ok_or_else(|| StoreError::Internal(format!("goal {id} lost its view")))
}

/// Records in the feed that a goal's answer changed because its action counts did.
fn counts_changed(cx: &mut CoupleCx<'_>, goal: Uuid) -> Result<(), StoreError> {
    cx.changed(EntityKind::Goal, goal, ChangeOp::Upsert)
}

/// A goal of the couple.
fn goal_of(cx: &mut CoupleCx<'_>, id: Uuid) -> Result<Goal, InCoupleLookupError> {
    Ok(cx.tx.goals().goal(cx.couple.id, id)?.ok_or(NO_GOAL)?)
}

impl From<InCoupleLookupError> for GoalError {
    fn from(e: InCoupleLookupError) -> Self {
        match e {
            InCoupleLookupError::Denied(d) => Self::Denied(d),
            InCoupleLookupError::NotFound(n) => Self::NotFound(n),
            InCoupleLookupError::Store(s) => Self::Store(s),
        }
    }
}

impl CouplesService {
    /// Creates a goal.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn create_goal(
        &self,
        caller: &Caller,
        new: NewGoal,
    ) -> Result<GoalView, InCoupleError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<GoalView, InCoupleError> {
                let goal = Goal {
                    id,
                    couple_id: cx.couple.id,
                    author: cx.me.user.id,
                    title: new.title,
                    description: new.description,
                    target_date: new.target_date,
                    status: new.status,
                    completed_at: (new.status == GoalStatus::Done).then_some(cx.now),
                    created_at: cx.now,
                    updated_at: cx.now,
                };
                cx.tx.goals().insert_goal(&goal)?;
                cx.changed(EntityKind::Goal, goal.id, ChangeOp::Upsert)?;
                Ok(GoalView {
                    goal,
                    actions: ActionCounts::default(),
                })
            })
            .await
    }

    /// The couple's goals with their action counts, newest first.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn goals(
        &self,
        caller: &Caller,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<GoalView>, InCoupleError> {
        let limit = page_size(limit);
        self.ports
            .read_in_couple(caller, move |cx| -> Result<Page<GoalView>, InCoupleError> {
                let (goals, next) = paged(
                    cx.tx.goals().goals(cx.couple.id, after, limit + 1)?,
                    limit,
                    |g| g.id,
                );
                Ok(Page {
                    items: views(cx, goals)?,
                    next,
                })
            })
            .await
    }

    /// One goal with its action counts.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn goal(&self, caller: &Caller, id: Uuid) -> Result<GoalView, InCoupleLookupError> {
        self.ports
            .read_in_couple(caller, move |cx| -> Result<GoalView, InCoupleLookupError> {
                let goal = goal_of(cx, id)?;
                Ok(view(cx, goal)?)
            })
            .await
    }

    /// Changes a goal; status changes follow the transition rules.
    ///
    /// # Errors
    /// See [`GoalError`].
    pub async fn edit_goal(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: GoalChanges,
    ) -> Result<GoalView, GoalError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<GoalView, GoalError> {
                let mut goal = goal_of(cx, id)?;
                changes.apply_to(&mut goal, cx.now)?;
                cx.tx.goals().update_goal(&goal)?;
                cx.changed(EntityKind::Goal, goal.id, ChangeOp::Upsert)?;
                Ok(view(cx, goal)?)
            })
            .await
    }

    /// Deletes a goal and its actions.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn delete_goal(&self, caller: &Caller, id: Uuid) -> Result<(), InCoupleLookupError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<(), InCoupleLookupError> {
                let actions = cx
                    .tx
                    .goals()
                    .delete_goal(cx.couple.id, id)?
                    .ok_or(NO_GOAL)?;
                for a in actions {
                    cx.changed(EntityKind::GoalAction, a, ChangeOp::Delete)?;
                }
                cx.changed(EntityKind::Goal, id, ChangeOp::Delete)?;
                Ok(())
            })
            .await
    }

    /// Adds an action to a goal.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn add_action(
        &self,
        caller: &Caller,
        goal: Uuid,
        new: NewAction,
    ) -> Result<GoalAction, InCoupleLookupError> {
        let id = self.ports.ids.new_id();
        self.ports
            .write_in_couple(
                caller,
                move |cx| -> Result<GoalAction, InCoupleLookupError> {
                    goal_of(cx, goal)?;
                    let action = GoalAction {
                        id,
                        goal_id: goal,
                        couple_id: cx.couple.id,
                        title: new.title,
                        owner: new.owner,
                        due_date: new.due_date,
                        done: false,
                        completed_at: None,
                        created_at: cx.now,
                        updated_at: cx.now,
                    };
                    cx.tx.goals().insert_action(&action)?;
                    cx.changed(EntityKind::GoalAction, action.id, ChangeOp::Upsert)?;
                    counts_changed(cx, goal)?;
                    Ok(action)
                },
            )
            .await
    }

    /// A page of a goal's actions, oldest first.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn actions(
        &self,
        caller: &Caller,
        goal: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<GoalAction>, InCoupleLookupError> {
        let limit = page_size(limit);
        self.ports
            .read_in_couple(
                caller,
                move |cx| -> Result<Page<GoalAction>, InCoupleLookupError> {
                    goal_of(cx, goal)?;
                    let (items, next) = paged(
                        cx.tx
                            .goals()
                            .action_page(cx.couple.id, goal, after, limit + 1)?,
                        limit,
                        |a| a.id,
                    );
                    Ok(Page { items, next })
                },
            )
            .await
    }

    /// Changes an action (marking it done sets `completed_at`).
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn edit_action(
        &self,
        caller: &Caller,
        goal: Uuid,
        id: Uuid,
        changes: ActionChanges,
    ) -> Result<GoalAction, InCoupleLookupError> {
        self.ports
            .write_in_couple(
                caller,
                move |cx| -> Result<GoalAction, InCoupleLookupError> {
                    let mut action = cx
                        .tx
                        .goals()
                        .action(cx.couple.id, goal, id)?
                        .ok_or(NO_GOAL)?;
                    let was_done = action.done;
                    changes.apply_to(&mut action, cx.now);
                    cx.tx.goals().update_action(&action)?;
                    cx.changed(EntityKind::GoalAction, action.id, ChangeOp::Upsert)?;
                    if action.done != was_done {
                        counts_changed(cx, goal)?;
                    }
                    Ok(action)
                },
            )
            .await
    }

    /// Deletes an action.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn delete_action(
        &self,
        caller: &Caller,
        goal: Uuid,
        id: Uuid,
    ) -> Result<(), InCoupleLookupError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<(), InCoupleLookupError> {
                if !cx.tx.goals().delete_action(cx.couple.id, goal, id)? {
                    return Err(NO_GOAL.into());
                }
                cx.changed(EntityKind::GoalAction, id, ChangeOp::Delete)?;
                counts_changed(cx, goal)?;
                Ok(())
            })
            .await
    }
}
