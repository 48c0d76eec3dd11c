//! A tenant's catalogue: sites, services, queues and counters. Members read it
//! (`catalogue:read`); managers and admins change it (`catalogue:write`).
//!
//! A service or counter names a site of the tenant, and a queue a service of the tenant: the
//! use case looks the parent up through the tenant's view first (another tenant's site is
//! "not found", a 422 on the field), and the store's foreign keys refuse it again. An item
//! still referred to (a site with services or counters, a service with queues) cannot be
//! deleted: 409 `in_use`.

use accueil_domain::queues::{
    Counter, CounterChanges, NewCounter, NewQueue, NewService, NewSite, Queue, QueueChanges, Scope,
    Service, ServiceChanges, Site, SiteChanges,
};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::StoreError;
use accueil_ports::queues::{DeleteItemError, SaveItemError};
use accueil_ports::scope::TenantTx;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{InTenantError, QueuesService, Requires};
use crate::couples::{Page, page_size, paged};
use crate::identity::Caller;
use crate::scope::{NotFound, TenantDenied};

const NO_SITE: NotFound = NotFound("site");
const NO_SERVICE: NotFound = NotFound("service");
const NO_QUEUE: NotFound = NotFound("queue");
const NO_COUNTER: NotFound = NotFound("counter");

/// Why reading or changing one item failed: the scope, or no such item in the tenant.
#[derive(Debug, thiserror::Error)]
pub enum InTenantLookupError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such item in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an item that belongs to another (a service or counter to a site, a queue to a
/// service) could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateItemError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// The site or service named is not the tenant's (`site_id`/`service_id` `not_found`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a change whose result the rules check as a whole (a service's range, a customer's
/// consents) failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeItemError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such item in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The changed item would break a rule; nothing changed.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An item others refer to.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("this {0} is still in use: {1}")]
pub struct InUse(pub &'static str, pub &'static str);

/// Why an item could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum RemoveItemError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such item in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// Others refer to it.
    #[error(transparent)]
    InUse(#[from] InUse),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `field` names no `what` of the tenant (422).
fn missing(field: &'static str, what: &str) -> ValidationErrors {
    ValidationErrors(vec![FieldError::new(
        field,
        "not_found",
        format!("no {what} of this tenant has this id"),
    )])
}

/// A child's insert: the parent checked first, the store's refusal read the same way.
fn insert_child(
    parent_exists: bool,
    field: &'static str,
    what: &str,
    insert: impl FnOnce() -> Result<(), SaveItemError>,
) -> Result<(), CreateItemError> {
    if !parent_exists {
        return Err(missing(field, what).into());
    }
    insert().map_err(|e| match e {
        SaveItemError::ParentMissing => missing(field, what).into(),
        SaveItemError::Store(e) => e.into(),
    })
}

impl QueuesService {
    /// A page of the tenant's items under `scope`, by `list` (which is given `limit + 1`).
    pub(super) async fn page_of<T, F>(
        &self,
        caller: &Caller,
        slug: &str,
        scope: Scope,
        (after, limit): (Option<Uuid>, u32),
        list: F,
        id: fn(&T) -> Uuid,
    ) -> Result<Page<T>, InTenantError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn TenantTx, Option<Uuid>, u32) -> Result<Vec<T>, StoreError>
            + Send
            + 'static,
    {
        let limit = page_size(limit);
        let items = self
            .ports
            .read_in_tenant(
                caller,
                Requires::gate(scope),
                slug,
                move |cx| -> Result<Vec<T>, InTenantError> {
                    Ok(list(&mut *cx.tenant(), after, limit + 1)?)
                },
            )
            .await?;
        let (items, next) = paged(items, limit, id);
        Ok(Page { items, next })
    }

    /// One of the tenant's items under `scope`, by `find`.
    pub(super) async fn one_of<T, F>(
        &self,
        caller: &Caller,
        slug: &str,
        scope: Scope,
        what: NotFound,
        find: F,
    ) -> Result<T, InTenantLookupError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn TenantTx) -> Result<Option<T>, StoreError> + Send + 'static,
    {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(scope),
                slug,
                move |cx| -> Result<T, InTenantLookupError> {
                    Ok(find(&mut *cx.tenant())?.ok_or(what)?)
                },
            )
            .await
    }

    /// Creates an item in one write unit under `scope`: `make` builds and stores it (with
    /// the unit's clock reading).
    pub(super) async fn create_in<T, E, F>(
        &self,
        caller: &Caller,
        slug: &str,
        scope: Scope,
        make: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<TenantDenied> + From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn TenantTx, DateTime<Utc>) -> Result<T, E> + Send + 'static,
    {
        self.ports
            .write_in_tenant(caller, Requires::gate(scope), slug, move |cx| {
                let now = cx.now;
                make(&mut *cx.tenant(), now)
            })
            .await
    }

    /// Reads one item by `find`, changes it with `change` and writes it back with `write`, in
    /// one write unit under `scope`; `what` when there is none.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn change_in<T, E, C>(
        &self,
        (caller, slug, scope): (&Caller, &str, Scope),
        what: NotFound,
        find: fn(&mut dyn TenantTx, Uuid) -> Result<Option<T>, StoreError>,
        id: Uuid,
        change: C,
        write: fn(&mut dyn TenantTx, &T) -> Result<bool, StoreError>,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<TenantDenied> + From<StoreError> + From<NotFound> + Send + 'static,
        C: FnOnce(&mut T, DateTime<Utc>) -> Result<(), E> + Send + 'static,
    {
        self.ports
            .write_in_tenant(caller, Requires::gate(scope), slug, move |cx| {
                let now = cx.now;
                let mut tenant = cx.tenant();
                let mut item = find(&mut *tenant, id)?.ok_or(what)?;
                change(&mut item, now)?;
                write(&mut *tenant, &item)?;
                Ok(item)
            })
            .await
    }

    /// Deletes one of the tenant's items under `scope`, by `delete`; `in_use` says what still
    /// refers to it.
    async fn remove<F>(
        &self,
        caller: &Caller,
        slug: &str,
        what: NotFound,
        in_use: &'static str,
        delete: F,
    ) -> Result<(), RemoveItemError>
    where
        F: FnOnce(&mut dyn TenantTx) -> Result<bool, DeleteItemError> + Send + 'static,
    {
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::CatalogueWrite),
                slug,
                move |cx| -> Result<(), RemoveItemError> {
                    match delete(&mut *cx.tenant()) {
                        Ok(true) => Ok(()),
                        Ok(false) => Err(what.into()),
                        Err(DeleteItemError::InUse) => Err(InUse(what.0, in_use).into()),
                        Err(DeleteItemError::Store(e)) => Err(e.into()),
                    }
                },
            )
            .await
    }

    /// The tenant's sites, in creation order (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn sites(
        &self,
        caller: &Caller,
        slug: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<Site>, InTenantError> {
        let list = |t: &mut dyn TenantTx, a, l| t.catalogue().sites(a, l);
        self.page_of(
            caller,
            slug,
            Scope::CatalogueRead,
            (after, limit),
            list,
            |s| s.id,
        )
        .await
    }

    /// One site (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn site(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<Site, InTenantLookupError> {
        self.one_of(caller, slug, Scope::CatalogueRead, NO_SITE, move |t| {
            t.catalogue().site(id)
        })
        .await
    }

    /// Creates a site (`catalogue:write`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn create_site(
        &self,
        caller: &Caller,
        slug: &str,
        new: NewSite,
    ) -> Result<Site, InTenantError> {
        let id = self.ports.ids.new_id();
        self.create_in(caller, slug, Scope::CatalogueWrite, move |t, now| {
            let site = new.into_site(id, now);
            t.catalogue().insert_site(&site)?;
            Ok(site)
        })
        .await
    }

    /// Changes a site (`catalogue:write`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn edit_site(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
        changes: SiteChanges,
    ) -> Result<Site, InTenantLookupError> {
        let change = move |s: &mut Site, now| {
            changes.apply_to(s, now);
            Ok(())
        };
        self.change_in(
            (caller, slug, Scope::CatalogueWrite),
            NO_SITE,
            |t, id| t.catalogue().site(id),
            id,
            change,
            |t, s| t.catalogue().update_site(s),
        )
        .await
    }

    /// Deletes a site without services or counters (`catalogue:write`).
    ///
    /// # Errors
    /// See [`RemoveItemError`].
    pub async fn delete_site(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<(), RemoveItemError> {
        self.remove(
            caller,
            slug,
            NO_SITE,
            "delete its services and counters first",
            move |t| t.catalogue().delete_site(id),
        )
        .await
    }

    /// The tenant's services (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn services(
        &self,
        caller: &Caller,
        slug: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<Service>, InTenantError> {
        let list = |t: &mut dyn TenantTx, a, l| t.catalogue().services(a, l);
        self.page_of(
            caller,
            slug,
            Scope::CatalogueRead,
            (after, limit),
            list,
            |s| s.id,
        )
        .await
    }

    /// One service (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn service(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<Service, InTenantLookupError> {
        self.one_of(caller, slug, Scope::CatalogueRead, NO_SERVICE, move |t| {
            t.catalogue().service(id)
        })
        .await
    }

    /// Creates a service at one of the tenant's sites (`catalogue:write`).
    ///
    /// # Errors
    /// See [`CreateItemError`].
    pub async fn create_service(
        &self,
        caller: &Caller,
        slug: &str,
        new: NewService,
    ) -> Result<Service, CreateItemError> {
        let id = self.ports.ids.new_id();
        self.create_in(caller, slug, Scope::CatalogueWrite, move |t, now| {
            let service = new.into_service(id, now);
            let cat = t.catalogue();
            let site = cat.site(service.site_id)?.is_some();
            insert_child(site, "site_id", "site", || cat.insert_service(&service))?;
            Ok(service)
        })
        .await
    }

    /// Changes a service (`catalogue:write`); its range is checked whole.
    ///
    /// # Errors
    /// See [`ChangeItemError`].
    pub async fn edit_service(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
        changes: ServiceChanges,
    ) -> Result<Service, ChangeItemError> {
        let change = move |s: &mut Service, now| Ok(changes.apply_to(s, now)?);
        self.change_in(
            (caller, slug, Scope::CatalogueWrite),
            NO_SERVICE,
            |t, id| t.catalogue().service(id),
            id,
            change,
            |t, s| t.catalogue().update_service(s),
        )
        .await
    }

    /// Deletes a service without queues (`catalogue:write`).
    ///
    /// # Errors
    /// See [`RemoveItemError`].
    pub async fn delete_service(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<(), RemoveItemError> {
        self.remove(
            caller,
            slug,
            NO_SERVICE,
            "delete its queues first",
            move |t| t.catalogue().delete_service(id),
        )
        .await
    }

    /// The tenant's queues (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn queues(
        &self,
        caller: &Caller,
        slug: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<Queue>, InTenantError> {
        let list = |t: &mut dyn TenantTx, a, l| t.catalogue().queues(a, l);
        self.page_of(
            caller,
            slug,
            Scope::CatalogueRead,
            (after, limit),
            list,
            |q| q.id,
        )
        .await
    }

    /// One queue (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn queue(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<Queue, InTenantLookupError> {
        self.one_of(caller, slug, Scope::CatalogueRead, NO_QUEUE, move |t| {
            t.catalogue().queue(id)
        })
        .await
    }

    /// Creates a queue for one of the tenant's services, with a new join link
    /// (`catalogue:write`).
    ///
    /// # Errors
    /// See [`CreateItemError`].
    pub async fn create_queue(
        &self,
        caller: &Caller,
        slug: &str,
        new: NewQueue,
    ) -> Result<Queue, CreateItemError> {
        let id = self.ports.ids.new_id();
        let token = self.ports.opaque_tokens.generate().secret;
        self.create_in(caller, slug, Scope::CatalogueWrite, move |t, now| {
            let queue = new.into_queue(id, token, now);
            let cat = t.catalogue();
            let service = cat.service(queue.service_id)?.is_some();
            insert_child(service, "service_id", "service", || {
                cat.insert_queue(&queue)
            })?;
            Ok(queue)
        })
        .await
    }

    /// Changes a queue (`catalogue:write`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn edit_queue(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
        changes: QueueChanges,
    ) -> Result<Queue, InTenantLookupError> {
        self.change_queue(caller, slug, id, move |q, now| changes.apply_to(q, now))
            .await
    }

    /// Gives a queue a new join link; the old one stops working at once (`catalogue:write`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn rotate_join_token(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<Queue, InTenantLookupError> {
        let token = self.ports.opaque_tokens.generate().secret;
        self.change_queue(caller, slug, id, move |q, now| {
            q.join_token = token;
            q.updated_at = now;
        })
        .await
    }

    async fn change_queue(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
        change: impl FnOnce(&mut Queue, DateTime<Utc>) + Send + 'static,
    ) -> Result<Queue, InTenantLookupError> {
        let change = move |q: &mut Queue, now| {
            change(q, now);
            Ok(())
        };
        self.change_in(
            (caller, slug, Scope::CatalogueWrite),
            NO_QUEUE,
            |t, id| t.catalogue().queue(id),
            id,
            change,
            |t, q| t.catalogue().update_queue(q),
        )
        .await
    }

    /// Deletes a queue; agents stop serving it (`catalogue:write`).
    ///
    /// # Errors
    /// See [`RemoveItemError`].
    pub async fn delete_queue(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<(), RemoveItemError> {
        self.remove(caller, slug, NO_QUEUE, "it has tickets", move |t| {
            t.catalogue().delete_queue(id)
        })
        .await
    }

    /// The tenant's counters (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantError`].
    pub async fn counters(
        &self,
        caller: &Caller,
        slug: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Page<Counter>, InTenantError> {
        let list = |t: &mut dyn TenantTx, a, l| t.catalogue().counters(a, l);
        self.page_of(
            caller,
            slug,
            Scope::CatalogueRead,
            (after, limit),
            list,
            |c| c.id,
        )
        .await
    }

    /// One counter (`catalogue:read`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn counter(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<Counter, InTenantLookupError> {
        self.one_of(caller, slug, Scope::CatalogueRead, NO_COUNTER, move |t| {
            t.catalogue().counter(id)
        })
        .await
    }

    /// Creates a counter at one of the tenant's sites (`catalogue:write`).
    ///
    /// # Errors
    /// See [`CreateItemError`].
    pub async fn create_counter(
        &self,
        caller: &Caller,
        slug: &str,
        new: NewCounter,
    ) -> Result<Counter, CreateItemError> {
        let id = self.ports.ids.new_id();
        self.create_in(caller, slug, Scope::CatalogueWrite, move |t, now| {
            let counter = new.into_counter(id, now);
            let cat = t.catalogue();
            let site = cat.site(counter.site_id)?.is_some();
            insert_child(site, "site_id", "site", || cat.insert_counter(&counter))?;
            Ok(counter)
        })
        .await
    }

    /// Renames a counter (`catalogue:write`).
    ///
    /// # Errors
    /// See [`InTenantLookupError`].
    pub async fn edit_counter(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
        changes: CounterChanges,
    ) -> Result<Counter, InTenantLookupError> {
        let change = move |c: &mut Counter, now| {
            changes.apply_to(c, now);
            Ok(())
        };
        self.change_in(
            (caller, slug, Scope::CatalogueWrite),
            NO_COUNTER,
            |t, id| t.catalogue().counter(id),
            id,
            change,
            |t, c| t.catalogue().update_counter(c),
        )
        .await
    }

    /// Deletes a counter; agents at it are at none (`catalogue:write`).
    ///
    /// # Errors
    /// See [`RemoveItemError`].
    pub async fn delete_counter(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<(), RemoveItemError> {
        self.remove(caller, slug, NO_COUNTER, "", move |t| {
            t.catalogue().delete_counter(id)
        })
        .await
    }
}
