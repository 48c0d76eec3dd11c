//! A couple and the invites that pair it.
//!
//! A couple starts with partner A; partner B joins with a 6-digit code. A code is single use,
//! expires (60 minutes by default, 1 minute to 7 days on request), and a new invite revokes
//! the previous one. Leaving dissolves the couple for both partners: its content stays
//! available read-only through the couple export for [`SHARED_CONTENT_RETENTION`], then is
//! purged.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::identity::UserId;
use crate::validation::FieldError;

/// A couple's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CoupleId(pub Uuid);

impl fmt::Display for CoupleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Who created the couple.
    A,
    /// Who joined it.
    B,
}

/// How long a dissolved couple's content stays available to its former partners.
pub const SHARED_CONTENT_RETENTION: Duration = Duration::days(30);

/// A couple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Couple {
    /// Id.
    pub id: CoupleId,
    /// Partner A (creator).
    pub partner_a: UserId,
    /// Partner B, once joined.
    pub partner_b: Option<UserId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When partner B joined.
    pub paired_at: Option<DateTime<Utc>>,
    /// When a partner left; the couple is then read-only and purged later.
    pub dissolved_at: Option<DateTime<Utc>>,
    /// What the couple says about itself.
    pub profile: super::CoupleProfile,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Couple {
    /// A new couple with its creator as partner A.
    pub fn create(id: CoupleId, creator: UserId, now: DateTime<Utc>) -> Self {
        Self {
            id,
            partner_a: creator,
            partner_b: None,
            created_at: now,
            paired_at: None,
            dissolved_at: None,
            profile: super::CoupleProfile::default(),
            updated_at: now,
        }
    }

    /// Which side `user` is on, if a partner.
    pub fn side_of(&self, user: UserId) -> Option<Side> {
        if self.partner_a == user {
            Some(Side::A)
        } else if self.partner_b == Some(user) {
            Some(Side::B)
        } else {
            None
        }
    }

    /// The other partner of `user`.
    pub fn partner_of(&self, user: UserId) -> Option<UserId> {
        match self.side_of(user)? {
            Side::A => self.partner_b,
            Side::B => Some(self.partner_a),
        }
    }

    /// Whether the couple is still together.
    pub fn is_active(&self) -> bool {
        self.dissolved_at.is_none()
    }

    /// Whether both partners are there.
    pub fn is_full(&self) -> bool {
        self.partner_b.is_some()
    }

    /// When a dissolved couple's content is purged.
    pub fn purge_after(&self) -> Option<DateTime<Utc>> {
        self.dissolved_at.map(|d| d + SHARED_CONTENT_RETENTION)
    }
}

/// Invite lifetime: 1 minute to 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteTtl(Duration);

/// The default invite lifetime.
pub const DEFAULT_INVITE_TTL: Duration = Duration::minutes(60);

impl InviteTtl {
    /// Validates a requested lifetime in minutes (`None`: the default).
    ///
    /// # Errors
    /// A [`FieldError`] on `ttl_minutes` with code `out_of_range`.
    pub fn minutes(requested: Option<i64>) -> Result<Self, FieldError> {
        match requested {
            None => Ok(Self(DEFAULT_INVITE_TTL)),
            Some(m) if (1..=7 * 24 * 60).contains(&m) => Ok(Self(Duration::minutes(m))),
            Some(_) => Err(FieldError::new(
                "ttl_minutes",
                "out_of_range",
                "1 to 10080 minutes (7 days)",
            )),
        }
    }

    /// The lifetime.
    pub fn duration(self) -> Duration {
        self.0
    }
}

/// An invite code of a couple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// Id.
    pub id: Uuid,
    /// The couple it pairs.
    pub couple_id: CoupleId,
    /// Six digits from a CSPRNG.
    pub code: String,
    /// Who made it.
    pub created_by: UserId,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
    /// When it was used.
    pub used_at: Option<DateTime<Utc>>,
    /// When a newer invite replaced it (or the couple paired or dissolved).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Why an invite cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteProblem {
    /// No such code, or revoked.
    #[error("invalid invite code")]
    Invalid,
    /// Past its validity.
    #[error("invite code expired")]
    Expired,
    /// Used already.
    #[error("invite code already used")]
    Used,
}

