//! A tenant's members: the list, changing a role, removing one (or leaving), with a tenant that
//! always keeps an ADMIN. Changes to members lock the tenant's row first, so two that would
//! each leave one ADMIN cannot both pass.

use accueil_domain::identity::UserId;
use accueil_domain::queues::{LastAdmin, Member, Role, Scope, keeps_an_admin};

use super::{InTenantError, QueuesService, Requires};
use crate::identity::Caller;
use crate::scope::{NotFound, TenantCx, TenantDenied};

/// A user who is not a member of the tenant (404).
const NO_MEMBER: NotFound = NotFound("member");

/// Why a change to a member failed.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such member in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// It would leave the tenant without an ADMIN.
    #[error(transparent)]
    LastAdmin(#[from] LastAdmin),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] accueil_ports::StoreError),
}

impl QueuesService {
    /// The tenant's members, by address (`members:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn members(&self, caller: &Caller, slug: &str) -> Result<Vec<Member>, InTenantError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::MembersRead),
                slug,
                |cx| -> Result<Vec<Member>, InTenantError> { Ok(cx.tenant().members().members()?) },
            )
            .await
    }

    /// Gives a member another role (`tenant:admin`); the last ADMIN stays one.
    ///
    /// # Errors
    /// See [`MemberError`].
    pub async fn change_role(
        &self,
        caller: &Caller,
        slug: &str,
        user: UserId,
        role: Role,
    ) -> Result<Member, MemberError> {
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::TenantAdmin),
                slug,
                move |cx| -> Result<Member, MemberError> {
                    let from = locked_member(cx, user)?;
                    keeps_an_admin(from, Some(role), cx.tenant().members().count_admins()?)?;
                    let now = cx.now;
                    cx.tenant().members().set_role(user, role, now)?;
                    cx.tenant()
                        .members()
                        .members()?
                        .into_iter()
                        .find(|m| m.membership.user == user)
                        .ok_or(MemberError::NotFound(NO_MEMBER))
                },
            )
            .await
    }

    /// Removes a member (`tenant:admin`), or the caller themself leaving (any member); the
    /// last ADMIN cannot go before another member is made ADMIN.
    ///
    /// # Errors
    /// See [`MemberError`].
    pub async fn remove_member(
        &self,
        caller: &Caller,
        slug: &str,
        user: UserId,
    ) -> Result<(), MemberError> {
        self.ports
            .write_in_tenant(
                caller,
                std::sync::Arc::new(AdminOrSelf(user)),
                slug,
                move |cx| -> Result<(), MemberError> {
                    let from = locked_member(cx, user)?;
                    keeps_an_admin(from, None, cx.tenant().members().count_admins()?)?;
                    cx.tenant().members().remove_member(user)?;
                    Ok(())
                },
            )
            .await
    }
}

/// The gate of removing `.0`: `tenant:admin`, or any member removing themself (leaving).
struct AdminOrSelf(UserId);

impl crate::scope::TenantGate for AdminOrSelf {
    fn admit(
        &self,
        tx: &mut dyn accueil_ports::Tx,
        me: &crate::identity::Principal,
        slug: &str,
    ) -> Result<accueil_domain::queues::TenantId, TenantDenied> {
        let scope = if me.user.id == self.0 {
            Scope::TenantRead
        } else {
            Scope::TenantAdmin
        };
        Requires(scope).admit(tx, me, slug)
    }
}

/// `user`'s role, with the tenant locked until commit (member changes run one at a time).
fn locked_member(cx: &mut TenantCx<'_>, user: UserId) -> Result<Role, MemberError> {
    cx.tenant().members().this_tenant()?;
    Ok(cx.tenant().members().member(user)?.ok_or(NO_MEMBER)?.role)
}
