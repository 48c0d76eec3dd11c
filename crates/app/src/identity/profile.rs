//! The caller's profile: partial updates with every field validated.

use accueil_domain::identity::{AvatarUrl, Bio, DisplayName, Language, TimeZone, User, Username};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::identity::UserWriteError;
use accueil_ports::{StoreError, StoreExt};

use super::{IdentityService, Principal};

/// One field of a partial update: absent (keep), `null` (clear) or a value (set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Leave as it is.
    #[default]
    Keep,
    /// Remove the value.
    Clear,
    /// Set this value.
    Set(T),
}

/// Notification preference changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationsPatch {
    /// Product e-mails.
    pub email: Option<bool>,
    /// Push notifications.
    pub push: Option<bool>,
}

/// What the owner may change about themselves. Roles, verification, ids and times are not
/// here: they cannot be set this way.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    /// Display name.
    pub display_name: Patch<String>,
    /// Username.
    pub username: Patch<String>,
    /// Avatar URL.
    pub avatar_url: Patch<String>,
    /// Bio.
    pub bio: Patch<String>,
    /// Language (cannot be cleared).
    pub language: Option<String>,
    /// IANA time zone.
    pub time_zone: Patch<String>,
    /// Notification preferences.
    pub notifications: Option<NotificationsPatch>,
}

/// Why an update was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateProfileError {
    /// Invalid fields; nothing changed.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
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

impl<T> Patch<T> {
    /// Applies the patch to an optional field.
    pub fn apply_to(self, target: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *target = None,
            Patch::Set(v) => *target = Some(v),
        }
    }

    /// Validates a `Set` value with `parse`; a failure is pushed to `errors` and the field is
    /// kept, so every invalid field is reported at once.
    pub fn parse<U>(
        &self,
        parse: impl Fn(&T) -> Result<U, FieldError>,
        errors: &mut Vec<FieldError>,
    ) -> Patch<U> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => parse(v).map_or_else(
                |e| {
                    errors.push(e);
                    Patch::Keep
                },
                Patch::Set,
            ),
        }
    }
}

impl IdentityService {
    /// Applies a partial update to the caller's profile and returns the account.
    ///
    /// # Errors
    /// See [`UpdateProfileError`].
    pub async fn update_profile(
        &self,
        who: &Principal,
        patch: ProfilePatch,
    ) -> Result<User, UpdateProfileError> {
        let mut errors = Vec::new();
        let display_name = patch
            .display_name
            .parse(|v| DisplayName::parse(v), &mut errors);
        let username = patch.username.parse(|v| Username::parse(v), &mut errors);
        let avatar_url = patch.avatar_url.parse(|v| AvatarUrl::parse(v), &mut errors);
        let bio = patch.bio.parse(|v| Bio::parse(v), &mut errors);
        let time_zone = patch.time_zone.parse(|v| TimeZone::parse(v), &mut errors);
        let language = patch
            .language
            .as_deref()
            .and_then(|l| Language::parse_field(l).map_err(|e| errors.push(e)).ok());
        ValidationErrors::collect(errors)?;
        let now = self.ports.clock.now();
        let uid = who.user.id;
        let notifications = patch.notifications;
        self.ports
            .store
            .write(move |tx| -> Result<User, UpdateProfileError> {
                let mut user = tx
                    .users()
                    .user_by_id(uid)?
                    .ok_or_else(|| StoreError::Internal("user vanished".into()))?;
                display_name.apply_to(&mut user.display_name);
                username.apply_to(&mut user.username);
                avatar_url.apply_to(&mut user.avatar_url);
                bio.apply_to(&mut user.bio);
                time_zone.apply_to(&mut user.time_zone);
                if let Some(l) = language {
                    user.language = l;
                }
                if let Some(n) = notifications {
                    user.notifications.email = n.email.unwrap_or(user.notifications.email);
                    user.notifications.push = n.push.unwrap_or(user.notifications.push);
                }
                user.updated_at = now;
                tx.users().update_user(&user)?;
                Ok(user)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::testing::Harness;

    #[tokio::test]
    async fn sets_clears_and_keeps() {
        let h = Harness::new();
        h.registered("ann@example.org", Some("ann")).await;
        let who = h.principal("ann@example.org").await;
        let user = h
            .app
            .update_profile(
                &who,
                ProfilePatch {
                    display_name: Patch::Set("Ann Lee".into()),
                    username: Patch::Clear,
                    bio: Patch::Set("hello".into()),
                    language: Some("fr".into()),
                    time_zone: Patch::Set("Europe/Paris".into()),
                    notifications: Some(NotificationsPatch {
                        email: Some(false),
                        push: None,
                    }),
                    ..ProfilePatch::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(user.display_name.unwrap().as_str(), "Ann Lee");
        assert_eq!(user.username, None);
        assert_eq!(user.language, Language::Fr);
        assert_eq!(user.time_zone.unwrap().as_str(), "Europe/Paris");
        assert!(!user.notifications.email && user.notifications.push);
        assert_eq!(user.bio.unwrap().as_str(), "hello");
    }

    #[tokio::test]
    async fn invalid_fields_change_nothing() {
        let h = Harness::new();
        let before = h.registered("ann@example.org", Some("ann")).await;
        let who = h.principal("ann@example.org").await;
        let err = h
            .app
            .update_profile(
                &who,
                ProfilePatch {
                    display_name: Patch::Set("Fine".into()),
                    time_zone: Patch::Set("Mars/Olympus".into()),
                    avatar_url: Patch::Set("javascript:alert(1)".into()),
                    ..ProfilePatch::default()
                },
            )
            .await
            .unwrap_err();
        let UpdateProfileError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        let codes: Vec<_> = v.0.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(
            codes,
            vec![
                ("avatar_url", "invalid_url"),
                ("time_zone", "unknown_time_zone")
            ]
        );
        assert_eq!(
            h.user(before.id).await.unwrap().display_name,
            before.display_name
        );
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
                ProfilePatch {
                    username: Patch::Set("ANN".into()),
                    ..ProfilePatch::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, UpdateProfileError::UsernameTaken));
    }
}
