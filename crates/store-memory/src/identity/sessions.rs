//! Sessions and their refresh tokens in memory.

use accueil_domain::identity::{RefreshToken, Session, SessionId, TokenDigest, User, UserId};
use accueil_ports::StoreError;
use accueil_ports::identity::SessionsRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::MemTx;

impl SessionsRepo for MemTx<'_> {
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

    fn signed_in(&mut self, id: SessionId) -> Result<Option<(Session, User)>, StoreError> {
        Ok(self.state.sessions.get(&id).and_then(|s| {
            self.state
                .users
                .get(&s.user_id)
                .map(|u| (s.clone(), u.clone()))
        }))
    }

    fn session(&mut self, id: SessionId) -> Result<Option<Session>, StoreError> {
        Ok(self.state.sessions.get(&id).cloned())
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
        // Tickets go with their session (a foreign key's cascade in SQL); they are not counted.
        self.state
            .ws_tickets
            .retain(|_, t| !old.contains(&t.session_id));
        self.state
            .refresh_tokens
            .retain(|_, t| !old.contains(&t.session_id) && t.expires_at >= cutoff);
        Ok((before - self.state.sessions.len() - self.state.refresh_tokens.len()) as u64)
    }
}
