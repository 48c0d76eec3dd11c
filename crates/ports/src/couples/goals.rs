//! Goals of a couple and their actions.

use std::collections::HashMap;

use accueil_domain::couples::{ActionCounts, CoupleId, Goal, GoalAction};
use uuid::Uuid;

use crate::StoreError;

/// Goals and actions, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait GoalsRepo: Send {
    /// Stores a goal.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_goal(&mut self, goal: &Goal) -> Result<(), StoreError>;

    /// Replaces a goal's fields (matched by couple and id).
    ///
    /// # Errors
    /// `StoreError::Internal` when it does not exist or cannot be written.
    fn update_goal(&mut self, goal: &Goal) -> Result<(), StoreError>;

    /// Deletes a goal of the couple with its actions; returns the deleted actions' ids, or
    /// `None` when there was no such goal.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Vec<Uuid>>, StoreError>;

    /// A goal of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Goal>, StoreError>;

    /// The couple's goals, newest first, with ids before `before`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn goals(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Goal>, StoreError>;

    /// Stores an action.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_action(&mut self, action: &GoalAction) -> Result<(), StoreError>;

    /// Replaces an action's fields (matched by couple, goal and id).
    ///
    /// # Errors
    /// `StoreError::Internal` when it does not exist or cannot be written.
    fn update_action(&mut self, action: &GoalAction) -> Result<(), StoreError>;

    /// Deletes an action; returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_action(&mut self, couple: CoupleId, goal: Uuid, id: Uuid)
    -> Result<bool, StoreError>;

    /// An action of a goal of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<Option<GoalAction>, StoreError>;

    /// The actions of a goal, oldest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn actions(&mut self, couple: CoupleId, goal: Uuid) -> Result<Vec<GoalAction>, StoreError>;

    /// A page of a goal's actions, oldest first, with ids after `after`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn action_page(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<GoalAction>, StoreError>;

    /// How many actions each of these goals of the couple has, and how many are done, in one
    /// grouped read (not one per goal). A goal without actions (or not the couple's) is absent.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn action_counts(
        &mut self,
        couple: CoupleId,
        goals: &[Uuid],
    ) -> Result<HashMap<Uuid, ActionCounts>, StoreError>;
}
