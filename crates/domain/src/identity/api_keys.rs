//! API keys: long-lived credentials a user makes for scripts and integrations (the seed's
//! `X-API-KEY`, done right). A key acts as its user within its scope; it is shown once and
//! stored as a digest; it can expire and be revoked.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{TokenDigest, UserId};
use crate::validation::{FieldError, Fields, ValidationErrors, bounded_text};

/// What every key starts with, so leaked keys are recognisable (secret scanners, logs).
pub const API_KEY_PREFIX: &str = "acc_";

/// How many live keys a user may have.
pub const MAX_API_KEYS: usize = 20;

/// A key's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKeyId(pub Uuid);

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyScope {
    /// Safe requests only (`GET`, `HEAD`): anything that would change data is refused.
    Read,
    /// Everything its user may do, except managing credentials (password, address, keys,
    /// sessions, deleting the account), which needs a signed-in session.
    ReadWrite,
}

impl ApiKeyScope {
    /// Its name in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }

    /// Parses a name.
    ///
    /// # Errors
    /// A [`FieldError`] on `scope`.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "read" => Ok(Self::Read),
            "read_write" => Ok(Self::ReadWrite),
            _ => Err(FieldError::new(
                "scope",
                "invalid_scope",
                "read or read_write",
            )),
        }
    }

    /// Whether it allows changing data.
    pub fn allows_writes(self) -> bool {
        matches!(self, Self::ReadWrite)
    }
}

/// A key's label: 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyName(String);

impl ApiKeyName {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `name`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("name", raw, 100).map(Self)
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// An API key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// Whose.
    pub user_id: UserId,
    /// Its label.
    pub name: ApiKeyName,
    /// The key's first characters, to tell keys apart in lists (not enough to use it).
    pub hint: String,
    /// The key's digest.
    pub digest: TokenDigest,
    /// What it may do.
    pub scope: ApiKeyScope,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When its user revoked it.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the hour).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Where a key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyState {
    /// It works.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked by its user (or with the account).
    Revoked,
}

impl ApiKeyState {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

impl ApiKey {
    /// Its state at `now`; a revoked key stays revoked once its expiry passes.
    pub fn state(&self, now: DateTime<Utc>) -> ApiKeyState {
        if self.revoked_at.is_some() {
            ApiKeyState::Revoked
        } else if self.is_live(now) {
            ApiKeyState::Active
        } else {
            ApiKeyState::Expired
        }
    }

    /// Whether it authenticates at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }

    /// Whether its last use should be recorded now: at most once an hour, so that reading
    /// with a key does not become a write per request.
    pub fn use_is_news(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at
            .is_none_or(|at| now - at >= chrono::Duration::hours(1))
    }
}

/// A key to make, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Its label.
    pub name: ApiKeyName,
    /// What it may do.
    pub scope: ApiKeyScope,
    /// When it stops working; `None`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewApiKey {
    /// Checks every field; an expiry must be after `now`.
    ///
    /// # Errors
    /// `name` and `scope` as their types say; `expires_at` `in_past`.
    pub fn parse(
        name: &str,
        scope: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let expiry = match expires_at {
            Some(at) if at <= now => Err(FieldError::new(
                "expires_at",
                "in_past",
                "must be in the future",
            )),
            other => Ok(other),
        };
        let (name, scope, expires_at) =
            (ApiKeyName::parse(name), ApiKeyScope::parse(scope), expiry).all()?;
        Ok(Self {
            name,
            scope,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn key(now: DateTime<Utc>) -> ApiKey {
        ApiKey {
            id: ApiKeyId(Uuid::nil()),
            user_id: UserId(Uuid::nil()),
            name: ApiKeyName::parse("backup script").unwrap(),
            hint: "acc_AbCd".into(),
            digest: TokenDigest("d".into()),
            scope: ApiKeyScope::Read,
            expires_at: Some(now + Duration::days(1)),
            revoked_at: None,
            last_used_at: None,
            created_at: now,
        }
    }

    #[test]
    fn a_key_lives_until_it_expires_or_is_revoked() {
        let now = Utc::now();
        let mut k = key(now);
        assert!(k.is_live(now));
        assert!(!k.is_live(now + Duration::days(1)));
        k.expires_at = None;
        assert!(k.is_live(now + Duration::days(999)));
        k.revoked_at = Some(now);
        assert!(!k.is_live(now));
    }

    #[test]
    fn use_is_recorded_hourly() {
        let now = Utc::now();
        let mut k = key(now);
        assert!(k.use_is_news(now));
        k.last_used_at = Some(now);
        assert!(!k.use_is_news(now + Duration::minutes(59)));
        assert!(k.use_is_news(now + Duration::minutes(60)));
    }

    #[test]
    fn scopes_and_names_are_checked() {
        assert_eq!(ApiKeyScope::parse("read").unwrap(), ApiKeyScope::Read);
        assert!(ApiKeyScope::parse("read_write").unwrap().allows_writes());
        assert!(!ApiKeyScope::Read.allows_writes());
        assert!(ApiKeyScope::parse("admin").is_err());
        assert!(ApiKeyName::parse(" ").is_err());
        assert!(ApiKeyName::parse(&"k".repeat(101)).is_err());
    }
}
