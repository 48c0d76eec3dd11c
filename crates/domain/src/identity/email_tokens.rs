//! One-time tokens sent by e-mail: address verification, password reset, address change.
//!
//! Only a digest is stored. A token is single use, expires, and a newer token of the same
//! purpose for the same user invalidates the older ones (only the latest link works).

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Email, TokenDigest, UserId};

/// What a token proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// The user controls their account's address.
    VerifyEmail,
    /// The user controls the address and may choose a new password.
    ResetPassword,
    /// The user controls a new address and wants it on their account.
    ChangeEmail,
}

impl TokenPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmail => "change_email",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::VerifyEmail, Self::ResetPassword, Self::ChangeEmail]
            .into_iter()
            .find(|p| p.as_str() == s)
    }

    /// How long a token of this purpose lives.
    pub fn ttl(self) -> Duration {
        match self {
            Self::VerifyEmail | Self::ChangeEmail => Duration::hours(24),
            Self::ResetPassword => Duration::hours(1),
        }
    }
}

/// A stored one-time token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailToken {
    /// Id.
    pub id: Uuid,
    /// Whose.
    pub user_id: UserId,
    /// What for.
    pub purpose: TokenPurpose,
    /// Digest of the secret in the link.
    pub digest: TokenDigest,
    /// For `ChangeEmail`: the address to switch to.
    pub new_email: Option<Email>,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
    /// When it was used (or superseded by a newer token).
    pub used_at: Option<DateTime<Utc>>,
}

/// Why a presented token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    /// Unknown, or issued for another purpose.
    #[error("unknown token")]
    Invalid,
    /// Past its validity.
    #[error("token expired")]
    Expired,
    /// Used already, or superseded by a newer one.
    #[error("token already used")]
    Used,
}

impl EmailToken {
    /// A new token of `purpose`, valid from `now` for the purpose's lifetime.
    pub fn issue(
        id: Uuid,
        user_id: UserId,
        purpose: TokenPurpose,
        digest: TokenDigest,
        new_email: Option<Email>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            user_id,
            purpose,
            digest,
            new_email,
            created_at: now,
            expires_at: now + purpose.ttl(),
            used_at: None,
        }
    }

    /// Whether this token may be used for `purpose` at `now`.
    ///
    /// # Errors
    /// The [`TokenProblem`].
    pub fn check(&self, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<(), TokenProblem> {
        if self.purpose != purpose {
            Err(TokenProblem::Invalid)
        } else if self.used_at.is_some() {
            Err(TokenProblem::Used)
        } else if now >= self.expires_at {
            Err(TokenProblem::Expired)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(purpose: TokenPurpose) -> EmailToken {
        EmailToken::issue(
            Uuid::nil(),
            UserId(Uuid::nil()),
            purpose,
            TokenDigest("d".into()),
            None,
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    #[test]
    fn lifetimes() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let v = token(TokenPurpose::VerifyEmail);
        assert_eq!(
            v.check(TokenPurpose::VerifyEmail, t0 + Duration::hours(23)),
            Ok(())
        );
        assert_eq!(
            v.check(TokenPurpose::VerifyEmail, t0 + Duration::hours(24)),
            Err(TokenProblem::Expired)
        );
        let r = token(TokenPurpose::ResetPassword);
        assert_eq!(
            r.check(TokenPurpose::ResetPassword, t0 + Duration::minutes(59)),
            Ok(())
        );
        assert_eq!(
            r.check(TokenPurpose::ResetPassword, t0 + Duration::minutes(60)),
            Err(TokenProblem::Expired)
        );
    }

    #[test]
    fn single_use_and_purpose_bound() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut v = token(TokenPurpose::VerifyEmail);
        assert_eq!(
            v.check(TokenPurpose::ResetPassword, t0),
            Err(TokenProblem::Invalid)
        );
        v.used_at = Some(t0);
        assert_eq!(
            v.check(TokenPurpose::VerifyEmail, t0),
            Err(TokenProblem::Used)
        );
    }

    #[test]
    fn names_round_trip() {
        for p in [
            TokenPurpose::VerifyEmail,
            TokenPurpose::ResetPassword,
            TokenPurpose::ChangeEmail,
        ] {
            assert_eq!(TokenPurpose::parse(p.as_str()), Some(p));
        }
    }
}
