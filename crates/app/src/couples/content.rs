//! Goals and actions, check-ins and letters: the couple's shared content beyond the Q&A.

use accueil_domain::couples::{
    ActionOwner, ChangeOp, CheckIn, Description, EntityKind, Goal, GoalAction, GoalStatus, Letter,
    LetterContent, Month, Note, Score, Title, TransitionRefused, local_day,
};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::{StoreError, StoreExt};
use chrono::NaiveDate;
use uuid::Uuid;

use super::{CouplesService, NotInCouple, Page, changed, my_couple, paged};
use crate::identity::{Patch, Principal};

/// Why a request on the couple's content failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// No couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// No such object in the caller's couple.
    #[error("not found")]
    NotFound,
    /// A goal status change the rules forbid.
    #[error(transparent)]
    Transition(#[from] TransitionRefused),
    /// Invalid input.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new goal.
#[derive(Debug, Clone)]
pub struct GoalInput {
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Target date.
    pub target_date: Option<NaiveDate>,
    /// Initial status (default `ACTIVE`).
    pub status: Option<String>,
}

/// Goal changes.
#[derive(Debug, Clone, Default)]
pub struct GoalPatch {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Patch<String>,
    /// Target date.
    pub target_date: Patch<NaiveDate>,
    /// Status (the transition rules apply).
    pub status: Option<String>,
}

/// A new action.
#[derive(Debug, Clone)]
pub struct ActionInput {
    /// Title.
    pub title: String,
    /// `A`, `B` or `BOTH` (default `BOTH`).
    pub owner: Option<String>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
}

/// Action changes.
#[derive(Debug, Clone, Default)]
pub struct ActionPatch {
    /// Title.
    pub title: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Due date.
    pub due_date: Patch<NaiveDate>,
    /// Done.
    pub done: Option<bool>,
}

/// A goal with its actions.
#[derive(Debug, Clone)]
pub struct GoalView {
    /// The goal.
    pub goal: Goal,
    /// Its actions, oldest first.
    pub actions: Vec<GoalAction>,
}

/// Today's check-in.
#[derive(Debug, Clone)]
pub struct CheckInInput {
    /// 1 to 10.
    pub mood: i64,
    /// 1 to 10.
    pub stress: i64,
    /// 1 to 10.
    pub energy: i64,
    /// Note.
    pub note: Option<String>,
}

fn status(raw: &str) -> Result<GoalStatus, FieldError> {
    GoalStatus::parse(raw)
        .ok_or_else(|| FieldError::new("status", "invalid_status", "ACTIVE, DONE or PAUSED"))
}

fn owner(raw: &str) -> Result<ActionOwner, FieldError> {
    ActionOwner::parse(raw).ok_or_else(|| FieldError::new("owner", "invalid_owner", "A, B or BOTH"))
}

fn keep<T>(r: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn missing() -> ContentError {
    ContentError::Store(StoreError::Internal("validated value missing".into()))
}

impl CouplesService {
    /// Creates a goal.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn create_goal(
        &self,
        who: &Principal,
        input: GoalInput,
    ) -> Result<GoalView, ContentError> {
        let mut errors = Vec::new();
        let title = keep(Title::parse(&input.title), &mut errors);
        let description = input
            .description
            .as_deref()
            .and_then(|d| keep(Description::parse(d), &mut errors));
        let initial = match input.status.as_deref() {
            Some(s) => keep(status(s), &mut errors),
            None => Some(GoalStatus::Active),
        };
        ValidationErrors::collect(errors)?;
        let (title, initial) = title.zip(initial).ok_or_else(missing)?;
        let now = self.now();
        let (me, id) = (who.user.id, self.ports.ids.new_id());
        self.ports
            .store
            .write(move |tx| -> Result<GoalView, ContentError> {
                let couple = my_couple(tx, me)??;
                let goal = Goal {
                    id,
                    couple_id: couple.id,
                    author: me,
                    title,
                    description,
                    target_date: input.target_date,
                    status: initial,
                    completed_at: (initial == GoalStatus::Done).then_some(now),
                    created_at: now,
                    updated_at: now,
                };
                tx.goals().insert_goal(&goal)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Goal,
                    goal.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(GoalView {
                    goal,
                    actions: Vec::new(),
                })
            })
            .await
    }

    /// The couple's goals with their actions, newest first.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn goals(
        &self,
        who: &Principal,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<GoalView>, ContentError> {
        let me = who.user.id;
        let limit = limit.clamp(1, 200);
        self.ports
            .store
            .read(move |tx| -> Result<Page<GoalView>, ContentError> {
                let couple = my_couple(tx, me)??;
                let (goals, next) =
                    paged(tx.goals().goals(couple.id, after, limit + 1)?, limit, |g| {
                        g.id
                    });
                let mut items = Vec::with_capacity(goals.len());
                for goal in goals {
                    let actions = tx.goals().actions(couple.id, goal.id)?;
                    items.push(GoalView { goal, actions });
                }
                Ok(Page { items, next })
            })
            .await
    }

    /// One goal with its actions.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn goal(&self, who: &Principal, id: Uuid) -> Result<GoalView, ContentError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<GoalView, ContentError> {
                let couple = my_couple(tx, me)??;
                let goal = tx
                    .goals()
                    .goal(couple.id, id)?
                    .ok_or(ContentError::NotFound)?;
                let actions = tx.goals().actions(couple.id, id)?;
                Ok(GoalView { goal, actions })
            })
            .await
    }

    /// Changes a goal; status changes follow the transition rules.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn edit_goal(
        &self,
        who: &Principal,
        id: Uuid,
        patch: GoalPatch,
    ) -> Result<GoalView, ContentError> {
        let mut errors = Vec::new();
        let title = patch
            .title
            .as_deref()
            .and_then(|t| keep(Title::parse(t), &mut errors));
        let description = patch
            .description
            .parse(|d| Description::parse(d), &mut errors);
        let to = patch
            .status
            .as_deref()
            .and_then(|s| keep(status(s), &mut errors));
        ValidationErrors::collect(errors)?;
        let now = self.now();
        let me = who.user.id;
        let target = patch.target_date;
        self.ports
            .store
            .write(move |tx| -> Result<GoalView, ContentError> {
                let couple = my_couple(tx, me)??;
                let mut goal = tx
                    .goals()
                    .goal(couple.id, id)?
                    .ok_or(ContentError::NotFound)?;
                if let Some(t) = title {
                    goal.title = t;
                }
                description.apply_to(&mut goal.description);
                target.apply_to(&mut goal.target_date);
                if let Some(to) = to {
                    goal.set_status(to, now)?;
                }
                goal.updated_at = now;
                tx.goals().update_goal(&goal)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Goal,
                    goal.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                let actions = tx.goals().actions(couple.id, id)?;
                Ok(GoalView { goal, actions })
            })
            .await
    }

    /// Deletes a goal and its actions.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn delete_goal(&self, who: &Principal, id: Uuid) -> Result<(), ContentError> {
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<(), ContentError> {
                let couple = my_couple(tx, me)??;
                let actions = tx
                    .goals()
                    .delete_goal(couple.id, id)?
                    .ok_or(ContentError::NotFound)?;
                for a in actions {
                    changed(
                        tx,
                        couple.id,
                        EntityKind::GoalAction,
                        a,
                        ChangeOp::Delete,
                        now,
                    )?;
                }
                changed(tx, couple.id, EntityKind::Goal, id, ChangeOp::Delete, now)?;
                Ok(())
            })
            .await
    }

    /// Adds an action to a goal.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn add_action(
        &self,
        who: &Principal,
        goal: Uuid,
        input: ActionInput,
    ) -> Result<GoalAction, ContentError> {
        let mut errors = Vec::new();
        let title = keep(Title::parse(&input.title), &mut errors);
        let who_owns = match input.owner.as_deref() {
            Some(o) => keep(owner(o), &mut errors),
            None => Some(ActionOwner::Both),
        };
        ValidationErrors::collect(errors)?;
        let (title, who_owns) = title.zip(who_owns).ok_or_else(missing)?;
        let now = self.now();
        let (me, id) = (who.user.id, self.ports.ids.new_id());
        self.ports
            .store
            .write(move |tx| -> Result<GoalAction, ContentError> {
                let couple = my_couple(tx, me)??;
                tx.goals()
                    .goal(couple.id, goal)?
                    .ok_or(ContentError::NotFound)?;
                let action = GoalAction {
                    id,
                    goal_id: goal,
                    couple_id: couple.id,
                    title,
                    owner: who_owns,
                    due_date: input.due_date,
                    done: false,
                    completed_at: None,
                    created_at: now,
                    updated_at: now,
                };
                tx.goals().insert_action(&action)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::GoalAction,
                    action.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(action)
            })
            .await
    }

    /// A goal's actions.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn actions(
        &self,
        who: &Principal,
        goal: Uuid,
    ) -> Result<Vec<GoalAction>, ContentError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<Vec<GoalAction>, ContentError> {
                let couple = my_couple(tx, me)??;
                tx.goals()
                    .goal(couple.id, goal)?
                    .ok_or(ContentError::NotFound)?;
                Ok(tx.goals().actions(couple.id, goal)?)
            })
            .await
    }

    /// Changes an action (marking it done sets `completed_at`).
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn edit_action(
        &self,
        who: &Principal,
        goal: Uuid,
        id: Uuid,
        patch: ActionPatch,
    ) -> Result<GoalAction, ContentError> {
        let mut errors = Vec::new();
        let title = patch
            .title
            .as_deref()
            .and_then(|t| keep(Title::parse(t), &mut errors));
        let new_owner = patch
            .owner
            .as_deref()
            .and_then(|o| keep(owner(o), &mut errors));
        ValidationErrors::collect(errors)?;
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<GoalAction, ContentError> {
                let couple = my_couple(tx, me)??;
                let mut action = tx
                    .goals()
                    .action(couple.id, goal, id)?
                    .ok_or(ContentError::NotFound)?;
                if let Some(t) = title {
                    action.title = t;
                }
                if let Some(o) = new_owner {
                    action.owner = o;
                }
                patch.due_date.apply_to(&mut action.due_date);
                if let Some(done) = patch.done {
                    action.set_done(done, now);
                }
                action.updated_at = now;
                tx.goals().update_action(&action)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::GoalAction,
                    action.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(action)
            })
            .await
    }

    /// Deletes an action.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn delete_action(
        &self,
        who: &Principal,
        goal: Uuid,
        id: Uuid,
    ) -> Result<(), ContentError> {
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<(), ContentError> {
                let couple = my_couple(tx, me)??;
                if !tx.goals().delete_action(couple.id, goal, id)? {
                    return Err(ContentError::NotFound);
                }
                changed(
                    tx,
                    couple.id,
                    EntityKind::GoalAction,
                    id,
                    ChangeOp::Delete,
                    now,
                )?;
                Ok(())
            })
            .await
    }

    /// Records the caller's check-in for today (their local day, in their time zone); posting
    /// again the same day updates it.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn check_in(
        &self,
        who: &Principal,
        input: CheckInInput,
    ) -> Result<CheckIn, ContentError> {
        let mut errors = Vec::new();
        let mood = keep(Score::parse("mood", input.mood), &mut errors);
        let stress = keep(Score::parse("stress", input.stress), &mut errors);
        let energy = keep(Score::parse("energy", input.energy), &mut errors);
        let note = input
            .note
            .as_deref()
            .and_then(|n| keep(Note::parse(n), &mut errors));
        ValidationErrors::collect(errors)?;
        let ((mood, stress), energy) = mood.zip(stress).zip(energy).ok_or_else(missing)?;
        let now = self.now();
        let day = local_day(now, who.user.time_zone.as_ref());
        let (me, id) = (who.user.id, self.ports.ids.new_id());
        self.ports
            .store
            .write(move |tx| -> Result<CheckIn, ContentError> {
                let couple = my_couple(tx, me)??;
                let stored = tx.checkins().upsert_checkin(&CheckIn {
                    id,
                    couple_id: couple.id,
                    user_id: me,
                    day,
                    mood,
                    stress,
                    energy,
                    note,
                    created_at: now,
                    updated_at: now,
                })?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::CheckIn,
                    stored.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(stored)
            })
            .await
    }

    /// Both partners' check-ins between two days (inclusive), newest first.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn checkins(
        &self,
        who: &Principal,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        after: Option<(NaiveDate, Uuid)>,
        limit: u32,
    ) -> Result<(Vec<CheckIn>, Option<(NaiveDate, Uuid)>), ContentError> {
        let me = who.user.id;
        let limit = limit.clamp(1, 200);
        self.ports
            .store
            .read(move |tx| -> Result<_, ContentError> {
                let couple = my_couple(tx, me)??;
                let (items, next) = paged(
                    tx.checkins()
                        .checkins(couple.id, from, to, after, limit + 1)?,
                    limit,
                    |c| (c.day, c.id),
                );
                Ok((items, next))
            })
            .await
    }

    /// One check-in of the couple.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn checkin(&self, who: &Principal, id: Uuid) -> Result<CheckIn, ContentError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<CheckIn, ContentError> {
                let couple = my_couple(tx, me)??;
                tx.checkins()
                    .checkin(couple.id, id)?
                    .ok_or(ContentError::NotFound)
            })
            .await
    }

    /// Deletes one of the caller's own check-ins (a partner's is not the caller's to delete:
    /// it answers 404 like any object the caller may not change).
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn delete_checkin(&self, who: &Principal, id: Uuid) -> Result<(), ContentError> {
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<(), ContentError> {
                let couple = my_couple(tx, me)??;
                let c = tx
                    .checkins()
                    .checkin(couple.id, id)?
                    .ok_or(ContentError::NotFound)?;
                if c.user_id != me {
                    return Err(ContentError::NotFound);
                }
                tx.checkins().delete_checkin(couple.id, id)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::CheckIn,
                    id,
                    ChangeOp::Delete,
                    now,
                )?;
                Ok(())
            })
            .await
    }

    /// Writes the couple's letter of a month: created the first time, updated after.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn write_letter(
        &self,
        who: &Principal,
        month: &str,
        content: &str,
    ) -> Result<Letter, ContentError> {
        let mut errors = Vec::new();
        let month = keep(Month::parse("month", month), &mut errors);
        let content = keep(LetterContent::parse(content), &mut errors);
        ValidationErrors::collect(errors)?;
        let (month, content) = month.zip(content).ok_or_else(missing)?;
        let now = self.now();
        let (me, id) = (who.user.id, self.ports.ids.new_id());
        self.ports
            .store
            .write(move |tx| -> Result<Letter, ContentError> {
                let couple = my_couple(tx, me)??;
                let letter = match tx.letters().letter_of_month(couple.id, month)? {
                    Some(mut existing) => {
                        existing.content = content;
                        existing.last_author = me;
                        existing.updated_at = now;
                        tx.letters().update_letter(&existing)?;
                        existing
                    }
                    None => {
                        let letter = Letter {
                            id,
                            couple_id: couple.id,
                            month,
                            content,
                            last_author: me,
                            created_at: now,
                            updated_at: now,
                        };
                        tx.letters().insert_letter(&letter)?;
                        letter
                    }
                };
                changed(
                    tx,
                    couple.id,
                    EntityKind::Letter,
                    letter.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(letter)
            })
            .await
    }

    /// The couple's letters, newest month first; with `month`, that month's only.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn letters(
        &self,
        who: &Principal,
        month: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<Letter>, Option<Month>), ContentError> {
        let mut errors = Vec::new();
        let month = month.and_then(|m| keep(Month::parse("month", m), &mut errors));
        let after = after.and_then(|m| keep(Month::parse("cursor", m), &mut errors));
        ValidationErrors::collect(errors)?;
        let me = who.user.id;
        let limit = limit.clamp(1, 200);
        self.ports
            .store
            .read(move |tx| -> Result<_, ContentError> {
                let couple = my_couple(tx, me)??;
                if let Some(m) = month {
                    return Ok((
                        tx.letters()
                            .letter_of_month(couple.id, m)?
                            .into_iter()
                            .collect(),
                        None,
                    ));
                }
                let (items, next) = paged(
                    tx.letters().letters(couple.id, after, limit + 1)?,
                    limit,
                    |l| l.month,
                );
                Ok((items, next))
            })
            .await
    }

    /// One letter of the couple.
    ///
    /// # Errors
    /// See [`ContentError`].
    pub async fn letter(&self, who: &Principal, id: Uuid) -> Result<Letter, ContentError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<Letter, ContentError> {
                let couple = my_couple(tx, me)??;
                tx.letters()
                    .letter(couple.id, id)?
                    .ok_or(ContentError::NotFound)
            })
            .await
    }
}
