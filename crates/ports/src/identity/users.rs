//! Users: accounts, their profile and roles, and the purge of deleted accounts.

use accueil_domain::identity::{Email, User, UserId, Username};
use chrono::{DateTime, Utc};

use crate::StoreError;

/// Why a user row could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserWriteError {
    /// Another user has this e-mail address (compared case-insensitively).
    #[error("e-mail address already registered")]
    EmailTaken,
    /// Another user has this username.
    #[error("username already taken")]
    UsernameTaken,
    /// No user has this id (updates only).
    #[error("no such user")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Users, inside one transaction.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait UsersRepo: Send {
    /// Inserts a new user.
    ///
    /// # Errors
    /// `UserWriteError::EmailTaken` when another user's e-mail equals this one ignoring case;
    /// `UserWriteError::UsernameTaken` when the username is taken; `UserWriteError::Store`
    /// otherwise. Nothing is written on error.
    fn insert_user(&mut self, user: &User) -> Result<(), UserWriteError>;

    /// Replaces every stored field of an existing user (matched by id).
    ///
    /// # Errors
    /// `UserWriteError::NotFound` when no user has this id; `EmailTaken` / `UsernameTaken` as
    /// for [`UsersRepo::insert_user`]; `UserWriteError::Store` otherwise.
    fn update_user(&mut self, user: &User) -> Result<(), UserWriteError>;

    /// The user with this id.
    ///
    /// # Errors
    /// `StoreError::Internal` when the row cannot be read back into a valid user.
    fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The user with this id, locked until commit in a write unit (read as it is in a read
    /// unit), so a read-modify-write of the account cannot lose a concurrent one.
    ///
    /// # Errors
    /// `StoreError::Internal` as for [`UsersRepo::user_by_id`].
    fn user_for_update(&mut self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The user whose e-mail equals `email` ignoring case.
    ///
    /// # Errors
    /// `StoreError::Internal` as for [`UsersRepo::user_by_id`].
    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError>;

    /// The user with this username.
    ///
    /// # Errors
    /// `StoreError::Internal` as for [`UsersRepo::user_by_id`].
    fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError>;

    /// Deletes the accounts soft-deleted before `cutoff`, with their sessions and tokens (the
    /// audit log keeps their ids). Returns how many.
    ///
    /// # Errors
    /// `StoreError::Internal` on failure.
    fn purge_deleted_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
