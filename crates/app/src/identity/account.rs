//! The account as a whole: deletion (soft, anonymised, then purged) and export. Every
//! registered module takes part in both ([`crate::lifecycle`]).

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::TokenPurpose;
use accueil_ports::identity::UserWriteError;
use accueil_ports::system::HashError;
use accueil_ports::{StoreError, StoreExt};

use super::{AuthError, Caller, IdentityService};
use crate::lifecycle::AccountExport;

/// Why a deletion was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeleteAccountError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The account has no password and its session is not recent: sign in again.
    #[error(transparent)]
    ReauthenticationRequired(#[from] super::ReauthenticationRequired),
    /// The caller came with an API key.
    #[error(transparent)]
    SessionRequired(#[from] super::SessionRequired),
    /// The password is wrong.
    #[error("the password is not right")]
    WrongPassword,
    /// Too many password checks for this account.
    #[error(transparent)]
    RateLimited(#[from] super::RateLimited),
    /// A module needs something done first (the last ADMIN of a tenant hands it over).
    #[error("{0}")]
    Blocked(String),
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

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IdentityService {
    /// Deletes the caller's account: it is anonymised at once (address, names, picture, bio,
    /// password gone; sign-in impossible; every session and key ended), every module removes
    /// or detaches its data (the couple is dissolved, keeping the partner's export window),
    /// it is recorded in the audit log, and it is removed for good by `purge_deleted` after
    /// the grace period.
    ///
    /// # Errors
    /// See [`DeleteAccountError`].
    pub async fn delete_account(
        &self,
        caller: &Caller,
        password: &str,
    ) -> Result<(), DeleteAccountError> {
        // Two units: the password is checked against the stored hash outside any transaction
        // (bcrypt must not hold the writer), then the deletion runs.
        let me = self.me(caller).await?;
        if !self.check_password(&me, password).await? {
            return Err(DeleteAccountError::WrongPassword);
        }
        let uid = me.user.id;
        let hooks = self.hooks.clone();
        let event_id = self.ports.ids.new_id();
        self.ports
            .write_as(caller, move |cx| -> Result<(), DeleteAccountError> {
                let now = cx.now;
                let Some(mut user) = cx.tx.users().user_for_update(uid)? else {
                    return Ok(());
                };
                if let Some(why) = hooks.account_deletion_blocked(cx.tx, uid)? {
                    return Err(DeleteAccountError::Blocked(why));
                }
                user.anonymise(now);
                cx.tx.users().update_user(&user)?;
                // Every module removes or detaches what it holds (the couples module dissolves
                // the couple, so the other partner is not left paired with an anonymous
                // account).
                hooks.account_deleted(cx.tx, uid, now)?;
                crate::identity::end_user_sessions(cx.tx, uid, now, "account_deleted")?;
                cx.tx.api_keys().revoke_api_keys_of(uid, now)?;
                // The provider identities (and their addresses) go now: the same provider
                // account may make a new account at once.
                for identity in cx.tx.oauth().identities_of(uid)? {
                    cx.tx.oauth().delete_identity(uid, identity.id)?;
                }
                for purpose in [
                    TokenPurpose::VerifyEmail,
                    TokenPurpose::ResetPassword,
                    TokenPurpose::ChangeEmail,
                ] {
                    cx.tx
                        .email_tokens()
                        .supersede_email_tokens(uid, purpose, now)?;
                }
                cx.tx.audit().record(&accueil_domain::admin::AuditEvent {
                    id: event_id,
                    at: now,
                    actor: Some(uid),
                    action: AuditAction::UserDeleted,
                    subject: Some(uid),
                    detail: String::new(),
                })?;
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

    /// Removes the e-mailed links (verify, reset, change address) that expired longer ago than
    /// the grace period. Returns how many.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn purge_email_tokens(&self) -> Result<u64, StoreError> {
        let cutoff = self.ports.clock.now() - self.settings.deletion_grace;
        self.ports
            .store
            .write(move |tx| tx.email_tokens().purge_email_tokens_before(cutoff))
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

    /// Everything stored about the caller: the account, its sessions, audit trail, linked
    /// identities and API keys (never a secret), and every module's part (the couple and its
    /// content).
    ///
    /// # Errors
    /// See [`ExportError`].
    pub async fn export(&self, caller: &Caller) -> Result<AccountExport, ExportError> {
        let hooks = self.hooks.clone();
        self.ports
            .read_as(caller, move |cx| -> Result<AccountExport, ExportError> {
                let uid = cx.me.user.id;
                let mut export = AccountExport {
                    user: cx.me.user.clone(),
                    sessions: cx.tx.sessions().sessions_of(uid)?,
                    audit: cx.tx.audit().about(uid)?,
                    identities: cx.tx.oauth().identities_of(uid)?,
                    api_keys: cx.tx.api_keys().api_keys_of(uid)?,
                    couple: None,
                    tenants: Vec::new(),
                };
                hooks.export_account(cx.tx, &cx.me.user, cx.now, &mut export)?;
                Ok(export)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::identity::LoginError;
    use crate::testing::Harness;

    #[tokio::test]
    async fn deletion_anonymises_ends_sessions_and_blocks_login_then_purges() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", Some("ann")).await;
        let pair = h.login("ann@example.org").await;
        let who = h.signed_in(&pair).await;
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
            .login("ann@example.org", Harness::PASSWORD, None)
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
        assert!(export.identities.is_empty() && export.api_keys.is_empty());
        assert!(export.couple.is_none(), "no couple yet");
    }
}
