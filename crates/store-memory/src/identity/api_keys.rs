//! API keys in memory.

use accueil_domain::identity::{ApiKey, ApiKeyId, TokenDigest, User, UserId};
use accueil_ports::StoreError;
use accueil_ports::identity::ApiKeysRepo;
use chrono::{DateTime, Utc};

use crate::MemTx;

impl ApiKeysRepo for MemTx<'_> {
    fn insert_api_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
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

    fn api_keys_of(&mut self, user: UserId) -> Result<Vec<ApiKey>, StoreError> {
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

    fn key_and_user(&mut self, digest: &TokenDigest) -> Result<Option<(ApiKey, User)>, StoreError> {
        let Some(key) = self.api_key_by_digest(digest)? else {
            return Ok(None);
        };
        Ok(self.state.users.get(&key.user_id).map(|u| (key, u.clone())))
    }

    fn api_key_by_digest(&mut self, digest: &TokenDigest) -> Result<Option<ApiKey>, StoreError> {
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
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, StoreError> {
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

    fn touch_api_key(&mut self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        if let Some(k) = self.state.api_keys.get_mut(&id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }
}
