//! Builders for the contract checks' fixtures: a check says what matters to it
//! (`new_user("a@x").username("ann")`, `new_couple("a@x").partner("b@x")`) and gets valid defaults
//! for the rest, with non-ASCII text so every backend's encoding is exercised.

use std::sync::Arc;

use accueil_domain::couples::{Couple, CoupleId};
use accueil_domain::identity::{
    DisplayName, Email, Language, NewUser, PasswordHash, Role, Session, SessionId, User, UserId,
    Username,
};
use accueil_domain::memories::{Memory, MemoryDescription, MemoryId, MemoryTitle};
use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use uuid::Uuid;

use crate::identity::UserWriteError;
use crate::{Store, StoreExt};

/// The store under test.
pub type Shared = Arc<dyn Store>;

/// A fixed instant with microsecond precision, which every backend stores exactly.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap() + Duration::microseconds(123_456)
}

/// A user to be built or inserted.
#[derive(Debug, Clone)]
pub struct UserBuilder {
    email: String,
    username: Option<String>,
}

/// A user with this address, a display name and a password hash.
pub fn new_user(email: &str) -> UserBuilder {
    UserBuilder {
        email: email.to_owned(),
        username: None,
    }
}

impl UserBuilder {
    /// With a username.
    #[must_use]
    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.to_owned());
        self
    }

    /// The user, not stored.
    pub fn build(self) -> User {
        NewUser {
            email: Email::parse(&self.email).unwrap(),
            username: self.username.map(|u| Username::parse(&u).unwrap()),
            display_name: Some(DisplayName::parse("Zoé Ünïcode").unwrap()),
            password_hash: PasswordHash::new(
                "$2b$04$abcdefghijklmnopqrstuuN3S7QxJ6wXQ0pRpQ3f3s2M7m6o0a0y2".into(),
            ),
            role: Role::User,
            language: Language::Fr,
        }
        .into_user(UserId(Uuid::now_v7()), t0())
    }

    /// The user, stored.
    pub async fn insert(self, store: &Shared) -> User {
        let user = self.build();
        insert_user(store, user.clone()).await.unwrap();
        user
    }
}

/// Inserts a user in its own unit of work.
pub async fn insert_user(store: &Shared, user: User) -> Result<(), UserWriteError> {
    store.write(move |tx| tx.users().insert_user(&user)).await
}

/// A user as stored now.
pub async fn by_id(store: &Shared, id: UserId) -> Option<User> {
    store
        .read(move |tx| tx.users().user_by_id(id))
        .await
        .unwrap()
}

/// A stored user with a live session started at [`t0`].
pub async fn user_with_session(store: &Shared, email: &str) -> (User, Session) {
    let user = new_user(email).insert(store).await;
    let session = Session::start(SessionId(Uuid::now_v7()), user.id, t0());
    let s = session.clone();
    store
        .write(move |tx| tx.sessions().insert_session(&s))
        .await
        .unwrap();
    (user, session)
}

/// A couple to be inserted: partner A, and partner B when given.
#[derive(Debug, Clone)]
pub struct CoupleBuilder {
    a: String,
    b: Option<String>,
}

/// A couple created by a new user with this address.
pub fn new_couple(a: &str) -> CoupleBuilder {
    CoupleBuilder {
        a: a.to_owned(),
        b: None,
    }
}

impl CoupleBuilder {
    /// With a second partner, a new user with this address, paired at [`t0`].
    #[must_use]
    pub fn partner(mut self, b: &str) -> Self {
        self.b = Some(b.to_owned());
        self
    }

    /// Stores both users and the couple; returns them.
    pub async fn insert(self, store: &Shared) -> (Couple, User, Option<User>) {
        let a = new_user(&self.a).insert(store).await;
        let b = match &self.b {
            Some(b) => Some(new_user(b).insert(store).await),
            None => None,
        };
        let mut couple = Couple::create(CoupleId(Uuid::now_v7()), a.id, t0());
        if let Some(b) = &b {
            couple.partner_b = Some(b.id);
            couple.paired_at = Some(t0());
        }
        let c = couple.clone();
        store
            .write(move |tx| tx.pairing().insert_couple(&c))
            .await
            .unwrap();
        (couple, a, b)
    }
}

/// A memory to be built.
#[derive(Debug, Clone)]
pub struct MemoryBuilder {
    couple: CoupleId,
    by: UserId,
    title: String,
    day: Option<NaiveDate>,
    n: u64,
}

/// A memory of `couple` recorded by `by`, titled "Souvenir", undated, number 0.
pub fn new_memory(couple: CoupleId, by: UserId) -> MemoryBuilder {
    MemoryBuilder {
        couple,
        by,
        title: "Souvenir".into(),
        day: None,
        n: 0,
    }
}

impl MemoryBuilder {
    /// With this title.
    #[must_use]
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_owned();
        self
    }

    /// Dated (the day it happened).
    #[must_use]
    pub fn on(mut self, y: i32, m: u32, d: u32) -> Self {
        self.day = NaiveDate::from_ymd_opt(y, m, d);
        self
    }

    /// The `n`th memory: recorded `n` seconds after [`t0`], with an id that grows with `n`
    /// as UUIDv7 ids grow with time.
    #[must_use]
    pub fn nth(mut self, n: u64) -> Self {
        self.n = n;
        self
    }

    /// The memory, not stored.
    pub fn build(self) -> Memory {
        let at = t0() + Duration::seconds(i64::try_from(self.n).unwrap());
        Memory {
            id: MemoryId(Uuid::from_u128(
                0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(self.n),
            )),
            couple_id: self.couple,
            title: MemoryTitle::parse(&self.title).unwrap(),
            description: Some(MemoryDescription::parse("Une journée 100% réussie").unwrap()),
            happened_on: self.day,
            recorded_on: at.date_naive(),
            photo: None,
            created_by: self.by,
            created_at: at,
            updated_at: at,
        }
    }
}
