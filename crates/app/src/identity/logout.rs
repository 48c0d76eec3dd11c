//! Logout of one session, or of every session of the user.

use accueil_domain::admin::AuditAction;
use accueil_ports::{StoreError, StoreExt};

use super::{Caller, IdentityService, SessionError};

impl IdentityService {
    /// Ends the caller's session: its refresh tokens and access tokens stop working.
    ///
    /// # Errors
    /// See [`SessionError`].
    pub async fn logout(&self, caller: &Caller) -> Result<(), SessionError> {
        self.ports
            .write_as(caller, |cx| -> Result<(), SessionError> {
                let sid = cx.me.session_id()?;
                crate::identity::end_session(cx.tx, sid, cx.now, "logout")?;
                Ok(())
            })
            .await
    }

    /// Ends the session a refresh token belongs to: for a client whose access token expired.
    /// Possessing the token is the proof; an unknown or used token ends nothing and is not an
    /// error (logging out twice is fine).
    ///
    /// # Errors
    /// Storage failures only: nothing else refuses it.
    pub async fn logout_with_refresh_token(&self, presented: &str) -> Result<(), StoreError> {
        let digest = self.ports.opaque_tokens.digest(presented);
        let now = self.ports.clock.now();
        self.ports
            .store
            .write(move |tx| -> Result<(), StoreError> {
                if let Some(token) = tx.sessions().refresh_token_by_digest(&digest)?
                    && token.used_at.is_none()
                {
                    crate::identity::end_session(tx, token.session_id, now, "logout")?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Ends every session of the caller, on every device. Returns how many were live.
    ///
    /// # Errors
    /// See [`SessionError`].
    pub async fn logout_all(&self, caller: &Caller) -> Result<u64, SessionError> {
        let this = self.clone();
        self.ports
            .write_as(caller, move |cx| -> Result<u64, SessionError> {
                cx.me.session_id()?;
                let uid = cx.me.user.id;
                let n = crate::identity::end_user_sessions(cx.tx, uid, cx.now, "logout_all")?;
                let event =
                    this.audit_event(cx.now, AuditAction::AllSessionsRevoked, Some(uid), uid, "");
                cx.tx.audit().record(&event)?;
                Ok(n)
            })
            .await
    }
}
