//! Each partner's perspective on the couple: slot 1 is partner A's, slot 2 is partner B's.

use chrono::{DateTime, Utc};

use crate::couples::{CoupleId, Side};
use crate::identity::UserId;
use crate::validation::{FieldError, bounded_text};

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
}
