//! Users and their roles.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Email, PasswordHash, Username};
use crate::validation::{FieldError, has_control_chars};

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
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// Every role the user holds, most basic first.
    pub fn roles(&self) -> Vec<Role> {
        match self.role {
            Role::User => vec![Role::User],
            Role::Admin => vec![Role::User, Role::Admin],
        }
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
            created_at: now,
            updated_at: now,
        }
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
