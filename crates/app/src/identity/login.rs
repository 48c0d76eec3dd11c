//! Password login: starts a session and returns its first token pair.

use accueil_domain::identity::{Email, Password, Session, SessionId, User, Username};
use accueil_ports::system::{AccessTokenError, HashError};
use accueil_ports::{StoreError, StoreExt};

use super::{IdentityService, RateLimited, TokenPair, ip_key};

/// Why login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Password sign-in is off.
    #[error(transparent)]
    PasswordAuthDisabled(#[from] super::PasswordAuthDisabled),
    /// Unknown account or wrong password; the two are indistinguishable on purpose.
    #[error("wrong login or password")]
    InvalidCredentials,
    /// The password was right but the account is disabled.
    #[error("this account is disabled")]
    AccountDisabled,
    /// The password was right but this deployment requires a verified address first.
    #[error(
        "verify your e-mail address first; POST /api/v1/auth/resend-verification sends a new link"
    )]
    EmailNotVerified,
    /// Too many attempts from this address or for this account.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Signing failed.
    #[error(transparent)]
    Token(#[from] AccessTokenError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which account a login string names: an e-mail address when it has an `@`, else a username.
/// A string that is neither names no account (and still costs a hash verification).
enum Lookup {
    Email(Email),
    Username(Username),
    Nothing,
}

impl Lookup {
    fn parse(login: &str) -> Self {
        if login.contains('@') {
            Email::parse(login).map_or(Self::Nothing, Self::Email)
        } else {
            Username::parse(login).map_or(Self::Nothing, Self::Username)
        }
    }
}

impl IdentityService {
    /// Checks credentials and starts a session.
    ///
    /// # Errors
    /// See [`LoginError`].
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<TokenPair, LoginError> {
        self.passwords_on()?;
        let limits = self.settings.limits;
        let account = login.trim().to_lowercase();
        let ip = ip_key(client_ip);
        self.limit(&[
            ("login:ip", ip.as_deref(), limits.login_ip),
            ("login:account", Some(&account), limits.login_account),
        ])?;
        let lookup = Lookup::parse(login);
        let password = Password::unchecked(password);
        let user: Option<User> = self
            .ports
            .store
            .read(move |tx| match lookup {
                Lookup::Email(e) => tx.users().user_by_email(&e),
                Lookup::Username(u) => tx.users().user_by_username(&u),
                Lookup::Nothing => Ok(None),
            })
            .await?;
        // Always one verification, against a dummy hash when there is no account: the answer
        // and its timing are the same for an unknown account and a wrong password.
        let hash = user.as_ref().and_then(|u| u.password_hash.as_ref());
        let verified = match self.ports.hasher.verify(&password, hash).await {
            Ok(ok) => ok,
            // A corrupt stored hash must not lock the account silently nor let anyone in.
            Err(HashError::Malformed) => {
                tracing::error!(user_id = ?user.as_ref().map(|u| u.id), "stored password hash is malformed");
                false
            }
            Err(e) => return Err(e.into()),
        };
        let user = match user {
            Some(u) if verified => u,
            _ => return Err(LoginError::InvalidCredentials),
        };
        if !user.is_active {
            return Err(LoginError::AccountDisabled);
        }
        if self.settings.require_verified_email && !user.email_verified {
            return Err(LoginError::EmailNotVerified);
        }
        // A hash made at another cost (the setting changed) is replaced now that we hold the
        // password, so old accounts are not faster to check than unknown ones.
        let rehashed = match &user.password_hash {
            Some(h) if self.ports.hasher.needs_rehash(h) => {
                Some(self.ports.hasher.hash(&password).await?)
            }
            _ => None,
        };
        let now = self.ports.clock.now();
        let session = Session::start(SessionId(self.ports.ids.new_id()), user.id, now);
        let (secret, token) = self.new_refresh_token(&session, now);
        let session_id = session.id;
        let uid = user.id;
        self.ports
            .store
            .write(move |tx| -> Result<(), StoreError> {
                if let Some(hash) = rehashed
                    && let Some(mut fresh) = tx.users().user_for_update(uid)?
                {
                    fresh.password_hash = Some(hash);
                    tx.users()
                        .update_user(&fresh)
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                }
                tx.sessions().insert_session(&session)?;
                tx.sessions().insert_refresh_token(&token)
            })
            .await?;
        tracing::info!(user_id = %user.id, session_id = %session_id, "login");
        Ok(self.pair(&user, session_id, secret, now)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use accueil_ports::StoreExt;
    use accueil_ports::system::MockPasswordHasher;

    use super::*;
    use crate::testing::Harness;

    #[tokio::test]
    async fn logs_in_by_email_or_username_in_any_case() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", Some("ann")).await;
        for login in ["ann@example.org", " ANN@Example.org ", "ann", "Ann"] {
            let pair = h.app.login(login, Harness::PASSWORD, None).await.unwrap();
            assert_eq!(pair.user_id, user.id, "{login}");
            assert_eq!(pair.expires_in, 900);
            assert!(!pair.refresh_token.is_empty());
        }
    }

    #[tokio::test]
    async fn wrong_password_and_unknown_account_look_the_same() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        for (login, password) in [
            ("ann@example.org", "wrong password!"),
            ("nobody@example.org", Harness::PASSWORD),
            ("not a login", Harness::PASSWORD),
        ] {
            let err = h.app.login(login, password, None).await.unwrap_err();
            assert!(
                matches!(err, LoginError::InvalidCredentials),
                "{login}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_unknown_account_still_costs_one_verification() {
        let h = Harness::new();
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_verify()
            .withf(|_, hash| hash.is_none())
            .times(1)
            .returning(|_, _| Ok(false));
        let app = h.with_hasher(Arc::new(hasher));
        let err = app
            .login("ghost@example.org", "whatever-it-is", None)
            .await
            .unwrap_err();
        assert!(matches!(err, LoginError::InvalidCredentials));
    }

    #[tokio::test]
    async fn a_hash_of_another_cost_is_replaced_at_login() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let mut stored = h.user(user.id).await.unwrap();
        stored.password_hash = Some(accueil_domain::identity::PasswordHash::new("legacy".into()));
        h.store
            .write(move |tx| tx.users().update_user(&stored))
            .await
            .unwrap();
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|_, _| Ok(true));
        hasher
            .expect_needs_rehash()
            .returning(|h| h.as_str() == "legacy");
        hasher
            .expect_hash()
            .times(1)
            .returning(|_| Ok(accueil_domain::identity::PasswordHash::new("fresh".into())));
        let app = h.with_hasher(Arc::new(hasher));
        app.login("ann@example.org", Harness::PASSWORD, None)
            .await
            .unwrap();
        assert_eq!(
            h.user(user.id)
                .await
                .unwrap()
                .password_hash
                .unwrap()
                .as_str(),
            "fresh"
        );
    }

    #[tokio::test]
    async fn a_disabled_account_cannot_log_in() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        h.disable(user.id).await;
        let err = h
            .app
            .login("ann@example.org", Harness::PASSWORD, None)
            .await
            .unwrap_err();
        assert!(matches!(err, LoginError::AccountDisabled));
    }

    #[tokio::test]
    async fn attempts_are_limited_per_account_for_known_and_unknown_alike() {
        use accueil_domain::limits::Rate;
        use chrono::Duration;

        use crate::identity::{IdentitySettings, RateLimits};

        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let two = Rate::new(2, Duration::minutes(1)).unwrap();
        let app = h.with_settings(IdentitySettings {
            limits: RateLimits {
                login_account: two,
                ..RateLimits::default()
            },
            ..IdentitySettings::default()
        });
        for login in ["ann@example.org", "ghost@example.org"] {
            for _ in 0..2 {
                let r = app.login(login, "wrong guess!", None).await;
                assert!(matches!(r, Err(LoginError::InvalidCredentials)), "{login}");
            }
            let r = app
                .login(&login.to_uppercase(), Harness::PASSWORD, None)
                .await;
            let Err(LoginError::RateLimited(limited)) = r else {
                panic!("{login}: {r:?}")
            };
            assert_eq!(limited.retry_after, Duration::seconds(30));
        }
        h.advance(Duration::seconds(30));
        app.login("ann@example.org", Harness::PASSWORD, None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn attempts_are_limited_per_client_address() {
        use accueil_domain::limits::Rate;
        use chrono::Duration;

        use crate::identity::{IdentitySettings, RateLimits};

        let h = Harness::new();
        let app = h.with_settings(IdentitySettings {
            limits: RateLimits {
                login_ip: Rate::new(3, Duration::minutes(1)).unwrap(),
                ..RateLimits::default()
            },
            ..IdentitySettings::default()
        });
        let ip = Some("203.0.113.7".parse().unwrap());
        for n in 0..3 {
            let r = app.login(&format!("user{n}"), &"x".repeat(9), ip).await;
            assert!(matches!(r, Err(LoginError::InvalidCredentials)));
        }
        let r = app.login("user9", &"x".repeat(9), ip).await;
        assert!(matches!(r, Err(LoginError::RateLimited(_))));
        let other = Some("203.0.113.8".parse().unwrap());
        let r = app.login("user9", &"x".repeat(9), other).await;
        assert!(
            matches!(r, Err(LoginError::InvalidCredentials)),
            "another client is not affected"
        );
    }
}
