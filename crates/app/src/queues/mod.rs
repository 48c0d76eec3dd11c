//! SmartQueue: tenants and their members, the catalogue (sites, services, queues, counters),
//! customers and agent profiles; tickets come as an aggregate of their own.
//!
//! Every use case inside a tenant names the one scope it requires and runs through
//! [`Ports::read_in_tenant`] / [`Ports::write_in_tenant`] with [`Requires`], the module's
//! [`TenantGate`]: the tenant is found by slug and the caller's membership read in the same
//! unit of work; a non-member gets [`TenantDenied::NotFound`] (404, as for a tenant that does
//! not exist), a member whose role lacks the scope gets [`TenantDenied::MissingScope`] naming
//! it (403).

mod agents;
mod catalogue;
mod customers;
mod invitations;
mod members;
mod tenants;
mod tickets;

use std::sync::Arc;

use accueil_domain::limits::Rate;
use accueil_domain::queues::{Scope, TenantId};
use accueil_ports::Tx;

pub use agents::{Agent, AgentChangeError};
pub use catalogue::{
    ChangeItemError, CreateItemError, InTenantLookupError, InUse, RemoveItemError,
};
pub use invitations::{AcceptInvitationError, InviteError, RevokeInvitationError};
pub use members::MemberError;
pub use tenants::{CreateTenantError, TenantExport, TenantView};
pub use tickets::{
    AgentBusy, CallNextError, ETA_WINDOW, EtaBasis, TakeTicketError, TakenTicket,
    TicketActionError, TicketView,
};

use crate::Ports;
use crate::identity::Principal;
use crate::scope::{TenantDenied, TenantGate};

/// The queues module's settings.
#[derive(Debug, Clone)]
pub struct QueuesSettings {
    /// Where the invitation links point (the web app's origin).
    pub public_url: String,
    /// Invitations a member may send.
    pub invite_user: Rate,
}

impl QueuesSettings {
    /// The defaults (30 invitations an hour per member) with this public URL.
    pub fn new(public_url: String) -> Self {
        Self {
            public_url,
            invite_user: Rate {
                count: 30,
                period: chrono::Duration::hours(1),
            },
        }
    }
}

/// The queues module's use cases.
#[derive(Clone)]
pub struct QueuesService {
    ports: Ports,
    settings: QueuesSettings,
}

impl QueuesService {
    /// A service over these ports.
    pub fn new(ports: Ports, settings: QueuesSettings) -> Self {
        Self { ports, settings }
    }
}

/// What the queues module does in an account's lifecycle: the last ADMIN of a tenant may not
/// delete their account before handing the tenant over; a deleted account's memberships go;
/// the personal export lists the tenants.
pub(crate) struct Lifecycle {
    pub(crate) ports: Ports,
}

impl crate::lifecycle::Lifecycle for Lifecycle {
    fn name(&self) -> &'static str {
        "queues"
    }

    fn account_deletion_blocked(
        &self,
        tx: &mut dyn Tx,
        user: accueil_domain::identity::UserId,
    ) -> Result<Option<String>, accueil_ports::StoreError> {
        let mut sole = Vec::new();
        for (tenant, role) in tx.tenants().tenants_of(user)? {
            if role == accueil_domain::queues::Role::Admin
                && tx.in_tenant(tenant.id).members().count_admins()? <= 1
            {
                sole.push(tenant.slug.as_str().to_owned());
            }
        }
        Ok((!sole.is_empty()).then(|| {
            format!(
                "you are the last ADMIN of {}: make another member ADMIN first (or leave the tenant to its other members)",
                sole.join(", ")
            )
        }))
    }

    fn account_deleted(
        &self,
        tx: &mut dyn Tx,
        user: accueil_domain::identity::UserId,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), accueil_ports::StoreError> {
        for (tenant, _) in tx.tenants().tenants_of(user)? {
            tx.in_tenant(tenant.id).members().remove_member(user)?;
        }
        Ok(())
    }

    fn purge<'a>(
        &'a self,
        now: chrono::DateTime<chrono::Utc>,
        _log: &'a mut crate::lifecycle::PurgeLog,
    ) -> crate::lifecycle::PurgeFuture<'a> {
        Box::pin(async move {
            use accueil_ports::StoreExt;
            let cutoff = now - accueil_domain::queues::TENANT_DELETION_GRACE;
            let tenants = self
                .ports
                .store
                .write(move |tx| tx.tenants().purge_tenants_deleted_before(cutoff))
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(tenants, "purged deleted tenants");
            Ok(())
        })
    }

    fn export_account(
        &self,
        tx: &mut dyn Tx,
        user: &accueil_domain::identity::User,
        _now: chrono::DateTime<chrono::Utc>,
        into: &mut crate::lifecycle::AccountExport,
    ) -> Result<(), accueil_ports::StoreError> {
        into.tenants = tx.tenants().tenants_of(user.id)?;
        Ok(())
    }
}

