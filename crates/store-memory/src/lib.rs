//! Every repository port in memory: for application tests and the contract suite.
//!
//! One mutex serializes units of work, like SQLite's single writer. A unit of work runs against
//! a copy of the state that replaces the original only when the work succeeds, so a failed unit
//! leaves nothing behind, exactly as a rolled-back transaction does.

mod couples;
mod files;
mod limits;
mod memories;

pub use files::MemoryFileStore;
pub use limits::MemoryRateLimiter;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use accueil_domain::admin::AuditEvent;
use accueil_domain::couples::{
    Answer, Change, CheckIn, Couple, CoupleId, Goal, GoalAction, Invite, Letter, Question,
};
use accueil_domain::identity::{
    Email, EmailToken, RefreshToken, Session, SessionId, TokenDigest, TokenPurpose, User, UserId,
    Username,
};
use accueil_domain::notify::{DeliveryState, OutboxEntry};
use accueil_ports::admin::AuditRepo;
use accueil_ports::couples::CouplesRepo;
use accueil_ports::identity::{IdentityRepo, UserWriteError};
use accueil_ports::notify::OutboxRepo;
use accueil_ports::store::{Boxed, Work};
use accueil_ports::{Access, Store, StoreError, Tx};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    users: HashMap<UserId, User>,
    sessions: HashMap<SessionId, Session>,
    refresh_tokens: HashMap<Uuid, RefreshToken>,
    audit: Vec<AuditEvent>,
    outbox: HashMap<Uuid, OutboxEntry>,
    email_tokens: HashMap<Uuid, EmailToken>,
    api_keys: HashMap<accueil_domain::identity::ApiKeyId, accueil_domain::identity::ApiKey>,
    identities:
        HashMap<accueil_domain::identity::IdentityId, accueil_domain::identity::ExternalIdentity>,
    oauth_flows: HashMap<String, accueil_domain::identity::OAuthFlow>,
    pending_links: HashMap<String, accueil_domain::identity::PendingLink>,
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
    perspectives:
        HashMap<(CoupleId, accueil_domain::couples::Side), accueil_domain::memories::Perspective>,
    memories: HashMap<accueil_domain::memories::MemoryId, accueil_domain::memories::Memory>,
    shares: HashMap<accueil_domain::memories::ShareId, accueil_domain::memories::Share>,
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
    async fn run(&self, access: Access, work: Work) -> Result<Result<Boxed, Boxed>, StoreError> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| StoreError::Internal("memory store poisoned by a panic".into()))?;
        let mut draft = guard.clone();
        let mut tx = MemTx {
            state: &mut draft,
            read_only: access == Access::Read,
        };
        let outcome = work(&mut tx);
        if outcome.is_ok() && access == Access::Write {
            *guard = draft;
        }
        Ok(outcome)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

pub(crate) struct MemTx<'a> {
    pub(crate) state: &'a mut State,
    read_only: bool,
}

impl MemTx<'_> {
    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            Err(StoreError::Internal(
                "write attempted in a read-only unit of work".into(),
            ))
        } else {
            Ok(())
        }
    }

    fn clash(&self, user: &User) -> Option<UserWriteError> {
        let email = user.email.canonical();
        self.state
            .users
            .values()
            .filter(|u| u.id != user.id)
            .find_map(|u| {
                if u.email.canonical() == email {
                    Some(UserWriteError::EmailTaken)
                } else if user.username.is_some() && u.username == user.username {
                    Some(UserWriteError::UsernameTaken)
                } else {
                    None
                }
            })
    }
}

impl Tx for MemTx<'_> {
    fn identity(&mut self) -> &mut dyn IdentityRepo {
        self
    }
    fn audit(&mut self) -> &mut dyn AuditRepo {
        self
    }
    fn outbox(&mut self) -> &mut dyn OutboxRepo {
        self
    }
    fn couples(&mut self) -> &mut dyn CouplesRepo {
        self
    }
    fn memories(&mut self) -> &mut dyn accueil_ports::memories::MemoriesRepo {
        self
    }
}

