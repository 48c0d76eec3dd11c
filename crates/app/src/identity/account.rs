//! The account as a whole: deletion (soft, anonymised, then purged) and export.

use accueil_domain::admin::{AuditAction, AuditEvent};
use accueil_domain::identity::{Session, TokenPurpose, User};
use accueil_ports::identity::UserWriteError;
use accueil_ports::system::HashError;
use accueil_ports::{StoreError, StoreExt};

use super::{IdentityService, Principal};

/// Why a deletion was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeleteAccountError {
    /// The account has no password and its session is not recent: sign in again.
    #[error("sign in again (within ten minutes) to confirm this")]
    ReauthenticationRequired,
    /// The caller came with an API key.
    #[error(transparent)]
    SessionRequired(#[from] super::SessionRequired),
    /// The password is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// Too many password checks for this account.
    #[error(transparent)]
    RateLimited(#[from] super::RateLimited),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for DeleteAccountError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::Store(e) => Self::Store(e),
            other => Self::Store(StoreError::Internal(other.to_string())),
        }
    }
}

/// Everything stored about a user.
#[derive(Debug, Clone)]
pub struct AccountExport {
    /// The account.
    pub user: User,
    /// Every session (login), live or ended.
    pub sessions: Vec<Session>,
    /// Security events about the account.
    pub audit: Vec<AuditEvent>,
}

impl IdentityService {
    /// Deletes the caller's account: it is anonymised at once (address, names, picture, bio,
    /// password gone; sign-in impossible; every session ended), recorded in the audit log, and
    /// removed for good by `purge_deleted` after the grace period.
    ///
    /// # Errors
    /// See [`DeleteAccountError`].
    pub async fn delete_account(
        &self,
        who: &Principal,
        password: &str,
    ) -> Result<(), DeleteAccountError> {
        if !self.check_password(who, password).await? {
            return Err(DeleteAccountError::WrongPassword);
        }
        let now = self.ports.clock.now();
        let uid = who.user.id;
        let event = self.audit_event(now, AuditAction::UserDeleted, Some(uid), uid, "");
        self.ports
            .store
            .write(move |tx| -> Result<(), DeleteAccountError> {
                let Some(mut user) = tx.users().user_by_id(uid)? else {
                    return Ok(());
                };
                user.anonymise(now);
                tx.users().update_user(&user)?;
                // The other partner is not left paired with an anonymous account.
                crate::couples::dissolve_couple_of(tx, uid, now)?;
                tx.sessions()
                    .revoke_user_sessions(uid, now, "account_deleted")?;
                tx.api_keys().revoke_api_keys_of(uid, now)?;
                // The provider identities (and their addresses) go now: the same provider
                // account may make a new account at once.
                for identity in tx.oauth().identities_of(uid)? {
                    tx.oauth().delete_identity(uid, identity.id)?;
                }
                for purpose in [
                    TokenPurpose::VerifyEmail,
                    TokenPurpose::ResetPassword,
                    TokenPurpose::ChangeEmail,
                ] {
                    tx.email_tokens()
                        .supersede_email_tokens(uid, purpose, now)?;
                }
                tx.audit().record(&event)?;
                Ok(())
            })
            .await?;
        tracing::info!(user_id = %uid, "account deleted (anonymised)");
        Ok(())
    }

    /// Removes sessions ended, and refresh tokens expired, longer ago than the grace period.
    /// Returns how many rows went.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn purge_old_sessions(&self) -> Result<u64, StoreError> {
        let cutoff = self.ports.clock.now() - self.settings.deletion_grace;
        self.ports
            .store
            .write(move |tx| tx.sessions().purge_sessions_before(cutoff))
            .await
    }

    /// Removes the accounts deleted longer ago than the grace period. Returns how many.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn purge_deleted(&self) -> Result<u64, StoreError> {
        let cutoff = self.ports.clock.now() - self.settings.deletion_grace;
        let n = self
            .ports
            .store
            .write(move |tx| tx.users().purge_deleted_before(cutoff))
            .await?;
        tracing::info!(purged = n, %cutoff, "deleted accounts purged");
        Ok(n)
    }

    /// Everything stored about the caller.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn export(&self, who: &Principal) -> Result<AccountExport, StoreError> {
        let uid = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<AccountExport, StoreError> {
                let user = tx
                    .users()
                    .user_by_id(uid)?
                    .ok_or_else(|| StoreError::Internal("user vanished".into()))?;
                Ok(AccountExport {
                    user,
                    sessions: tx.sessions().sessions_of(uid)?,
                    audit: tx.audit().about(uid)?,
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::identity::testing::Harness;
    use crate::identity::{LoginError, LoginInput};

    #[tokio::test]
    async fn deletion_anonymises_ends_sessions_and_blocks_login_then_purges() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", Some("ann")).await;
        let pair = h.login("ann@example.org").await;
        let who = h.app.authenticate(&pair.access_token).await.unwrap();
        assert!(matches!(
            h.app.delete_account(&who, "wrong password!").await,
            Err(DeleteAccountError::WrongPassword)
        ));
        h.app.delete_account(&who, Harness::PASSWORD).await.unwrap();
        let gone = h.user(user.id).await.unwrap();
        assert!(gone.is_deleted() && gone.email.as_str().ends_with("@deleted.invalid"));
        assert!(h.app.authenticate(&pair.access_token).await.is_err());
        assert!(h.app.refresh(&pair.refresh_token).await.is_err());
        let login = h
            .app
            .login(LoginInput {
                login: "ann@example.org".into(),
                password: Harness::PASSWORD.into(),
                client_ip: None,
            })
            .await;
        assert!(matches!(login, Err(LoginError::InvalidCredentials)));
        assert!(h.audit(user.id).await.contains(&AuditAction::UserDeleted));
        // The address and the username are free again.
        h.registered("ann@example.org", Some("ann")).await;

        assert_eq!(
            h.app.purge_deleted().await.unwrap(),
            0,
            "within the grace period"
        );
        h.advance(Duration::days(31));
        assert_eq!(h.app.purge_deleted().await.unwrap(), 1);
        assert_eq!(h.user(user.id).await, None);
    }

    #[tokio::test]
    async fn export_has_the_account_its_sessions_and_its_audit_trail() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        h.login("ann@example.org").await;
        let who = h.principal("ann@example.org").await;
        let export = h.app.export(&who).await.unwrap();
        assert_eq!(export.user.id, user.id);
        assert_eq!(export.sessions.len(), 2);
        assert_eq!(export.audit[0].action, AuditAction::UserRegistered);
    }
}