/// The gate of a use case that requires `scope`: admits a member of the tenant whose role
/// holds it.
pub struct Requires(pub Scope);

impl Requires {
    /// The gate, as the scope helpers take it.
    pub fn gate(scope: Scope) -> Arc<dyn TenantGate> {
        Arc::new(Self(scope))
    }
}

impl TenantGate for Requires {
    fn admit(&self, tx: &mut dyn Tx, me: &Principal, slug: &str) -> Result<TenantId, TenantDenied> {
        let tenant = tx
            .tenants()
            .tenant_by_slug(slug)?
            .filter(|t| t.deleted_at.is_none())
            .ok_or(TenantDenied::NotFound)?;
        let membership = tx
            .tenants()
            .membership(tenant.id, me.user.id)?
            .ok_or(TenantDenied::NotFound)?;
        if membership.role.has(self.0) {
            Ok(tenant.id)
        } else {
            Err(TenantDenied::MissingScope(self.0.as_str()))
        }
    }
}

/// Why a use case inside a tenant failed when only its scope can refuse it.
#[derive(Debug, thiserror::Error)]
pub enum InTenantError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] accueil_ports::StoreError),
}

#[cfg(test)]
mod tests {
    use accueil_domain::identity::UserId;
    use accueil_domain::queues::{NewTenant, Role};
    use accueil_ports::StoreExt;

    use super::*;
    use crate::queues::{CreateTenantError, MemberError};
    use crate::testing::{Harness, TestUser};

    /// A signed-in user whose address is verified.
    async fn verified(h: &Harness, email: &str) -> TestUser {
        let mut user = h.registered(email, None).await;
        user.email_verified = true;
        h.store
            .write(move |tx| tx.users().update_user(&user))
            .await
            .unwrap();
        h.principal(email).await
    }

    fn acme() -> NewTenant {
        NewTenant::parse("acme", "Acme", "Europe/Paris", None).unwrap()
    }

