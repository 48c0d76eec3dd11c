//! Users in SQL: the row, the mapping of unique violations to typed errors, and the purge of
//! deleted accounts.

use crate::one::OneRow;
use accueil_domain::identity::{
    AvatarUrl, Bio, DisplayName, Email, Language, NotificationPrefs, PasswordHash, Role, TimeZone,
    User, UserId, Username,
};
use accueil_ports::StoreError;
use accueil_ports::identity::{UserWriteError, UsersRepo};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::schema::users;
use crate::tx::{DieselTx, constraint, first_for_update, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub(super) struct UserRow {
    id: String,
    email: String,
    email_canonical: String,
    username: Option<String>,
    display_name: Option<String>,
    password_hash: Option<String>,
    role: String,
    email_verified: bool,
    is_active: bool,
    language: String,
    time_zone: Option<String>,
    avatar_url: Option<String>,
    bio: Option<String>,
    notify_email: bool,
    notify_push: bool,
    deleted_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            email_canonical: u.email.canonical(),
            username: u.username.as_ref().map(|n| n.as_str().to_owned()),
            display_name: u.display_name.as_ref().map(|n| n.as_str().to_owned()),
            password_hash: u.password_hash.as_ref().map(|h| h.as_str().to_owned()),
            role: u.role.as_str().to_owned(),
            email_verified: u.email_verified,
            is_active: u.is_active,
            language: u.language.as_str().to_owned(),
            time_zone: u.time_zone.as_ref().map(|t| t.as_str().to_owned()),
            avatar_url: u.avatar_url.as_ref().map(|a| a.as_str().to_owned()),
            bio: u.bio.as_ref().map(|b| b.as_str().to_owned()),
            notify_email: u.notifications.email,
            notify_push: u.notifications.push,
            deleted_at: u.deleted_at.map(naive),
            created_at: naive(u.created_at),
            updated_at: naive(u.updated_at),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(uuid(&r.id)?),
            email: Email::from_trusted(r.email),
            username: r.username.map(Username::from_trusted),
            display_name: r.display_name.map(DisplayName::from_trusted),
            password_hash: r.password_hash.map(PasswordHash::new),
            role: Role::parse(&r.role)
                .ok_or_else(|| StoreError::Internal(format!("unknown role {:?}", r.role)))?,
            email_verified: r.email_verified,
            is_active: r.is_active,
            language: Language::parse(&r.language).ok_or_else(|| {
                StoreError::Internal(format!("unknown language {:?}", r.language))
            })?,
            time_zone: r.time_zone.map(TimeZone::from_trusted),
            avatar_url: r.avatar_url.map(AvatarUrl::from_trusted),
            bio: r.bio.map(Bio::from_trusted),
            notifications: NotificationPrefs {
                email: r.notify_email,
                push: r.notify_push,
            },
            deleted_at: r.deleted_at.map(utc),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

/// Which unique rule a user write broke.
fn user_write_error(e: DieselError) -> UserWriteError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &e {
        let which = constraint(&**info);
        if which.contains("email") {
            return UserWriteError::EmailTaken;
        }
        if which.contains("username") {
            return UserWriteError::UsernameTaken;
        }
    }
    UserWriteError::Store(store_error(e))
}

fn one_user(rows: Option<UserRow>) -> Result<Option<User>, StoreError> {
    rows.map(User::try_from).transpose()
}

impl UsersRepo for DieselTx<'_> {
    fn insert_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        diesel::insert_into(users::table)
            .values(UserRow::from(user))
            .execute(self.conn)
            .map_err(user_write_error)?;
        Ok(())
    }

    fn update_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        let row = UserRow::from(user);
        let n = diesel::update(users::table.find(&row.id))
            .set(&row)
            .execute(self.conn)
            .map_err(user_write_error)?;
        if n == 0 {
            return Err(UserWriteError::NotFound);
        }
        Ok(())
    }

    fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = users::table
            .find(id.to_string())
            .select(UserRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        one_user(row)
    }

    fn user_for_update(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = first_for_update!(
            self,
            users::table
                .find(id.to_string())
                .select(UserRow::as_select())
        )
        .map_err(store_error)?;
        one_user(row)
    }

    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        let row = users::table
            .filter(users::email_canonical.eq(email.canonical()))
            .select(UserRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        one_user(row)
    }

    fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        let row = users::table
            .filter(users::username.eq(username.as_str()))
            .select(UserRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        one_user(row)
    }

    fn purge_deleted_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        // Sessions, refresh tokens and e-mail tokens go with their user (ON DELETE CASCADE).
        let n = diesel::delete(
            users::table
                .filter(users::deleted_at.is_not_null())
                .filter(users::deleted_at.lt(naive(cutoff))),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n as u64)
    }
}
