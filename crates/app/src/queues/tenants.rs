//! Tenants: creating one (its creator becomes its ADMIN), the caller's tenants, one tenant,
//! changing its settings.

use accueil_domain::queues::{NewTenant, Role, Scope, Tenant, TenantChanges, TenantId};
use accueil_ports::StoreError;
use accueil_ports::queues::TenantWriteError;

use super::{InTenantError, QueuesService, Requires};
use crate::identity::{AuthError, Caller};

/// A tenant with the caller's role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantView {
    /// The tenant.
    pub tenant: Tenant,
    /// The caller's role.
    pub role: Role,
}

/// Why a tenant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateTenantError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The caller's address is not verified yet.
    #[error("verify your e-mail address before creating a tenant")]
    Unverified,
    /// The slug is taken.
    #[error("this slug is taken; choose another")]
    SlugTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TenantWriteError> for CreateTenantError {
    fn from(e: TenantWriteError) -> Self {
        match e {
            TenantWriteError::SlugTaken => Self::SlugTaken,
            TenantWriteError::Store(e) => Self::Store(e),
        }
    }
}

impl QueuesService {
    /// Creates a tenant with the caller, whose address must be verified, as its ADMIN.
    ///
    /// # Errors
    /// See [`CreateTenantError`].
    pub async fn create_tenant(
        &self,
        caller: &Caller,
        new: NewTenant,
    ) -> Result<TenantView, CreateTenantError> {
        let id = TenantId(self.ports.ids.new_id());
        self.ports
            .write_as(caller, move |cx| -> Result<TenantView, CreateTenantError> {
                if !cx.me.user.email_verified {
                    return Err(CreateTenantError::Unverified);
                }
                let tenant = new.into_tenant(id, cx.now);
                cx.tx.tenants().create_tenant(&tenant, cx.me.user.id)?;
                Ok(TenantView {
                    tenant,
                    role: Role::Admin,
                })
            })
            .await
    }

    /// The caller's tenants with their role in each, by slug.
    ///
    /// # Errors
    /// The caller's authentication failure, or storage's.
    pub async fn my_tenants(&self, caller: &Caller) -> Result<Vec<TenantView>, AuthError> {
        self.ports
            .read_as(caller, |cx| -> Result<Vec<TenantView>, AuthError> {
                Ok(cx
                    .tx
                    .tenants()
                    .tenants_of(cx.me.user.id)?
                    .into_iter()
                    .map(|(tenant, role)| TenantView { tenant, role })
                    .collect())
            })
            .await
    }

    /// One tenant of the caller's, with their role (`tenant:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn tenant(&self, caller: &Caller, slug: &str) -> Result<TenantView, InTenantError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::TenantRead),
                slug,
                |cx| -> Result<TenantView, InTenantError> { view(cx) },
            )
            .await
    }

    /// Changes a tenant's name, zone or locale (`tenant:admin`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn update_tenant(
        &self,
        caller: &Caller,
        slug: &str,
        changes: TenantChanges,
    ) -> Result<TenantView, InTenantError> {
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::TenantAdmin),
                slug,
                move |cx| -> Result<TenantView, InTenantError> {
                    let mut tenant = cx.tenant().members().this_tenant()?;
                    changes.apply_to(&mut tenant, cx.now);
                    cx.tenant().members().update_tenant(&tenant)?;
                    view(cx)
                },
            )
            .await
    }
}

/// Everything a tenant holds, for its ADMIN to take away.
#[derive(Debug, Clone)]
pub struct TenantExport {
    /// The tenant.
    pub tenant: Tenant,
    /// Its members.
    pub members: Vec<accueil_domain::queues::Member>,
    /// Its pending invitations.
    pub invitations: Vec<accueil_domain::queues::Invitation>,
    /// Its sites.
    pub sites: Vec<accueil_domain::queues::Site>,
    /// Its services.
    pub services: Vec<accueil_domain::queues::Service>,
    /// Its queues.
    pub queues: Vec<accueil_domain::queues::Queue>,
    /// Its counters.
    pub counters: Vec<accueil_domain::queues::Counter>,
    /// Its customers.
    pub customers: Vec<accueil_domain::queues::Customer>,
    /// The agent profiles its members set.
    pub agents: Vec<super::Agent>,
    /// When the export was made.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl QueuesService {
    /// Deletes a tenant (`tenant:admin`): it is gone for everyone at once (404 under its slug,
    /// out of its members' lists) and purged with everything of it after
    /// [`accueil_domain::queues::TENANT_DELETION_GRACE`]; its slug stays taken until then.
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn delete_tenant(&self, caller: &Caller, slug: &str) -> Result<(), InTenantError> {
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::TenantAdmin),
                slug,
                |cx| -> Result<(), InTenantError> {
                    let now = cx.now;
                    cx.tenant().members().delete_tenant(now)?;
                    Ok(())
                },
            )
            .await
    }

    /// The tenant's data (`tenant:admin`), in one read unit of work.
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn export_tenant(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<TenantExport, InTenantError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::TenantAdmin),
                slug,
                |cx| -> Result<TenantExport, InTenantError> {
                    let at = cx.now;
                    let mut tenant = cx.tenant();
                    // A document of record is not paged: everything, in creation order.
                    let all = None;
                    let members = tenant.members().members()?;
                    let agents = tenant
                        .agents()
                        .agents()?
                        .into_iter()
                        .filter_map(|profile| {
                            let member = members
                                .iter()
                                .find(|m| m.membership.user == profile.user)?
                                .clone();
                            Some(super::Agent { member, profile })
                        })
                        .collect();
                    Ok(TenantExport {
                        tenant: tenant.members().this_tenant()?,
                        invitations: tenant.invitations().pending_invitations(at)?,
                        sites: tenant.catalogue().sites(all, u32::MAX)?,
                        services: tenant.catalogue().services(all, u32::MAX)?,
                        queues: tenant.catalogue().queues(all, u32::MAX)?,
                        counters: tenant.catalogue().counters(all, u32::MAX)?,
                        customers: tenant.customers().customers(all, u32::MAX)?,
                        members,
                        agents,
                        at,
                    })
                },
            )
            .await
    }
}

/// The bound tenant with the caller's role.
fn view(cx: &mut crate::scope::TenantCx<'_>) -> Result<TenantView, InTenantError> {
    let me = cx.me.user.id;
    let tenant = cx.tenant().members().this_tenant()?;
    let role = cx
        .tenant()
        .members()
        .member(me)?
        .ok_or_else(|| StoreError::Internal("the admitted member vanished".into()))?
        .role;
    Ok(TenantView { tenant, role })
}