    /// Adds `user` to the tenant `slug` with `role`, behind the use cases' back.
    async fn join(h: &Harness, slug: &str, user: UserId, role: Role) {
        let slug = slug.to_owned();
        h.store
            .write(move |tx| {
                let t = tx.tenants().tenant_by_slug(&slug)?.unwrap();
                tx.in_tenant(t.id)
                    .members()
                    .add_member(user, role, chrono::DateTime::UNIX_EPOCH)
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_verified_user_creates_a_tenant_and_becomes_its_admin() {
        let h = Harness::new();
        let q = h.whole_app().queues;
        let unverified = {
            h.registered("new@example.org", None).await;
            h.principal("new@example.org").await
        };
        assert!(matches!(
            q.create_tenant(&unverified, acme()).await,
            Err(CreateTenantError::Unverified)
        ));
        let ann = verified(&h, "ann@example.org").await;
        let made = q.create_tenant(&ann, acme()).await.unwrap();
        assert_eq!(
            (made.tenant.slug.as_str(), made.role),
            ("acme", Role::Admin)
        );
        let bob = verified(&h, "bob@example.org").await;
        assert!(matches!(
            q.create_tenant(&bob, acme()).await,
            Err(CreateTenantError::SlugTaken)
        ));
        assert_eq!(q.my_tenants(&ann).await.unwrap(), vec![made.clone()]);
        assert!(q.my_tenants(&bob).await.unwrap().is_empty());
        assert_eq!(q.tenant(&ann, "acme").await.unwrap(), made);
    }

    #[tokio::test]
    async fn non_members_find_nothing_and_roles_lack_what_they_lack() {
        let h = Harness::new();
        let q = h.whole_app().queues;
        let ann = verified(&h, "ann@example.org").await;
        q.create_tenant(&ann, acme()).await.unwrap();
        let eve = verified(&h, "eve@example.org").await;
        for slug in ["acme", "nowhere"] {
            assert!(matches!(
                q.tenant(&eve, slug).await,
                Err(InTenantError::Denied(TenantDenied::NotFound))
            ));
        }
        let agent = verified(&h, "agent@example.org").await;
        join(&h, "acme", agent.user.id, Role::Agent).await;
        assert_eq!(q.tenant(&agent, "acme").await.unwrap().role, Role::Agent);
        assert!(matches!(
            q.members(&agent, "acme").await,
            Err(InTenantError::Denied(TenantDenied::MissingScope(
                "members:read"
            )))
        ));
        let rename =
            accueil_domain::queues::TenantChanges::parse(Some("Acme Corp"), None, None).unwrap();
        assert!(matches!(
            q.update_tenant(&agent, "acme", rename.clone()).await,
            Err(InTenantError::Denied(TenantDenied::MissingScope(
                "tenant:admin"
            )))
        ));
        let manager = verified(&h, "manager@example.org").await;
        join(&h, "acme", manager.user.id, Role::Manager).await;
        assert_eq!(q.members(&manager, "acme").await.unwrap().len(), 3);
        assert!(matches!(
            q.update_tenant(&manager, "acme", rename.clone()).await,
            Err(InTenantError::Denied(TenantDenied::MissingScope(
                "tenant:admin"
            )))
        ));
        let renamed = q.update_tenant(&ann, "acme", rename).await.unwrap();
        assert_eq!(renamed.tenant.name.as_str(), "Acme Corp");
    }

    #[tokio::test]
    async fn a_tenant_always_keeps_an_admin() {
        let h = Harness::new();
        let q = h.whole_app().queues;
        let ann = verified(&h, "ann@example.org").await;
        q.create_tenant(&ann, acme()).await.unwrap();
        let bob = verified(&h, "bob@example.org").await;
        join(&h, "acme", bob.user.id, Role::Agent).await;
        let me = ann.user.id;
        assert!(matches!(
            q.change_role(&ann, "acme", me, Role::Manager).await,
            Err(MemberError::LastAdmin(_))
        ));
        assert!(matches!(
            q.remove_member(&ann, "acme", me).await,
            Err(MemberError::LastAdmin(_))
        ));
        // An agent may leave, not remove others or change roles.
        assert!(matches!(
            q.remove_member(&bob, "acme", me).await,
            Err(MemberError::Denied(TenantDenied::MissingScope(
                "tenant:admin"
            )))
        ));
        assert!(matches!(
            q.change_role(&bob, "acme", bob.user.id, Role::Admin).await,
            Err(MemberError::Denied(TenantDenied::MissingScope(
                "tenant:admin"
            )))
        ));
        let promoted = q
            .change_role(&ann, "acme", bob.user.id, Role::Admin)
            .await
            .unwrap();
        assert_eq!(promoted.membership.role, Role::Admin);
        assert_eq!(promoted.email.as_str(), "bob@example.org");
        // Two ADMINs: Ann may step down, then leave.
        q.change_role(&ann, "acme", me, Role::Agent).await.unwrap();
        q.remove_member(&ann, "acme", me).await.unwrap();
        assert!(matches!(
            q.tenant(&ann, "acme").await,
            Err(InTenantError::Denied(TenantDenied::NotFound))
        ));
        assert!(matches!(
            q.remove_member(&bob, "acme", me).await,
            Err(MemberError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn an_invitation_is_mailed_and_accepted_once_by_its_address() {
        use accueil_domain::notify::MailTemplate;
        use accueil_domain::queues::{InvitationProblem, NewInvitation};

        use crate::queues::{AcceptInvitationError, InviteError};

        let h = Harness::new();
        let q = h.whole_app().queues;
        let ann = verified(&h, "ann@example.org").await;
        q.create_tenant(&ann, acme()).await.unwrap();
        let new = NewInvitation::parse("zoe@example.org", "MANAGER").unwrap();
        let sent = q.invite(&ann, "acme", new.clone()).await.unwrap();
        assert_eq!(
            q.invitations(&ann, "acme").await.unwrap(),
            vec![sent.clone()]
        );
        let mail = h.last_mail(MailTemplate::TenantInvitation).await.mail;
        assert_eq!(mail.to.as_str(), "zoe@example.org");
        assert_eq!(mail.vars["tenant"], "Acme");
        let link = &mail.vars["link"];
        let token = link.split("token=").nth(1).unwrap();
        assert!(link.contains("/tenant-invitation?token="), "{link}");

        let eve = verified(&h, "eve@example.org").await;
        assert!(matches!(
            q.accept_invitation(&eve, token).await,
            Err(AcceptInvitationError::Invitation(
                InvitationProblem::OtherAddress
            ))
        ));
        h.registered("zoe@example.org", None).await;
        let zoe = h.principal("zoe@example.org").await;
        let joined = q.accept_invitation(&zoe, token).await.unwrap();
        assert_eq!(
            (joined.tenant.slug.as_str(), joined.role),
            ("acme", Role::Manager)
        );
        assert!(matches!(
            q.accept_invitation(&zoe, token).await,
            Err(AcceptInvitationError::Invitation(InvitationProblem::Used))
        ));
        assert!(q.invitations(&ann, "acme").await.unwrap().is_empty());
        assert!(matches!(
            q.invite(&ann, "acme", new).await,
            Err(InviteError::AlreadyMember)
        ));
        // A manager invites agents, not ADMINs.
        let admin = NewInvitation::parse("x@example.org", "ADMIN").unwrap();
        assert!(matches!(
            q.invite(&zoe, "acme", admin).await,
            Err(InviteError::Denied(TenantDenied::MissingScope(
                "tenant:admin"
            )))
        ));
        // The link expires after 7 days.
        let later = NewInvitation::parse("late@example.org", "AGENT").unwrap();
        q.invite(&zoe, "acme", later).await.unwrap();
        let link = h.last_mail(MailTemplate::TenantInvitation).await.mail.vars["link"].clone();
        h.registered("late@example.org", None).await;
        let late = h.principal("late@example.org").await;
        h.advance(accueil_domain::queues::INVITATION_TTL);
        assert!(matches!(
            q.accept_invitation(&late, link.split("token=").nth(1).unwrap())
                .await,
            Err(AcceptInvitationError::Invitation(
                InvitationProblem::Expired
            ))
        ));
    }

    #[tokio::test]
    async fn the_last_admin_hands_over_before_deleting_the_account() {
        use crate::identity::DeleteAccountError;

        let h = Harness::new();
        let q = h.whole_app().queues;
        let ann = verified(&h, "ann@example.org").await;
        q.create_tenant(&ann, acme()).await.unwrap();
        let bob = verified(&h, "bob@example.org").await;
        join(&h, "acme", bob.user.id, Role::Agent).await;
        let export = h.app.export(&ann).await.unwrap();
        assert_eq!(export.tenants.len(), 1);
        assert_eq!(
            (export.tenants[0].0.slug.as_str(), export.tenants[0].1),
            ("acme", Role::Admin)
        );
        match h.app.delete_account(&ann, Harness::PASSWORD).await {
            Err(DeleteAccountError::Blocked(why)) => assert!(why.contains("acme"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(
            h.user(ann.user.id).await.unwrap().deleted_at.is_none(),
            "nothing changed"
        );
        q.change_role(&ann, "acme", bob.user.id, Role::Admin)
            .await
            .unwrap();
        h.app.delete_account(&ann, Harness::PASSWORD).await.unwrap();
        let members = q.members(&bob, "acme").await.unwrap();
        assert_eq!(
            members
                .iter()
                .map(|m| m.membership.user)
                .collect::<Vec<_>>(),
            vec![bob.user.id],
            "the deleted account's membership went with it"
        );
    }

    #[tokio::test]
    async fn a_deleted_tenant_is_gone_at_once_and_purged_after_the_grace() {
        let h = Harness::new();
        let app = h.whole_app();
        let q = app.queues.clone();
        let ann = verified(&h, "ann@example.org").await;
        q.create_tenant(&ann, acme()).await.unwrap();
        let bob = verified(&h, "bob@example.org").await;
        join(&h, "acme", bob.user.id, Role::Agent).await;
        assert!(matches!(
            q.delete_tenant(&bob, "acme").await,
            Err(InTenantError::Denied(TenantDenied::MissingScope(
                "tenant:admin"
            )))
        ));
        let export = q.export_tenant(&ann, "acme").await.unwrap();
        assert_eq!(
            (export.tenant.slug.as_str(), export.members.len()),
            ("acme", 2)
        );
        q.delete_tenant(&ann, "acme").await.unwrap();
        for who in [&ann, &bob] {
            assert!(matches!(
                q.tenant(who, "acme").await,
                Err(InTenantError::Denied(TenantDenied::NotFound))
            ));
            assert!(q.my_tenants(who).await.unwrap().is_empty());
        }
        // Its slug stays taken until the purge; the last ADMIN may now delete the account.
        assert!(matches!(
            q.create_tenant(&bob, acme()).await,
            Err(crate::queues::CreateTenantError::SlugTaken)
        ));
        h.advance(accueil_domain::queues::TENANT_DELETION_GRACE - chrono::Duration::minutes(1));
        app.purge().await.unwrap();
        let still = h
            .store
            .read(|tx| tx.tenants().tenant_by_slug("acme"))
            .await
            .unwrap();
        assert!(still.is_some(), "kept through the grace period");
        h.advance(chrono::Duration::minutes(2));
        app.purge().await.unwrap();
        let gone = h
            .store
            .read(|tx| tx.tenants().tenant_by_slug("acme"))
            .await
            .unwrap();
        assert!(gone.is_none());
        q.create_tenant(&bob, acme()).await.unwrap();
    }

    #[tokio::test]
    async fn catalogue_references_stay_in_the_tenant_and_deletions_follow_them() {
        use accueil_domain::queues::{
            AgentChanges, NewCounter, NewService, NewSite, NumberingFields,
        };
        use accueil_domain::validation::Patch;

        use crate::queues::{AgentChangeError, CreateItemError, RemoveItemError};

        let h = Harness::new();
        let q = h.whole_app().queues;
        let ann = verified(&h, "ann@example.org").await;
        let eve = verified(&h, "eve@example.org").await;
        q.create_tenant(&ann, acme()).await.unwrap();
        q.create_tenant(
            &eve,
            NewTenant::parse("other", "Other", "UTC", None).unwrap(),
        )
        .await
        .unwrap();
        let site = q
            .create_site(&ann, "acme", NewSite::parse("HQ", None, None).unwrap())
            .await
            .unwrap();
        let service = |site| {
            NewService::parse(site, "Accounts", "A", NumberingFields::default(), None).unwrap()
        };
        q.create_service(&ann, "acme", service(site.id))
            .await
            .unwrap();
        let counter = q
            .create_counter(&ann, "acme", NewCounter::parse(site.id, "Desk").unwrap())
            .await
            .unwrap();

        // Acme's site and counter do not exist in eve's tenant.
        let stolen = q.create_service(&eve, "other", service(site.id)).await;
        let Err(CreateItemError::Invalid(e)) = stolen else {
            panic!("{stolen:?}")
        };
        assert_eq!((e.0[0].field, e.0[0].code), ("site_id", "not_found"));
        let at_acme = AgentChanges::parse(None, Patch::Set(counter.id), None).unwrap();
        let refused = q.update_my_agent(&eve, "other", at_acme.clone()).await;
        assert!(
            matches!(&refused, Err(AgentChangeError::Invalid(e)) if e.0[0].field == "counter_id"),
            "{refused:?}"
        );
        let mine = q.update_my_agent(&ann, "acme", at_acme).await.unwrap();
        assert_eq!(mine.profile.counter_id, Some(counter.id));

        // A site with a service stays; a counter goes, and its agents are at none.
        let kept = q.delete_site(&ann, "acme", site.id).await;
        assert!(matches!(kept, Err(RemoveItemError::InUse(_))), "{kept:?}");
        q.delete_counter(&ann, "acme", counter.id).await.unwrap();
        assert_eq!(
            q.my_agent(&ann, "acme").await.unwrap().profile.counter_id,
            None
        );
        let again = q.delete_counter(&ann, "acme", counter.id).await;
        assert!(
            matches!(again, Err(RemoveItemError::NotFound(_))),
            "{again:?}"
        );
    }

    #[tokio::test]
    async fn an_agent_calls_in_order_follows_their_tickets_and_out_of_turn_is_audited() {
        use accueil_domain::queues::tickets::{NewTicket, TicketAction, TicketStatus};
        use accueil_domain::queues::{
            AgentChanges, AgentStatus, NewQueue, NewService, NewSite, NumberingFields,
        };
        use accueil_domain::validation::Patch;

        use crate::queues::{CallNextError, TicketActionError};

        let h = Harness::new();
        let q = h.whole_app().queues;
        let ann = verified(&h, "ann@example.org").await;
        q.create_tenant(&ann, acme()).await.unwrap();
        let site = q
            .create_site(&ann, "acme", NewSite::parse("HQ", None, None).unwrap())
            .await
            .unwrap();
        let service = NewService::parse(site.id, "S", "B", NumberingFields::default(), Some(6));
        let service = q
            .create_service(&ann, "acme", service.unwrap())
            .await
            .unwrap();
        let queue = NewQueue::parse(service.id, "Q", Some("PRIORITY"), None, None, None).unwrap();
        let queue = q.create_queue(&ann, "acme", queue).await.unwrap();
        let serve = AgentChanges::parse(Some("AVAILABLE"), Patch::Keep, Some(vec![queue.id]));
        q.update_my_agent(&ann, "acme", serve.unwrap())
            .await
            .unwrap();

        let take = |p| NewTicket::parse(Some(p), None, None).unwrap();
        let low = q
            .take_ticket(&ann, "acme", queue.id, take(1))
            .await
            .unwrap();
        let high = q
            .take_ticket(&ann, "acme", queue.id, take(8))
            .await
            .unwrap();
        let last = q
            .take_ticket(&ann, "acme", queue.id, take(1))
            .await
            .unwrap();
        assert_eq!(low.view.ticket.number.to_string(), "B-001");
        assert_ne!(low.token, high.token);
        let list = q.waiting_list(&ann, "acme", queue.id, 50).await.unwrap();
        let order: Vec<_> = list
            .iter()
            .map(|v| (v.ticket.id, v.position, v.eta_minutes))
            .collect();
        assert_eq!(
            order,
            [
                (high.view.ticket.id, Some(1), Some(0)),
                (low.view.ticket.id, Some(2), Some(6)),
                (last.view.ticket.id, Some(3), Some(12)),
            ]
        );

        let called = q.call_next(&ann, "acme", queue.id).await.unwrap();
        assert_eq!(
            (called.ticket.id, called.ticket.status),
            (high.view.ticket.id, TicketStatus::Called)
        );
        assert_eq!(
            q.my_agent(&ann, "acme").await.unwrap().profile.status,
            AgentStatus::Busy
        );
        assert!(matches!(
            q.call_next(&ann, "acme", queue.id).await,
            Err(CallNextError::AgentBusy(_))
        ));
        for action in [TicketAction::Start, TicketAction::Close] {
            q.act_on_ticket(&ann, "acme", called.ticket.id, action)
                .await
                .unwrap();
        }
        assert_eq!(
            q.my_agent(&ann, "acme").await.unwrap().profile.status,
            AgentStatus::Available
        );
        let again = q
            .act_on_ticket(&ann, "acme", called.ticket.id, TicketAction::Start)
            .await;
        assert!(
            matches!(again, Err(TicketActionError::Transition(_))),
            "{again:?}"
        );

        // `last` before `low`: out of turn, and filed under the agent.
        q.act_on_ticket(&ann, "acme", last.view.ticket.id, TicketAction::Call)
            .await
            .unwrap();
        let me = ann.user.id;
        let audit = h.store.read(move |tx| tx.audit().about(me)).await.unwrap();
        assert!(
            audit.iter().any(|e| e.action
                == accueil_domain::admin::AuditAction::TicketCalledOutOfTurn
                && e.detail.contains("B-003")),
            "{audit:?}"
        );
    }
}
