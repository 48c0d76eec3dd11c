//! Users and their roles.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AvatarUrl, Bio, Email, Language, NotificationPrefs, Password, PasswordContext, PasswordHash,
    TimeZone, Username,
};
use crate::validation::{FieldError, Fields, Patch, ValidationErrors, has_control_chars};

/// A user's id (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a user may do beyond their own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Every account.
    User,
    /// Platform administrator; also has every right of `User`.
    Admin,
}

impl Role {
    /// The stable name, stored and sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A name shown to other people: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `display_name`: `required`, `too_long` or `invalid_characters`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                "display_name",
                "required",
                "must not be blank",
            ));
        }
        if s.chars().count() > 100 {
            return Err(FieldError::new(
                "display_name",
                "too_long",
                "at most 100 characters",
            ));
        }
        if has_control_chars(s) {
            return Err(FieldError::new(
                "display_name",
                "invalid_characters",
                "control characters are not allowed",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a value read back from storage.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Normalised e-mail address, unique (case-insensitively).
    pub email: Email,
    /// Optional second login name, unique.
    pub username: Option<Username>,
    /// Optional name shown to others.
    pub display_name: Option<DisplayName>,
    /// Absent for accounts that sign in only through an identity provider.
    pub password_hash: Option<PasswordHash>,
    /// `User` or `Admin` (which implies `User`).
    pub role: Role,
    /// Whether the owner proved control of the address.
    pub email_verified: bool,
    /// A disabled account can neither log in nor refresh, and its tokens stop working.
    pub is_active: bool,
    /// Language of mails and of the interface.
    pub language: Language,
    /// IANA time zone for "today" rules; UTC when unset.
    pub time_zone: Option<TimeZone>,
    /// Picture.
    pub avatar_url: Option<AvatarUrl>,
    /// About me.
    pub bio: Option<Bio>,
    /// Notification preferences.
    pub notifications: NotificationPrefs,
    /// When the account was deleted (soft delete, anonymised); purged after a grace period.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The name to greet the user with: display name, else username, else the e-mail's local
    /// part.
    pub fn greeting_name(&self) -> String {
        self.display_name
            .as_ref()
            .map(|d| d.as_str().to_owned())
            .or_else(|| self.username.as_ref().map(|u| u.as_str().to_owned()))
            .unwrap_or_else(|| self.email.local_part().to_owned())
    }

    /// Every role the user holds, most basic first.
    pub fn roles(&self) -> Vec<Role> {
        match self.role {
            Role::User => vec![Role::User],
            Role::Admin => vec![Role::User, Role::Admin],
        }
    }

    /// Whether the account was deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Takes a sign-in provider's picture as the avatar when the account has none; an avatar
    /// the user set is never replaced. Returns whether the account changed.
    pub fn adopt_provider_picture(
        &mut self,
        picture: Option<&AvatarUrl>,
        now: DateTime<Utc>,
    ) -> bool {
        match picture {
            Some(picture) if self.avatar_url.is_none() => {
                self.avatar_url = Some(picture.clone());
                self.updated_at = now;
                true
            }
            _ => false,
        }
    }

    /// Soft delete: the account can no longer sign in, and nothing that identifies its owner
    /// is kept (address, names, picture, bio, password). The id stays, so the audit log and a
    /// later purge can refer to it.
    pub fn anonymise(&mut self, now: DateTime<Utc>) {
        self.email = Email::from_trusted(format!("deleted-{}@deleted.invalid", self.id));
        self.username = None;
        self.display_name = None;
        self.password_hash = None;
        self.avatar_url = None;
        self.bio = None;
        self.time_zone = None;
        self.email_verified = false;
        self.is_active = false;
        self.deleted_at = Some(now);
        self.updated_at = now;
    }

    /// Whether the user holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

/// What registration knows before the account exists.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Address.
    pub email: Email,
    /// Optional username.
    pub username: Option<Username>,
    /// Optional display name.
    pub display_name: Option<DisplayName>,
    /// Hash of the chosen password.
    pub password_hash: PasswordHash,
    /// Role given at creation.
    pub role: Role,
    /// Language chosen at registration.
    pub language: Language,
}

impl NewUser {
    /// The account as first stored: active, e-mail not yet verified.
    pub fn into_user(self, id: UserId, now: DateTime<Utc>) -> User {
        User {
            id,
            email: self.email,
            username: self.username,
            display_name: self.display_name,
            password_hash: Some(self.password_hash),
            role: self.role,
            email_verified: false,
            is_active: true,
            language: self.language,
            time_zone: None,
            avatar_url: None,
            bio: None,
            notifications: NotificationPrefs::default(),
            deleted_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A registration, checked: every field at once, the password against the policy with the
/// address and username it must not contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The address.
    pub email: Email,
    /// A username, if chosen.
    pub username: Option<Username>,
    /// A display name, if given.
    pub display_name: Option<DisplayName>,
    /// The password (passed the policy).
    pub password: Password,
    /// The language of mails and pages.
    pub language: Language,
}

impl Registration {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem, as each type's `parse` and the password policy say.
    pub fn parse(
        email: &str,
        password: &str,
        username: Option<&str>,
        display_name: Option<&str>,
        language: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let email = Email::parse(email);
        let username = username.map(Username::parse).transpose();
        let ctx = PasswordContext {
            username: username.as_ref().ok().and_then(Option::as_ref),
            email: email.as_ref().ok(),
        };
        let password = Password::new(password, ctx);
        let (email, username, display_name, language, password) = (
            email,
            username,
            display_name.map(DisplayName::parse).transpose(),
            language.map_or(Ok(Language::default()), Language::parse_field),
            password,
        )
            .all()?;
        Ok(Self {
            email,
            username,
            display_name,
            password,
            language,
        })
    }
}

/// What the owner may change about themselves, checked. Roles, verification, ids and times
/// are not here: they cannot be set this way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    /// Display name.
    pub display_name: Patch<DisplayName>,
    /// Username.
    pub username: Patch<Username>,
    /// Avatar URL.
    pub avatar_url: Patch<AvatarUrl>,
    /// Bio.
    pub bio: Patch<Bio>,
    /// Language (cannot be cleared).
    pub language: Option<Language>,
    /// IANA time zone.
    pub time_zone: Patch<TimeZone>,
    /// Notification preferences.
    pub email_notifications: Option<bool>,
    /// Push notifications.
    pub push_notifications: Option<bool>,
}

impl ProfileChanges {
    /// Applies the changes to `user` at `now`.
    pub fn apply_to(self, user: &mut User, now: DateTime<Utc>) {
        self.display_name.apply_to(&mut user.display_name);
        self.username.apply_to(&mut user.username);
        self.avatar_url.apply_to(&mut user.avatar_url);
        self.bio.apply_to(&mut user.bio);
        self.time_zone.apply_to(&mut user.time_zone);
        if let Some(l) = self.language {
            user.language = l;
        }
        if let Some(e) = self.email_notifications {
            user.notifications.email = e;
        }
        if let Some(p) = self.push_notifications {
            user.notifications.push = p;
        }
        user.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        NewUser {
            email: Email::parse("a@b.org").unwrap(),
            username: None,
            display_name: None,
            password_hash: PasswordHash::new("h".into()),
            role,
            language: Language::default(),
        }
        .into_user(UserId(Uuid::nil()), DateTime::<Utc>::UNIX_EPOCH)
    }

    #[test]
    fn admin_implies_user() {
        assert_eq!(user(Role::Admin).roles(), vec![Role::User, Role::Admin]);
        assert!(user(Role::Admin).has_role(Role::User));
        assert!(!user(Role::User).has_role(Role::Admin));
    }

    #[test]
    fn new_accounts_are_active_and_unverified() {
        let u = user(Role::User);
        assert!(u.is_active);
        assert!(!u.email_verified);
    }

    #[test]
    fn anonymising_keeps_nothing_personal() {
        let mut u = user(Role::User);
        u.username = Some(Username::parse("zoe").unwrap());
        u.display_name = Some(DisplayName::parse("Zoé").unwrap());
        u.bio = Some(Bio::parse("hello").unwrap());
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(1);
        u.anonymise(now);
        assert!(u.is_deleted() && !u.is_active);
        assert!(u.email.as_str().ends_with("@deleted.invalid"));
        assert!(
            u.email.as_str().contains(&u.id.to_string()),
            "unique per account"
        );
        assert_eq!(
            (u.username, u.display_name, u.bio, u.password_hash),
            (None, None, None, None)
        );
        assert_eq!(u.deleted_at, Some(now));
    }

    #[test]
    fn role_names_round_trip() {
        for r in [Role::User, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Zoé ").unwrap().as_str(), "Zoé");
        assert_eq!(DisplayName::parse("  ").unwrap_err().code, "required");
        assert_eq!(
            DisplayName::parse(&"x".repeat(101)).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            DisplayName::parse("a\u{1b}[2J").unwrap_err().code,
            "invalid_characters"
        );
    }
}
