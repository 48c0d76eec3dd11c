//! One-time tokens of mailed links in memory.

use accueil_domain::identity::{EmailToken, TokenDigest, TokenPurpose, UserId};
use accueil_ports::StoreError;
use accueil_ports::identity::EmailTokensRepo;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::MemTx;

impl EmailTokensRepo for MemTx<'_> {
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

    fn purge_email_tokens_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let before = self.state.email_tokens.len();
        self.state
            .email_tokens
            .retain(|_, t| t.expires_at >= cutoff);
        Ok((before - self.state.email_tokens.len()) as u64)
    }
}
