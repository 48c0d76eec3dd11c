//! API keys: made, listed and revoked by their user from a signed-in session; presented as
//! `X-API-Key` they authenticate like the user, within their scope.

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{
    API_KEY_PREFIX, ApiKey, ApiKeyId, ApiKeyState, MAX_API_KEYS, NewApiKey,
};
use accueil_ports::StoreError;
use uuid::Uuid;

use super::{AuthError, Caller, IdentityService, SessionError, SessionRequired};

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

/// Why making an API key failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateApiKeyError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Keys are managed from a signed-in session, not with a key.
    #[error(transparent)]
    SessionRequired(#[from] SessionRequired),
    /// The account has as many live keys as allowed.
    #[error("at most {MAX_API_KEYS} live API keys")]
    TooMany,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why revoking an API key failed. Listing them fails only as a use case that manages
/// credentials can ([`SessionError`]).
#[derive(Debug, thiserror::Error)]
pub enum RevokeApiKeyError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Keys are managed from a signed-in session, not with a key.
    #[error(transparent)]
    SessionRequired(#[from] SessionRequired),
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
    /// See [`CreateApiKeyError`].
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, CreateApiKeyError> {
        let secret = format!(
            "{API_KEY_PREFIX}{}",
            self.ports.opaque_tokens.generate().secret
        );
        let (id, digest) = (
            ApiKeyId(self.ports.ids.new_id()),
            self.ports.opaque_tokens.digest(&secret),
        );
        let hint: String = secret.chars().take(API_KEY_PREFIX.len() + 6).collect();
        let this = self.clone();
        let key = self
            .ports
            .write_as(caller, move |cx| -> Result<ApiKey, CreateApiKeyError> {
                cx.me.session_id()?;
                let (uid, now) = (cx.me.user.id, cx.now);
                let key = ApiKey {
                    id,
                    user_id: uid,
                    name: new.name,
                    hint,
                    digest,
                    scope: new.scope,
                    expires_at: new.expires_at,
                    revoked_at: None,
                    last_used_at: None,
                    created_at: now,
                };
                let live = cx
                    .tx
                    .api_keys()
                    .api_keys_of(uid)?
                    .iter()
                    .filter(|existing| existing.is_live(now))
                    .count();
                if live >= MAX_API_KEYS {
                    return Err(CreateApiKeyError::TooMany);
                }
                cx.tx.api_keys().insert_api_key(&key)?;
                cx.tx.audit().record(&this.audit_event(
                    now,
                    AuditAction::ApiKeyCreated,
                    Some(uid),
                    uid,
                    format!("{} {}", key.id.0, key.scope.as_str()),
                ))?;
                Ok(key)
            })
            .await?;
        Ok(CreatedApiKey { key, secret })
    }

    /// The caller's keys in every state, oldest first, with their state now.
    ///
    /// # Errors
    /// See [`SessionError`].
    pub async fn api_keys(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(ApiKey, ApiKeyState)>, SessionError> {
        self.ports
            .read_as(
                caller,
                |cx| -> Result<Vec<(ApiKey, ApiKeyState)>, SessionError> {
                    cx.me.session_id()?;
                    let now = cx.now;
                    Ok(cx
                        .tx
                        .api_keys()
                        .api_keys_of(cx.me.user.id)?
                        .into_iter()
                        .map(|k| {
                            let state = k.state(now);
                            (k, state)
                        })
                        .collect())
                },
            )
            .await
    }

    /// Revokes one of the caller's keys at once; revoking it again changes nothing.
    ///
    /// # Errors
    /// See [`RevokeApiKeyError`].
    pub async fn revoke_api_key(&self, caller: &Caller, id: Uuid) -> Result<(), RevokeApiKeyError> {
        let this = self.clone();
        self.ports
            .write_as(caller, move |cx| -> Result<(), RevokeApiKeyError> {
                cx.me.session_id()?;
                let (uid, now) = (cx.me.user.id, cx.now);
                let key = cx
                    .tx
                    .api_keys()
                    .revoke_api_key(uid, ApiKeyId(id), now)?
                    .ok_or(RevokeApiKeyError::NotFound)?;
                if key.revoked_at == Some(now) {
                    cx.tx.audit().record(&this.audit_event(
                        now,
                        AuditAction::ApiKeyRevoked,
                        Some(uid),
                        uid,
                        id.to_string(),
                    ))?;
                }
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::testing::Harness;

    fn input(scope: &str) -> NewApiKey {
        NewApiKey::parse("backup", scope, None, chrono::Utc::now()).unwrap()
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
        let key = h.app.caller_from_api_key(&rw.secret, true).unwrap();
        assert!(matches!(
            h.app.create_api_key(&key, input("read_write")).await,
            Err(CreateApiKeyError::SessionRequired(_))
        ));
        assert!(h.app.logout_all(&key).await.is_err());

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
            NewApiKey::parse("backup", "admin", Some(now), now),
            Err(v) if v.0.len() == 2
        ));
        for _ in 0..MAX_API_KEYS {
            h.app.create_api_key(&ann, input("read")).await.unwrap();
        }
        assert!(matches!(
            h.app.create_api_key(&ann, input("read")).await,
            Err(CreateApiKeyError::TooMany)
        ));
    }
}
