//! The caller's profile: partial updates, every field checked at the edge
//! ([`ProfileChanges`]); a new time zone moves what runs on the user's clock in every module
//! ([`crate::lifecycle::Lifecycle::time_zone_changed`]).

use accueil_domain::identity::{ProfileChanges, User};
use accueil_ports::identity::UserWriteError;
use accueil_ports::{StoreError, Tx};

use super::{AuthError, Caller, IdentityService};

/// Why an update was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateProfileError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The username is taken.
    #[error("username already taken")]
    UsernameTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserWriteError> for UpdateProfileError {
    fn from(e: UserWriteError) -> Self {
        match e {
            UserWriteError::UsernameTaken => Self::UsernameTaken,
            UserWriteError::Store(e) => Self::Store(e),
            other => Self::Store(StoreError::Internal(other.to_string())),
        }
    }
}

/// The caller's account with how it signs in.
#[derive(Debug, Clone)]
pub struct AccountView {
    /// The account.
    pub user: User,
    /// The providers of its linked identities, sorted, each once (`facebook`, `google`, ...).
    pub providers: Vec<String>,
    /// Whether a password is set (it signs in only while password sign-in is on).
    pub has_password: bool,
}

impl IdentityService {
    /// The caller's account and its sign-in methods, in one read unit of work.
    ///
    /// # Errors
    /// See [`AuthError`].
    pub async fn account(&self, caller: &Caller) -> Result<AccountView, AuthError> {
        self.ports
            .read_as(caller, |cx| -> Result<AccountView, AuthError> {
                Ok(account_view(cx.tx, cx.me.user.clone())?)
            })
            .await
    }

    /// Applies a partial update to the caller's profile and returns the account as
    /// [`Self::account`] shows it.
    ///
    /// # Errors
    /// See [`UpdateProfileError`].
    pub async fn update_profile(
        &self,
        caller: &Caller,
        changes: ProfileChanges,
    ) -> Result<AccountView, UpdateProfileError> {
        let hooks = self.hooks.clone();
        self.ports
            .write_as(
                caller,
                move |cx| -> Result<AccountView, UpdateProfileError> {
                    let mut user = cx
                        .tx
                        .users()
                        .user_for_update(cx.me.user.id)?
                        .ok_or_else(|| StoreError::Internal("user vanished".into()))?;
                    let zone = user.time_zone.clone();
                    changes.apply_to(&mut user, cx.now);
                    cx.tx.users().update_user(&user)?;
                    if user.time_zone != zone {
                        // What runs on the user's clock moves with it, in this unit of work.
                        hooks.time_zone_changed(cx.tx, &user, cx.now)?;
                    }
                    Ok(account_view(cx.tx, user)?)
                },
            )
            .await
    }
}

/// `user` with its sign-in methods, read in the caller's unit of work.
fn account_view(tx: &mut dyn Tx, user: User) -> Result<AccountView, StoreError> {
    let mut providers: Vec<String> = tx
        .oauth()
        .identities_of(user.id)?
        .into_iter()
        .map(|i| i.provider.as_str().to_owned())
        .collect();
    providers.sort();
    providers.dedup();
    Ok(AccountView {
        has_password: user.password_hash.is_some(),
        user,
        providers,
    })
}

#[cfg(test)]
mod tests {
    use accueil_domain::identity::{Bio, DisplayName, Language, TimeZone, Username};
    use accueil_domain::validation::Patch;

    use super::*;
    use crate::testing::Harness;

    #[tokio::test]
    async fn sets_clears_and_keeps() {
        let h = Harness::new();
        h.registered("ann@example.org", Some("ann")).await;
        let who = h.principal("ann@example.org").await;
        let view = h
            .app
            .update_profile(
                &who,
                ProfileChanges {
                    display_name: Patch::Set(DisplayName::parse("Ann Lee").unwrap()),
                    username: Patch::Clear,
                    bio: Patch::Set(Bio::parse("hello").unwrap()),
                    language: Some(Language::Fr),
                    time_zone: Patch::Set(TimeZone::parse("Europe/Paris").unwrap()),
                    email_notifications: Some(false),
                    ..ProfileChanges::default()
                },
            )
            .await
            .unwrap();
        assert!(view.has_password && view.providers.is_empty());
        let user = view.user;
        assert_eq!(user.display_name.unwrap().as_str(), "Ann Lee");
        assert_eq!(user.username, None);
        assert_eq!(user.language, Language::Fr);
        assert_eq!(user.time_zone.unwrap().as_str(), "Europe/Paris");
        assert!(!user.notifications.email && user.notifications.push);
        assert_eq!(user.bio.unwrap().as_str(), "hello");
        assert_eq!(h.user(who.user.id).await.unwrap().language, Language::Fr);
    }

    #[tokio::test]
    async fn a_taken_username_is_refused() {
        let h = Harness::new();
        h.registered("a@example.org", Some("ann")).await;
        h.registered("b@example.org", Some("bob")).await;
        let who = h.principal("b@example.org").await;
        let err = h
            .app
            .update_profile(
                &who,
                ProfileChanges {
                    username: Patch::Set(Username::parse("ANN").unwrap()),
                    ..ProfileChanges::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, UpdateProfileError::UsernameTaken));
    }
}
