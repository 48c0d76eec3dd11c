//! A tenant's invitations in memory, on the bound view.

use accueil_domain::identity::UserId;
use accueil_domain::queues::Invitation;
use accueil_ports::StoreError;
use accueil_ports::queues::InvitationsRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::MemTenantTx;

impl MemTenantTx<'_> {
    /// The bound tenant's invitation `id`, if it is unspent (not accepted nor revoked).
    fn unspent(&mut self, id: Uuid) -> Option<&mut Invitation> {
        let tenant = self.tenant;
        self.state
            .invitations
            .get_mut(&id)
            .filter(|i| i.tenant == tenant && i.accepted.is_none() && i.revoked_at.is_none())
    }
}

impl InvitationsRepo for MemTenantTx<'_> {
    fn invite(&mut self, invitation: &Invitation) -> Result<(), StoreError> {
        self.writable()?;
        let canonical = invitation.email.canonical();
        for old in self.state.invitations.values_mut() {
            if old.tenant == self.tenant
                && old.email.canonical() == canonical
                && old.accepted.is_none()
                && old.revoked_at.is_none()
            {
                old.revoked_at = Some(invitation.created_at);
            }
        }
        let mut stored = invitation.clone();
        stored.tenant = self.tenant;
        self.state.invitations.insert(stored.id, stored);
        Ok(())
    }

    fn pending_invitations(&mut self, now: DateTime<Utc>) -> Result<Vec<Invitation>, StoreError> {
        let mut pending: Vec<Invitation> = self
            .state
            .invitations
            .values()
            .filter(|i| i.tenant == self.tenant && i.pending(now))
            .cloned()
            .collect();
        pending.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));
        Ok(pending)
    }

    fn revoke_invitation(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.unspent(id).filter(|i| at < i.expires_at) {
            Some(i) => {
                i.revoked_at = Some(at);
                true
            }
            None => false,
        })
    }

    fn accept_invitation(
        &mut self,
        id: Uuid,
        user: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.unspent(id) {
            Some(i) => {
                i.accepted = Some((at, user));
                true
            }
            None => false,
        })
    }
}
