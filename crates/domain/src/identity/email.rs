//! E-mail addresses, normalised so that one mailbox has one spelling.

use std::fmt;

use crate::validation::{FieldError, has_control_chars};

/// A syntactically valid, normalised e-mail address.
///
/// Normalisation trims surrounding white space and lower-cases the domain. The local part keeps
/// its case: RFC 5321 lets a server treat it case-sensitively, but uniqueness is checked on the
/// fully lower-cased form ([`Email::canonical`]) so `Ann@x.org` and `ann@x.org` cannot be two
/// accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// RFC 5321 limits: a path of at most 256 octets including the angle brackets.
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl Email {
    /// Validates and normalises an address.
    ///
    /// # Errors
    /// A [`FieldError`] on field `email` with code `invalid_email` or `too_long`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = |msg: &str| FieldError::new("email", "invalid_email", msg);
        let s = raw.trim();
        if s.len() > MAX_LEN {
            return Err(FieldError::new(
                "email",
                "too_long",
                "at most 254 characters",
            ));
        }
        if s.is_empty() || has_control_chars(s) || s.chars().any(char::is_whitespace) {
            return Err(invalid("not an e-mail address"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(invalid("an e-mail address needs an @"));
        };
        if local.is_empty()
            || local.len() > MAX_LOCAL_LEN
            || local.contains('@') && !is_quoted(local)
        {
            return Err(invalid("the part before the @ is not valid"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(invalid("the part before the @ is not valid"));
        }
        let domain = domain.to_lowercase();
        if !valid_domain(&domain) {
            return Err(invalid("the domain is not valid"));
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    /// The address as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fully lower-cased form, used for uniqueness and look-up.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(self.0.as_str(), |(l, _)| l)
    }

    /// Rebuilds a value read back from storage, where it was validated on the way in.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

fn is_quoted(local: &str) -> bool {
    local.len() >= 2 && local.starts_with('"') && local.ends_with('"')
}

fn valid_domain(domain: &str) -> bool {
    // A dot is required: single-label domains are not deliverable on the public internet.
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases_the_domain_only() {
        let e = Email::parse("  Ann.Lee@Example.ORG \n").unwrap();
        assert_eq!(e.as_str(), "Ann.Lee@example.org");
        assert_eq!(e.canonical(), "ann.lee@example.org");
        assert_eq!(e.local_part(), "Ann.Lee");
    }

    #[test]
    fn accepts_plus_addressing_and_idn() {
        assert!(Email::parse("a+tag@sub.example.com").is_ok());
        assert!(Email::parse("zoé@exemple.fr").is_ok());
        assert!(Email::parse("x@bücher.de").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.org",
            "a@",
            "a@localhost",
            "a b@example.org",
            "a@exa mple.org",
            "a@-x.org",
            "a@x-.org",
            "a@x..org",
            ".a@x.org",
            "a.@x.org",
            "a..b@x.org",
            "a@b@x.org",
            "a\u{0}@x.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_overlong() {
        let local = "a".repeat(65);
        assert_eq!(
            Email::parse(&format!("{local}@x.org")).unwrap_err().code,
            "invalid_email"
        );
        let long = format!("a@{}.org", "b".repeat(260));
        assert_eq!(Email::parse(&long).unwrap_err().code, "too_long");
    }
}
