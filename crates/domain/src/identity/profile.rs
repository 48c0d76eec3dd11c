//! Profile values a user sets about themselves: language, time zone, avatar, bio and
//! notification preferences.

use std::fmt;
use std::str::FromStr;

use crate::validation::{FieldError, has_control_chars};

/// The languages of the interface and of mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// English, the default.
    #[default]
    En,
    /// French.
    Fr,
}

impl Language {
    /// The stored code (`en`, `fr`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// Parses a code, ignoring case and surrounding space.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "fr" => Some(Self::Fr),
            _ => None,
        }
    }

    /// Validates a requested language.
    ///
    /// # Errors
    /// A [`FieldError`] on `language` with code `unsupported_language`.
    pub fn parse_field(s: &str) -> Result<Self, FieldError> {
        Self::parse(s)
            .ok_or_else(|| FieldError::new("language", "unsupported_language", "fr or en"))
    }
}

/// An IANA time zone name (`Europe/Paris`), checked against the tz database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone(String);

impl TimeZone {
    /// Validates a name.
    ///
    /// # Errors
    /// A [`FieldError`] on `time_zone` with code `unknown_time_zone`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let tz = chrono_tz::Tz::from_str(raw.trim()).map_err(|_| {
            FieldError::new(
                "time_zone",
                "unknown_time_zone",
                "an IANA time zone such as Europe/Paris",
            )
        })?;
        Ok(Self(tz.name().to_owned()))
    }

    /// Every name [`TimeZone::parse`] accepts (before trimming), for the API's document.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone, for calendar computations.
    pub fn tz(&self) -> chrono_tz::Tz {
        chrono_tz::Tz::from_str(&self.0).unwrap_or(chrono_tz::UTC)
    }

    /// Rebuilds a value read back from storage.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A link to a picture: `https://` (or `http://`), at most 2,048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    /// Validates a URL.
    ///
    /// # Errors
    /// A [`FieldError`] on `avatar_url`: `invalid_url` or `too_long`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.len() > 2048 {
            return Err(FieldError::new(
                "avatar_url",
                "too_long",
                "at most 2048 characters",
            ));
        }
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        let host = rest
            .and_then(|r| r.split(['/', '?', '#']).next())
            .unwrap_or("");
        if host.is_empty()
            || host.contains('@')
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(FieldError::new(
                "avatar_url",
                "invalid_url",
                "an http(s) URL",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// A sign-in provider's picture URL, if it may become an avatar: a valid URL, and `https`
    /// only (the apps show it on secure pages; a plain-http picture would be mixed content and
    /// tell the network who looks at whom).
    pub fn from_provider(raw: &str) -> Option<Self> {
        Self::parse(raw)
            .ok()
            .filter(|url| url.0.starts_with("https://"))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a value read back from storage.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

/// A short text about oneself: at most 500 characters; line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(String);

impl Bio {
    /// Validates a bio.
    ///
    /// # Errors
    /// A [`FieldError`] on `bio`: `too_long` or `invalid_characters`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.chars().count() > 500 {
            return Err(FieldError::new("bio", "too_long", "at most 500 characters"));
        }
        if has_control_chars(&s.replace(['\n', '\t'], " ").replace('\r', "")) {
            return Err(FieldError::new(
                "bio",
                "invalid_characters",
                "control characters are not allowed",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a value read back from storage.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

/// What a user wants to be told about, beyond security notices (which are always sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationPrefs {
    /// E-mails about the couple's life (`MailCategory::Couple`: a partner joined, ...);
    /// account and security mails are sent whatever it says.
    pub email: bool,
    /// Push notifications to the user's devices (none is sent yet: a stored choice for the
    /// apps).
    pub push: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self {
            email: true,
            push: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_come_from_the_tz_database() {
        assert_eq!(
            TimeZone::parse(" Europe/Paris ").unwrap().as_str(),
            "Europe/Paris"
        );
        assert_eq!(
            TimeZone::parse("America/New_York").unwrap().tz(),
            chrono_tz::America::New_York
        );
        assert_eq!(
            TimeZone::parse("Mars/Olympus").unwrap_err().code,
            "unknown_time_zone"
        );
        assert!(TimeZone::parse("").is_err());
    }

    #[test]
    fn avatars_are_http_urls() {
        assert!(AvatarUrl::parse("https://cdn.example/a.png").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x/y",
            "https://",
            "https://u@evil/x",
            "https://a b",
        ] {
            assert_eq!(
                AvatarUrl::parse(bad).unwrap_err().code,
                "invalid_url",
                "{bad}"
            );
        }
        assert_eq!(
            AvatarUrl::parse(&format!("https://x/{}", "a".repeat(2048)))
                .unwrap_err()
                .code,
            "too_long"
        );
    }

    #[test]
    fn provider_pictures_are_https_urls_only() {
        assert!(AvatarUrl::from_provider("https://lh3.example/a.jpg").is_some());
        for bad in ["http://lh3.example/a.jpg", "javascript:x", "https://", ""] {
            assert_eq!(AvatarUrl::from_provider(bad), None, "{bad}");
        }
    }

    #[test]
    fn bios_are_short_plain_text() {
        assert!(Bio::parse("line one\nline two").is_ok());
        assert_eq!(Bio::parse(&"é".repeat(501)).unwrap_err().code, "too_long");
        assert_eq!(
            Bio::parse("bell\u{7}").unwrap_err().code,
            "invalid_characters"
        );
    }

    #[test]
    fn languages() {
        assert_eq!(Language::parse_field("FR").unwrap(), Language::Fr);
        assert_eq!(
            Language::parse_field("de").unwrap_err().code,
            "unsupported_language"
        );
    }
}
