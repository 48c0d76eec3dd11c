//! Goals and their actions (to-dos), with the status transitions a goal may take.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::CoupleId;
use crate::identity::UserId;
use crate::validation::{FieldError, Fields, Patch, ValidationErrors};

use crate::validation::bounded_text as text;

/// A title: 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `title`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        text("title", raw, 200).map(Self)
    }
    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A description: 1 to 5,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `description`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        text("description", raw, 5000).map(Self)
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// Where a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoalStatus {
    /// Being worked on.
    Active,
    /// Reached.
    Done,
    /// Set aside for now.
    Paused,
}

impl GoalStatus {
    /// The stable name (`ACTIVE`, `DONE`, `PAUSED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Done => "DONE",
            Self::Paused => "PAUSED",
        }
    }

    /// Parses a name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ACTIVE" => Some(Self::Active),
            "DONE" => Some(Self::Done),
            "PAUSED" => Some(Self::Paused),
            _ => None,
        }
    }

    /// Whether a goal may go from `self` to `to`. Every status may stay as it is; the changes:
    ///
    /// | from \ to | `ACTIVE` | `PAUSED` | `DONE` |
    /// |---|---|---|---|
    /// | `ACTIVE` | yes | yes | yes |
    /// | `PAUSED` | yes (resume) | yes | yes (finished while set aside, as the seed allowed) |
    /// | `DONE` | yes (reopen) | no (reopen first) | yes |
    ///
    /// A finished goal is reopened as `ACTIVE` before it can be paused: pausing something done
    /// means nothing.
    pub fn can_become(self, to: Self) -> bool {
        use GoalStatus::{Active, Done, Paused};
        self == to
            || matches!(
                (self, to),
                (Active, Done | Paused) | (Paused, Active | Done) | (Done, Active)
            )
    }
}

/// How many actions a goal has, and how many of them are done: what a goal's answer carries
/// instead of the actions themselves (those are listed page by page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounts {
    /// All actions of the goal.
    pub total: u32,
    /// Those marked done.
    pub done: u32,
}

impl ActionCounts {
    /// The counts of these actions.
    pub fn of<'a>(actions: impl IntoIterator<Item = &'a GoalAction>) -> Self {
        actions.into_iter().fold(Self::default(), |c, a| Self {
            total: c.total + 1,
            done: c.done + u32::from(a.done),
        })
    }
}

/// A goal of the couple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// Id.
    pub id: Uuid,
    /// The couple.
    pub couple_id: CoupleId,
    /// Who created it.
    pub author: UserId,
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Option<Description>,
    /// Target date.
    pub target_date: Option<NaiveDate>,
    /// Status.
    pub status: GoalStatus,
    /// When it was last marked done.
    pub completed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A refused status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a goal cannot go from {} to {}", .from.as_str(), .to.as_str())]
pub struct TransitionRefused {
    /// Current status.
    pub from: GoalStatus,
    /// Requested status.
    pub to: GoalStatus,
}

impl Goal {
    /// Moves the goal to `to` at `now`, if allowed.
    ///
    /// # Errors
    /// [`TransitionRefused`] for a transition the rules forbid.
    pub fn set_status(
        &mut self,
        to: GoalStatus,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionRefused> {
        if !self.status.can_become(to) {
            return Err(TransitionRefused {
                from: self.status,
                to,
            });
        }
        if to != self.status {
            self.completed_at = (to == GoalStatus::Done).then_some(now);
            self.status = to;
        }
        Ok(())
    }
}

/// Whose action it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionOwner {
    /// Partner A.
    A,
    /// Partner B.
    B,
    /// Both.
    Both,
}

impl ActionOwner {
    /// The stable name (`A`, `B`, `BOTH`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::Both => "BOTH",
        }
    }

    /// Parses a name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" => Some(Self::A),
            "B" => Some(Self::B),
            "BOTH" => Some(Self::Both),
            _ => None,
        }
    }
}

