//! Goals and their actions in SQL.

use std::collections::HashMap;

use crate::one::OneRow;
use accueil_domain::couples::{
    ActionCounts, ActionOwner, CoupleId, Description, Goal, GoalAction, GoalStatus, Title,
};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::couples::GoalsRepo;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{goal_actions, goals};
use crate::tx::{DieselTx, all, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = goals, treat_none_as_null = true)]
struct GoalRow {
    id: String,
    couple_id: String,
    author_id: String,
    title: String,
    description: Option<String>,
    target_date: Option<NaiveDate>,
    status: String,
    completed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Goal> for GoalRow {
    fn from(g: &Goal) -> Self {
        Self {
            id: g.id.to_string(),
            couple_id: g.couple_id.to_string(),
            author_id: g.author.to_string(),
            title: g.title.as_str().to_owned(),
            description: g.description.as_ref().map(|d| d.as_str().to_owned()),
            target_date: g.target_date,
            status: g.status.as_str().to_owned(),
            completed_at: g.completed_at.map(naive),
            created_at: naive(g.created_at),
            updated_at: naive(g.updated_at),
        }
    }
}

impl TryFrom<GoalRow> for Goal {
    type Error = StoreError;
    fn try_from(r: GoalRow) -> Result<Self, StoreError> {
        Ok(Goal {
            id: uuid(&r.id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            author: UserId(uuid(&r.author_id)?),
            title: Title::from_trusted(r.title),
            description: r.description.map(Description::from_trusted),
            target_date: r.target_date,
            status: GoalStatus::parse(&r.status).ok_or_else(|| {
                StoreError::Internal(format!("unknown goal status {:?}", r.status))
            })?,
            completed_at: r.completed_at.map(utc),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = goal_actions, treat_none_as_null = true)]
struct ActionRow {
    id: String,
    goal_id: String,
    couple_id: String,
    title: String,
    owner: String,
    due_date: Option<NaiveDate>,
    done: bool,
    completed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&GoalAction> for ActionRow {
    fn from(a: &GoalAction) -> Self {
        Self {
            id: a.id.to_string(),
            goal_id: a.goal_id.to_string(),
            couple_id: a.couple_id.to_string(),
            title: a.title.as_str().to_owned(),
            owner: a.owner.as_str().to_owned(),
            due_date: a.due_date,
            done: a.done,
            completed_at: a.completed_at.map(naive),
            created_at: naive(a.created_at),
            updated_at: naive(a.updated_at),
        }
    }
}

impl TryFrom<ActionRow> for GoalAction {
    type Error = StoreError;
    fn try_from(r: ActionRow) -> Result<Self, StoreError> {
        Ok(GoalAction {
            id: uuid(&r.id)?,
            goal_id: uuid(&r.goal_id)?,
            couple_id: CoupleId(uuid(&r.couple_id)?),
            title: Title::from_trusted(r.title),
            owner: ActionOwner::parse(&r.owner).ok_or_else(|| {
                StoreError::Internal(format!("unknown action owner {:?}", r.owner))
            })?,
            due_date: r.due_date,
            done: r.done,
            completed_at: r.completed_at.map(utc),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

impl GoalsRepo for DieselTx<'_> {
    fn insert_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(goals::table)
            .values(GoalRow::from(goal))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_goal(&mut self, goal: &Goal) -> Result<(), StoreError> {
        self.writable()?;
        let row = GoalRow::from(goal);
        let n = diesel::update(
            goals::table
                .find(&row.id)
                .filter(goals::couple_id.eq(&row.couple_id)),
        )
        .set(&row)
        .execute(self.conn)
        .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such goal".into()))
        }
    }

    fn delete_goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Vec<Uuid>>, StoreError> {
        self.writable()?;
        if self.goal(couple, id)?.is_none() {
            return Ok(None);
        }
        let ids: Vec<String> = goal_actions::table
            .filter(goal_actions::goal_id.eq(id.to_string()))
            .order(goal_actions::id.asc())
            .select(goal_actions::id)
            .load(self.conn)
            .map_err(store_error)?;
        diesel::delete(goal_actions::table.filter(goal_actions::goal_id.eq(id.to_string())))
            .execute(self.conn)
            .map_err(store_error)?;
        diesel::delete(goals::table.find(id.to_string()))
            .execute(self.conn)
            .map_err(store_error)?;
        ids.iter()
            .map(|s| uuid(s))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn goal(&mut self, couple: CoupleId, id: Uuid) -> Result<Option<Goal>, StoreError> {
        goals::table
            .find(id.to_string())
            .filter(goals::couple_id.eq(couple.to_string()))
            .select(GoalRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Goal::try_from)
            .transpose()
    }

    fn goals(
        &mut self,
        couple: CoupleId,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Goal>, StoreError> {
        let mut q = goals::table
            .filter(goals::couple_id.eq(couple.to_string()))
            .order(goals::id.desc())
            .limit(i64::from(limit))
            .select(GoalRow::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(goals::id.lt(b.to_string()));
        }
        all(q.load(self.conn).map_err(store_error)?)
    }

    fn insert_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(goal_actions::table)
            .values(ActionRow::from(action))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_action(&mut self, action: &GoalAction) -> Result<(), StoreError> {
        self.writable()?;
        let row = ActionRow::from(action);
        let n = diesel::update(
            goal_actions::table
                .find(&row.id)
                .filter(goal_actions::couple_id.eq(&row.couple_id))
                .filter(goal_actions::goal_id.eq(&row.goal_id)),
        )
        .set(&row)
        .execute(self.conn)
        .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Internal("no such action".into()))
        }
    }

    fn delete_action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::delete(
            goal_actions::table
                .find(id.to_string())
                .filter(goal_actions::couple_id.eq(couple.to_string()))
                .filter(goal_actions::goal_id.eq(goal.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn action(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        id: Uuid,
    ) -> Result<Option<GoalAction>, StoreError> {
        goal_actions::table
            .find(id.to_string())
            .filter(goal_actions::couple_id.eq(couple.to_string()))
            .filter(goal_actions::goal_id.eq(goal.to_string()))
            .select(ActionRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(GoalAction::try_from)
            .transpose()
    }

    fn actions(&mut self, couple: CoupleId, goal: Uuid) -> Result<Vec<GoalAction>, StoreError> {
        let rows = goal_actions::table
            .filter(goal_actions::couple_id.eq(couple.to_string()))
            .filter(goal_actions::goal_id.eq(goal.to_string()))
            .order(goal_actions::id.asc())
            .select(ActionRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        all(rows)
    }

    fn action_page(
        &mut self,
        couple: CoupleId,
        goal: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<GoalAction>, StoreError> {
        let mut q = goal_actions::table
            .filter(goal_actions::couple_id.eq(couple.to_string()))
            .filter(goal_actions::goal_id.eq(goal.to_string()))
            .order(goal_actions::id.asc())
            .limit(i64::from(limit))
            .select(ActionRow::as_select())
            .into_boxed();
        if let Some(a) = after {
            q = q.filter(goal_actions::id.gt(a.to_string()));
        }
        all(q.load(self.conn).map_err(store_error)?)
    }

    fn action_counts(
        &mut self,
        couple: CoupleId,
        goals: &[Uuid],
    ) -> Result<HashMap<Uuid, ActionCounts>, StoreError> {
        use diesel::dsl::{count_star, sql};
        use diesel::sql_types::BigInt;
        if goals.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = goals.iter().map(Uuid::to_string).collect();
        // One grouped read for a whole page of goals. `done` is a boolean on PostgreSQL and
        // 0/1 on SQLite: `CASE WHEN done` reads both.
        let rows: Vec<(String, i64, i64)> = goal_actions::table
            .filter(goal_actions::couple_id.eq(couple.to_string()))
            .filter(goal_actions::goal_id.eq_any(&ids))
            .group_by(goal_actions::goal_id)
            .select((
                goal_actions::goal_id,
                count_star(),
                sql::<BigInt>("COALESCE(SUM(CASE WHEN done THEN 1 ELSE 0 END), 0)"),
            ))
            .load(self.conn)
            .map_err(store_error)?;
        let count = |n: i64| {
            u32::try_from(n).map_err(|_| StoreError::Internal(format!("action count {n}")))
        };
        rows.into_iter()
            .map(|(goal, total, done)| {
                Ok((
                    uuid(&goal)?,
                    ActionCounts {
                        total: count(total)?,
                        done: count(done)?,
                    },
                ))
            })
            .collect()
    }
}
