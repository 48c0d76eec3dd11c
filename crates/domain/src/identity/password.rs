//! Passwords and the password policy (OWASP ASVS 6.2).
//!
//! The policy is a pure function of the candidate and what the account already knows about its
//! owner, so every rule is unit-tested here. Each failing rule has its own stable code, and all
//! failing rules are reported at once.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use super::{Email, Username};
use crate::validation::{FieldError, ValidationErrors};

/// Fewest characters (Unicode scalar values) a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most bytes a password may have: bcrypt reads only the first 72 bytes of its input, so longer
/// passwords are refused rather than silently truncated. Any 64-character ASCII password fits.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// The shipped list of common passwords, most common first, lower-cased; see
/// `COMMON_PASSWORDS_SOURCE.md` beside it for where it comes from.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// What the policy compares a password against.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    /// The account's username, when it has one.
    pub username: Option<&'a Username>,
    /// The account's e-mail address.
    pub email: Option<&'a Email>,
}

/// A password that passed the policy. Its `Debug` form never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks a candidate against every rule of the policy.
    ///
    /// # Errors
    /// Every failing rule, each a [`FieldError`] on field `password` with its own code:
    /// `too_short`, `too_long`, `invalid_characters`, `common_password`, `contains_username`,
    /// `contains_email`.
    pub fn new(candidate: &str, ctx: PasswordContext<'_>) -> Result<Self, ValidationErrors> {
        let mut errors = Vec::new();
        let field = |code, msg: &str| FieldError::new("password", code, msg);
        if candidate.chars().count() < MIN_PASSWORD_CHARS {
            errors.push(field("too_short", "at least 8 characters"));
        }
        if candidate.len() > MAX_PASSWORD_BYTES {
            errors.push(field(
                "too_long",
                "at most 72 bytes (about 64 characters; fewer with accents or emoji)",
            ));
        }
        if candidate.chars().any(char::is_control) {
            errors.push(field(
                "invalid_characters",
                "control characters are not allowed",
            ));
        }
        let lower = candidate.to_lowercase();
        if is_common(&lower) {
            errors.push(field("common_password", "this password is too common"));
        }
        if let Some(u) = ctx.username
            && lower.contains(u.as_str())
        {
            errors.push(field("contains_username", "must not contain your username"));
        }
        if let Some(e) = ctx.email {
            let local = e.local_part().to_lowercase();
            // Very short local parts ("a@x.org") would forbid half the alphabet.
            if local.chars().count() >= 3 && lower.contains(&local) {
                errors.push(field(
                    "contains_email",
                    "must not contain your e-mail address",
                ));
            }
        }
        ValidationErrors::collect(errors)?;
        Ok(Self(candidate.to_owned()))
    }

    /// A password given to log in or to confirm an action: never checked against the policy
    /// (the policy may have changed since it was chosen), only carried.
    pub fn unchecked(candidate: &str) -> Self {
        Self(candidate.to_owned())
    }

    /// The secret, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn is_common(lower: &str) -> bool {
    COMMON.contains(lower)
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A stored password hash, in the hasher's self-describing format (bcrypt `$2b$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash produced by a hasher or read from storage.
    pub fn new(encoded: String) -> Self {
        Self(encoded)
    }

    /// The encoded form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(candidate: &str, ctx: PasswordContext<'_>) -> Vec<&'static str> {
        match Password::new(candidate, ctx) {
            Ok(_) => vec![],
            Err(e) => e.0.iter().map(|f| f.code).collect(),
        }
    }

    #[test]
    fn ships_at_least_ten_thousand_common_passwords() {
        assert!(COMMON.len() >= 10_000, "only {} entries", COMMON.len());
        assert!(is_common("password"));
        assert!(is_common("123456789"));
    }

    #[test]
    fn length_rules() {
        let none = PasswordContext::default();
        assert_eq!(codes("Zq7#vL2", none), vec!["too_short"]);
        assert!(codes("Zq7#vL2!", none).is_empty());
        // 64 ASCII characters must be accepted (ASVS 6.2.9).
        let sixty_four = "Zq7#vL2!".repeat(8);
        assert!(codes(&sixty_four, none).is_empty());
        assert!(codes(&"Zq7#vL2!x".repeat(8), none).is_empty()); // 72 bytes
        assert_eq!(
            codes(&"Zq7#vL2!x".repeat(8).add_char('y'), none),
            vec!["too_long"]
        );
        // Characters, not bytes, count toward the minimum.
        assert!(codes("éàüöçñøå", none).is_empty());
        // ... but bytes count toward bcrypt's limit, and nothing is truncated.
        assert_eq!(codes(&"é".repeat(37), none), vec!["too_long"]);
    }

    trait AddChar {
        fn add_char(self, c: char) -> String;
    }
    impl AddChar for String {
        fn add_char(mut self, c: char) -> String {
            self.push(c);
            self
        }
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        let none = PasswordContext::default();
        assert_eq!(codes("password", none), vec!["common_password"]);
        assert_eq!(codes("PassWord", none), vec!["common_password"]);
        assert_eq!(codes("qwertyuiop", none), vec!["common_password"]);
    }

    #[test]
    fn personal_data_is_refused() {
        let u = Username::parse("marcel").unwrap();
        let e = Email::parse("Juliette.B@example.org").unwrap();
        let ctx = PasswordContext {
            username: Some(&u),
            email: Some(&e),
        };
        assert_eq!(codes("xxMarcel-2026!", ctx), vec!["contains_username"]);
        assert_eq!(codes("juliette.b-2026!", ctx), vec!["contains_email"]);
        assert!(codes("Tr0ub4dor&3-horse", ctx).is_empty());
        // A one-letter local part would forbid too much.
        let short = Email::parse("j@example.org").unwrap();
        let ctx = PasswordContext {
            username: None,
            email: Some(&short),
        };
        assert!(codes("jjjj-Horse-77", ctx).is_empty());
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            codes("abc\u{0}defghij", PasswordContext::default()),
            vec!["invalid_characters"]
        );
    }

    #[test]
    fn every_failure_is_reported_at_once() {
        assert_eq!(
            codes("\u{7}", PasswordContext::default()),
            vec!["too_short", "invalid_characters"]
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let p = Password::unchecked("hunter2-secret");
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
