//! Passwords: forgotten (a mailed link), reset, and changed by their owner.

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{Email, Password, PasswordContext, TokenProblem, TokenPurpose};
use accueil_domain::notify::MailTemplate;
use accueil_domain::validation::ValidationErrors;
use accueil_ports::identity::UserWriteError;
use accueil_ports::system::HashError;
use accueil_ports::{StoreError, StoreExt};

use super::{AuthError, Caller, IdentityService, redeem};
use crate::identity::ResendError;

/// Why a forgot-password request could not be processed: password sign-in is off, or as for
/// any mailed link ([`ResendError`]).
#[derive(Debug, thiserror::Error)]
pub enum ForgotPasswordError {
    /// Password sign-in is off.
    #[error(transparent)]
    PasswordAuthDisabled(#[from] super::PasswordAuthDisabled),
    /// Too many requests from this client or for this address.
    #[error(transparent)]
    RateLimited(#[from] super::RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ResendError> for ForgotPasswordError {
    fn from(e: ResendError) -> Self {
        match e {
            ResendError::RateLimited(r) => Self::RateLimited(r),
            ResendError::Store(s) => Self::Store(s),
        }
    }
}

/// Why a reset was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResetPasswordError {
    /// Password sign-in is off.
    #[error(transparent)]
    PasswordAuthDisabled(#[from] super::PasswordAuthDisabled),
    /// Unknown, expired or used token.
    #[error(transparent)]
    Token(#[from] TokenProblem),
    /// The new password breaks the policy.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for ResetPasswordError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::Store(e) => Self::Store(e),
            other => Self::Store(StoreError::Internal(other.to_string())),
        }
    }
}

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Password sign-in is off.
    #[error(transparent)]
    PasswordAuthDisabled(#[from] super::PasswordAuthDisabled),
    /// The account has no password and its session is not recent: sign in again.
    #[error(transparent)]
    ReauthenticationRequired(#[from] super::ReauthenticationRequired),
    /// The caller came with an API key.
    #[error(transparent)]
    SessionRequired(#[from] super::SessionRequired),
    /// The current password is wrong.
    #[error("the password is not right")]
    WrongPassword,
    /// Too many password checks for this account.
    #[error(transparent)]
    RateLimited(#[from] super::RateLimited),
    /// The new password breaks the policy.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for ChangePasswordError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::Store(e) => Self::Store(e),
            other => Self::Store(StoreError::Internal(other.to_string())),
        }
    }
}

fn policy(
    candidate: &str,
    user: &accueil_domain::identity::User,
    field: &'static str,
) -> Result<Password, ValidationErrors> {
    Password::new(
        candidate,
        PasswordContext {
            username: user.username.as_ref(),
            email: Some(&user.email),
        },
    )
    .map_err(|mut v| {
        for f in &mut v.0 {
            f.field = field;
        }
        v
    })
}

impl IdentityService {
    /// Mails a reset link (valid 1 hour; older links stop working) to the active account with
    /// this address. Answers the same whether or not such an account exists.
    ///
    /// # Errors
    /// See [`ForgotPasswordError`].
    pub async fn forgot_password(
        &self,
        email: Email,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(), ForgotPasswordError> {
        self.passwords_on()?;
        Ok(self
            .mail_link(
                email,
                client_ip,
                TokenPurpose::ResetPassword,
                MailTemplate::PasswordReset,
                |_| true,
            )
            .await?)
    }

    /// Sets a new password with a reset token: every session of the account ends, and the
    /// owner is told by mail. The address counts as verified (the link reached it).
    ///
    /// # Errors
    /// See [`ResetPasswordError`].
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
    ) -> Result<(), ResetPasswordError> {
        self.passwords_on()?;
        let digest = self.ports.opaque_tokens.digest(token);
        let now = self.ports.clock.now();
        // Look first (read), so the policy can use the account's data and the hash runs
        // outside the write lock; the write below redeems the token for real.
        let d = digest.clone();
        let peek = self
            .ports
            .store
            .read(move |tx| -> Result<_, StoreError> {
                let Some(token) = tx.email_tokens().email_token_by_digest(&d)? else {
                    return Ok(Err(TokenProblem::Invalid));
                };
                if let Err(p) = token.check(TokenPurpose::ResetPassword, now) {
                    return Ok(Err(p));
                }
                Ok(tx
                    .users()
                    .user_by_id(token.user_id)?
                    .ok_or(TokenProblem::Invalid))
            })
            .await??;
        let password = policy(new_password, &peek, "password")?;
        let hash = self.ports.hasher.hash(&password).await?;
        let this = self.clone();
        self.ports
            .store
            .write(move |tx| -> Result<(), ResetPasswordError> {
                let (_, mut user) = redeem(tx, &digest, &[TokenPurpose::ResetPassword], now)??;
                // The address's owner is here: identities that made or joined this account
                // without anyone vouching for the address go (whoever claimed it first).
                for identity in tx.oauth().identities_of(user.id)? {
                    if !identity.proven {
                        tx.oauth().delete_identity(user.id, identity.id)?;
                    }
                }
                user.password_hash = Some(hash);
                user.email_verified = true;
                user.updated_at = now;
                tx.users().update_user(&user)?;
                crate::identity::end_user_sessions(tx, user.id, now, "password_reset")?;
                tx.email_tokens().supersede_email_tokens(
                    user.id,
                    TokenPurpose::ResetPassword,
                    now,
                )?;
                this.tell_password_changed(tx, &user, now)?;
                tx.audit().record(&this.audit_event(
                    now,
                    AuditAction::PasswordReset,
                    Some(user.id),
                    user.id,
                    "",
                ))?;
                Ok(())
            })
            .await
    }

    /// Changes the caller's password: the other sessions end, this one stays; the owner is told
    /// by mail.
    ///
    /// # Errors
    /// See [`ChangePasswordError`].
    pub async fn change_password(
        &self,
        caller: &Caller,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), ChangePasswordError> {
        self.passwords_on()?;
        // Two units: the password is checked and the new one hashed outside any transaction
        // (bcrypt must not hold the writer), between reading the account and changing it.
        let who = self.me(caller).await?;
        if !self.check_password(&who, current_password).await? {
            return Err(ChangePasswordError::WrongPassword);
        }
        let password = policy(new_password, &who.user, "new_password")?;
        let hash = self.ports.hasher.hash(&password).await?;
        let (uid, current) = (who.user.id, who.session_id()?);
        let this = self.clone();
        self.ports
            .write_as(caller, move |cx| -> Result<(), ChangePasswordError> {
                let (tx, now) = (&mut *cx.tx, cx.now);
                let Some(mut user) = tx.users().user_for_update(uid)? else {
                    return Err(StoreError::Internal("user vanished".into()).into());
                };
                user.password_hash = Some(hash);
                user.updated_at = now;
                tx.users().update_user(&user)?;
                for s in tx.sessions().sessions_of(uid)? {
                    if s.id != current && s.is_live() {
                        crate::identity::end_session(tx, s.id, now, "password_changed")?;
                    }
                }
                this.tell_password_changed(tx, &user, now)?;
                tx.audit().record(&this.audit_event(
                    now,
                    AuditAction::PasswordChanged,
                    Some(uid),
                    uid,
                    "",
                ))?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::testing::{Harness, email};

    fn token_of(link: &str) -> String {
        link.split("token=").nth(1).unwrap().to_owned()
    }

    #[tokio::test]
    async fn forgot_then_reset_ends_every_session() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let old = h.login("ann@example.org").await;
        h.app
            .forgot_password(email("ann@example.org"), None)
            .await
            .unwrap();
        let mail = h.last_mail(MailTemplate::PasswordReset).await;
        assert!(mail.mail.vars["link"].starts_with("http://127.0.0.1:8080/reset-password?token="));
        let token = token_of(&mail.mail.vars["link"]);
        let weak = h.app.reset_password(&token, "password").await;
        assert!(
            matches!(weak, Err(ResetPasswordError::Invalid(_))),
            "the policy applies"
        );
        h.app
            .reset_password(&token, "a brand new passphrase")
            .await
            .unwrap();
        assert!(
            h.app.refresh(&old.refresh_token).await.is_err(),
            "old sessions are gone"
        );
        h.login_with("ann@example.org", "a brand new passphrase")
            .await;
        assert_eq!(
            h.last_mail(MailTemplate::PasswordChanged).await.mail.to,
            user.email
        );
        let again = h.app.reset_password(&token, "yet another passphrase").await;
        assert!(matches!(
            again,
            Err(ResetPasswordError::Token(TokenProblem::Used))
        ));
        assert!(h.user(user.id).await.unwrap().email_verified);
    }

    #[tokio::test]
    async fn reset_links_expire_in_an_hour_and_unknown_addresses_get_nothing() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        h.app
            .forgot_password(email("ann@example.org"), None)
            .await
            .unwrap();
        let token = token_of(&h.last_mail(MailTemplate::PasswordReset).await.mail.vars["link"]);
        h.advance(Duration::minutes(60));
        let late = h.app.reset_password(&token, "a brand new passphrase").await;
        assert!(matches!(
            late,
            Err(ResetPasswordError::Token(TokenProblem::Expired))
        ));
        let before = h.outbox().await.len();
        h.app
            .forgot_password(email("nobody@example.org"), None)
            .await
            .unwrap();
        assert_eq!(h.outbox().await.len(), before);
    }

    #[tokio::test]
    async fn changing_the_password_keeps_this_session_only() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let other = h.login("ann@example.org").await;
        let this = h.login("ann@example.org").await;
        let who = h.signed_in(&this).await;
        let wrong = h
            .app
            .change_password(&who, "not it at all", "a brand new passphrase")
            .await;
        assert!(matches!(wrong, Err(ChangePasswordError::WrongPassword)));
        let weak = h
            .app
            .change_password(&who, Harness::PASSWORD, "short")
            .await;
        let Err(ChangePasswordError::Invalid(v)) = weak else {
            panic!("{weak:?}")
        };
        assert_eq!(v.0[0].field, "new_password");
        h.app
            .change_password(&who, Harness::PASSWORD, "a brand new passphrase")
            .await
            .unwrap();
        assert!(
            h.app.authenticate(&this.access_token).await.is_ok(),
            "this session stays"
        );
        assert!(
            h.app.authenticate(&other.access_token).await.is_err(),
            "the others end"
        );
        h.login_with("ann@example.org", "a brand new passphrase")
            .await;
    }
}
