//! Who belongs to a tenant, with which role, and what each role may do.
//!
//! A role is a fixed set of scopes ([`Role::scopes`], the table in docs/api.md); every use case
//! of the queues module names the one scope it requires, and the tenant gate admits a member
//! only when their role holds it. A tenant always keeps at least one ADMIN
//! ([`keeps_an_admin`]).

use std::fmt;

use chrono::{DateTime, Utc};

use super::TenantId;
use crate::identity::{DisplayName, Email, UserId};
use crate::validation::FieldError;

/// A member's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything, including the tenant's settings, its members' roles and its deletion.
    Admin,
    /// Runs the tenant day to day: catalogue, customers, agents, tickets, reports; invites
    /// managers and agents.
    Manager,
    /// Serves tickets.
    Agent,
}

/// What a use case requires. Named `area:action`, as they appear in `missing_scope` problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// See the tenant and one's own membership and agent profile.
    TenantRead,
    /// Change the tenant's settings, members' roles, remove members, invite admins, export or
    /// delete the tenant.
    TenantAdmin,
    /// See the members.
    MembersRead,
    /// Invite managers and agents.
    MembersInvite,
    /// See sites, services, queues and counters.
    CatalogueRead,
    /// Create, change and delete them.
    CatalogueWrite,
    /// See customers.
    CustomersRead,
    /// Create, change and delete customers.
    CustomersWrite,
    /// See every agent's profile.
    AgentsRead,
    /// Change other agents' profiles.
    AgentsManage,
    /// See tickets and waiting lists.
    TicketsRead,
    /// Take a ticket for a customer, with a priority.
    TicketsIssue,
    /// Call, start, close, transfer, pause, resume, mark no-show.
    TicketsServe,
    /// Read the reports.
    ReportsRead,
}

impl Scope {
    /// Every scope, in the table's order.
    pub const ALL: [Scope; 14] = [
        Self::TenantRead,
        Self::TenantAdmin,
        Self::MembersRead,
        Self::MembersInvite,
        Self::CatalogueRead,
        Self::CatalogueWrite,
        Self::CustomersRead,
        Self::CustomersWrite,
        Self::AgentsRead,
        Self::AgentsManage,
        Self::TicketsRead,
        Self::TicketsIssue,
        Self::TicketsServe,
        Self::ReportsRead,
    ];

    /// Its name (`tickets:serve`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantRead => "tenant:read",
            Self::TenantAdmin => "tenant:admin",
            Self::MembersRead => "members:read",
            Self::MembersInvite => "members:invite",
            Self::CatalogueRead => "catalogue:read",
            Self::CatalogueWrite => "catalogue:write",
            Self::CustomersRead => "customers:read",
            Self::CustomersWrite => "customers:write",
            Self::AgentsRead => "agents:read",
            Self::AgentsManage => "agents:manage",
            Self::TicketsRead => "tickets:read",
            Self::TicketsIssue => "tickets:issue",
            Self::TicketsServe => "tickets:serve",
            Self::ReportsRead => "reports:read",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The agent's scopes: what serving tickets needs, and seeing what one serves.
const AGENT: [Scope; 5] = [
    Scope::TenantRead,
    Scope::CatalogueRead,
    Scope::CustomersRead,
    Scope::TicketsRead,
    Scope::TicketsServe,
];

impl Role {
    /// Every role, strongest first.
    pub const ALL: [Role; 3] = [Self::Admin, Self::Manager, Self::Agent];

    /// The stored and API name (`ADMIN`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Manager => "MANAGER",
            Self::Agent => "AGENT",
        }
    }

    /// The role of a name (`ADMIN`, `MANAGER`, `AGENT`).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// A requested role.
    ///
    /// # Errors
    /// A [`FieldError`] on `role` with code `unknown_role`.
    pub fn parse_field(raw: &str) -> Result<Self, FieldError> {
        Self::parse(raw)
            .ok_or_else(|| FieldError::new("role", "unknown_role", "ADMIN, MANAGER or AGENT"))
    }

    /// Its scopes: ADMIN all 14; MANAGER all but `tenant:admin` (13); AGENT 5.
    pub fn scopes(self) -> Vec<Scope> {
        match self {
            Self::Admin => Scope::ALL.to_vec(),
            Self::Manager => Scope::ALL
                .into_iter()
                .filter(|s| *s != Scope::TenantAdmin)
                .collect(),
            Self::Agent => AGENT.to_vec(),
        }
    }

    /// Whether it holds `scope`.
    pub fn has(self, scope: Scope) -> bool {
        match self {
            Self::Admin => true,
            Self::Manager => scope != Scope::TenantAdmin,
            Self::Agent => AGENT.contains(&scope),
        }
    }
}

/// A user's membership of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The tenant.
    pub tenant: TenantId,
    /// The member.
    pub user: UserId,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub created_at: DateTime<Utc>,
    /// Last change of role.
    pub updated_at: DateTime<Utc>,
}

/// A member as the tenant's member list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// Their address.
    pub email: Email,
    /// Their display name, if they chose one.
    pub display_name: Option<DisplayName>,
}

/// A change that would leave the tenant without an ADMIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a tenant keeps at least one ADMIN: make another member ADMIN first")]
pub struct LastAdmin;

/// Whether changing a member whose role is `from` to `to` (`None`: removing them) keeps an
/// ADMIN, when the tenant has `admins` of them now.
///
/// # Errors
/// [`LastAdmin`] when it would remove the last one.
pub fn keeps_an_admin(from: Role, to: Option<Role>, admins: u64) -> Result<(), LastAdmin> {
    let loses_one = from == Role::Admin && to != Some(Role::Admin);
    if loses_one && admins <= 1 {
        Err(LastAdmin)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_table() {
        assert_eq!(Role::Admin.scopes().len(), 14);
        assert_eq!(Role::Manager.scopes().len(), 13);
        assert_eq!(Role::Agent.scopes().len(), 5);
        for role in Role::ALL {
            for scope in Scope::ALL {
                assert_eq!(
                    role.has(scope),
                    role.scopes().contains(&scope),
                    "{role:?} {scope}"
                );
            }
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(!Role::Manager.has(Scope::TenantAdmin));
        assert!(Role::Agent.has(Scope::TicketsServe));
        assert!(!Role::Agent.has(Scope::CatalogueWrite));
        assert!(!Role::Agent.has(Scope::TicketsIssue));
        assert_eq!(Role::parse("admin"), None, "the API's names are upper case");
        let names: std::collections::BTreeSet<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), 14, "names are distinct");
    }

    #[test]
    fn the_last_admin_stays() {
        assert_eq!(keeps_an_admin(Role::Admin, None, 1), Err(LastAdmin));
        assert_eq!(
            keeps_an_admin(Role::Admin, Some(Role::Manager), 1),
            Err(LastAdmin)
        );
        assert_eq!(keeps_an_admin(Role::Admin, Some(Role::Admin), 1), Ok(()));
        assert_eq!(keeps_an_admin(Role::Admin, None, 2), Ok(()));
        assert_eq!(keeps_an_admin(Role::Agent, None, 1), Ok(()));
        assert_eq!(keeps_an_admin(Role::Manager, Some(Role::Agent), 0), Ok(()));
    }
}
