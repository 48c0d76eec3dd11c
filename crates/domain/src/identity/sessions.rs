//! Sessions and rotating refresh tokens with reuse detection.
//!
//! A session is what one login starts: a family of refresh tokens, each replacing the one
//! before it. A token may be used once. Presenting a token that was already used means that it
//! leaked (the legitimate client always holds the newest one), so the whole family is revoked.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::UserId;

/// A session's id; also the `sid` claim of the access tokens it issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub Uuid);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One login's family of refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// When the login happened.
    pub created_at: DateTime<Utc>,
    /// When the family was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why: `logout`, `logout_all`, `reuse_detected`, `disabled`, ...
    pub revoke_reason: Option<String>,
}

impl Session {
    /// A new, live session.
    pub fn start(id: SessionId, user_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            id,
            user_id,
            created_at: now,
            revoked_at: None,
            revoke_reason: None,
        }
    }

    /// Whether tokens of this family may still be used.
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// How recent a sign-in must be to confirm a sensitive change (address, password, deletion)
/// on an account that has no password to type.
pub const REAUTHENTICATION_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// Whether a session opened (signed in) at `started_at` is recent enough at `now` to confirm
/// a sensitive change instead of a password: at most [`REAUTHENTICATION_WINDOW`] ago.
pub fn signed_in_recently(started_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - started_at <= REAUTHENTICATION_WINDOW
}

/// The stored digest of an opaque token; the token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub String);

/// One refresh token of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Id.
    pub id: Uuid,
    /// The family it belongs to.
    pub session_id: SessionId,
    /// Owner (kept here so a look-up by digest needs no join).
    pub user_id: UserId,
    /// Digest of the opaque token.
    pub digest: TokenDigest,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for a new pair.
    pub used_at: Option<DateTime<Utc>>,
}

/// What presenting a refresh token means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshVerdict {
    /// It may be exchanged for a new pair.
    Usable,
    /// Past its validity.
    Expired,
    /// Already exchanged: a replay, so the family must be revoked.
    Reused,
    /// Its family was revoked (logout, reuse, account disabled).
    SessionRevoked,
}

impl RefreshToken {
    /// Judges a presentation of this token at `now`.
    pub fn verdict(&self, session: &Session, now: DateTime<Utc>) -> RefreshVerdict {
        if !session.is_live() {
            RefreshVerdict::SessionRevoked
        } else if self.used_at.is_some() {
            RefreshVerdict::Reused
        } else if now >= self.expires_at {
            RefreshVerdict::Expired
        } else {
            RefreshVerdict::Usable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(secs)
    }

    #[test]
    fn a_sign_in_confirms_for_ten_minutes() {
        assert!(signed_in_recently(t(0), t(0)));
        assert!(signed_in_recently(t(0), t(600)));
        assert!(!signed_in_recently(t(0), t(601)));
    }

    fn fixture() -> (Session, RefreshToken) {
        let session = Session::start(SessionId(Uuid::nil()), UserId(Uuid::nil()), t(0));
        let token = RefreshToken {
            id: Uuid::nil(),
            session_id: session.id,
            user_id: session.user_id,
            digest: TokenDigest("d".into()),
            issued_at: t(0),
            expires_at: t(100),
            used_at: None,
        };
        (session, token)
    }

    #[test]
    fn fresh_token_is_usable_until_it_expires() {
        let (s, tok) = fixture();
        assert_eq!(tok.verdict(&s, t(99)), RefreshVerdict::Usable);
        assert_eq!(tok.verdict(&s, t(100)), RefreshVerdict::Expired);
    }

    #[test]
    fn a_used_token_is_a_reuse_even_before_expiry() {
        let (s, mut tok) = fixture();
        tok.used_at = Some(t(5));
        assert_eq!(tok.verdict(&s, t(6)), RefreshVerdict::Reused);
        assert_eq!(tok.verdict(&s, t(500)), RefreshVerdict::Reused);
    }

    #[test]
    fn a_revoked_family_wins_over_everything() {
        let (mut s, mut tok) = fixture();
        s.revoked_at = Some(t(3));
        assert_eq!(tok.verdict(&s, t(4)), RefreshVerdict::SessionRevoked);
        tok.used_at = Some(t(2));
        assert_eq!(tok.verdict(&s, t(4)), RefreshVerdict::SessionRevoked);
    }
}