/// An action (to-do) under a goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalAction {
    /// Id.
    pub id: Uuid,
    /// The goal.
    pub goal_id: Uuid,
    /// The couple.
    pub couple_id: CoupleId,
    /// Title.
    pub title: Title,
    /// Whose.
    pub owner: ActionOwner,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Done?
    pub done: bool,
    /// When it was done.
    pub completed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl GoalAction {
    /// Marks the action done or not done at `now`; `completed_at` follows.
    pub fn set_done(&mut self, done: bool, now: DateTime<Utc>) {
        if done != self.done {
            self.done = done;
            self.completed_at = done.then_some(now);
        }
    }
}

impl GoalStatus {
    /// Reads a status field.
    ///
    /// # Errors
    /// `status` `invalid_status`.
    pub fn parse_field(raw: &str) -> Result<Self, FieldError> {
        Self::parse(raw)
            .ok_or_else(|| FieldError::new("status", "invalid_status", "ACTIVE, DONE or PAUSED"))
    }
}

impl ActionOwner {
    /// Reads an owner field.
    ///
    /// # Errors
    /// `owner` `invalid_owner`.
    pub fn parse_field(raw: &str) -> Result<Self, FieldError> {
        Self::parse(raw).ok_or_else(|| FieldError::new("owner", "invalid_owner", "A, B or BOTH"))
    }
}

/// A goal to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGoal {
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Option<Description>,
    /// Target date.
    pub target_date: Option<NaiveDate>,
    /// Initial status.
    pub status: GoalStatus,
}

impl NewGoal {
    /// Checks every field (the status defaults to `ACTIVE`).
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        title: &str,
        description: Option<&str>,
        target_date: Option<NaiveDate>,
        status: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let (title, description, status) = (
            Title::parse(title),
            description.map(Description::parse).transpose(),
            status.map_or(Ok(GoalStatus::Active), GoalStatus::parse_field),
        )
            .all()?;
        Ok(Self {
            title,
            description,
            target_date,
            status,
        })
    }
}

/// Changes to a goal, checked; a status change follows the transition rules when applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoalChanges {
    /// Title.
    pub title: Option<Title>,
    /// Description.
    pub description: Patch<Description>,
    /// Target date.
    pub target_date: Patch<NaiveDate>,
    /// Status.
    pub status: Option<GoalStatus>,
}

impl GoalChanges {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        title: Option<&str>,
        description: Patch<String>,
        target_date: Patch<NaiveDate>,
        status: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let (title, description, status) = (
            title.map(Title::parse).transpose(),
            description.try_map(|d| Description::parse(&d)),
            status.map(GoalStatus::parse_field).transpose(),
        )
            .all()?;
        Ok(Self {
            title,
            description,
            target_date,
            status,
        })
    }

    /// Applies the changes to `goal` at `now`.
    ///
    /// # Errors
    /// [`TransitionRefused`] when the status change is not allowed (nothing is changed).
    pub fn apply_to(self, goal: &mut Goal, now: DateTime<Utc>) -> Result<(), TransitionRefused> {
        if let Some(to) = self.status {
            goal.set_status(to, now)?;
        }
        if let Some(t) = self.title {
            goal.title = t;
        }
        self.description.apply_to(&mut goal.description);
        self.target_date.apply_to(&mut goal.target_date);
        goal.updated_at = now;
        Ok(())
    }
}

/// An action to add, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    /// Title.
    pub title: Title,
    /// Whose it is.
    pub owner: ActionOwner,
    /// Due date.
    pub due_date: Option<NaiveDate>,
}

impl NewAction {
    /// Checks every field (the owner defaults to `BOTH`).
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        title: &str,
        owner: Option<&str>,
        due_date: Option<NaiveDate>,
    ) -> Result<Self, ValidationErrors> {
        let (title, owner) = (
            Title::parse(title),
            owner.map_or(Ok(ActionOwner::Both), ActionOwner::parse_field),
        )
            .all()?;
        Ok(Self {
            title,
            owner,
            due_date,
        })
    }
}

