//! Operators' actions on accounts: creating or promoting an administrator (`accueil
//! create-admin`), disabling and enabling an account (`accueil disable-user`, `enable-user`).

use accueil_domain::admin::AuditAction;
use accueil_domain::identity::{
    Email, Language, NewUser, Password, PasswordContext, Role, User, UserId,
};
use accueil_domain::validation::ValidationErrors;
use accueil_ports::identity::UserWriteError;
use accueil_ports::system::HashError;
use accueil_ports::{StoreError, StoreExt};

use super::{AdminService, audit_event};

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOutcome {
    /// A new administrator account was created.
    Created(User),
    /// An existing account received the admin role (and its password was replaced when one was
    /// given).
    Promoted(User),
    /// The account was an administrator already (its password was replaced when one was given).
    Unchanged(User),
}

/// Why it failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    /// The e-mail or password is invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No account has this address and no password was given to create one.
    #[error("no account has this e-mail address; a password is needed to create one")]
    PasswordRequired,
    /// Someone registered this address meanwhile; run the command again.
    #[error("the account changed meanwhile; run the command again")]
    Conflict,
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for CreateAdminError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::Store(e) => Self::Store(e),
            _ => Self::Conflict,
        }
    }
}

impl AdminService {
    /// Creates an administrator, or promotes the account that has this e-mail address.
    ///
    /// # Errors
    /// See [`CreateAdminError`].
    pub async fn create_or_promote_admin(
        &self,
        email: Email,
        password: Option<&str>,
    ) -> Result<AdminOutcome, CreateAdminError> {
        let key = email.clone();
        let existing = self
            .ports
            .store
            .read(move |tx| tx.users().user_by_email(&key))
            .await?;
        let password = match (password, &existing) {
            (None, None) => return Err(CreateAdminError::PasswordRequired),
            (None, Some(_)) => None,
            (Some(p), user) => {
                let ctx = PasswordContext {
                    username: user.as_ref().and_then(|u| u.username.as_ref()),
                    email: Some(&email),
                };
                let checked = Password::new(p, ctx)?;
                Some(self.ports.hasher.hash(&checked).await?)
            }
        };
        let now = self.ports.clock.now();
        match existing {
            None => {
                let Some(password_hash) = password else {
                    return Err(CreateAdminError::PasswordRequired);
                };
                let mut user = NewUser {
                    email,
                    username: None,
                    display_name: None,
                    password_hash,
                    role: Role::Admin,
                    language: Language::default(),
                }
                .into_user(UserId(self.ports.ids.new_id()), now);
                // The operator vouches for the address they typed.
                user.email_verified = true;
                let event = audit_event(
                    &self.ports,
                    now,
                    AuditAction::AdminCreated,
                    None,
                    user.id,
                    "cli",
                );
                let stored = user.clone();
                self.ports
                    .store
                    .write(move |tx| -> Result<(), CreateAdminError> {
                        tx.users().insert_user(&stored)?;
                        tx.audit().record(&event)?;
                        Ok(())
                    })
                    .await?;
                Ok(AdminOutcome::Created(user))
            }
            Some(mut user) => {
                let promoted = user.role != Role::Admin;
                let mut events = Vec::new();
                if promoted {
                    user.role = Role::Admin;
                    events.push(audit_event(
                        &self.ports,
                        now,
                        AuditAction::AdminPromoted,
                        None,
                        user.id,
                        "cli",
                    ));
                }
                let new_password = password.is_some();
                if let Some(hash) = password {
                    user.password_hash = Some(hash);
                    events.push(audit_event(
                        &self.ports,
                        now,
                        AuditAction::AdminPasswordReset,
                        None,
                        user.id,
                        "cli",
                    ));
                }
                user.updated_at = now;
                let (uid, role, hash) = (user.id, user.role, user.password_hash.clone());
                self.ports
                    .store
                    .write(move |tx| -> Result<(), CreateAdminError> {
                        // Apply the change to the row as it is now (locked), not to the copy
                        // read before hashing: a concurrent profile edit must not be undone.
                        let mut stored = tx
                            .users()
                            .user_for_update(uid)?
                            .ok_or(CreateAdminError::Conflict)?;
                        stored.role = role;
                        if new_password {
                            stored.password_hash = hash;
                        }
                        stored.updated_at = now;
                        tx.users().update_user(&stored)?;
                        if new_password {
                            // Whoever held the old password loses the sessions it opened.
                            crate::identity::end_user_sessions(
                                tx,
                                stored.id,
                                now,
                                "password_reset",
                            )?;
                        }
                        for e in &events {
                            tx.audit().record(e)?;
                        }
                        Ok(())
                    })
                    .await?;
                Ok(if promoted {
                    AdminOutcome::Promoted(user)
                } else {
                    AdminOutcome::Unchanged(user)
                })
            }
        }
    }
}