/// Why joining failed (beyond the code itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinProblem {
    /// The code.
    #[error(transparent)]
    Invite(#[from] InviteProblem),
    /// The caller is in a couple already.
    #[error("already in a couple")]
    AlreadyInCouple,
    /// The couple has both partners.
    #[error("couple full")]
    CoupleFull,
}

impl Invite {
    /// Whether the code is a syntactically possible invite code.
    pub fn is_code(s: &str) -> bool {
        s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
    }

    /// Judges a use at `now`.
    ///
    /// # Errors
    /// The [`InviteProblem`].
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), InviteProblem> {
        if self.used_at.is_some() {
            Err(InviteProblem::Used)
        } else if self.revoked_at.is_some() {
            Err(InviteProblem::Invalid)
        } else if now >= self.expires_at {
            Err(InviteProblem::Expired)
        } else {
            Ok(())
        }
    }

    /// Whether the invite can still be used at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.check(now).is_ok()
    }
}

/// The rules of joining `couple` with `invite` for `joiner`, who is in `current` (if any).
///
/// # Errors
/// The [`JoinProblem`], in this order: the code, the joiner, the couple.
pub fn can_join(
    invite: &Invite,
    couple: &Couple,
    joiner: UserId,
    joiner_in_couple: bool,
    now: DateTime<Utc>,
) -> Result<(), JoinProblem> {
    invite.check(now)?;
    if !couple.is_active() {
        return Err(InviteProblem::Invalid.into());
    }
    if joiner_in_couple || couple.side_of(joiner).is_some() {
        return Err(JoinProblem::AlreadyInCouple);
    }
    if couple.is_full() {
        return Err(JoinProblem::CoupleFull);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    fn uid(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn invite(ttl: InviteTtl) -> Invite {
        Invite {
            id: Uuid::nil(),
            couple_id: CoupleId(Uuid::nil()),
            code: "123456".into(),
            created_by: uid(1),
            created_at: t(0),
            expires_at: t(0) + ttl.duration(),
            used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn invites_expire_after_their_lifetime() {
        let i = invite(InviteTtl::minutes(None).unwrap());
        assert_eq!(i.check(t(59)), Ok(()));
        assert_eq!(i.check(t(60)), Err(InviteProblem::Expired));
        let week = invite(InviteTtl::minutes(Some(7 * 24 * 60)).unwrap());
        assert!(week.is_live(t(7 * 24 * 60 - 1)));
        assert_eq!(
            InviteTtl::minutes(Some(0)).unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            InviteTtl::minutes(Some(7 * 24 * 60 + 1)).unwrap_err().code,
            "out_of_range"
        );
    }

    #[test]
    fn invites_are_single_use_and_revocable() {
        let mut i = invite(InviteTtl::minutes(None).unwrap());
        i.used_at = Some(t(1));
        assert_eq!(i.check(t(2)), Err(InviteProblem::Used));
        let mut r = invite(InviteTtl::minutes(None).unwrap());
        r.revoked_at = Some(t(1));
        assert_eq!(r.check(t(2)), Err(InviteProblem::Invalid));
    }

    #[test]
    fn joining_rules() {
        let i = invite(InviteTtl::minutes(None).unwrap());
        let mut c = Couple::create(CoupleId(Uuid::nil()), uid(1), t(0));
        assert_eq!(can_join(&i, &c, uid(2), false, t(1)), Ok(()));
        assert_eq!(
            can_join(&i, &c, uid(2), true, t(1)),
            Err(JoinProblem::AlreadyInCouple)
        );
        assert_eq!(
            can_join(&i, &c, uid(1), false, t(1)),
            Err(JoinProblem::AlreadyInCouple)
        );
        assert_eq!(
            can_join(&i, &c, uid(2), false, t(61)),
            Err(JoinProblem::Invite(InviteProblem::Expired))
        );
        c.partner_b = Some(uid(3));
        assert_eq!(
            can_join(&i, &c, uid(2), false, t(1)),
            Err(JoinProblem::CoupleFull)
        );
        assert_eq!(c.partner_of(uid(3)), Some(uid(1)));
        assert_eq!(c.side_of(uid(3)), Some(Side::B));
        assert!(
            Invite::is_code("012345") && !Invite::is_code("12345") && !Invite::is_code("12a456")
        );
    }
}
