//! Goals and their actions in memory.

use std::collections::HashMap;

use accueil_domain::couples::{ActionCounts, CoupleId, Goal, GoalAction};
use accueil_ports::StoreError;
use accueil_ports::couples::GoalsRepo;
use uuid::Uuid;

use crate::MemTx;

impl GoalsRepo for MemTx<'_> {
    fn insert_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.goals.contains_key(&goal.id) {
            return Err(StoreError::Conflict("goals.id".into()));
        }
        self.state.goals.insert(goal.id, goal.clone());
        Ok(())
    }

    fn update_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.goals.get_mut(&goal.id) {
            Some(g) if g.couple_id == goal.couple_id => {
                *g = goal.clone();
                Ok(())
            }
            _ => Err(StoreError::Internal("no such goal".into())),
        }
    }

    fn delete_goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Vec<Uuid>>, StoreError> {
        self.writable()?;
        if self
            .state
            .goals
            .get(&id)
            .is_none_or(|g| g.couple_id != couple)
        {
            return Ok(None);
        }
        self.state.goals.remove(&id);
        let mut gone: Vec<Uuid> = self
            .state
            .actions
            .values()
            .filter(|a| a.goal_id == id)
            .map(|a| a.id)
            .collect();
        gone.sort();
        self.state.actions.retain(|_, a| a.goal_id != id);
        Ok(Some(gone))
    }

    fn goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Goal>, StoreError> {
        Ok(self
            .state
            .goals
            .get(&id)
            .filter(|g| g.couple_id == couple)
            .cloned())
    }

    fn goals(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Goal>, StoreError> {
        let mut all: Vec<Goal> = self
            .state
            .goals
            .values()
            .filter(|g| g.couple_id == couple && before.is_none_or(|b| g.id < b))
            .cloned()
            .collect();
        all.sort_by_key(|g| std::cmp::Reverse(g.id));
        all.truncate(limit as usize);
        Ok(all)
    }

    fn insert_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        if self
            .state
            .goals
            .get(&action.goal_id)
            .is_none_or(|g| g.couple_id != action.couple_id)
        {
            return Err(StoreError::Internal("action of an unknown goal".into()));
        }
        if self.state.actions.contains_key(&action.id) {
            return Err(StoreError::Conflict("goal_actions.id".into()));
        }
        self.state.actions.insert(action.id, action.clone());
        Ok(())
    }

    fn update_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        match self.state.actions.get_mut(&action.id) {
            Some(a) if a.couple_id == action.couple_id && a.goal_id == action.goal_id => {
                *a = action.clone();
                Ok(())
            }
            _ => Err(StoreError::Internal("no such action".into())),
        }
    }

    fn delete_action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.actions.get(&id) {
            Some(a) if a.couple_id == couple && a.goal_id == goal => {
                self.state.actions.remove(&id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<Option<GoalAction>, StoreError> {
        Ok(self
            .state
            .actions
            .get(&id)
            .filter(|a| a.couple_id == couple && a.goal_id == goal)
            .cloned())
    }

    fn actions(&mut self, couple: CoupleId, goal: Uuid) -> Result<Vec<GoalAction>, StoreError> {
        let mut all: Vec<GoalAction> = self
            .state
            .actions
            .values()
            .filter(|a| a.couple_id == couple && a.goal_id == goal)
            .cloned()
            .collect();
        all.sort_by_key(|a| a.id);
        Ok(all)
    }

    fn action_page(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<GoalAction>, StoreError> {
        let mut page = self.actions(couple, goal)?;
        page.retain(|a| after.is_none_or(|x| a.id > x));
        page.truncate(limit as usize);
        Ok(page)
    }

    fn action_counts(
        &mut self,
        couple: CoupleId,
        goals: &[Uuid],
    ) -> Result<HashMap<Uuid, ActionCounts>, StoreError> {
        let mut counts: HashMap<Uuid, ActionCounts> = HashMap::new();
        for a in self
            .state
            .actions
            .values()
            .filter(|a| a.couple_id == couple && goals.contains(&a.goal_id))
        {
            let c = counts.entry(a.goal_id).or_default();
            c.total += 1;
            c.done += u32::from(a.done);
        }
        Ok(counts)
    }
}
