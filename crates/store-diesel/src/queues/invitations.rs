//! A tenant's invitations in SQL, on the view bound to it; the look-up by link is the
//! registry's (`tenants.rs`).

use accueil_domain::identity::{Email, TokenDigest, UserId};
use accueil_domain::queues::{Invitation, TenantId};
use accueil_ports::StoreError;
use accueil_ports::queues::InvitationsRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::role;
use crate::schema::tenant_invitations as inv;
use crate::tx::{TenantView, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = inv)]
pub(super) struct InvitationRow {
    id: String,
    tenant_id: String,
    email: String,
    email_canonical: String,
    role: String,
    digest: String,
    invited_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
    accepted_by: Option<String>,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;
    fn try_from(r: InvitationRow) -> Result<Self, StoreError> {
        let accepted = match (r.accepted_at, r.accepted_by) {
            (Some(at), Some(by)) => Some((utc(at), UserId(uuid(&by)?))),
            // The acceptor's account was purged: still accepted, by nobody now.
            (Some(at), None) => Some((utc(at), UserId(Uuid::nil()))),
            _ => None,
        };
        Ok(Invitation {
            id: uuid(&r.id)?,
            tenant: TenantId(uuid(&r.tenant_id)?),
            email: Email::from_trusted(r.email),
            role: role(&r.role)?,
            digest: TokenDigest(r.digest),
            invited_by: UserId(uuid(&r.invited_by)?),
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
            accepted,
            revoked_at: r.revoked_at.map(utc),
        })
    }
}

impl InvitationsRepo for TenantView<'_> {
    fn invite(&mut self, invitation: &Invitation) -> Result<(), StoreError> {
        self.writable()?;
        self.bind()?;
        let tenant = self.tenant.to_string();
        let canonical = invitation.email.canonical();
        diesel::update(
            inv::table
                .filter(inv::tenant_id.eq(&tenant))
                .filter(inv::email_canonical.eq(&canonical))
                .filter(inv::accepted_at.is_null())
                .filter(inv::revoked_at.is_null()),
        )
        .set(inv::revoked_at.eq(Some(naive(invitation.created_at))))
        .execute(self.conn)
        .map_err(store_error)?;
        diesel::insert_into(inv::table)
            .values(InvitationRow {
                id: invitation.id.to_string(),
                tenant_id: tenant,
                email: invitation.email.as_str().to_owned(),
                email_canonical: canonical,
                role: invitation.role.as_str().to_owned(),
                digest: invitation.digest.0.clone(),
                invited_by: invitation.invited_by.to_string(),
                created_at: naive(invitation.created_at),
                expires_at: naive(invitation.expires_at),
                accepted_at: None,
                accepted_by: None,
                revoked_at: None,
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn pending_invitations(&mut self, now: DateTime<Utc>) -> Result<Vec<Invitation>, StoreError> {
        self.bind()?;
        inv::table
            .filter(inv::tenant_id.eq(self.tenant.to_string()))
            .filter(inv::accepted_at.is_null())
            .filter(inv::revoked_at.is_null())
            .filter(inv::expires_at.gt(naive(now)))
            .order((inv::created_at.desc(), inv::id.desc()))
            .select(InvitationRow::as_select())
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .map(Invitation::try_from)
            .collect()
    }

    fn revoke_invitation(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        self.bind()?;
        let n = diesel::update(
            inv::table
                .find(id.to_string())
                .filter(inv::tenant_id.eq(self.tenant.to_string()))
                .filter(inv::accepted_at.is_null())
                .filter(inv::revoked_at.is_null())
                .filter(inv::expires_at.gt(naive(at))),
        )
        .set(inv::revoked_at.eq(Some(naive(at))))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn accept_invitation(
        &mut self,
        id: Uuid,
        user: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        self.bind()?;
        // One statement: of two acceptances, the second finds `accepted_at` set.
        let n = diesel::update(
            inv::table
                .find(id.to_string())
                .filter(inv::tenant_id.eq(self.tenant.to_string()))
                .filter(inv::accepted_at.is_null())
                .filter(inv::revoked_at.is_null()),
        )
        .set((
            inv::accepted_at.eq(Some(naive(at))),
            inv::accepted_by.eq(Some(user.to_string())),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }
}
