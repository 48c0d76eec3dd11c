//! Invitations: a member with the scope invites an address to a role (an ADMIN only by an
//! ADMIN); the mail, with its single-use link, goes through the outbox in the same unit of
//! work; the invitee, signed in to an account with that address, accepts and becomes a member.

use accueil_domain::notify::MailTemplate;
use accueil_domain::queues::{Invitation, InvitationProblem, NewInvitation, Role, Scope};
use accueil_ports::StoreError;
use uuid::Uuid;

use super::{QueuesService, Requires, TenantView};
use crate::identity::{AuthError, Caller, RateLimited};
use crate::notify::UserMail;
use crate::scope::{NotFound, TenantDenied};

/// An invitation the tenant does not have pending (404).
const NO_INVITATION: NotFound = NotFound("pending invitation");

/// Why an invitation could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// Not authenticated, not a member, or without the scope (`tenant:admin` for an ADMIN).
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// The address is a member's already.
    #[error("this address is a member's already")]
    AlreadyMember,
    /// Too many invitations from this member.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a pending invitation could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeInvitationError {
    /// Not authenticated, not a member, or without the scope.
    #[error(transparent)]
    Denied(#[from] TenantDenied),
    /// No such pending invitation in this tenant.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an invitation could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptInvitationError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The link is unknown, used, expired, or for another address.
    #[error(transparent)]
    Invitation(#[from] InvitationProblem),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QueuesService {
    /// Invites `new.email` to the tenant with `new.role` (`members:invite`; `tenant:admin` to
    /// invite an ADMIN) and mails the link, valid 7 days; a newer invitation to the same
    /// address replaces the older. Limited per inviting member.
    ///
    /// # Errors
    /// See [`InviteError`].
    pub async fn invite(
        &self,
        caller: &Caller,
        slug: &str,
        new: NewInvitation,
    ) -> Result<Invitation, InviteError> {
        let (id, mail_id) = (self.ports.ids.new_id(), self.ports.ids.new_id());
        let token = self.ports.opaque_tokens.generate();
        let link = format!(
            "{}/tenant-invitation?token={}",
            self.settings.public_url.trim_end_matches('/'),
            token.secret
        );
        let (limiter, rate) = (self.ports.limiter.clone(), self.settings.invite_user);
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(new.required_scope()),
                slug,
                move |cx| -> Result<Invitation, InviteError> {
                    limiter
                        .hit("invite:user", &cx.me.user.id.to_string(), rate, cx.now)
                        .map_err(|retry_after| RateLimited { retry_after })?;
                    let (me, now) = (cx.me.user.clone(), cx.now);
                    let canonical = new.email.canonical();
                    let mut tenant = cx.tenant();
                    if tenant
                        .members()
                        .members()?
                        .iter()
                        .any(|m| m.email.canonical() == canonical)
                    {
                        return Err(InviteError::AlreadyMember);
                    }
                    let this = tenant.members().this_tenant()?;
                    let invitation = new.into_invitation(id, this.id, token.digest, me.id, now);
                    tenant.invitations().invite(&invitation)?;
                    drop(tenant);
                    let inviter = me
                        .display_name
                        .as_ref()
                        .map(|d| d.as_str().to_owned())
                        .or_else(|| me.username.as_ref().map(|u| u.as_str().to_owned()))
                        .unwrap_or_default();
                    let mail = UserMail::to_guest(
                        mail_id,
                        &invitation.email,
                        invitation.email.local_part().to_owned(),
                        this.locale,
                        MailTemplate::TenantInvitation,
                        &[
                            ("link", link),
                            ("tenant", this.name.as_str().to_owned()),
                            ("role", invitation.role.as_str().to_owned()),
                            ("inviter", inviter),
                        ],
                        now,
                    );
                    crate::notify::enqueue(cx.tx, &mail)?;
                    Ok(invitation)
                },
            )
            .await
    }

    /// The tenant's pending invitations, newest first (`members:read`).
    ///
    /// # Errors
    /// See [`super::InTenantError`].
    pub async fn invitations(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<Vec<Invitation>, super::InTenantError> {
        self.ports
            .read_in_tenant(
                caller,
                Requires::gate(Scope::MembersRead),
                slug,
                |cx| -> Result<Vec<Invitation>, super::InTenantError> {
                    let now = cx.now;
                    Ok(cx.tenant().invitations().pending_invitations(now)?)
                },
            )
            .await
    }

    /// Revokes a pending invitation (`members:invite`): its link stops working.
    ///
    /// # Errors
    /// See [`RevokeInvitationError`].
    pub async fn revoke_invitation(
        &self,
        caller: &Caller,
        slug: &str,
        id: Uuid,
    ) -> Result<(), RevokeInvitationError> {
        self.ports
            .write_in_tenant(
                caller,
                Requires::gate(Scope::MembersInvite),
                slug,
                move |cx| -> Result<(), RevokeInvitationError> {
                    let now = cx.now;
                    if cx.tenant().invitations().revoke_invitation(id, now)? {
                        Ok(())
                    } else {
                        Err(NO_INVITATION.into())
                    }
                },
            )
            .await
    }

    /// Accepts the invitation of `token` as the caller, whose account must have the invited
    /// address: they become a member with the invited role (a member already keeps theirs),
    /// and the link is spent.
    ///
    /// # Errors
    /// See [`AcceptInvitationError`].
    pub async fn accept_invitation(
        &self,
        caller: &Caller,
        token: &str,
    ) -> Result<TenantView, AcceptInvitationError> {
        let digest = self.ports.opaque_tokens.digest(token);
        self.ports
            .write_as(
                caller,
                move |cx| -> Result<TenantView, AcceptInvitationError> {
                    let (me, now) = (cx.me.user.clone(), cx.now);
                    let invitation = cx
                        .tx
                        .tenants()
                        .invitation_by_digest(&digest)?
                        .ok_or(InvitationProblem::Unknown)?;
                    invitation.check(&me.email, now)?;
                    let mut tenant = cx.tx.in_tenant(invitation.tenant);
                    if !tenant
                        .invitations()
                        .accept_invitation(invitation.id, me.id, now)?
                    {
                        return Err(InvitationProblem::Used.into());
                    }
                    tenant.members().add_member(me.id, invitation.role, now)?;
                    let role: Role = tenant
                        .members()
                        .member(me.id)?
                        .ok_or_else(|| StoreError::Internal("the new member vanished".into()))?
                        .role;
                    Ok(TenantView {
                        tenant: tenant.members().this_tenant()?,
                        role,
                    })
                },
            )
            .await
    }
}
