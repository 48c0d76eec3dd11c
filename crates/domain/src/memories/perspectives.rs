//! Each partner's perspective on the couple: slot 1 is partner A's, slot 2 is partner B's.
//!
//! Who may write which ([`may_write`]): while the couple has one member (the site run by one
//! person, as in the seed), that member, partner A, writes both. Once partner B joins, each
//! partner owns the slot of their side: A keeps number 1, B owns number 2. A number 2 that A
//! wrote alone stays as it is (its author is still A) and is B's from then on: B may rewrite
//! it, A no longer may.

use chrono::{DateTime, Utc};

use crate::couples::{Couple, CoupleId, Side};
use crate::identity::UserId;
use crate::validation::{FieldError, Fields, ValidationErrors, bounded_text};

/// A perspective's text: 1 to 10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerspectiveText(String);

impl PerspectiveText {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `content`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("content", raw, 10_000).map(Self)
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

/// The seed's perspective numbers: 1 is partner A's, 2 is partner B's.
pub fn side_of_number(number: u8) -> Option<Side> {
    match number {
        1 => Some(Side::A),
        2 => Some(Side::B),
        _ => None,
    }
}

/// The number of a side's perspective.
pub fn number_of_side(side: Side) -> u8 {
    match side {
        Side::A => 1,
        Side::B => 2,
    }
}

/// Whether `user` may write the perspective of `side` in `couple`: a partner writes their own
/// side's, and partner A also writes B's while nobody has joined.
pub fn may_write(couple: &Couple, user: UserId, side: Side) -> bool {
    match couple.side_of(user) {
        Some(Side::A) if couple.partner_b.is_none() => true,
        Some(mine) => mine == side,
        None => false,
    }
}

/// A perspective to write (`POST /perspectives`), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerspectiveDraft {
    /// Whose slot (from its number).
    pub side: Side,
    /// The text.
    pub content: PerspectiveText,
}

impl PerspectiveDraft {
    /// Checks the number (1 or 2) and the text.
    ///
    /// # Errors
    /// `number` `out_of_range`, and the text's problem.
    pub fn parse(number: i64, content: &str) -> Result<Self, ValidationErrors> {
        let side = u8::try_from(number)
            .ok()
            .and_then(side_of_number)
            .ok_or_else(|| FieldError::new("number", "out_of_range", "1 or 2"));
        let (side, content) = (side, PerspectiveText::parse(content)).all()?;
        Ok(Self { side, content })
    }
}

/// One partner's perspective on the couple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perspective {
    /// The couple.
    pub couple_id: CoupleId,
    /// Whose slot (A or B).
    pub side: Side,
    /// Who wrote it.
    pub author: UserId,
    /// The text.
    pub content: PerspectiveText,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_map_to_sides() {
        assert_eq!(side_of_number(1), Some(Side::A));
        assert_eq!(side_of_number(2), Some(Side::B));
        assert_eq!(side_of_number(3), None);
        assert_eq!(number_of_side(Side::B), 2);
        assert_eq!(PerspectiveText::parse(" ").unwrap_err().code, "required");
    }

    #[test]
    fn drafts() {
        let d = PerspectiveDraft::parse(2, "Nous").unwrap();
        assert_eq!((d.side, d.content.as_str()), (Side::B, "Nous"));
        let e = PerspectiveDraft::parse(3, " ").unwrap_err();
        let fields: Vec<(&str, &str)> = e.0.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(
            fields,
            [("number", "out_of_range"), ("content", "required")]
        );
        assert!(PerspectiveDraft::parse(0, "x").is_err());
        assert!(PerspectiveDraft::parse(-1, "x").is_err());
        assert!(
            PerspectiveDraft::parse(257, "x").is_err(),
            "not read as 1 modulo 256"
        );
    }

    #[test]
    fn a_solo_member_writes_both_until_a_partner_joins() {
        use uuid::Uuid;
        let (a, b, z) = (
            UserId(Uuid::from_u128(1)),
            UserId(Uuid::from_u128(2)),
            UserId(Uuid::from_u128(3)),
        );
        let mut couple = Couple::create(CoupleId(Uuid::from_u128(9)), a, DateTime::UNIX_EPOCH);
        assert!(may_write(&couple, a, Side::A));
        assert!(may_write(&couple, a, Side::B), "alone, A writes both");
        assert!(!may_write(&couple, z, Side::A), "not a member");
        assert!(!may_write(&couple, z, Side::B));
        couple.partner_b = Some(b);
        assert!(may_write(&couple, a, Side::A), "A keeps number 1");
        assert!(!may_write(&couple, a, Side::B), "number 2 is B's now");
        assert!(may_write(&couple, b, Side::B));
        assert!(!may_write(&couple, b, Side::A));
        assert!(!may_write(&couple, z, Side::B));
    }
}
