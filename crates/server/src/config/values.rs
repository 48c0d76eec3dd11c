//! How one setting's value is read: from an environment variable's text, or from a TOML value.
//!
//! Every type a setting can have implements [`Value`], so a setting's parsing and validation
//! are the same whichever source it comes from. A TOML string is always read like the
//! environment variable would be (`access_ttl = "15m"`, `bcrypt_cost = "12"`), and the types
//! with a native TOML form accept it too (`bcrypt_cost = 12`, `cors_origins = ["..."]`).

use std::fmt;
use std::path::PathBuf;

use chrono::Duration;

/// A type a setting can have.
pub(crate) trait Value: Sized {
    /// Parses an environment variable's text.
    fn from_env(raw: &str) -> Result<Self, String>;

    /// Reads a TOML value.
    fn from_toml(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::String(s) => Self::from_env(&s),
            other => Err(format!("expected a string, not {}", other.type_str())),
        }
    }

    /// The TOML value an operator would write for this environment text (the tests write
    /// every sample both ways).
    #[cfg(test)]
    fn toml_sample(raw: &str) -> toml::Value {
        toml::Value::String(raw.to_owned())
    }
}

impl Value for String {
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
}

impl Value for PathBuf {
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(Self::from(raw))
    }
}

impl Value for bool {
    fn from_env(raw: &str) -> Result<Self, String> {
        parse_bool(raw).ok_or_else(|| format!("{raw:?}: use true or false"))
    }

    fn from_toml(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Boolean(b) => Ok(b),
            toml::Value::String(s) => Self::from_env(&s),
            other => Err(format!("expected true or false, not {}", other.type_str())),
        }
    }

    #[cfg(test)]
    fn toml_sample(raw: &str) -> toml::Value {
        toml::Value::Boolean(parse_bool(raw).unwrap_or_default())
    }
}

macro_rules! number {
    ($($t:ty),+) => {$(
        impl Value for $t {
            fn from_env(raw: &str) -> Result<Self, String> {
                raw.trim()
                    .parse()
                    .map_err(|_| format!("{raw:?} is not a number"))
            }

            fn from_toml(value: toml::Value) -> Result<Self, String> {
                match value {
                    toml::Value::Integer(i) => {
                        Self::try_from(i).map_err(|_| format!("{i} is out of range"))
                    }
                    toml::Value::String(s) => Self::from_env(&s),
                    other => Err(format!("expected a number, not {}", other.type_str())),
                }
            }

            #[cfg(test)]
            fn toml_sample(raw: &str) -> toml::Value {
                toml::Value::Integer(raw.trim().parse().unwrap_or_default())
            }
        }
    )+};
}

number!(u32, u64, usize);

impl Value for Duration {
    fn from_env(raw: &str) -> Result<Self, String> {
        parse_duration(raw)
    }

    /// A bare integer is a number of seconds, as in the environment.
    fn from_toml(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::String(s) => parse_duration(&s),
            toml::Value::Integer(i) => parse_duration(&i.to_string()),
            other => Err(format!("expected a duration, not {}", other.type_str())),
        }
    }
}

impl Value for accueil_domain::limits::Rate {
    fn from_env(raw: &str) -> Result<Self, String> {
        parse_rate(raw)
    }
}

impl Value for ipnet::IpNet {
    /// A bare address is a network of one.
    fn from_env(raw: &str) -> Result<Self, String> {
        let p = raw.trim();
        p.parse::<Self>()
            .or_else(|_| p.parse::<std::net::IpAddr>().map(Self::from))
            .map_err(|_| format!("{p:?} is neither an address nor a CIDR"))
    }
}

/// An optional setting: unset is `None`, any value is parsed as `T`.
impl<T: Value> Value for Option<T> {
    fn from_env(raw: &str) -> Result<Self, String> {
        T::from_env(raw).map(Some)
    }

    fn from_toml(value: toml::Value) -> Result<Self, String> {
        T::from_toml(value).map(Some)
    }

    #[cfg(test)]
    fn toml_sample(raw: &str) -> toml::Value {
        T::toml_sample(raw)
    }
}

