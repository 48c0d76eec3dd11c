//! Registration with e-mail and password.

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{
    DisplayName, Email, NewUser, Password, PasswordContext, Role, User, UserId, Username,
};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::identity::UserWriteError;
use accueil_ports::system::HashError;
use accueil_ports::{StoreError, StoreExt};

use super::IdentityService;

/// What a client sends to register.
#[derive(Debug, Clone)]
pub struct RegisterInput {
    /// E-mail address.
    pub email: String,
    /// Chosen password.
    pub password: String,
    /// Optional username.
    pub username: Option<String>,
    /// Optional display name.
    pub display_name: Option<String>,
}

/// Why registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// One or more fields are invalid; nothing was written.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The e-mail address is registered already.
    #[error("e-mail address already registered")]
    EmailTaken,
    /// The username is taken.
    #[error("username already taken")]
    UsernameTaken,
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for RegisterError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::EmailTaken => Self::EmailTaken,
            UserWriteError::UsernameTaken => Self::UsernameTaken,
            UserWriteError::NotFound => Self::Store(StoreError::Internal("user vanished".into())),
            UserWriteError::Store(e) => Self::Store(e),
        }
    }
}

/// Every field of a registration, validated together so all problems are reported at once.
fn validate(
    input: &RegisterInput,
) -> Result<(Email, Option<Username>, Option<DisplayName>, Password), ValidationErrors> {
    let mut errors: Vec<FieldError> = Vec::new();
    let email = Email::parse(&input.email).map_err(|e| errors.push(e)).ok();
    let username = match input.username.as_deref() {
        Some(u) => Username::parse(u)
            .map(Some)
            .map_err(|e| errors.push(e))
            .ok(),
        None => Some(None),
    };
    let display_name = match input.display_name.as_deref() {
        Some(d) => DisplayName::parse(d)
            .map(Some)
            .map_err(|e| errors.push(e))
            .ok(),
        None => Some(None),
    };
    let ctx = PasswordContext {
        username: username.as_ref().and_then(Option::as_ref),
        email: email.as_ref(),
    };
    let password = Password::new(&input.password, ctx)
        .map_err(|e| errors.extend(e.0))
        .ok();
    match (email, username, display_name, password) {
        (Some(e), Some(u), Some(d), Some(p)) if errors.is_empty() => Ok((e, u, d, p)),
        _ => Err(ValidationErrors(errors)),
    }
}

impl IdentityService {
    /// Creates an account.
    ///
    /// # Errors
    /// See [`RegisterError`].
    pub async fn register(&self, input: RegisterInput) -> Result<User, RegisterError> {
        let (email, username, display_name, password) = validate(&input)?;
        // Hash before taking the write lock: hashing is slow and needs no database.
        let password_hash = self.ports.hasher.hash(&password).await?;
        let now = self.ports.clock.now();
        let user = NewUser {
            email,
            username,
            display_name,
            password_hash,
            role: Role::User,
        }
        .into_user(UserId(self.ports.ids.new_id()), now);
        let event = self.audit_event(now, AuditAction::UserRegistered, Some(user.id), user.id, "");
        let stored = user.clone();
        self.ports
            .store
            .write(move |tx| -> Result<(), RegisterError> {
                tx.identity().insert_user(&stored)?;
                tx.audit().record(&event)?;
                Ok(())
            })
            .await?;
        tracing::info!(user_id = %user.id, "user registered");
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::identity::testing::Harness;

    fn input(email: &str, password: &str, username: Option<&str>) -> RegisterInput {
        RegisterInput {
            email: email.into(),
            password: password.into(),
            username: username.map(Into::into),
            display_name: Some("  Zoé ".into()),
        }
    }

    #[tokio::test]
    async fn registers_and_audits() {
        let h = Harness::new();
        let user = h
            .app
            .register(input(
                " Zoe@Example.ORG",
                "correct horse battery",
                Some("Zoe"),
            ))
            .await
            .unwrap();
        assert_eq!(user.email.as_str(), "Zoe@example.org");
        assert_eq!(user.username.as_ref().unwrap().as_str(), "zoe");
        assert_eq!(user.display_name.as_ref().unwrap().as_str(), "Zoé");
        assert_eq!(user.roles(), vec![Role::User]);
        let stored = h.user(user.id).await.unwrap();
        assert_eq!(stored, user);
        assert_eq!(h.audit(user.id).await, vec![AuditAction::UserRegistered]);
    }

    #[tokio::test]
    async fn reports_every_invalid_field_and_writes_nothing() {
        let h = Harness::new();
        let err = h
            .app
            .register(RegisterInput {
                email: "not-an-email".into(),
                password: "short".into(),
                username: Some("x".into()),
                display_name: Some(" ".into()),
            })
            .await
            .unwrap_err();
        let RegisterError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = v.0.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("email", "invalid_email"),
                ("username", "too_short"),
                ("display_name", "required"),
                ("password", "too_short"),
            ]
        );
        assert_eq!(h.hasher_calls(), 0, "nothing hashed for an invalid request");
    }

    #[tokio::test]
    async fn password_may_not_contain_the_username_or_email() {
        let h = Harness::new();
        let err = h
            .app
            .register(input(
                "marcel.proust@example.org",
                "Marcel.Proust-1871",
                Some("swann"),
            ))
            .await
            .unwrap_err();
        let RegisterError::Invalid(v) = err else {
            panic!()
        };
        assert_eq!(v.0[0].code, "contains_email");
        let err = h
            .app
            .register(input("mp@example.org", "i-am-Swann-1913", Some("swann")))
            .await
            .unwrap_err();
        let RegisterError::Invalid(v) = err else {
            panic!()
        };
        assert_eq!(v.0[0].code, "contains_username");
    }

    #[tokio::test]
    async fn duplicates_are_refused() {
        let h = Harness::new();
        h.app
            .register(input("a@example.org", "correct horse battery", Some("ann")))
            .await
            .unwrap();
        let err = h
            .app
            .register(input("A@EXAMPLE.org", "correct horse battery", None))
            .await
            .unwrap_err();
        assert!(matches!(err, RegisterError::EmailTaken), "{err:?}");
        let err = h
            .app
            .register(input("b@example.org", "correct horse battery", Some("ANN")))
            .await
            .unwrap_err();
        assert!(matches!(err, RegisterError::UsernameTaken), "{err:?}");
    }
}