impl IdentityRepo for MemTx<'_> {
    fn insert_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        if self.state.users.contains_key(&user.id) {
            return Err(StoreError::Conflict("users.id".into()).into());
        }
        if let Some(e) = self.clash(user) {
            return Err(e);
        }
        self.state.users.insert(user.id, user.clone());
        Ok(())
    }

    fn update_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        if !self.state.users.contains_key(&user.id) {
            return Err(UserWriteError::NotFound);
        }
        if let Some(e) = self.clash(user) {
            return Err(e);
        }
        self.state.users.insert(user.id, user.clone());
        Ok(())
    }

    fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state.users.get(&id).cloned())
    }

    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        let key = email.canonical();
        Ok(self
            .state
            .users
            .values()
            .find(|u| u.email.canonical() == key)
            .cloned())
    }

    fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        Ok(self
            .state
            .users
            .values()
            .find(|u| u.username.as_ref() == Some(username))
            .cloned())
    }

    fn insert_session(&mut self, session: &Session) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.users.contains_key(&session.user_id) {
            return Err(StoreError::Internal("session for an unknown user".into()));
        }
        if self.state.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict("sessions.id".into()));
        }
        self.state.sessions.insert(session.id, session.clone());
        Ok(())
    }

    fn session(&mut self, id: SessionId) -> Result<Option<Session>, StoreError> {
        Ok(self.state.sessions.get(&id).cloned())
    }

    fn revoke_session(
        &mut self,
        id: SessionId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.sessions.get_mut(&id) {
            Some(s) if s.is_live() => {
                s.revoked_at = Some(at);
                s.revoke_reason = Some(reason.to_owned());
                true
            }
            _ => false,
        })
    }

    fn revoke_user_sessions(
        &mut self,
        user: UserId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        let mut n = 0;
        for s in self.state.sessions.values_mut() {
            if s.user_id == user && s.is_live() {
                s.revoked_at = Some(at);
                s.revoke_reason = Some(reason.to_owned());
                n += 1;
            }
        }
        Ok(n)
    }

    fn insert_refresh_token(&mut self, token: &RefreshToken) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.sessions.contains_key(&token.session_id) {
            return Err(StoreError::Internal(
                "refresh token for an unknown session".into(),
            ));
        }
        let taken = self.state.refresh_tokens.contains_key(&token.id)
            || self
                .state
                .refresh_tokens
                .values()
                .any(|t| t.digest == token.digest);
        if taken {
            return Err(StoreError::Conflict("refresh_tokens.digest".into()));
        }
        self.state.refresh_tokens.insert(token.id, token.clone());
        Ok(())
    }

    fn refresh_token_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<RefreshToken>, StoreError> {
        Ok(self
            .state
            .refresh_tokens
            .values()
            .find(|t| &t.digest == digest)
            .cloned())
    }

    fn mark_refresh_token_used(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.refresh_tokens.get_mut(&id) {
            Some(t) if t.used_at.is_none() => {
                t.used_at = Some(at);
                true
            }
            _ => false,
        })
    }
    fn sessions_of(&mut self, user: UserId) -> Result<Vec<Session>, StoreError> {
        let mut all: Vec<Session> = self
            .state
            .sessions
            .values()
            .filter(|s| s.user_id == user)
            .cloned()
            .collect();
        all.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id.0)));
        Ok(all)
    }

    fn insert_email_token(&mut self, token: &EmailToken) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.users.contains_key(&token.user_id) {
            return Err(StoreError::Internal(
                "e-mail token for an unknown user".into(),
            ));
        }
        let taken = self.state.email_tokens.contains_key(&token.id)
            || self
                .state
                .email_tokens
                .values()
                .any(|t| t.digest == token.digest);
        if taken {
            return Err(StoreError::Conflict("email_tokens.digest".into()));
        }
        self.state.email_tokens.insert(token.id, token.clone());
        Ok(())
    }

    fn email_token_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<EmailToken>, StoreError> {
        Ok(self
            .state
            .email_tokens
            .values()
            .find(|t| &t.digest == digest)
            .cloned())
    }

    fn use_email_token(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.email_tokens.get_mut(&id) {
            Some(t) if t.used_at.is_none() => {
                t.used_at = Some(at);
                true
            }
            _ => false,
        })
    }

    fn supersede_email_tokens(
        &mut self,
        user: UserId,
        purpose: TokenPurpose,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        let mut n = 0;
        for t in self.state.email_tokens.values_mut() {
            if t.user_id == user && t.purpose == purpose && t.used_at.is_none() {
                t.used_at = Some(at);
                n += 1;
            }
        }
        Ok(n)
    }

    fn purge_sessions_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let old: Vec<SessionId> = self
            .state
            .sessions
            .values()
            .filter(|s| s.revoked_at.is_some_and(|r| r < cutoff))
            .map(|s| s.id)
            .collect();
        let before = self.state.sessions.len() + self.state.refresh_tokens.len();
        self.state.sessions.retain(|id, _| !old.contains(id));
        self.state
            .refresh_tokens
            .retain(|_, t| !old.contains(&t.session_id) && t.expires_at >= cutoff);
        Ok((before - self.state.sessions.len() - self.state.refresh_tokens.len()) as u64)
    }

    fn insert_api_key(&mut self, key: &accueil_domain::identity::ApiKey) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.users.contains_key(&key.user_id) {
            return Err(StoreError::Internal("no such user".into()));
        }
        if self.state.api_keys.contains_key(&key.id)
            || self.state.api_keys.values().any(|k| k.digest == key.digest)
        {
            return Err(StoreError::Conflict("api key".into()));
        }
        self.state.api_keys.insert(key.id, key.clone());
        Ok(())
    }

    fn api_keys_of(
        &mut self,
        user: UserId,
    ) -> Result<Vec<accueil_domain::identity::ApiKey>, StoreError> {
        let mut keys: Vec<_> = self
            .state
            .api_keys
            .values()
            .filter(|k| k.user_id == user)
            .cloned()
            .collect();
        keys.sort_by_key(|k| (k.created_at, k.id));
        Ok(keys)
    }

    fn api_key_by_digest(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<accueil_domain::identity::ApiKey>, StoreError> {
        Ok(self
            .state
            .api_keys
            .values()
            .find(|k| &k.digest == digest)
            .cloned())
    }

    fn revoke_api_key(
        &mut self,
        user: UserId,
        id: accueil_domain::identity::ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<Option<accueil_domain::identity::ApiKey>, StoreError> {
        self.writable()?;
        match self.state.api_keys.get_mut(&id) {
            Some(k) if k.user_id == user => {
                k.revoked_at.get_or_insert(at);
                Ok(Some(k.clone()))
            }
            _ => Ok(None),
        }
    }

    fn revoke_api_keys_of(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let mut n = 0;
        for k in self.state.api_keys.values_mut() {
            if k.user_id == user && k.revoked_at.is_none() {
                k.revoked_at = Some(at);
                n += 1;
            }
        }
        Ok(n)
    }

    fn touch_api_key(
        &mut self,
        id: accueil_domain::identity::ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(k) = self.state.api_keys.get_mut(&id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }

    fn insert_identity(
        &mut self,
        identity: &accueil_domain::identity::ExternalIdentity,
    ) -> Result<(), StoreError> {
        self.writable()?;
        if !self.state.users.contains_key(&identity.user_id) {
            return Err(StoreError::Internal("no such user".into()));
        }
        if self.state.identities.contains_key(&identity.id)
            || self
                .state
                .identities
                .values()
                .any(|i| i.provider == identity.provider && i.subject == identity.subject)
        {
            return Err(StoreError::Conflict("identity".into()));
        }
        self.state.identities.insert(identity.id, identity.clone());
        Ok(())
    }

    fn identity_by_subject(
        &mut self,
        provider: &accueil_domain::identity::ProviderName,
        subject: &str,
    ) -> Result<Option<accueil_domain::identity::ExternalIdentity>, StoreError> {
        Ok(self
            .state
            .identities
            .values()
            .find(|i| &i.provider == provider && i.subject == subject)
            .cloned())
    }

    fn identities_of(
        &mut self,
        user: UserId,
    ) -> Result<Vec<accueil_domain::identity::ExternalIdentity>, StoreError> {
        let mut all: Vec<_> = self
            .state
            .identities
            .values()
            .filter(|i| i.user_id == user)
            .cloned()
            .collect();
        all.sort_by_key(|i| (i.created_at, i.id));
        Ok(all)
    }

    fn touch_identity(
        &mut self,
        id: accueil_domain::identity::IdentityId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(i) = self.state.identities.get_mut(&id) {
            i.last_used_at = Some(at);
        }
        Ok(())
    }

    fn delete_identity(
        &mut self,
        user: UserId,
        id: accueil_domain::identity::IdentityId,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        match self.state.identities.get(&id) {
            Some(i) if i.user_id == user => {
                self.state.identities.remove(&id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn insert_oauth_flow(
        &mut self,
        flow: &accueil_domain::identity::OAuthFlow,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let key = flow.state_digest.0.clone();
        if self.state.oauth_flows.contains_key(&key) {
            return Err(StoreError::Conflict("oauth flow".into()));
        }
        self.state.oauth_flows.insert(key, flow.clone());
        Ok(())
    }

    fn take_oauth_flow(
        &mut self,
        state_digest: &TokenDigest,
    ) -> Result<Option<accueil_domain::identity::OAuthFlow>, StoreError> {
        self.writable()?;
        Ok(self.state.oauth_flows.remove(&state_digest.0))
    }

    fn insert_pending_link(
        &mut self,
        link: &accueil_domain::identity::PendingLink,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let key = link.digest.0.clone();
        if self.state.pending_links.contains_key(&key) {
            return Err(StoreError::Conflict("pending link".into()));
        }
        self.state.pending_links.insert(key, link.clone());
        Ok(())
    }

    fn take_pending_link(
        &mut self,
        digest: &TokenDigest,
    ) -> Result<Option<accueil_domain::identity::PendingLink>, StoreError> {
        self.writable()?;
        Ok(self.state.pending_links.remove(&digest.0))
    }

    fn purge_oauth_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let before = self.state.oauth_flows.len() + self.state.pending_links.len();
        self.state.oauth_flows.retain(|_, f| f.expires_at >= cutoff);
        self.state
            .pending_links
            .retain(|_, l| l.expires_at >= cutoff);
        Ok((before - self.state.oauth_flows.len() - self.state.pending_links.len()) as u64)
    }

    fn purge_deleted_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let gone: Vec<UserId> = self
            .state
            .users
            .values()
            .filter(|u| u.deleted_at.is_some_and(|d| d < cutoff))
            .map(|u| u.id)
            .collect();
        for id in &gone {
            self.state.users.remove(id);
        }
        let state = &mut *self.state;
        state.sessions.retain(|_, s| !gone.contains(&s.user_id));
        state
            .refresh_tokens
            .retain(|_, t| !gone.contains(&t.user_id));
        state.email_tokens.retain(|_, t| !gone.contains(&t.user_id));
        state.api_keys.retain(|_, k| !gone.contains(&k.user_id));
        state.identities.retain(|_, i| !gone.contains(&i.user_id));
        state
            .oauth_flows
            .retain(|_, f| f.link_to.is_none_or(|u| !gone.contains(&u)));
        state
            .pending_links
            .retain(|_, l| !gone.contains(&l.user_id));
        Ok(gone.len() as u64)
    }
}

impl AuditRepo for MemTx<'_> {
    fn record(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.audit.iter().any(|e| e.id == event.id) {
            return Err(StoreError::Conflict("audit_events.id".into()));
        }
        self.state.audit.push(event.clone());
        Ok(())
    }

    fn about(&mut self, subject: UserId) -> Result<Vec<AuditEvent>, StoreError> {
        let mut events: Vec<AuditEvent> = self
            .state
            .audit
            .iter()
            .filter(|e| e.subject == Some(subject))
            .cloned()
            .collect();
        events.sort_by_key(|e| (e.at, e.id));
        Ok(events)
    }
}

fn due_at(e: &OutboxEntry, now: DateTime<Utc>) -> bool {
    e.state == DeliveryState::Pending
        && e.next_attempt_at <= now
        && e.lease_until.is_none_or(|l| l <= now)
}

impl OutboxRepo for MemTx<'_> {
    fn enqueue(&mut self, entry: &OutboxEntry) -> Result<(), StoreError> {
        self.writable()?;
        if self.state.outbox.contains_key(&entry.id) {
            return Err(StoreError::Conflict("outbox.id".into()));
        }
        self.state.outbox.insert(entry.id, entry.clone());
        Ok(())
    }

    fn due(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut due: Vec<OutboxEntry> = self
            .state
            .outbox
            .values()
            .filter(|e| due_at(e, now))
            .cloned()
            .collect();
        due.sort_by_key(|e| (e.next_attempt_at, e.id));
        due.truncate(limit as usize);
        Ok(due)
    }

    fn claim(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.outbox.get_mut(&id) {
            Some(e) if due_at(e, now) => {
                e.attempts += 1;
                e.lease_until = Some(lease_until);
                true
            }
            _ => false,
        })
    }

    fn mark_sent(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(e) = self.state.outbox.get_mut(&id) {
            e.state = DeliveryState::Sent;
            e.sent_at = Some(at);
            e.lease_until = None;
            e.mail.vars.clear();
        }
        Ok(())
    }

    fn mark_retry(
        &mut self,
        id: Uuid,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(e) = self.state.outbox.get_mut(&id) {
            e.next_attempt_at = next_attempt_at;
            e.lease_until = None;
            e.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    fn mark_failed(&mut self, id: Uuid, error: &str) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(e) = self.state.outbox.get_mut(&id) {
            e.state = DeliveryState::Failed;
            e.lease_until = None;
            e.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    fn requeue(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        Ok(match self.state.outbox.get_mut(&id) {
            Some(e) if e.state == DeliveryState::Failed => {
                e.state = DeliveryState::Pending;
                e.attempts = 0;
                e.next_attempt_at = now;
                e.lease_until = None;
                true
            }
            _ => false,
        })
    }

    fn list(
        &mut self,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut all: Vec<OutboxEntry> = self
            .state
            .outbox
            .values()
            .filter(|e| state.is_none_or(|s| e.state == s))
            .cloned()
            .collect();
        all.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
        all.truncate(limit as usize);
        Ok(all)
    }

    fn get(&mut self, id: Uuid) -> Result<Option<OutboxEntry>, StoreError> {
        Ok(self.state.outbox.get(&id).cloned())
    }
}
