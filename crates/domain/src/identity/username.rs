//! Usernames: an optional second login name, unique without regard to case.

use std::fmt;

use crate::validation::FieldError;

/// A username: 3 to 32 characters among ASCII letters, digits, `_`, `.` and `-`, starting with a
/// letter or digit. It is stored lower-cased so uniqueness and login ignore case. It never
/// contains `@`, which is how a login string is told apart from an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Validates and lower-cases a username.
    ///
    /// # Errors
    /// A [`FieldError`] on field `username`: `too_short`, `too_long` or `invalid_username`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let n = s.chars().count();
        if n < 3 {
            return Err(FieldError::new(
                "username",
                "too_short",
                "at least 3 characters",
            ));
        }
        if n > 32 {
            return Err(FieldError::new(
                "username",
                "too_long",
                "at most 32 characters",
            ));
        }
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        let ok_start = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !ok_chars || !ok_start {
            return Err(FieldError::new(
                "username",
                "invalid_username",
                "letters, digits, '_', '.' and '-' only, starting with a letter or digit",
            ));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    /// The stored (lower-case) form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a value read back from storage.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases() {
        assert_eq!(Username::parse(" Ann_Lee ").unwrap().as_str(), "ann_lee");
    }

    #[test]
    fn rejects_bad_ones() {
        assert_eq!(Username::parse("ab").unwrap_err().code, "too_short");
        assert_eq!(
            Username::parse(&"a".repeat(33)).unwrap_err().code,
            "too_long"
        );
        for bad in ["a@b.c", "_ann", "ann lee", "zoé", "-ann", "ann/lee"] {
            assert_eq!(
                Username::parse(bad).unwrap_err().code,
                "invalid_username",
                "{bad}"
            );
        }
    }
}
