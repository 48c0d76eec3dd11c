//! The address: verification (and its resend) and changing it.

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{
    Email, Password, REAUTHENTICATION_WINDOW, TokenProblem, TokenPurpose, User, signed_in_recently,
};
use accueil_domain::notify::MailTemplate;
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::identity::UserWriteError;
use accueil_ports::system::HashError;
use accueil_ports::{StoreError, StoreExt};

use super::{AuthError, Caller, IdentityService, LinkPage, RateLimited, ip_key, redeem};

/// Why a verification link was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyEmailError {
    /// Unknown, expired or used.
    #[error(transparent)]
    Token(#[from] TokenProblem),
    /// An address change whose new address got an account meanwhile.
    #[error("the new address has an account")]
    EmailTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for VerifyEmailError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::EmailTaken => Self::EmailTaken,
            UserWriteError::Store(e) => Self::Store(e),
            other => Self::Store(StoreError::Internal(other.to_string())),
        }
    }
}

/// Why a mailed link (a new verification link, or a reset link) could not be sent for (an
/// unknown address is not one of them).
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// Too many requests from this client or for this address.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An account without a password confirms a sensitive change with a recent sign-in, and the
/// caller's session is older than [`REAUTHENTICATION_WINDOW`]. The text says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this account has no password: sign in again{}, then retry within {} minutes",
    with_providers(.providers),
    REAUTHENTICATION_WINDOW.num_minutes()
)]
pub struct ReauthenticationRequired {
    /// The configured providers the account can sign in with, sorted.
    pub providers: Vec<String>,
}

fn with_providers(providers: &[String]) -> String {
    if providers.is_empty() {
        String::new()
    } else {
        format!(" with {}", providers.join(" or "))
    }
}

