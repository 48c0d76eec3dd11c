//! Refresh-token rotation with reuse detection.
//!
//! In one write transaction: find the token by digest, judge it, and either rotate it (mark it
//! used with a compare-and-set, insert its successor) or, when it was used already, revoke its
//! whole family and audit that. The compare-and-set makes concurrent refreshes with one token
//! yield at most one new pair: every loser is treated as a replay, which also revokes the
//! family. Revocations commit before the request is refused, so they stick.

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{RefreshVerdict, SessionId, User};
use accueil_ports::system::AccessTokenError;
use accueil_ports::{StoreError, StoreExt};

use super::{IdentityService, TokenPair, revoke_family};

/// Why a refresh was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// No such token.
    #[error("unknown refresh token")]
    Invalid,
    /// The token is past its validity.
    #[error("the refresh token has expired; log in again")]
    Expired,
    /// The token's session was ended (logout, reuse, account disabled).
    #[error("this session has ended; log in again")]
    SessionRevoked,
    /// The token was used before: its whole family has just been revoked.
    #[error(
        "this refresh token was already used; the session has been ended for safety; log in again"
    )]
    Reused,
    /// The account is disabled; its session has been revoked.
    #[error("this account is disabled")]
    AccountDisabled,
    /// Signing failed.
    #[error(transparent)]
    Token(#[from] AccessTokenError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the unit of work decided; revocations are committed even when the answer is a refusal.
enum Outcome {
    Rotated { user: Box<User>, session: SessionId },
    Refused(RefreshError),
}

impl IdentityService {
    /// Exchanges a refresh token for a new pair.
    ///
    /// # Errors
    /// See [`RefreshError`].
    pub async fn refresh(&self, presented: &str) -> Result<TokenPair, RefreshError> {
        let digest = self.ports.opaque_tokens.digest(presented);
        let now = self.ports.clock.now();
        let this = self.clone();
        let (secret, outcome) = self
            .ports
            .store
            .write(move |tx| -> Result<(String, Outcome), StoreError> {
                let refused = |e| Ok((String::new(), Outcome::Refused(e)));
                let Some(token) = tx.sessions().refresh_token_by_digest(&digest)? else {
                    return refused(RefreshError::Invalid);
                };
                let Some(session) = tx.sessions().session(token.session_id)? else {
                    return Err(StoreError::Internal("refresh token without session".into()));
                };
                let reuse = |tx: &mut dyn accueil_ports::Tx| {
                    let event = this.audit_event(
                        now,
                        AuditAction::RefreshTokenReuse,
                        None,
                        token.user_id,
                        format!("session {}", session.id),
                    );
                    revoke_family(tx, event, session.id, "refresh_token_reuse")
                };
                match token.verdict(&session, now) {
                    RefreshVerdict::SessionRevoked => return refused(RefreshError::SessionRevoked),
                    RefreshVerdict::Expired => return refused(RefreshError::Expired),
                    RefreshVerdict::Reused => {
                        reuse(tx)?;
                        return refused(RefreshError::Reused);
                    }
                    RefreshVerdict::Usable => {}
                }
                let user = tx
                    .users()
                    .user_by_id(token.user_id)?
                    .ok_or_else(|| StoreError::Internal("refresh token without user".into()))?;
                if !user.is_active {
                    crate::identity::end_session(tx, session.id, now, "account_disabled")?;
                    return refused(RefreshError::AccountDisabled);
                }
                if !tx.sessions().mark_refresh_token_used(token.id, now)? {
                    // Another refresh with this very token committed first.
                    reuse(tx)?;
                    return refused(RefreshError::Reused);
                }
                let (secret, next) = this.new_refresh_token(&session, now);
                tx.sessions().insert_refresh_token(&next)?;
                Ok((
                    secret,
                    Outcome::Rotated {
                        user: Box::new(user),
                        session: session.id,
                    },
                ))
            })
            .await?;
        match outcome {
            Outcome::Rotated { user, session } => Ok(self.pair(&user, session, secret, now)?),
            Outcome::Refused(e) => {
                if matches!(e, RefreshError::Reused) {
                    tracing::warn!("refresh token reuse detected; session family revoked");
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::Duration;

    use super::*;
    use crate::testing::Harness;

    #[tokio::test]
    async fn rotation_invalidates_the_old_token() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let first = h.login("ann@example.org").await;
        let second = h.app.refresh(&first.refresh_token).await.unwrap();
        assert_eq!(second.user_id, user.id);
        assert_ne!(second.refresh_token, first.refresh_token);
        let third = h.app.refresh(&second.refresh_token).await.unwrap();
        assert_ne!(third.refresh_token, second.refresh_token);
    }

    #[tokio::test]
    async fn reuse_revokes_the_whole_family_and_is_audited() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let first = h.login("ann@example.org").await;
        let second = h.app.refresh(&first.refresh_token).await.unwrap();
        // The thief replays the first token...
        let err = h.app.refresh(&first.refresh_token).await.unwrap_err();
        assert!(matches!(err, RefreshError::Reused), "{err:?}");
        // ... and the legitimate newest token dies with its family.
        let err = h.app.refresh(&second.refresh_token).await.unwrap_err();
        assert!(matches!(err, RefreshError::SessionRevoked), "{err:?}");
        assert!(
            h.audit(user.id)
                .await
                .contains(&AuditAction::RefreshTokenReuse)
        );
        // Other sessions of the same user live on.
        let other = h.login("ann@example.org").await;
        h.app.refresh(&other.refresh_token).await.unwrap();
    }

    #[tokio::test]
    async fn unknown_and_expired_tokens_are_refused() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        assert!(matches!(
            h.app.refresh("nope").await,
            Err(RefreshError::Invalid)
        ));
        let pair = h.login("ann@example.org").await;
        h.advance(Duration::days(30));
        assert!(matches!(
            h.app.refresh(&pair.refresh_token).await,
            Err(RefreshError::Expired)
        ));
    }

    #[tokio::test]
    async fn a_disabled_account_cannot_refresh() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        h.disable(user.id).await;
        assert!(matches!(
            h.app.refresh(&pair.refresh_token).await,
            Err(RefreshError::AccountDisabled)
        ));
    }

    #[tokio::test]
    async fn concurrent_refreshes_yield_at_most_one_pair() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let app = h.app.clone();
            let token = pair.refresh_token.clone();
            tasks.push(tokio::spawn(async move { app.refresh(&token).await }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert!(ok <= 1, "{ok} pairs issued");
    }
}
