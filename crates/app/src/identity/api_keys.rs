//! API keys: made, listed and revoked by their user from a signed-in session; presented as
//! `X-API-Key` they authenticate like the user, within their scope.

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{
    API_KEY_PREFIX, ApiKey, ApiKeyId, ApiKeyName, ApiKeyScope, ApiKeyState, MAX_API_KEYS,
};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::{StoreError, StoreExt};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AuthError, Credential, IdentityService, Principal, SessionRequired};

/// A key to make.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// Its label (1 to 100 characters).
    pub name: String,
    /// `read` or `read_write`.
    pub scope: String,
    /// When it stops working (in the future); `None`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key just made, with its secret: the only time the secret is seen.
#[derive(Clone)]
pub struct CreatedApiKey {
    /// The key as stored.
    pub key: ApiKey,
    /// What goes in `X-API-Key`.
    pub secret: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why an API-key request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// Keys are managed from a signed-in session.
    #[error(transparent)]
    SessionRequired(#[from] SessionRequired),
    /// Invalid name, scope or expiry.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The user has as many live keys as allowed.
    #[error("at most {MAX_API_KEYS} live API keys")]
    TooMany,
    /// No such key of the caller's.
    #[error("no such API key")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IdentityService {
    /// Makes an API key for the caller.
    ///
    /// # Errors
    /// See [`ApiKeyError`].
    pub async fn create_api_key(
        &self,
        who: &Principal,
        input: NewApiKey,
    ) -> Result<CreatedApiKey, ApiKeyError> {
        who.session_id()?;
        let now = self.ports.clock.now();
        let mut errors = Vec::new();
        let name = ApiKeyName::parse(&input.name).map_err(|e| errors.push(e));
        let scope = ApiKeyScope::parse(&input.scope).map_err(|e| errors.push(e));
        if input.expires_at.is_some_and(|at| at <= now) {
            errors.push(FieldError::new(
                "expires_at",
                "in_past",
                "must be in the future",
            ));
        }
        ValidationErrors::collect(errors)?;
        let (Ok(name), Ok(scope)) = (name, scope) else {
            return Err(ValidationErrors(Vec::new()).into());
        };
        let secret = format!(
            "{API_KEY_PREFIX}{}",
            self.ports.opaque_tokens.generate().secret
        );
        let key = ApiKey {
            id: ApiKeyId(self.ports.ids.new_id()),
            user_id: who.user.id,
            name,
            hint: secret.chars().take(API_KEY_PREFIX.len() + 6).collect(),
            digest: self.ports.opaque_tokens.digest(&secret),
            scope,
            expires_at: input.expires_at,
            revoked_at: None,
            last_used_at: None,
            created_at: now,
        };
        let event = self.audit_event(
            now,
            AuditAction::ApiKeyCreated,
            Some(who.user.id),
            who.user.id,
            format!("{} {}", key.id.0, scope.as_str()),
        );
        let k = key.clone();
        self.ports
            .store
            .write(move |tx| -> Result<(), ApiKeyError> {
                let live = tx
                    .api_keys()
                    .api_keys_of(k.user_id)?
                    .iter()
                    .filter(|existing| existing.is_live(now))
                    .count();
                if live >= MAX_API_KEYS {
                    return Err(ApiKeyError::TooMany);
                }
                tx.api_keys().insert_api_key(&k)?;
                tx.audit().record(&event)?;
                Ok(())
            })
            .await?;
        Ok(CreatedApiKey { key, secret })
    }

    /// The caller's keys in every state, oldest first, with their state now.
    ///
    /// # Errors
    /// See [`ApiKeyError`].
    pub async fn api_keys(
        &self,
        who: &Principal,
    ) -> Result<Vec<(ApiKey, ApiKeyState)>, ApiKeyError> {
        who.session_id()?;
        let uid = who.user.id;
        let now = self.ports.clock.now();
        let keys = self
            .ports
            .store
            .read(move |tx| tx.api_keys().api_keys_of(uid))
            .await?;
        Ok(keys
            .into_iter()
            .map(|k| {
                let state = k.state(now);
                (k, state)
            })
            .collect())
    }

    /// Revokes one of the caller's keys at once; revoking it again changes nothing.
    ///
    /// # Errors
    /// See [`ApiKeyError`].
    pub async fn revoke_api_key(&self, who: &Principal, id: Uuid) -> Result<(), ApiKeyError> {
        who.session_id()?;
        let now = self.ports.clock.now();
        let uid = who.user.id;
        let event = self.audit_event(
            now,
            AuditAction::ApiKeyRevoked,
            Some(uid),
            uid,
            id.to_string(),
        );
        self.ports
            .store
            .write(move |tx| -> Result<(), ApiKeyError> {
                let key = tx
                    .api_keys()
                    .revoke_api_key(uid, ApiKeyId(id), now)?
                    .ok_or(ApiKeyError::NotFound)?;
                if key.revoked_at == Some(now) {
                    tx.audit().record(&event)?;
                }
                Ok(())
            })
            .await
    }

    /// Resolves an `X-API-Key` to the caller. `write` says whether the request would change
    /// data; a read-only key is refused such requests.
    ///
    /// # Errors
    /// [`AuthError::InvalidApiKey`] for an unknown, revoked or expired key or a deleted
    /// account (alike), [`AuthError::AccountDisabled`], [`AuthError::ReadOnlyKey`].
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
        write: bool,
    ) -> Result<Principal, AuthError> {
        if !presented.starts_with(API_KEY_PREFIX) {
            return Err(AuthError::InvalidApiKey);
        }
        let digest = self.ports.opaque_tokens.digest(presented);
        let now = self.ports.clock.now();
        let found = self
            .ports
            .store
            .read(move |tx| -> Result<_, StoreError> {
                let Some(key) = tx.api_keys().api_key_by_digest(&digest)? else {
                    return Ok(None);
                };
                let user = tx.users().user_by_id(key.user_id)?;
                Ok(user.map(|u| (key, u)))
            })
            .await?;
        let Some((key, user)) = found else {
            return Err(AuthError::InvalidApiKey);
        };
        if !key.is_live(now) || user.deleted_at.is_some() {
            return Err(AuthError::InvalidApiKey);
        }
        if !user.is_active {
            return Err(AuthError::AccountDisabled);
        }
        if write && !key.scope.allows_writes() {
            return Err(AuthError::ReadOnlyKey);
        }
        if key.use_is_news(now) {
            let id = key.id;
            // Bookkeeping only: the request goes on whatever happens here.
            if let Err(e) = self
                .ports
                .store
                .write(move |tx| tx.api_keys().touch_api_key(id, now))
                .await
            {
                tracing::warn!(key = %id.0, error = %e, "API key use not recorded");
            }
        }
        Ok(Principal {
            user,
            credential: Credential::ApiKey {
                id: key.id,
                scope: key.scope,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::identity::testing::Harness;

    fn input(scope: &str) -> NewApiKey {
        NewApiKey {
            name: "backup".into(),
            scope: scope.into(),
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn a_key_acts_as_its_user_within_its_scope() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let ann = h.principal("ann@example.org").await;
        let read = h.app.create_api_key(&ann, input("read")).await.unwrap();
        let rw = h
            .app
            .create_api_key(&ann, input("read_write"))
            .await
            .unwrap();
        assert!(read.secret.starts_with("acc_"));
        assert_ne!(read.key.digest.0, read.secret, "stored as a digest");
        let who = h
            .app
            .authenticate_api_key(&read.secret, false)
            .await
            .unwrap();
        assert_eq!(who.user.id, user.id);
        assert!(who.session_id().is_err());
        assert!(matches!(
            h.app.authenticate_api_key(&read.secret, true).await,
            Err(AuthError::ReadOnlyKey)
        ));
        assert!(h.app.authenticate_api_key(&rw.secret, true).await.is_ok());
        assert!(matches!(
            h.app.authenticate_api_key("acc_nope", false).await,
            Err(AuthError::InvalidApiKey)
        ));
        // A key cannot manage keys, nor end sessions.
        assert!(matches!(
            h.app.create_api_key(&who, input("read_write")).await,
            Err(ApiKeyError::SessionRequired(_))
        ));
        assert!(h.app.logout_all(&who).await.is_err());

        h.app.revoke_api_key(&ann, read.key.id.0).await.unwrap();
        h.app.revoke_api_key(&ann, read.key.id.0).await.unwrap();
        assert!(matches!(
            h.app.authenticate_api_key(&read.secret, false).await,
            Err(AuthError::InvalidApiKey)
        ));
        let keys = h.app.api_keys(&ann).await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys.iter().map(|k| k.1).collect::<Vec<_>>(),
            [ApiKeyState::Revoked, ApiKeyState::Active]
        );
        assert!(keys[1].0.last_used_at.is_some(), "use is recorded");
    }

    #[tokio::test]
    async fn keys_expire_and_are_bounded() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let ann = h.principal("ann@example.org").await;
        let now = accueil_ports::system::Clock::now(&*h.clock);
        let short = h
            .app
            .create_api_key(
                &ann,
                NewApiKey {
                    expires_at: Some(now + Duration::hours(1)),
                    ..input("read")
                },
            )
            .await
            .unwrap();
        h.advance(Duration::hours(1));
        assert!(matches!(
            h.app.authenticate_api_key(&short.secret, false).await,
            Err(AuthError::InvalidApiKey)
        ));
        assert!(matches!(
            h.app
                .create_api_key(
                    &ann,
                    NewApiKey {
                        expires_at: Some(now),
                        ..input("admin")
                    }
                )
                .await,
            Err(ApiKeyError::Invalid(v)) if v.0.len() == 2
        ));
        for _ in 0..MAX_API_KEYS {
            h.app.create_api_key(&ann, input("read")).await.unwrap();
        }
        assert!(matches!(
            h.app.create_api_key(&ann, input("read")).await,
            Err(ApiKeyError::TooMany)
        ));
    }
}