/// Why a password typed to confirm an action could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordCheckError {
    /// The caller came with an API key.
    #[error(transparent)]
    SessionRequired(#[from] super::SessionRequired),
    /// The account has no password and its session is not recent: sign in again.
    #[error(transparent)]
    ReauthenticationRequired(#[from] super::ReauthenticationRequired),
    /// Too many checks for this account.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed (reading the session of an account without a password).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an address change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeEmailError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The account has no password and its session is not recent: sign in again.
    #[error(transparent)]
    ReauthenticationRequired(#[from] super::ReauthenticationRequired),
    /// The caller came with an API key.
    #[error(transparent)]
    SessionRequired(#[from] super::SessionRequired),
    /// The new address is malformed or the same as the current one.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The current password is wrong.
    #[error("the password is not right")]
    WrongPassword,
    /// Too many requests from this client or for this account.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IdentityService {
    /// Redeems a link from a verification mail: marks the address verified, or, for an address
    /// change, switches the account to its new address and tells the old one.
    ///
    /// # Errors
    /// See [`VerifyEmailError`].
    pub async fn verify_email(&self, secret: &str) -> Result<(), VerifyEmailError> {
        let digest = self.ports.opaque_tokens.digest(secret);
        let now = self.ports.clock.now();
        let this = self.clone();
        self.ports
            .store
            .write(move |tx| -> Result<(), VerifyEmailError> {
                let purposes = [TokenPurpose::VerifyEmail, TokenPurpose::ChangeEmail];
                let (token, mut user) = redeem(tx, &digest, &purposes, now)??;
                match (token.purpose, token.new_email) {
                    (TokenPurpose::ChangeEmail, Some(new_email)) => {
                        let old = user.email.clone();
                        user.email = new_email;
                        user.email_verified = true;
                        user.updated_at = now;
                        tx.users().update_user(&user)?;
                        // Links to the old address must not verify the new one.
                        tx.email_tokens().supersede_email_tokens(
                            user.id,
                            TokenPurpose::VerifyEmail,
                            now,
                        )?;
                        tx.email_tokens().supersede_email_tokens(
                            user.id,
                            TokenPurpose::ChangeEmail,
                            now,
                        )?;
                        let notice = this.mail(
                            &user,
                            Some(&old),
                            MailTemplate::EmailChanged,
                            &[("new_email", user.email.as_str().to_owned())],
                            now,
                        );
                        crate::notify::enqueue(tx, &notice)?;
                        tx.audit().record(&this.audit_event(
                            now,
                            AuditAction::EmailChanged,
                            Some(user.id),
                            user.id,
                            "",
                        ))?;
                    }
                    _ => {
                        if !user.email_verified {
                            user.email_verified = true;
                            user.updated_at = now;
                            tx.users().update_user(&user)?;
                            crate::notify::enqueue(
                                tx,
                                &this.mail(&user, None, MailTemplate::Welcome, &[], now),
                            )?;
                            tx.audit().record(&this.audit_event(
                                now,
                                AuditAction::EmailVerified,
                                Some(user.id),
                                user.id,
                                "",
                            ))?;
                        }
                        tx.email_tokens().supersede_email_tokens(
                            user.id,
                            TokenPurpose::VerifyEmail,
                            now,
                        )?;
                    }
                }
                Ok(())
            })
            .await
    }

    /// Sends a new verification link to an unverified account with this address (the older
    /// links stop working). Answers the same whether or not such an account exists.
    ///
    /// # Errors
    /// See [`ResendError`].
    pub async fn resend_verification(
        &self,
        email: Email,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(), ResendError> {
        self.mail_link(
            email,
            client_ip,
            TokenPurpose::VerifyEmail,
            MailTemplate::VerifyEmail,
            |u| !u.email_verified,
        )
        .await
    }

    /// The shared shape of "mail me a link" requests: limits first, then, when an account that
    /// `wanted` accepts has this address, a new single-use link (older ones of the same purpose
    /// stop working) in one unit of work with its mail. Unknown addresses change nothing and
    /// answer the same.
    pub(super) async fn mail_link(
        &self,
        email: Email,
        client_ip: Option<std::net::IpAddr>,
        purpose: TokenPurpose,
        template: MailTemplate,
        wanted: fn(&User) -> bool,
    ) -> Result<(), ResendError> {
        self.limit_mail(client_ip, &email.canonical())?;
        let page = match purpose {
            TokenPurpose::ResetPassword => LinkPage::ResetPassword,
            TokenPurpose::VerifyEmail | TokenPurpose::ChangeEmail => LinkPage::VerifyEmail,
        };
        let now = self.ports.clock.now();
        let this = self.clone();
        self.ports
            .store
            .write(move |tx| -> Result<(), StoreError> {
                let Some(user) = tx.users().user_by_email(&email)? else {
                    return Ok(());
                };
                if user.is_deleted() || !user.is_active || !wanted(&user) {
                    return Ok(());
                }
                tx.email_tokens()
                    .supersede_email_tokens(user.id, purpose, now)?;
                let (secret, token) = this.email_token(user.id, purpose, None, now);
                tx.email_tokens().insert_email_token(&token)?;
                let link = this.link(page, Some(&secret));
                crate::notify::enqueue(
                    tx,
                    &this.mail(&user, None, template, &[("link", link)], now),
                )
                .map(|_| ())
            })
            .await?;
        Ok(())
    }

    /// Starts an address change: a confirmation link goes to the new address; the account
    /// keeps its address until the link is used. When the new address belongs to another
    /// account nothing is sent, and the answer is the same (no enumeration).
    ///
    /// # Errors
    /// See [`ChangeEmailError`].
    pub async fn change_email(
        &self,
        caller: &Caller,
        new_email: Email,
        current_password: &str,
    ) -> Result<(), ChangeEmailError> {
        // Two units: the password is checked outside any transaction (bcrypt must not hold
        // the writer), between reading the account and changing it.
        let who = &self.me(caller).await?;
        if new_email.canonical() == who.user.email.canonical() {
            return Err(ValidationErrors(vec![FieldError::new(
                "new_email",
                "same_email",
                "this is already your address",
            )])
            .into());
        }
        self.check_password(who, current_password)
            .await?
            .then_some(())
            .ok_or(ChangeEmailError::WrongPassword)?;
        let this = self.clone();
        self.ports
            .write_as(caller, move |cx| -> Result<(), ChangeEmailError> {
                let (tx, now, user) = (&mut *cx.tx, cx.now, cx.me.user.clone());
                tx.email_tokens().supersede_email_tokens(
                    user.id,
                    TokenPurpose::ChangeEmail,
                    now,
                )?;
                if tx.users().user_by_email(&new_email)?.is_some() {
                    return Ok(());
                }
                let (secret, token) = this.email_token(
                    user.id,
                    TokenPurpose::ChangeEmail,
                    Some(new_email.clone()),
                    now,
                );
                tx.email_tokens().insert_email_token(&token)?;
                let link = this.link(LinkPage::VerifyEmail, Some(&secret));
                crate::notify::enqueue(
                    tx,
                    &this.mail(
                        &user,
                        Some(&new_email),
                        MailTemplate::ConfirmEmailChange,
                        &[("link", link)],
                        now,
                    ),
                )?;
                Ok(())
            })
            .await
    }

    /// The limits of every request that sends mail: per client and per address (or account).
    pub(super) fn limit_mail(
        &self,
        client_ip: Option<std::net::IpAddr>,
        target: &str,
    ) -> Result<(), RateLimited> {
        let limits = self.settings.limits;
        let ip = ip_key(client_ip);
        self.limit(&[
            ("mail:ip", ip.as_deref(), limits.mail_ip),
            ("mail:address", Some(target), limits.mail_account),
        ])
    }

    /// Checks a password the user typed to confirm an action. Each check counts against the
    /// same per-account limit as logins: a stolen access token must not become a way to guess
    /// the password.
    pub(super) async fn check_password(
        &self,
        who: &super::Principal,
        typed: &str,
    ) -> Result<bool, PasswordCheckError> {
        let started = who.session_started_at()?;
        if who.user.password_hash.is_none() {
            // An account that signs in with providers only has no password to type: a session
            // opened by a sign-in in the last few minutes is the proof instead. The session's
            // start is its sign-in (refreshing keeps the session), so a refreshed token of an
            // old session does not count.
            if signed_in_recently(started, self.ports.clock.now()) {
                return Ok(true);
            }
            let uid = who.user.id;
            let configured = self.ports.oauth.clone();
            let mut providers: Vec<String> = self
                .ports
                .store
                .read(move |tx| tx.oauth().identities_of(uid))
                .await?
                .into_iter()
                .map(|i| i.provider.as_str().to_owned())
                .filter(|p| configured.get(p).is_some())
                .collect();
            providers.sort();
            providers.dedup();
            return Err(ReauthenticationRequired { providers }.into());
        }
        self.verify_typed_password(&who.user, typed).await
    }

    /// Checks a typed password against a user's, counting against the login limit.
    pub(super) async fn verify_typed_password(
        &self,
        user: &User,
        typed: &str,
    ) -> Result<bool, PasswordCheckError> {
        let key = user.id.to_string();
        self.limit(&[(
            "login:account",
            Some(&key),
            self.settings.limits.login_account,
        )])?;
        match self
            .ports
            .hasher
            .verify(&Password::unchecked(typed), user.password_hash.as_ref())
            .await
        {
            Ok(ok) => Ok(ok),
            Err(HashError::Malformed) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

macro_rules! from_password_check {
    ($($error:ty),*) => {$(
        impl From<PasswordCheckError> for $error {
            fn from(e: PasswordCheckError) -> Self {
                match e {
                    PasswordCheckError::SessionRequired(s) => Self::SessionRequired(s),
                    PasswordCheckError::ReauthenticationRequired(r) => Self::ReauthenticationRequired(r),
                    PasswordCheckError::RateLimited(r) => Self::RateLimited(r),
                    PasswordCheckError::Hash(h) => Self::Hash(h),
                    PasswordCheckError::Store(s) => Self::Store(s),
                }
            }
        }
    )*};
}

from_password_check!(
    ChangeEmailError,
    super::ChangePasswordError,
    super::DeleteAccountError
);

#[cfg(test)]
mod tests {
    use accueil_domain::notify::MailTemplate;
    use chrono::Duration;

    use super::*;
    use crate::testing::{Harness, email};

    fn token_of(link: &str) -> String {
        link.split("token=").nth(1).unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_link_verifies_once_and_a_welcome_follows() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let link = h.last_mail(MailTemplate::VerifyEmail).await.mail.vars["link"].clone();
        h.app.verify_email(&token_of(&link)).await.unwrap();
        assert!(h.user(user.id).await.unwrap().email_verified);
        assert_eq!(h.last_mail(MailTemplate::Welcome).await.mail.to, user.email);
        assert!(matches!(
            h.app.verify_email(&token_of(&link)).await,
            Err(VerifyEmailError::Token(TokenProblem::Used))
        ));
        assert!(matches!(
            h.app.verify_email("nope").await,
            Err(VerifyEmailError::Token(TokenProblem::Invalid))
        ));
    }

    #[tokio::test]
    async fn links_expire_after_a_day_and_a_resend_supersedes_them() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let first = h.last_mail(MailTemplate::VerifyEmail).await.mail.vars["link"].clone();
        h.app
            .resend_verification(email("ANN@example.org"), None)
            .await
            .unwrap();
        let second = h.last_mail(MailTemplate::VerifyEmail).await.mail.vars["link"].clone();
        assert_ne!(first, second);
        assert!(matches!(
            h.app.verify_email(&token_of(&first)).await,
            Err(VerifyEmailError::Token(TokenProblem::Used))
        ));
        h.advance(Duration::hours(24));
        assert!(matches!(
            h.app.verify_email(&token_of(&second)).await,
            Err(VerifyEmailError::Token(TokenProblem::Expired))
        ));
        assert!(!h.user(user.id).await.unwrap().email_verified);
        // Unknown addresses answer the same and send nothing.
        let before = h.outbox().await.len();
        h.app
            .resend_verification(email("nobody@example.org"), None)
            .await
            .unwrap();
        assert_eq!(h.outbox().await.len(), before);
    }

    #[tokio::test]
    async fn an_address_change_applies_when_the_new_address_confirms() {
        let h = Harness::new();
        let user = h.registered("old@example.org", None).await;
        let who = h.principal("old@example.org").await;
        let wrong = h
            .app
            .change_email(&who, email("new@example.org"), "nope nope")
            .await;
        assert!(matches!(wrong, Err(ChangeEmailError::WrongPassword)));
        h.app
            .change_email(&who, email("new@example.org"), Harness::PASSWORD)
            .await
            .unwrap();
        let confirm = h.last_mail(MailTemplate::ConfirmEmailChange).await;
        assert_eq!(confirm.mail.to.as_str(), "new@example.org");
        assert_eq!(
            h.user(user.id).await.unwrap().email.as_str(),
            "old@example.org",
            "not before confirmation"
        );
        h.app
            .verify_email(&token_of(&confirm.mail.vars["link"]))
            .await
            .unwrap();
        let changed = h.user(user.id).await.unwrap();
        assert_eq!(changed.email.as_str(), "new@example.org");
        assert!(changed.email_verified);
        let notice = h.last_mail(MailTemplate::EmailChanged).await;
        assert_eq!(
            notice.mail.to.as_str(),
            "old@example.org",
            "the old address is told"
        );
        assert_eq!(notice.mail.vars["new_email"], "new@example.org");
        h.login("new@example.org").await;
    }

    #[tokio::test]
    async fn a_taken_new_address_sends_nothing_and_says_nothing() {
        let h = Harness::new();
        h.registered("a@example.org", None).await;
        h.registered("b@example.org", None).await;
        let who = h.principal("a@example.org").await;
        let before = h.outbox().await.len();
        h.app
            .change_email(&who, email("B@example.org"), Harness::PASSWORD)
            .await
            .unwrap();
        assert_eq!(h.outbox().await.len(), before);
        let same = h
            .app
            .change_email(&who, email("A@example.org"), Harness::PASSWORD)
            .await;
        assert!(matches!(same, Err(ChangeEmailError::Invalid(_))));
    }
}