/// A list: comma-separated in the environment, an array (or the same text) in TOML.
impl<T: Value> Value for Vec<T> {
    fn from_env(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(T::from_env)
            .collect()
    }

    fn from_toml(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Array(items) => items.into_iter().map(T::from_toml).collect(),
            toml::Value::String(s) => Self::from_env(&s),
            other => Err(format!("expected an array, not {}", other.type_str())),
        }
    }

    #[cfg(test)]
    fn toml_sample(raw: &str) -> toml::Value {
        toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(T::toml_sample)
                .collect(),
        )
    }
}

/// Parses `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`, in any case).
pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Parses a rate: `10/15m` (10 per 15 minutes), `5/1h`, `30/60s`.
///
/// # Errors
/// A message naming the accepted form.
pub fn parse_rate(raw: &str) -> Result<accueil_domain::limits::Rate, String> {
    let (n, period) = raw
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("{raw:?} is not a rate (use 10/15m)"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("{raw:?}: {n:?} is not a count"))?;
    let period = parse_duration(period)?;
    accueil_domain::limits::Rate::new(n, period)
        .ok_or_else(|| format!("{raw:?} must allow at least 1 request"))
}

/// Parses `250ms`, `900`, `900s`, `15m`, `12h`, `30d`.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let s = raw.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = digits.parse().map_err(|_| {
        format!("{raw:?} is not a duration (use 250ms, 900, 900s, 15m, 12h or 30d)")
    })?;
    let d = match unit {
        "ms" => Duration::milliseconds(n),
        "" | "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(format!("{raw:?}: unknown unit {unit:?} (use s, m, h or d)")),
    };
    if n == 0 {
        return Err(format!("{raw:?} must be positive"));
    }
    Ok(d)
}

/// What `Debug` prints instead of a sensitive value.
pub(crate) struct Shown(String);

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Shown {
    /// Nothing of the value, only whether there is one.
    pub(crate) fn secret(value: &impl Sensitive) -> Self {
        Self(value.map_text(|_| "<redacted>".to_owned()))
    }

    /// A URL without the password (or token) it may carry before `@`.
    pub(crate) fn without_credentials(value: &impl Sensitive) -> Self {
        Self(value.map_text(|url| format!("{:?}", redact_url(url))))
    }
}

/// A value `Debug` can redact: a text, or an optional one.
pub(crate) trait Sensitive {
    /// The value as `Debug` would print it, its text replaced by `f`'s.
    fn map_text(&self, f: impl Fn(&str) -> String) -> String;
}

impl Sensitive for String {
    fn map_text(&self, f: impl Fn(&str) -> String) -> String {
        f(self)
    }
}

impl Sensitive for Option<String> {
    fn map_text(&self, f: impl Fn(&str) -> String) -> String {
        self.as_deref()
            .map_or_else(|| "None".to_owned(), |s| format!("Some({})", f(s)))
    }
}

/// `scheme://user:password@host/...` as `scheme://<redacted>@host/...`; the user name goes too,
/// since a token is sometimes passed in its place.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redacted>".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://<redacted>@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("smtp://user:pass@mail.example:587?tls=required"),
            "smtp://<redacted>@mail.example:587?tls=required"
        );
        assert_eq!(
            redact_url("postgres://a:b@db/x?opt=a@b"),
            "postgres://<redacted>@db/x?opt=a@b"
        );
        assert_eq!(
            redact_url("smtp://mail.example:25"),
            "smtp://mail.example:25"
        );
        assert_eq!(redact_url("not a url with p@ss"), "<redacted>");
    }

    #[test]
    fn lists_and_numbers() {
        assert_eq!(
            Vec::<String>::from_env(" a, ,b ").unwrap(),
            ["a".to_owned(), "b".to_owned()]
        );
        assert!(u32::from_toml(toml::Value::Integer(-1)).is_err());
        assert_eq!(u32::from_toml(toml::Value::String("7".into())).unwrap(), 7);
        assert!(bool::from_toml(toml::Value::Integer(1)).is_err());
        for (raw, b) in [("TRUE", true), ("on", true), ("0", false), (" no ", false)] {
            assert_eq!(bool::from_env(raw).unwrap(), b, "{raw}");
        }
    }
}
