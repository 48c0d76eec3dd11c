//! Registration with e-mail and password.

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{NewUser, Registration, Role, TokenPurpose, User, UserId};
use accueil_domain::notify::MailTemplate;
use accueil_ports::identity::UserWriteError;
use accueil_ports::system::HashError;
use accueil_ports::{StoreError, StoreExt};

use super::{IdentityService, LinkPage, RateLimited, ip_key};

/// Why registration failed. An address that has an account is *not* an error: the answer is
/// the same as for a new account, and the owner gets a notice by mail instead.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Password sign-in is off.
    #[error(transparent)]
    PasswordAuthDisabled(#[from] super::PasswordAuthDisabled),
    /// The username is taken (usernames are public, so saying so reveals nothing).
    #[error("username already taken")]
    UsernameTaken,
    /// Too many registrations from this address, or mails to this address.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Inside the unit of work: a concurrent registration of the same address won the race.
enum Conflict {
    Register(RegisterError),
    EmailTaken,
}

impl From<StoreError> for Conflict {
    fn from(e: StoreError) -> Self {
        Self::Register(RegisterError::Store(e))
    }
}

impl From<UserWriteError> for Conflict {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::EmailTaken => Self::EmailTaken,
            UserWriteError::UsernameTaken => Self::Register(RegisterError::UsernameTaken),
            UserWriteError::NotFound => Self::Register(RegisterError::Store(StoreError::Internal(
                "user vanished".into(),
            ))),
            UserWriteError::Store(e) => Self::Register(RegisterError::Store(e)),
        }
    }
}

