//! Invitations to a tenant: mailed to an address with a single-use link that expires; the
//! invitee accepts once signed in to an account with that address, and becomes a member with
//! the role they were invited to.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Role, Scope, TenantId};
use crate::identity::{Email, TokenDigest, UserId};
use crate::validation::{Fields, ValidationErrors};

/// How long an invitation link works.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// An invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Id.
    pub id: Uuid,
    /// The tenant.
    pub tenant: TenantId,
    /// The address it was sent to.
    pub email: Email,
    /// The role the invitee gets.
    pub role: Role,
    /// The digest of the link's secret.
    pub digest: TokenDigest,
    /// Who invited.
    pub invited_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Until when the link works.
    pub expires_at: DateTime<Utc>,
    /// When and by whom it was accepted (then it is spent).
    pub accepted: Option<(DateTime<Utc>, UserId)>,
    /// When it was revoked, or replaced by a newer invitation to the same address.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An invitation to send, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    /// The address.
    pub email: Email,
    /// The role.
    pub role: Role,
}

impl NewInvitation {
    /// Checks both fields.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(email: &str, role: &str) -> Result<Self, ValidationErrors> {
        let (email, role) = (Email::parse(email), Role::parse_field(role)).all()?;
        Ok(Self { email, role })
    }

    /// The scope inviting to this role needs: an ADMIN is invited by an ADMIN only.
    pub fn required_scope(&self) -> Scope {
        if self.role == Role::Admin {
            Scope::TenantAdmin
        } else {
            Scope::MembersInvite
        }
    }

    /// The invitation, sent at `now` by `by` with the link's `digest`.
    pub fn into_invitation(
        self,
        id: Uuid,
        tenant: TenantId,
        digest: TokenDigest,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Invitation {
        Invitation {
            id,
            tenant,
            email: self.email,
            role: self.role,
            digest,
            invited_by: by,
            created_at: now,
            expires_at: now + INVITATION_TTL,
            accepted: None,
            revoked_at: None,
        }
    }
}

/// Why an invitation cannot be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvitationProblem {
    /// No invitation has this link (or it was revoked or replaced).
    #[error("this invitation link is not valid (it may have been revoked or replaced)")]
    Unknown,
    /// It was accepted already.
    #[error("this invitation was accepted already")]
    Used,
    /// It expired.
    #[error("this invitation has expired; ask for a new one")]
    Expired,
    /// It was sent to another address than the account's.
    #[error(
        "this invitation was sent to another address: sign in with the account of that address"
    )]
    OtherAddress,
}

impl Invitation {
    /// Whether `acceptor`, whose account's address is `address`, may accept it at `now`.
    ///
    /// # Errors
    /// The [`InvitationProblem`].
    pub fn check(&self, address: &Email, now: DateTime<Utc>) -> Result<(), InvitationProblem> {
        if self.revoked_at.is_some() {
            return Err(InvitationProblem::Unknown);
        }
        if self.accepted.is_some() {
            return Err(InvitationProblem::Used);
        }
        if now >= self.expires_at {
            return Err(InvitationProblem::Expired);
        }
        if self.email.canonical() != address.canonical() {
            return Err(InvitationProblem::OtherAddress);
        }
        Ok(())
    }

    /// Whether it still waits for its invitee at `now`.
    pub fn pending(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.accepted.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(now: DateTime<Utc>) -> Invitation {
        NewInvitation::parse("Zoe@Example.org", "AGENT")
            .unwrap()
            .into_invitation(
                Uuid::nil(),
                TenantId(Uuid::nil()),
                TokenDigest("d".into()),
                UserId(Uuid::nil()),
                now,
            )
    }

    #[test]
    fn who_may_accept_and_when() {
        let now = DateTime::UNIX_EPOCH;
        let inv = invitation(now);
        let zoe = Email::parse("zoe@example.org").unwrap();
        assert_eq!(inv.check(&zoe, now + Duration::days(6)), Ok(()));
        assert_eq!(
            inv.check(&zoe, now + INVITATION_TTL),
            Err(InvitationProblem::Expired)
        );
        let eve = Email::parse("eve@example.org").unwrap();
        assert_eq!(inv.check(&eve, now), Err(InvitationProblem::OtherAddress));
        let mut used = inv.clone();
        used.accepted = Some((now, UserId(Uuid::nil())));
        assert_eq!(used.check(&zoe, now), Err(InvitationProblem::Used));
        assert!(!used.pending(now));
        let mut revoked = inv.clone();
        revoked.revoked_at = Some(now);
        assert_eq!(revoked.check(&zoe, now), Err(InvitationProblem::Unknown));
        assert!(inv.pending(now));
    }

    #[test]
    fn inviting_an_admin_takes_an_admin() {
        let admin = NewInvitation::parse("a@example.org", "ADMIN").unwrap();
        assert_eq!(admin.required_scope(), Scope::TenantAdmin);
        let agent = NewInvitation::parse("a@example.org", "MANAGER").unwrap();
        assert_eq!(agent.required_scope(), Scope::MembersInvite);
        let e = NewInvitation::parse("nope", "OWNER").unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field).collect();
        assert_eq!(fields, ["email", "role"]);
    }
}
