//! Logout of one session, or of every session of the user.

use accueil_domain::admin::AuditAction;
use accueil_ports::{StoreError, StoreExt};

use super::{IdentityService, Principal};

/// Why logout failed.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// The caller came with an API key, which has no session to end.
    #[error(transparent)]
    SessionRequired(#[from] super::SessionRequired),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IdentityService {
    /// Ends the caller's session: its refresh tokens and access tokens stop working.
    ///
    /// # Errors
    /// See [`LogoutError`].
    pub async fn logout(&self, who: &Principal) -> Result<(), LogoutError> {
        let now = self.ports.clock.now();
        let sid = who.session_id()?;
        self.ports
            .store
            .write(move |tx| tx.sessions().revoke_session(sid, now, "logout"))
            .await?;
        Ok(())
    }

    /// Ends the session a refresh token belongs to: for a client whose access token expired.
    /// Possessing the token is the proof; an unknown or used token ends nothing and is not an
    /// error (logging out twice is fine).
    ///
    /// # Errors
    /// See [`LogoutError`].
    pub async fn logout_with_refresh_token(&self, presented: &str) -> Result<(), LogoutError> {
        let digest = self.ports.opaque_tokens.digest(presented);
        let now = self.ports.clock.now();
        self.ports
            .store
            .write(move |tx| -> Result<(), StoreError> {
                if let Some(token) = tx.sessions().refresh_token_by_digest(&digest)?
                    && token.used_at.is_none()
                {
                    tx.sessions()
                        .revoke_session(token.session_id, now, "logout")?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Ends every session of the caller, on every device. Returns how many were live.
    ///
    /// # Errors
    /// See [`LogoutError`].
    pub async fn logout_all(&self, who: &Principal) -> Result<u64, LogoutError> {
        who.session_id()?;
        let now = self.ports.clock.now();
        let uid = who.user.id;
        let event = self.audit_event(now, AuditAction::AllSessionsRevoked, Some(uid), uid, "");
        let n = self
            .ports
            .store
            .write(move |tx| -> Result<u64, StoreError> {
                let n = tx.sessions().revoke_user_sessions(uid, now, "logout_all")?;
                tx.audit().record(&event)?;
                Ok(n)
            })
            .await?;
        Ok(n)
    }
}
