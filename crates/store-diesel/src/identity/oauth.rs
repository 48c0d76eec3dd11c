//! External identities, sign-in flows in progress and pending links in SQL.

use crate::one::OneRow;
use accueil_domain::identity::{
    ExternalIdentity, FlowResponse, IdentityId, OAuthFlow, PendingLink, ProviderName, SessionId,
    TokenDigest, UserId,
};
use accueil_ports::StoreError;
use accueil_ports::identity::OAuthRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::schema::{external_identities, oauth_flows, oauth_pending_links};
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = external_identities)]
struct IdentityRow {
    id: String,
    user_id: String,
    provider: String,
    subject: String,
    email: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    proven: bool,
}

impl TryFrom<IdentityRow> for ExternalIdentity {
    type Error = StoreError;
    fn try_from(r: IdentityRow) -> Result<Self, StoreError> {
        Ok(ExternalIdentity {
            id: IdentityId(uuid(&r.id)?),
            user_id: UserId(uuid(&r.user_id)?),
            provider: ProviderName::from_trusted(r.provider),
            subject: r.subject,
            email: r.email,
            created_at: utc(r.created_at),
            last_used_at: r.last_used_at.map(utc),
            proven: r.proven,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_flows)]
struct FlowRow {
    state_digest: String,
    provider: String,
    nonce: String,
    pkce_verifier: String,
    binding_digest: String,
    response: String,
    link_to: Option<String>,
    link_session: Option<String>,
    expires_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

impl TryFrom<FlowRow> for OAuthFlow {
    type Error = StoreError;
    fn try_from(r: FlowRow) -> Result<Self, StoreError> {
        Ok(OAuthFlow {
            state_digest: TokenDigest(r.state_digest),
            provider: ProviderName::from_trusted(r.provider),
            nonce: r.nonce,
            pkce_verifier: r.pkce_verifier,
            binding_digest: TokenDigest(r.binding_digest),
            response: FlowResponse::parse(&r.response).ok_or_else(|| {
                StoreError::Internal(format!("corrupt response {:?}", r.response))
            })?,
            link_to: r.link_to.as_deref().map(uuid).transpose()?.map(UserId),
            link_session: r
                .link_session
                .as_deref()
                .map(uuid)
                .transpose()?
                .map(SessionId),
            expires_at: utc(r.expires_at),
            created_at: utc(r.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_pending_links)]
struct PendingLinkRow {
    digest: String,
    user_id: String,
    provider: String,
    subject: String,
    email: Option<String>,
    expires_at: NaiveDateTime,
}

impl OAuthRepo for DieselTx<'_> {
    fn insert_identity(&mut self, i: &ExternalIdentity) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(external_identities::table)
            .values(IdentityRow {
                id: i.id.0.to_string(),
                user_id: i.user_id.to_string(),
                provider: i.provider.as_str().to_owned(),
                subject: i.subject.clone(),
                email: i.email.clone(),
                created_at: naive(i.created_at),
                last_used_at: i.last_used_at.map(naive),
                proven: i.proven,
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn identity_by_subject(
        &mut self,
        provider: &ProviderName,
        subject: &str,
    ) -> Result<Option<ExternalIdentity>, StoreError> {
        external_identities::table
            .filter(external_identities::provider.eq(provider.as_str()))
            .filter(external_identities::subject.eq(subject))
            .select(IdentityRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(ExternalIdentity::try_from)
            .transpose()
    }

    fn identities_of(&mut self, user: UserId) -> Result<Vec<ExternalIdentity>, StoreError> {
        external_identities::table
            .filter(external_identities::user_id.eq(user.to_string()))
            .order((
                external_identities::created_at.asc(),
                external_identities::id.asc(),
            ))
            .select(IdentityRow::as_select())
            .load(self.conn)
            .map_err(store_error)?
            .into_iter()
            .map(ExternalIdentity::try_from)
            .collect()
    }

    fn touch_identity(&mut self, id: IdentityId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        diesel::update(external_identities::table.find(id.0.to_string()))
            .set(external_identities::last_used_at.eq(naive(at)))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn delete_identity(&mut self, user: UserId, id: IdentityId) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::delete(
            external_identities::table
                .filter(external_identities::id.eq(id.0.to_string()))
                .filter(external_identities::user_id.eq(user.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n > 0)
    }

    fn insert_oauth_flow(&mut self, f: &OAuthFlow) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(oauth_flows::table)
            .values(FlowRow {
                state_digest: f.state_digest.0.clone(),
                provider: f.provider.as_str().to_owned(),
                nonce: f.nonce.clone(),
                pkce_verifier: f.pkce_verifier.clone(),
                binding_digest: f.binding_digest.0.clone(),
                response: f.response.as_str().to_owned(),
                link_to: f.link_to.map(|u| u.to_string()),
                link_session: f.link_session.map(|s| s.0.to_string()),
                expires_at: naive(f.expires_at),
                created_at: naive(f.created_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn take_oauth_flow(
        &mut self,
        state_digest: &TokenDigest,
    ) -> Result<Option<OAuthFlow>, StoreError> {
        self.writable()?;
        // DELETE ... RETURNING: of two concurrent callbacks with one state, one gets the row.
        let rows: Vec<FlowRow> = diesel::delete(oauth_flows::table.find(&state_digest.0))
            .returning((
                oauth_flows::state_digest,
                oauth_flows::provider,
                oauth_flows::nonce,
                oauth_flows::pkce_verifier,
                oauth_flows::binding_digest,
                oauth_flows::response,
                oauth_flows::link_to,
                oauth_flows::link_session,
                oauth_flows::expires_at,
                oauth_flows::created_at,
            ))
            .get_results(self.conn)
            .map_err(store_error)?;
        rows.into_iter().next().map(OAuthFlow::try_from).transpose()
    }

    fn insert_pending_link(&mut self, l: &PendingLink) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(oauth_pending_links::table)
            .values(PendingLinkRow {
                digest: l.digest.0.clone(),
                user_id: l.user_id.to_string(),
                provider: l.provider.as_str().to_owned(),
                subject: l.subject.clone(),
                email: l.email.clone(),
                expires_at: naive(l.expires_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn take_pending_link(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<PendingLink>, StoreError> {
        self.writable()?;
        let rows: Vec<PendingLinkRow> = diesel::delete(oauth_pending_links::table.find(&digest.0))
            .returning((
                oauth_pending_links::digest,
                oauth_pending_links::user_id,
                oauth_pending_links::provider,
                oauth_pending_links::subject,
                oauth_pending_links::email,
                oauth_pending_links::expires_at,
            ))
            .get_results(self.conn)
            .map_err(store_error)?;
        rows.into_iter()
            .next()
            .map(|r| {
                Ok(PendingLink {
                    digest: TokenDigest(r.digest),
                    user_id: UserId(uuid(&r.user_id)?),
                    provider: ProviderName::from_trusted(r.provider),
                    subject: r.subject,
                    email: r.email,
                    expires_at: utc(r.expires_at),
                })
            })
            .transpose()
    }

    fn purge_oauth_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let flows =
            diesel::delete(oauth_flows::table.filter(oauth_flows::expires_at.lt(naive(cutoff))))
                .execute(self.conn)
                .map_err(store_error)?;
        let links = diesel::delete(
            oauth_pending_links::table.filter(oauth_pending_links::expires_at.lt(naive(cutoff))),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok((flows + links) as u64)
    }
}
