//! Share links: a token that makes a read-only view of part of a couple's site public, until it
//! expires or a partner revokes it. Without a live share, nothing of a couple is public.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::MemoryId;
use crate::couples::CoupleId;
use crate::identity::UserId;
use crate::validation::{FieldError, Fields, ValidationErrors};

/// A share's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShareId(pub Uuid);

/// The most memories a share may list one by one.
pub const MAX_SHARED_MEMORIES: usize = 500;

/// Which memories a share shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareScope {
    /// Every memory of the couple, including those added later.
    All,
    /// Only these (sorted, without duplicates). A memory deleted later drops out.
    Only(Vec<MemoryId>),
}

impl ShareScope {
    /// Validates a requested list: `None` shares all memories.
    ///
    /// # Errors
    /// A [`FieldError`] on `memory_ids` when it is empty or longer than
    /// [`MAX_SHARED_MEMORIES`].
    pub fn parse(ids: Option<Vec<Uuid>>) -> Result<Self, FieldError> {
        let Some(ids) = ids else {
            return Ok(Self::All);
        };
        if ids.is_empty() {
            return Err(FieldError::new(
                "memory_ids",
                "required",
                "list at least one memory, or leave it out to share all",
            ));
        }
        let mut ids: Vec<MemoryId> = ids.into_iter().map(MemoryId).collect();
        ids.sort();
        ids.dedup();
        if ids.len() > MAX_SHARED_MEMORIES {
            return Err(FieldError::new(
                "memory_ids",
                "too_long",
                format!("at most {MAX_SHARED_MEMORIES} memories"),
            ));
        }
        Ok(Self::Only(ids))
    }

    /// Whether it shows this memory.
    pub fn includes(&self, id: MemoryId) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.binary_search(&id).is_ok(),
        }
    }
}

/// Where a share stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareState {
    /// Its link works.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked by a partner.
    Revoked,
}

impl ShareState {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// A share link. The token itself is shown once, at creation; only its digest is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Its id.
    pub id: ShareId,
    /// Whose site.
    pub couple_id: CoupleId,
    /// The token's digest.
    pub token_digest: String,
    /// What it shows.
    pub scope: ShareScope,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When a partner revoked it.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who made it.
    pub created_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl Share {
    /// Its state at `now`; a revoked share stays revoked even once its expiry passes.
    pub fn state(&self, now: DateTime<Utc>) -> ShareState {
        if self.revoked_at.is_some() {
            ShareState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            ShareState::Expired
        } else {
            ShareState::Active
        }
    }
}

/// Checks a requested expiry.
///
/// # Errors
/// A [`FieldError`] on `expires_at` when it is not in the future.
pub fn share_expiry(
    requested: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    match requested {
        Some(at) if at <= now => Err(FieldError::new(
            "expires_at",
            "in_past",
            "must be in the future",
        )),
        other => Ok(other),
    }
}

/// A share link to make, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShare {
    /// When it stops working; `None`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// What it shows.
    pub scope: ShareScope,
}

impl NewShare {
    /// Checks every field; an expiry must be after `now`.
    ///
    /// # Errors
    /// `expires_at` `in_past`; `memory_ids` as [`ShareScope::parse`] says.
    pub fn parse(
        expires_at: Option<DateTime<Utc>>,
        memory_ids: Option<Vec<Uuid>>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let (expires_at, scope) =
            (share_expiry(expires_at, now), ShareScope::parse(memory_ids)).all()?;
        Ok(Self { expires_at, scope })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn scope_lists_are_sorted_deduplicated_and_bounded() {
        assert_eq!(ShareScope::parse(None).unwrap(), ShareScope::All);
        assert!(ShareScope::parse(Some(vec![])).is_err());
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let s = ShareScope::parse(Some(vec![b, a, b])).unwrap();
        assert_eq!(s, ShareScope::Only(vec![MemoryId(a), MemoryId(b)]));
        assert!(s.includes(MemoryId(a)));
        assert!(!s.includes(MemoryId(Uuid::from_u128(3))));
        let many = (0..=MAX_SHARED_MEMORIES as u128)
            .map(Uuid::from_u128)
            .collect();
        assert!(ShareScope::parse(Some(many)).is_err());
    }

    #[test]
    fn a_share_expires_and_is_revoked() {
        let now = Utc::now();
        let mut s = Share {
            id: ShareId(Uuid::nil()),
            couple_id: CoupleId(Uuid::nil()),
            token_digest: String::new(),
            scope: ShareScope::All,
            expires_at: Some(now + Duration::hours(1)),
            revoked_at: None,
            created_by: UserId(Uuid::nil()),
            created_at: now,
        };
        assert_eq!(s.state(now), ShareState::Active);
        assert_eq!(s.state(now + Duration::hours(1)), ShareState::Expired);
        s.revoked_at = Some(now);
        assert_eq!(s.state(now), ShareState::Revoked);
        assert!(share_expiry(Some(now), now).is_err());
        assert_eq!(share_expiry(None, now).unwrap(), None);
    }
}