impl IdentityService {
    /// Creates an account and mails a verification link. When the address already has an
    /// account, nothing is created, the owner is told by mail, and the answer is the same as
    /// for a new account (a user that exists nowhere), so registration reveals nothing.
    ///
    /// # Errors
    /// See [`RegisterError`].
    pub async fn register(
        &self,
        registration: Registration,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<User, RegisterError> {
        self.passwords_on()?;
        let limits = self.settings.limits;
        let ip = ip_key(client_ip);
        self.limit(&[("register:ip", ip.as_deref(), limits.register_ip)])?;
        let Registration {
            email,
            username,
            display_name,
            password,
            language,
        } = registration;
        // Registration mails the address (a link, or a notice to its owner): the same limit as
        // every mail-sending request, per client and per address.
        let canonical = email.canonical();
        self.limit(&[
            ("mail:ip", ip.as_deref(), limits.mail_ip),
            ("mail:address", Some(&canonical), limits.mail_account),
        ])?;
        // Hash before taking the write lock (and for existing addresses too, so both paths
        // cost the same).
        let password_hash = self.ports.hasher.hash(&password).await?;
        let now = self.ports.clock.now();
        let user = NewUser {
            email,
            username,
            display_name,
            password_hash,
            role: Role::User,
            language,
        }
        .into_user(UserId(self.ports.ids.new_id()), now);
        let (secret, token) = self.email_token(user.id, TokenPurpose::VerifyEmail, None, now);
        let verify = self.mail(
            &user,
            None,
            MailTemplate::VerifyEmail,
            &[("link", self.link(LinkPage::VerifyEmail, Some(&secret)))],
            now,
        );
        let event = self.audit_event(now, AuditAction::UserRegistered, Some(user.id), user.id, "");
        let this = self.clone();
        let stored = user.clone();
        let created = self
            .ports
            .store
            .write(move |tx| -> Result<bool, Conflict> {
                if let Some(name) = &stored.username
                    && tx.users().user_by_username(name)?.is_some()
                {
                    return Err(Conflict::Register(RegisterError::UsernameTaken));
                }
                if let Some(owner) = tx.users().user_by_email(&stored.email)? {
                    let notice = this.mail(
                        &owner,
                        None,
                        MailTemplate::AccountExists,
                        &[("link", this.link(LinkPage::ForgotPassword, None))],
                        now,
                    );
                    crate::notify::enqueue(tx, &notice)?;
                    return Ok(false);
                }
                tx.users().insert_user(&stored)?;
                tx.email_tokens().insert_email_token(&token)?;
                crate::notify::enqueue(tx, &verify)?;
                tx.audit().record(&event)?;
                Ok(true)
            })
            .await;
        match created {
            Ok(true) => tracing::info!(user_id = %user.id, "user registered"),
            // The same answer as a new account; the owner was mailed (or, after losing a race
            // to a concurrent registration, the other request created the account).
            Ok(false) | Err(Conflict::EmailTaken) => {
                tracing::info!("registration for an existing address")
            }
            Err(Conflict::Register(e)) => return Err(e),
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use accueil_domain::identity::Language;

    use super::*;
    use crate::testing::Harness;

    fn parsed(
        email: &str,
        password: &str,
        username: Option<&str>,
    ) -> Result<Registration, accueil_domain::validation::ValidationErrors> {
        Registration::parse(email, password, username, Some("  Zoé "), Some("fr"))
    }

    fn input(email: &str, password: &str, username: Option<&str>) -> Registration {
        parsed(email, password, username).unwrap()
    }

    #[tokio::test]
    async fn registers_and_audits() {
        let h = Harness::new();
        let user = h
            .app
            .register(
                input(" Zoe@Example.ORG", "correct horse battery", Some("Zoe")),
                None,
            )
            .await
            .unwrap();
        assert_eq!(user.email.as_str(), "Zoe@example.org");
        assert_eq!(user.username.as_ref().unwrap().as_str(), "zoe");
        assert_eq!(user.display_name.as_ref().unwrap().as_str(), "Zoé");
        assert_eq!(user.roles(), vec![Role::User]);
        let stored = h.user(user.id).await.unwrap();
        assert_eq!(stored, user);
        assert_eq!(h.audit(user.id).await, vec![AuditAction::UserRegistered]);
        let mails = h.outbox().await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].mail.template, MailTemplate::VerifyEmail);
        assert_eq!(mails[0].mail.language, Language::Fr);
        assert_eq!(mails[0].mail.to, user.email);
        assert!(
            mails[0].mail.vars["link"].starts_with("http://127.0.0.1:8080/verify-email?token=")
        );
    }

    #[tokio::test]
    async fn reports_every_invalid_field_and_writes_nothing() {
        let h = Harness::new();
        // Checked at the edge, before the use case runs: nothing is hashed or written.
        let v = Registration::parse("not-an-email", "short", Some("x"), Some(" "), Some("de"))
            .unwrap_err();
        let fields: Vec<_> = v.0.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("email", "invalid_email"),
                ("username", "too_short"),
                ("display_name", "required"),
                ("language", "unsupported_language"),
                ("password", "too_short"),
            ]
        );
        assert_eq!(h.hasher_calls(), 0, "nothing hashed for an invalid request");
        assert!(h.outbox().await.is_empty());
    }

    #[tokio::test]
    async fn password_may_not_contain_the_username_or_email() {
        let h = Harness::new();
        let v = parsed(
            "marcel.proust@example.org",
            "Marcel.Proust-1871",
            Some("swann"),
        )
        .unwrap_err();
        assert_eq!(v.0[0].code, "contains_email");
        let v = parsed("mp@example.org", "i-am-Swann-1913", Some("swann")).unwrap_err();
        assert_eq!(v.0[0].code, "contains_username");
        assert_eq!(h.hasher_calls(), 0);
    }

    #[tokio::test]
    async fn an_existing_address_answers_like_a_new_one_and_mails_the_owner() {
        let h = Harness::new();
        let owner = h
            .app
            .register(
                input("a@example.org", "correct horse battery", Some("ann")),
                None,
            )
            .await
            .unwrap();
        let twin = h
            .app
            .register(
                input("A@EXAMPLE.org", "another good passphrase", None),
                None,
            )
            .await
            .unwrap();
        assert_ne!(twin.id, owner.id, "a user that exists nowhere");
        assert_eq!(h.user(twin.id).await, None);
        assert_eq!(h.hasher_calls(), 2, "both paths hash");
        let mails = h.outbox().await;
        let notice = mails
            .iter()
            .find(|m| m.mail.template == MailTemplate::AccountExists)
            .unwrap();
        assert_eq!(notice.mail.to, owner.email);
        let stored = h.user(owner.id).await.unwrap();
        assert_eq!(
            stored.password_hash, owner.password_hash,
            "the account is untouched"
        );
    }

    #[tokio::test]
    async fn a_taken_username_is_refused() {
        let h = Harness::new();
        h.app
            .register(
                input("a@example.org", "correct horse battery", Some("ann")),
                None,
            )
            .await
            .unwrap();
        let err = h
            .app
            .register(
                input("b@example.org", "correct horse battery", Some("ANN")),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, RegisterError::UsernameTaken), "{err:?}");
    }
}
