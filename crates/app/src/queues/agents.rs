//! Agent profiles: each member's own (`GET` with `tenant:read`, changed with
//! `tickets:serve`), everyone's for managers (`agents:read`, changed with `agents:manage`).
//!
//! The counter and queues a profile names are looked up through the tenant's view, so another
//! tenant's are "not found" on their field (422).

use accueil_domain::identity::UserId;
use accueil_domain::queues::{AgentChanges, AgentProfile, Member, Scope};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::StoreError;

use super::{InTenantError, QueuesService, Requires};
use crate::identity::Caller;
use crate::scope::{NotFound, TenantCx, TenantDenied};

/// A member and their agent profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The member.
    pub member: Member,
    /// Their profile (`OFFLINE`, nowhere, when never set).
    pub profile: AgentProfile,
}

/// Why a profile change failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentChangeError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// The agent named is not a member of the tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The counter or a queue is not the tenant's.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const NO_MEMBER: NotFound = NotFound("member");

/// `user`'s agent, as stored or unset; `None` when not a member.
fn agent_of(cx: &mut TenantCx<'_>, user: UserId) -> Result<Option<Agent>, StoreError> {
    let mut tenant = cx.tenant();
    let Some(member) = tenant
        .members()
        .members()?
        .into_iter()
        .find(|m| m.membership.user == user)
    else {
        return Ok(None);
    };
    let profile = tenant
        .agents()
        .agent(user)?
        .unwrap_or_else(|| AgentProfile::unset(user));
    Ok(Some(Agent { member, profile }))
}

impl QueuesService {
    /// The caller's own agent profile (`tenant:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn my_agent(&self, caller: &Caller, slug: &str) -> Result<Agent, InTenantError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::TenantRead),
                slug,
                |cx| -> Result<Agent, InTenantError> {
                    let me = cx.me.user.id;
                    agent_of(cx, me)?.ok_or_else(|| {
                        StoreError::Internal("an admitted member vanished".into()).into()
                    })
                },
            )
            .await
    }

    /// Every member with their agent profile, by address (`agents:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn agents(&self, caller: &Caller, slug: &str) -> Result<Vec<Agent>, InTenantError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::AgentsRead),
                slug,
                |cx| -> Result<Vec<Agent>, InTenantError> {
                    let mut tenant = cx.tenant();
                    let mut profiles: std::collections::HashMap<UserId, AgentProfile> = tenant
                        .agents()
                        .agents()?
                        .into_iter()
                        .map(|p| (p.user, p))
                        .collect();
                    Ok(tenant
                        .members()
                        .members()?
                        .into_iter()
                        .map(|member| {
                            let user = member.membership.user;
                            let profile = profiles
                                .remove(&user)
                                .unwrap_or_else(|| AgentProfile::unset(user));
                            Agent { member, profile }
                        })
                        .collect())
                },
            )
            .await
    }

    /// Changes the caller's own profile (`tickets:serve`).
    ///
    /// # Errors
    /// See [`AgentChangeError`].
    pub async fn update_my_agent(
        &self,
        caller: &Caller,
        slug: &str,
        changes: AgentChanges,
    ) -> Result<Agent, AgentChangeError> {
        self.change_agent(caller, slug, None, changes).await
    }

    /// Changes another member's profile (`agents:manage`): a manager sets an agent's counter,
    /// queues or status.
    ///
    /// # Errors
    /// See [`AgentChangeError`].
    pub async fn update_agent(
        &self,
        caller: &Caller,
        slug: &str,
        user: UserId,
        changes: AgentChanges,
    ) -> Result<Agent, AgentChangeError> {
        self.change_agent(caller, slug, Some(user), changes).await
    }

    async fn change_agent(
        &self,
        caller: &Caller,
        slug: &str,
        user: Option<UserId>,
        changes: AgentChanges,
    ) -> Result<Agent, AgentChangeError> {
        let scope = match user {
            Some(_) => Scope::AgentsManage,
            None => Scope::TicketsServe,
        };
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(scope),
                slug,
                move |cx| -> Result<Agent, AgentChangeError> {
                    let user = user.unwrap_or(cx.me.user.id);
                    let now = cx.now;
                    let mut agent = agent_of(cx, user)?.ok_or(NO_MEMBER)?;
                    check_references(cx, &changes)?;
                    changes.apply_to(&mut agent.profile, now);
                    cx.tenant().agents().save_agent(&agent.profile)?;
                    Ok(agent)
                },
            )
            .await
    }
}

/// The counter and every queue named are the tenant's.
fn check_references(cx: &mut TenantCx<'_>, changes: &AgentChanges) -> Result<(), AgentChangeError> {
    let mut tenant = cx.tenant();
    let mut errors = Vec::new();
    if let accueil_domain::validation::Patch::Set(counter) = changes.counter_id
        && tenant.catalogue().counter(counter)?.is_none()
    {
        errors.push(FieldError::new(
            "counter_id",
            "not_found",
            "no counter of this tenant has this id",
        ));
    }
    for queue in changes.queue_ids.iter().flatten() {
        if tenant.catalogue().queue(*queue)?.is_none() {
            errors.push(FieldError::new(
                "queue_ids",
                "not_found",
                format!("no queue of this tenant has the id {queue}"),
            ));
            break;
        }
    }
    Ok(ValidationErrors::collect(errors)?)
}
