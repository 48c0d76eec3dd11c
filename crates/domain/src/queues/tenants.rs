//! A tenant: its URL name (slug), display name, time zone (which decides its local day: ticket
//! numbers start again at its midnight) and locale.

use chrono::{DateTime, Utc};

use super::TenantId;
use crate::identity::{Language, TimeZone};
use crate::validation::{FieldError, Fields, ValidationErrors, bounded_text};

/// A tenant's name in URLs (`/api/v1/tenants/{slug}`): 3 to 40 of `a-z 0-9 -`, starting with
/// a letter, not ending with `-`, no `--`. Unique; it never changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    /// Validates a slug (given in lower case: `Acme` is refused, not folded, so a link that
    /// works once works always).
    ///
    /// # Errors
    /// A [`FieldError`] on `slug` with code `invalid_slug`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = (3..=40).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && !raw.ends_with('-')
            && !raw.contains("--")
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(FieldError::new(
                "slug",
                "invalid_slug",
                "3 to 40 of a-z, 0-9 and single hyphens, starting with a letter, not ending with a hyphen",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A slug read back from storage, which holds parsed slugs only.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant's display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantName(String);

impl TenantName {
    /// Validates a name.
    ///
    /// # Errors
    /// A [`FieldError`] on `name`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("name", raw, 100).map(Self)
    }

    /// A name read back from storage.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant's locale: a language the messages exist in (`en`, `fr`).
fn locale(raw: &str) -> Result<Language, FieldError> {
    Language::parse(raw)
        .ok_or_else(|| FieldError::new("locale", "unsupported_language", "fr or en"))
}

/// An organisation using SmartQueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Its URL name, unique and unchanging.
    pub slug: Slug,
    /// Its display name.
    pub name: TenantName,
    /// The zone of its local day (ticket numbering, reports).
    pub time_zone: TimeZone,
    /// The language of its customers' messages by default.
    pub locale: Language,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When its ADMIN deleted it: hidden from then on, purged after [`TENANT_DELETION_GRACE`].
    pub deleted_at: Option<DateTime<Utc>>,
}

/// How long a deleted tenant's data is kept before the purge removes it.
pub const TENANT_DELETION_GRACE: chrono::Duration = chrono::Duration::days(30);

/// A tenant to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    /// Its slug.
    pub slug: Slug,
    /// Its name.
    pub name: TenantName,
    /// Its zone.
    pub time_zone: TimeZone,
    /// Its locale (`en` when not given).
    pub locale: Language,
}

impl NewTenant {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        slug: &str,
        name: &str,
        time_zone: &str,
        locale: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let (slug, name, time_zone, locale) = (
            Slug::parse(slug),
            TenantName::parse(name),
            TimeZone::parse(time_zone),
            locale.map_or(Ok(Language::default()), self::locale),
        )
            .all()?;
        Ok(Self {
            slug,
            name,
            time_zone,
            locale,
        })
    }

    /// The tenant, created at `now`.
    pub fn into_tenant(self, id: TenantId, now: DateTime<Utc>) -> Tenant {
        Tenant {
            id,
            slug: self.slug,
            name: self.name,
            time_zone: self.time_zone,
            locale: self.locale,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        }
    }
}

/// Changes to a tenant's settings, checked. The slug never changes (links and boards use it);
/// the name, zone and locale may; none can be cleared (absent or `null` keeps it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantChanges {
    /// A new name.
    pub name: Option<TenantName>,
    /// A new zone.
    pub time_zone: Option<TimeZone>,
    /// A new locale.
    pub locale: Option<Language>,
}

impl TenantChanges {
    /// Checks every field given.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        name: Option<&str>,
        time_zone: Option<&str>,
        locale: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let (name, time_zone, locale) = (
            name.map(TenantName::parse).transpose(),
            time_zone.map(TimeZone::parse).transpose(),
            locale.map(self::locale).transpose(),
        )
            .all()?;
        Ok(Self {
            name,
            time_zone,
            locale,
        })
    }

    /// Applies them to `tenant` at `now`.
    pub fn apply_to(self, tenant: &mut Tenant, now: DateTime<Utc>) {
        if let Some(name) = self.name {
            tenant.name = name;
        }
        if let Some(zone) = self.time_zone {
            tenant.time_zone = zone;
        }
        if let Some(locale) = self.locale {
            tenant.locale = locale;
        }
        tenant.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["acme", "la-poste-13", "a1b", &"a".repeat(40)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Acme",
            "1acme",
            "acme-",
            "ac--me",
            "ac me",
            "accueil_x",
            &"a".repeat(41),
            "é-cole",
        ] {
            assert_eq!(Slug::parse(bad).unwrap_err().code, "invalid_slug", "{bad}");
        }
    }

    #[test]
    fn a_new_tenant_reports_every_field() {
        let t = NewTenant::parse("acme", "Acme", "Europe/Paris", None).unwrap();
        assert_eq!(t.locale, Language::En);
        let e = NewTenant::parse("A", " ", "Mars/Olympus", Some("xx")).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field).collect();
        assert_eq!(fields, ["slug", "name", "time_zone", "locale"]);
    }

    #[test]
    fn changes_apply_what_they_name() {
        let e = TenantChanges::parse(Some(" "), None, Some("de")).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| (f.field, f.code)).collect();
        assert_eq!(
            fields,
            [("name", "required"), ("locale", "unsupported_language")]
        );
        let c = TenantChanges::parse(None, Some("Asia/Tokyo"), None).unwrap();
        let mut t = NewTenant::parse("acme", "Acme", "Europe/Paris", None)
            .unwrap()
            .into_tenant(TenantId(uuid::Uuid::nil()), DateTime::UNIX_EPOCH);
        c.apply_to(&mut t, DateTime::UNIX_EPOCH);
        assert_eq!(
            (t.name.as_str(), t.time_zone.as_str()),
            ("Acme", "Asia/Tokyo")
        );
    }
}