/// Why enabling or disabling an account failed.
#[derive(Debug, thiserror::Error)]
pub enum SetActiveError {
    /// The e-mail address is malformed.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No account has this address.
    #[error("no account has this e-mail address")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for SetActiveError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::Store(e) => Self::Store(e),
            _ => Self::NotFound,
        }
    }
}

impl AdminService {
    /// Disables (`active = false`) or enables an account, for operators. Disabling ends every
    /// session at once: the account can no longer log in, refresh, or use an access token.
    ///
    /// # Errors
    /// See [`SetActiveError`].
    pub async fn set_active(&self, email: Email, active: bool) -> Result<User, SetActiveError> {
        let now = self.ports.clock.now();
        let this = self.clone();
        self.ports
            .store
            .write(move |tx| -> Result<User, SetActiveError> {
                let found = tx
                    .users()
                    .user_by_email(&email)?
                    .ok_or(SetActiveError::NotFound)?;
                let mut user = tx
                    .users()
                    .user_for_update(found.id)?
                    .ok_or(SetActiveError::NotFound)?;
                if user.is_deleted() {
                    return Err(SetActiveError::NotFound);
                }
                if user.is_active != active {
                    user.is_active = active;
                    user.updated_at = now;
                    tx.users().update_user(&user)?;
                    let action = if active {
                        AuditAction::UserEnabled
                    } else {
                        AuditAction::UserDisabled
                    };
                    tx.audit().record(&audit_event(
                        &this.ports,
                        now,
                        action,
                        None,
                        user.id,
                        "cli",
                    ))?;
                }
                if !active {
                    crate::identity::end_user_sessions(tx, user.id, now, "account_disabled")?;
                }
                Ok(user)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{Harness, email};

    #[tokio::test]
    async fn disabling_ends_every_session_and_enabling_restores_login() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let pair = h.login("ann@example.org").await;
        let off = h
            .admin()
            .set_active(email("ANN@example.org"), false)
            .await
            .unwrap();
        assert!(!off.is_active);
        assert!(h.app.authenticate(&pair.access_token).await.is_err());
        assert!(h.app.refresh(&pair.refresh_token).await.is_err());
        h.admin()
            .set_active(email("ann@example.org"), true)
            .await
            .unwrap();
        h.login("ann@example.org").await;
        let trail = h.audit(user.id).await;
        assert!(
            trail.contains(&AuditAction::UserDisabled) && trail.contains(&AuditAction::UserEnabled)
        );
        assert!(matches!(
            h.admin()
                .set_active(email("nobody@example.org"), false)
                .await,
            Err(SetActiveError::NotFound)
        ));
    }

    #[tokio::test]
    async fn creates_a_new_admin() {
        let h = Harness::new();
        let out = h
            .admin()
            .create_or_promote_admin(email("root@example.org"), Some("a long admin passphrase"))
            .await
            .unwrap();
        let AdminOutcome::Created(user) = out else {
            panic!("{out:?}")
        };
        assert!(user.has_role(Role::Admin));
        assert_eq!(h.audit(user.id).await, vec![AuditAction::AdminCreated]);
        let pair = h
            .login_with("root@example.org", "a long admin passphrase")
            .await;
        let who = h.app.authenticate(&pair.access_token).await.unwrap();
        assert!(who.has_role(Role::Admin));
    }

    #[tokio::test]
    async fn promotes_an_existing_account_and_keeps_its_password() {
        let h = Harness::new();
        let user = h.registered("ann@example.org", None).await;
        let out = h
            .admin()
            .create_or_promote_admin(email("ANN@example.org"), None)
            .await
            .unwrap();
        assert!(matches!(out, AdminOutcome::Promoted(ref u) if u.id == user.id));
        h.login("ann@example.org").await;
        let again = h
            .admin()
            .create_or_promote_admin(email("ann@example.org"), None)
            .await
            .unwrap();
        assert!(matches!(again, AdminOutcome::Unchanged(_)));
    }

    #[tokio::test]
    async fn a_new_password_revokes_old_sessions() {
        let h = Harness::new();
        h.registered("ann@example.org", None).await;
        let old = h.login("ann@example.org").await;
        h.admin()
            .create_or_promote_admin(email("ann@example.org"), Some("brand new passphrase"))
            .await
            .unwrap();
        assert!(h.app.refresh(&old.refresh_token).await.is_err());
        h.login_with("ann@example.org", "brand new passphrase")
            .await;
    }

    #[tokio::test]
    async fn refuses_without_password_or_with_a_weak_one() {
        let h = Harness::new();
        assert!(matches!(
            h.admin()
                .create_or_promote_admin(email("new@example.org"), None)
                .await,
            Err(CreateAdminError::PasswordRequired)
        ));
        assert!(matches!(
            h.admin()
                .create_or_promote_admin(email("new@example.org"), Some("password"))
                .await,
            Err(CreateAdminError::Invalid(_))
        ));
    }
}
