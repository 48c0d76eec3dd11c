//! Couples ports: couples and invites, the change feed, and the couple's content (Q&A, goals
//! and actions, check-ins, letters).
//!
//! Every query that reads couple content takes the couple's id: an object of another couple is
//! simply not found.

use accueil_domain::couples::{
    Answer, Change, ChangeOp, CheckIn, Couple, CoupleId, EntityKind, Goal, GoalAction, Invite,
    Letter, Month, Question,
};
use accueil_domain::identity::UserId;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Couples, invites, changes and Q&A, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait CouplesRepo: Send {
    /// Stores a new couple (its change sequence starts at 0).
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_couple(&mut self, couple: &Couple) -> Result<(), StoreError>;

    /// Replaces a couple's partners and times.
    ///
    /// # Errors
    /// `StoreError::Internal` when it does not exist or cannot be written.
    fn update_couple(&mut self, couple: &Couple) -> Result<(), StoreError>;

    /// The active (not dissolved) couple `user` belongs to.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn active_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError>;

    /// The most recent couple `user` belonged to, active or dissolved.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn latest_couple_of(&mut self, user: UserId) -> Result<Option<Couple>, StoreError>;

    /// A couple by id.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn couple(&mut self, id: CoupleId) -> Result<Option<Couple>, StoreError>;

    /// Stores an invite.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_invite(&mut self, invite: &Invite) -> Result<(), StoreError>;

    /// Revokes every unused, unrevoked invite of a couple; returns their ids.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn revoke_invites(
        &mut self,
        couple: CoupleId,
        at: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError>;

    /// The newest invite with this code (used, expired and revoked ones included, so the
    /// caller can say why it cannot be used).
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn invite_by_code(&mut self, code: &str) -> Result<Option<Invite>, StoreError>;

    /// Whether an unused, unrevoked invite with this code is valid at `now` (codes are unique
    /// among live invites).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn live_code_exists(&mut self, code: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Marks an invite used, only if it is unused and unrevoked (compare-and-set).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn use_invite(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Appends a change to the couple's feed with the next number of its sequence, which is
    /// advanced in this transaction (writers of one couple are serialized by it, so numbers
    /// become visible in order). Returns the number.
    ///
    /// # Errors
    /// `StoreError::Internal` when the couple does not exist or on failure.
    fn record_change(
        &mut self,
        couple: CoupleId,
        kind: EntityKind,
        entity: Uuid,
        op: ChangeOp,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    /// The couple's changes numbered after `after`, in order, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn changes_after(
        &mut self,
        couple: CoupleId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError>;

    /// The couple's changes made after `since`, in order, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn changes_since(
        &mut self,
        couple: CoupleId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError>;

    /// Stores a question.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the id exists; `StoreError::Internal` otherwise.
    fn insert_question(&mut self, question: &Question) -> Result<(), StoreError>;

    /// Replaces a question's text, theme and update time (matched by couple and id).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn update_question(&mut self, question: &Question) -> Result<(), StoreError>;

    /// Deletes a question of the couple and its answers; returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_question(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError>;

    /// A question of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn question(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Question>, StoreError>;

    /// The couple's questions, newest first, with ids before `before` (a page cursor), at
    /// most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn questions(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Question>, StoreError>;

    /// Stores an answer, or replaces the author's existing answer to the same question
    /// (keeping its id and creation time).
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn upsert_answer(&mut self, answer: &Answer) -> Result<Answer, StoreError>;

    /// Every answer to a question of the couple, oldest first.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn answers(&mut self, couple: CoupleId, question: Uuid) -> Result<Vec<Answer>, StoreError>;

    /// Deletes the couples dissolved before `cutoff`, with their invites, changes and content.
    /// Returns their ids, so that their files can be deleted too.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_dissolved_before(
        &mut self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<CoupleId>, StoreError>;

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

    /// Stores a check-in, or replaces the fields of the same user's check-in for the same day
    /// (keeping its id and creation time). Returns what is stored.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn upsert_checkin(&mut self, checkin: &CheckIn) -> Result<CheckIn, StoreError>;

    /// A check-in of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<CheckIn>, StoreError>;

    /// Deletes a check-in of the couple; returns whether it existed.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn delete_checkin(&mut self, couple: CoupleId, id: Uuid) -> Result<bool, StoreError>;

    /// The couple's check-ins with `from <= day <= to`, newest day first (then newest id),
    /// strictly after the `(day, id)` position `before` in that order, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn checkins(
        &mut self,
        couple: CoupleId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        before: Option<(NaiveDate, Uuid)>,
        limit: u32,
    ) -> Result<Vec<CheckIn>, StoreError>;

    /// The couple's letter of a month.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn letter_of_month(
        &mut self,
        couple: CoupleId,
        month: Month,
    ) -> Result<Option<Letter>, StoreError>;

    /// Stores a letter.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the couple has a letter for that month; `StoreError::Internal`
    /// otherwise.
    fn insert_letter(&mut self, letter: &Letter) -> Result<(), StoreError>;

    /// Replaces a letter's content, author and update time.
    ///
    /// # Errors
    /// `StoreError::Internal` when it does not exist or cannot be written.
    fn update_letter(&mut self, letter: &Letter) -> Result<(), StoreError>;

    /// A letter of the couple.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back.
    fn letter(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Letter>, StoreError>;

    /// The couple's letters, newest month first, with months before `before`, at most `limit`.
    ///
    /// # Errors
    /// `StoreError::Internal` when a row cannot be read back.
    fn letters(
        &mut self,
        couple: CoupleId,
        before: Option<Month>,
        limit: u32,
    ) -> Result<Vec<Letter>, StoreError>;
}
