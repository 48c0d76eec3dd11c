//! Every repository port in memory: for application tests and the contract suite.
//!
//! One mutex serializes units of work, like SQLite's single writer. A unit of work runs against
//! a copy of the state that replaces the original only when the work succeeds, so a failed unit
//! leaves nothing behind, exactly as a rolled-back transaction does.
//!
//! Each repository's implementation lives in the file named as its port (`identity/users.rs`
//! implements `accueil_ports::identity::UsersRepo`, and so on).

mod admin;
mod couples;
mod files;
mod identity;
mod jobs;
mod limits;
mod memories;
mod notify;
mod queues;

pub use files::MemoryFileStore;
pub use limits::MemoryRateLimiter;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use accueil_domain::admin::AuditEvent;
use accueil_domain::couples::{
    Answer, Change, CheckIn, Couple, CoupleId, Goal, GoalAction, Invite, Letter, Question, Side,
};
use accueil_domain::events::Event;
use accueil_domain::identity::{
    ApiKey, ApiKeyId, EmailToken, ExternalIdentity, IdentityId, OAuthFlow, PendingLink,
    RefreshToken, Session, SessionId, User, UserId, WsTicket,
};
use accueil_domain::jobs::{Job, JobRun};
use accueil_domain::memories::{Memory, MemoryId, Perspective, Share, ShareId};
use accueil_domain::notify::OutboxEntry;
use accueil_domain::queues::{Invitation, Membership, Tenant, TenantId};
use accueil_ports::scope::{OwnerTx, TenantTx};
use accueil_ports::store::{Boxed, Work};
use accueil_ports::{Access, Committed, Store, StoreError, Tx};
use async_trait::async_trait;
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    users: HashMap<UserId, User>,
    sessions: HashMap<SessionId, Session>,
    refresh_tokens: HashMap<Uuid, RefreshToken>,
    audit: Vec<AuditEvent>,
    outbox: HashMap<Uuid, OutboxEntry>,
    jobs: HashMap<Uuid, Job>,
    job_runs: Vec<JobRun>,
    email_tokens: HashMap<Uuid, EmailToken>,
    /// Realtime tickets by digest.
    ws_tickets: HashMap<String, WsTicket>,
    api_keys: HashMap<ApiKeyId, ApiKey>,
    identities: HashMap<IdentityId, ExternalIdentity>,
    oauth_flows: HashMap<String, OAuthFlow>,
    pending_links: HashMap<String, PendingLink>,
    /// Each couple with its change sequence.
    couples: HashMap<CoupleId, (Couple, i64)>,
    invites: HashMap<Uuid, Invite>,
    changes: Vec<Change>,
    questions: HashMap<Uuid, Question>,
    answers: HashMap<Uuid, Answer>,
    goals: HashMap<Uuid, Goal>,
    actions: HashMap<Uuid, GoalAction>,
    checkins: HashMap<Uuid, CheckIn>,
    letters: HashMap<Uuid, Letter>,
    perspectives: HashMap<(CoupleId, Side), Perspective>,
    memories: HashMap<MemoryId, Memory>,
    photo_link_generations: HashMap<CoupleId, u64>,
    shares: HashMap<ShareId, Share>,
    tenants: HashMap<TenantId, Tenant>,
    memberships: std::collections::BTreeMap<(TenantId, UserId), Membership>,
    invitations: HashMap<Uuid, Invitation>,
    tenant_rows: queues::catalogue::TenantRows,
}

/// The in-memory store. Cloning it shares the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn run(
        &self,
        access: Access,
        work: Work,
    ) -> Result<Result<Committed, Boxed>, StoreError> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| StoreError::Internal("memory store poisoned by a panic".into()))?;
        let mut draft = guard.clone();
        let mut tx = MemTx {
            state: &mut draft,
            read_only: access == Access::Read,
            events: Vec::new(),
        };
        let outcome = work(&mut tx);
        let events = std::mem::take(&mut tx.events);
        if outcome.is_ok() && access == Access::Write {
            *guard = draft;
        }
        Ok(outcome.map(|value| Committed { value, events }))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

pub(crate) struct MemTx<'a> {
    pub(crate) state: &'a mut State,
    read_only: bool,
    events: Vec<Event>,
}

impl MemTx<'_> {
    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        accueil_ports::store::refuse_writes(self.read_only)
    }
}

impl Tx for MemTx<'_> {
    accueil_ports::repositories_by_self!();

    fn events(&mut self) -> &mut Vec<Event> {
        &mut self.events
    }

    fn in_tenant(&mut self, tenant: TenantId) -> Box<dyn TenantTx + '_> {
        Box::new(MemTenantTx {
            state: &mut *self.state,
            read_only: self.read_only,
            tenant,
        })
    }

    fn as_owner(&mut self, owner: UserId) -> Box<dyn OwnerTx + '_> {
        Box::new(MemOwnerTx {
            _state: &mut *self.state,
            _read_only: self.read_only,
            owner,
        })
    }
}

/// One tenant's view of the transaction: its repositories filter every row by `tenant`.
pub(crate) struct MemTenantTx<'a> {
    pub(crate) state: &'a mut State,
    pub(crate) read_only: bool,
    pub(crate) tenant: TenantId,
}

impl MemTenantTx<'_> {
    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        accueil_ports::store::refuse_writes(self.read_only)
    }
}

impl TenantTx for MemTenantTx<'_> {
    fn tenant(&self) -> TenantId {
        self.tenant
    }
    fn members(&mut self) -> &mut dyn accueil_ports::queues::MembersRepo {
        self
    }
    fn invitations(&mut self) -> &mut dyn accueil_ports::queues::InvitationsRepo {
        self
    }
    fn catalogue(&mut self) -> &mut dyn accueil_ports::queues::CatalogueRepo {
        self
    }
    fn customers(&mut self) -> &mut dyn accueil_ports::queues::CustomersRepo {
        self
    }
    fn agents(&mut self) -> &mut dyn accueil_ports::queues::AgentsRepo {
        self
    }
    fn tickets(&mut self) -> &mut dyn accueil_ports::queues::TicketsRepo {
        self
    }
}

/// One user's view of their own data: its repositories filter every row by `owner`.
struct MemOwnerTx<'a> {
    _state: &'a mut State,
    _read_only: bool,
    owner: UserId,
}

impl OwnerTx for MemOwnerTx<'_> {
    fn owner(&self) -> UserId {
        self.owner
    }
}