/// Changes to an action, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionChanges {
    /// Title.
    pub title: Option<Title>,
    /// Owner.
    pub owner: Option<ActionOwner>,
    /// Due date.
    pub due_date: Patch<NaiveDate>,
    /// Done (marking it done sets `completed_at`).
    pub done: Option<bool>,
}

impl ActionChanges {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        title: Option<&str>,
        owner: Option<&str>,
        due_date: Patch<NaiveDate>,
        done: Option<bool>,
    ) -> Result<Self, ValidationErrors> {
        let (title, owner) = (
            title.map(Title::parse).transpose(),
            owner.map(ActionOwner::parse_field).transpose(),
        )
            .all()?;
        Ok(Self {
            title,
            owner,
            due_date,
            done,
        })
    }

    /// Applies the changes to `action` at `now`.
    pub fn apply_to(self, action: &mut GoalAction, now: DateTime<Utc>) {
        if let Some(t) = self.title {
            action.title = t;
        }
        if let Some(o) = self.owner {
            action.owner = o;
        }
        self.due_date.apply_to(&mut action.due_date);
        if let Some(done) = self.done {
            action.set_done(done, now);
        }
        action.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GoalStatus::{Active, Done, Paused};

    #[test]
    fn transitions() {
        // Every (from, to) pair, as the table on `can_become` says.
        for (from, to, ok) in [
            (Active, Active, true),
            (Active, Paused, true),
            (Active, Done, true),
            (Paused, Active, true),
            (Paused, Paused, true),
            (Paused, Done, true),
            (Done, Active, true),
            (Done, Paused, false),
            (Done, Done, true),
        ] {
            assert_eq!(from.can_become(to), ok, "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn a_paused_goal_can_be_completed() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut g = goal(Paused, t0);
        g.set_status(Done, t0 + chrono::Duration::seconds(1))
            .unwrap();
        assert_eq!(g.status, Done);
        assert_eq!(g.completed_at, Some(t0 + chrono::Duration::seconds(1)));
    }

    #[test]
    fn counts_of_actions() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let action = |done| GoalAction {
            id: Uuid::nil(),
            goal_id: Uuid::nil(),
            couple_id: CoupleId(Uuid::nil()),
            title: Title::parse("x").unwrap(),
            owner: ActionOwner::Both,
            due_date: None,
            done,
            completed_at: None,
            created_at: t0,
            updated_at: t0,
        };
        assert_eq!(ActionCounts::of(&[]), ActionCounts::default());
        assert_eq!(
            ActionCounts::of(&[action(true), action(false), action(true)]),
            ActionCounts { total: 3, done: 2 }
        );
    }

    fn goal(status: GoalStatus, t0: DateTime<Utc>) -> Goal {
        Goal {
            id: Uuid::nil(),
            couple_id: CoupleId(Uuid::nil()),
            author: UserId(Uuid::nil()),
            title: Title::parse("Run a marathon").unwrap(),
            description: None,
            target_date: None,
            status,
            completed_at: None,
            created_at: t0,
            updated_at: t0,
        }
    }

    #[test]
    fn completion_time_follows_the_status() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut g = goal(Active, t0);
        g.set_status(Done, t0).unwrap();
        assert_eq!(g.completed_at, Some(t0));
        assert_eq!(
            g.set_status(Paused, t0),
            Err(TransitionRefused {
                from: Done,
                to: Paused
            })
        );
        g.set_status(Active, t0).unwrap();
        assert_eq!(g.completed_at, None);
    }

    #[test]
    fn names() {
        assert_eq!(GoalStatus::parse("paused"), Some(Paused));
        assert_eq!(ActionOwner::parse("both"), Some(ActionOwner::Both));
        assert_eq!(ActionOwner::parse("C"), None);
        assert_eq!(Title::parse(" ").unwrap_err().code, "required");
    }
}
