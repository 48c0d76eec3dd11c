//! A tenant's agent profiles in SQL, on the view bound to it: the profile's row, and its
//! queues in `agent_queues` in the order given.

use std::collections::HashMap;

use accueil_domain::identity::UserId;
use accueil_domain::queues::{AgentProfile, AgentStatus};
use accueil_ports::StoreError;
use accueil_ports::queues::AgentsRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::corrupt;
use crate::one::OneRow;
use crate::schema::{agent_profiles as ap, agent_queues as aq};
use crate::tx::{TenantView, naive, store_error, utc, uuid};

type ProfileRow = (String, String, Option<String>, NaiveDateTime);

impl TenantView<'_> {
    /// The bound tenant's profiles, `user` alone when given, with their queues.
    fn load_agents(&mut self, user: Option<UserId>) -> Result<Vec<AgentProfile>, StoreError> {
        self.bind()?;
        let tenant = self.tenant.to_string();
        let who = user.map(|u| u.to_string());
        let mut profiles = ap::table
            .filter(ap::tenant_id.eq(&tenant))
            .order(ap::user_id.asc())
            .select((ap::user_id, ap::status, ap::counter_id, ap::updated_at))
            .into_boxed();
        let mut queues = aq::table
            .filter(aq::tenant_id.eq(&tenant))
            .order((aq::user_id.asc(), aq::position.asc()))
            .select((aq::user_id, aq::queue_id))
            .into_boxed();
        if let Some(who) = &who {
            profiles = profiles.filter(ap::user_id.eq(who.clone()));
            queues = queues.filter(aq::user_id.eq(who.clone()));
        }
        let rows: Vec<ProfileRow> = profiles.load(self.conn).map_err(store_error)?;
        let links: Vec<(String, String)> = queues.load(self.conn).map_err(store_error)?;
        let mut served: HashMap<String, Vec<Uuid>> = HashMap::new();
        for (user, queue) in links {
            served.entry(user).or_default().push(uuid(&queue)?);
        }
        rows.into_iter()
            .map(|(user, status, counter, at)| {
                Ok(AgentProfile {
                    user: UserId(uuid(&user)?),
                    status: AgentStatus::parse(&status)
                        .ok_or_else(|| corrupt("agent status", &status))?,
                    counter_id: counter.as_deref().map(uuid).transpose()?,
                    queue_ids: served.remove(&user).unwrap_or_default(),
                    updated_at: Some(utc(at)),
                })
            })
            .collect()
    }
}

impl AgentsRepo for TenantView<'_> {
    fn agents(&mut self) -> Result<Vec<AgentProfile>, StoreError> {
        self.load_agents(None)
    }

    fn agent(&mut self, user: UserId) -> Result<Option<AgentProfile>, StoreError> {
        Ok(self.load_agents(Some(user))?.pop())
    }

    fn presence(
        &mut self,
        user: UserId,
    ) -> Result<Option<(AgentStatus, Option<Uuid>)>, StoreError> {
        self.bind()?;
        let row: Option<(String, Option<String>)> = ap::table
            .filter(ap::tenant_id.eq(self.tenant.to_string()))
            .filter(ap::user_id.eq(user.to_string()))
            .select((ap::status, ap::counter_id))
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        row.map(|(status, counter)| {
            Ok((
                AgentStatus::parse(&status).ok_or_else(|| corrupt("agent status", &status))?,
                counter.as_deref().map(uuid).transpose()?,
            ))
        })
        .transpose()
    }

    fn set_status(
        &mut self,
        user: UserId,
        status: AgentStatus,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        self.bind()?;
        let n = diesel::update(
            ap::table
                .filter(ap::tenant_id.eq(self.tenant.to_string()))
                .filter(ap::user_id.eq(user.to_string())),
        )
        .set((ap::status.eq(status.as_str()), ap::updated_at.eq(naive(at))))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n > 0)
    }

    fn save_agent(&mut self, p: &AgentProfile) -> Result<(), StoreError> {
        self.writable()?;
        self.bind()?;
        let (tenant, user) = (self.tenant.to_string(), p.user.to_string());
        let at = naive(p.updated_at.unwrap_or_default());
        let counter = p.counter_id.map(|c| c.to_string());
        let changed = diesel::update(
            ap::table
                .filter(ap::tenant_id.eq(&tenant))
                .filter(ap::user_id.eq(&user)),
        )
        .set((
            ap::status.eq(p.status.as_str()),
            ap::counter_id.eq(&counter),
            ap::updated_at.eq(at),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        if changed == 0 {
            diesel::insert_into(ap::table)
                .values((
                    ap::tenant_id.eq(&tenant),
                    ap::user_id.eq(&user),
                    ap::status.eq(p.status.as_str()),
                    ap::counter_id.eq(&counter),
                    ap::updated_at.eq(at),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
        }
        diesel::delete(
            aq::table
                .filter(aq::tenant_id.eq(&tenant))
                .filter(aq::user_id.eq(&user)),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        // One row at a time: the multi-backend connection has no batch insert (at most
        // `MAX_AGENT_QUEUES` rows).
        for (queue, position) in p.queue_ids.iter().zip(0..) {
            diesel::insert_into(aq::table)
                .values((
                    aq::tenant_id.eq(&tenant),
                    aq::user_id.eq(&user),
                    aq::queue_id.eq(queue.to_string()),
                    aq::position.eq::<i32>(position),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
        }
        Ok(())
    }
}
