//! A tenant's customers: who takes tickets, how they may be reached, and what they agreed to be
//! reached by.
//!
//! Phone numbers are parsed and checked against the numbering plans of the `phonenumber` crate
//! (libphonenumber's metadata) and kept in E.164 (`+33612345678`). A number must be written
//! with its country code: a tenant has no country to read a national number in. A channel's
//! consent needs the address it uses (SMS and WhatsApp a phone, e-mail an address), so no
//! message is ever planned to nowhere.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::catalogue::ItemName;
use crate::identity::{Email, Language};
use crate::validation::{FieldError, Fields, Patch, ValidationErrors};

/// A phone number in E.164, checked against its country's numbering plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses an international number (`+33 6 12 34 56 78`, `+1 (415) 555-0100`) into E.164.
    ///
    /// # Errors
    /// A [`FieldError`] on `phone`: `invalid_phone` when it is not a number of any plan.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "phone",
                "invalid_phone",
                "an international phone number with its country code, such as +33 6 12 34 56 78",
            )
        };
        let raw = raw.trim();
        // Digits and the usual separators only: the parser would also read letters (`+1 800
        // FLOWERS`), which a customer's number never has.
        let shaped = raw.len() <= 40
            && raw.strip_prefix('+').is_some_and(|rest| {
                rest.chars()
                    .all(|c| c.is_ascii_digit() || " ().-/".contains(c))
            });
        if !shaped {
            return Err(invalid());
        }
        let number = phonenumber::parse(None, raw).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// A number read back from storage.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The number in E.164.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The channels a customer agreed to be reached by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    /// Text messages.
    pub sms: bool,
    /// WhatsApp messages.
    pub whatsapp: bool,
    /// E-mail.
    pub email: bool,
    /// Push notifications.
    pub push: bool,
}

/// Consent fields as given: absent ones are kept (or `false` for a new customer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsentFields {
    /// `consent.sms`.
    pub sms: Option<bool>,
    /// `consent.whatsapp`.
    pub whatsapp: Option<bool>,
    /// `consent.email`.
    pub email: Option<bool>,
    /// `consent.push`.
    pub push: Option<bool>,
}

impl ConsentFields {
    fn apply_to(self, c: &mut Consent) {
        c.sms = self.sms.unwrap_or(c.sms);
        c.whatsapp = self.whatsapp.unwrap_or(c.whatsapp);
        c.email = self.email.unwrap_or(c.email);
        c.push = self.push.unwrap_or(c.push);
    }
}

/// A customer of the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Id.
    pub id: Uuid,
    /// Their name, if given.
    pub name: Option<ItemName>,
    /// Their phone, in E.164.
    pub phone: Option<Phone>,
    /// Their address.
    pub email: Option<Email>,
    /// What they agreed to be reached by.
    pub consent: Consent,
    /// The language of their messages (the tenant's when not set).
    pub language: Option<Language>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    /// Checks that each consent has the address its channel needs.
    fn check_consent(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        let no_phone = |field| {
            FieldError::new(
                field,
                "requires_phone",
                "this channel needs the customer's phone number",
            )
        };
        if self.phone.is_none() {
            if self.consent.sms {
                errors.push(no_phone("consent.sms"));
            }
            if self.consent.whatsapp {
                errors.push(no_phone("consent.whatsapp"));
            }
        }
        if self.email.is_none() && self.consent.email {
            errors.push(FieldError::new(
                "consent.email",
                "requires_email",
                "this channel needs the customer's e-mail address",
            ));
        }
        ValidationErrors::collect(errors)
    }
}

/// A customer to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer(Customer);

impl NewCustomer {
    /// Checks every field, then the consents against the addresses.
    ///
    /// # Errors
    /// Every field's problem; `consent.*` `requires_phone`/`requires_email`.
    pub fn parse(
        name: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
        consent: ConsentFields,
        language: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let (name, phone, email, language) = (
            name.map(ItemName::parse).transpose(),
            phone.map(Phone::parse).transpose(),
            email.map(Email::parse).transpose(),
            language.map(Language::parse_field).transpose(),
        )
            .all()?;
        let mut given = Consent::default();
        consent.apply_to(&mut given);
        let customer = Customer {
            id: Uuid::nil(),
            name,
            phone,
            email,
            consent: given,
            language,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        customer.check_consent()?;
        Ok(Self(customer))
    }

    /// The customer, created at `now`.
    pub fn into_customer(self, id: Uuid, now: DateTime<Utc>) -> Customer {
        Customer {
            id,
            created_at: now,
            updated_at: now,
            ..self.0
        }
    }
}

/// Changes to a customer: absent fields are kept; `null` clears the name, phone, e-mail or
/// language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerChanges {
    /// Name.
    pub name: Patch<ItemName>,
    /// Phone.
    pub phone: Patch<Phone>,
    /// E-mail.
    pub email: Patch<Email>,
    /// Consents given.
    pub consent: ConsentFields,
    /// Language.
    pub language: Patch<Language>,
}

impl CustomerChanges {
    /// Checks every field given.
    ///
    /// # Errors
    /// Every field's problem.
    pub fn parse(
        name: Patch<String>,
        phone: Patch<String>,
        email: Patch<String>,
        consent: ConsentFields,
        language: Patch<String>,
    ) -> Result<Self, ValidationErrors> {
        let (name, phone, email, language) = (
            name.try_map(|n| ItemName::parse(&n)),
            phone.try_map(|p| Phone::parse(&p)),
            email.try_map(|e| Email::parse(&e)),
            language.try_map(|l| Language::parse_field(&l)),
        )
            .all()?;
        Ok(Self {
            name,
            phone,
            email,
            consent,
            language,
        })
    }

    /// Applies them at `now`: clearing a phone or address withdraws the consents that need it
    /// unless the same change gives them, which is refused.
    ///
    /// # Errors
    /// `consent.*` `requires_phone`/`requires_email` when a consent would lack its address;
    /// nothing changes.
    pub fn apply_to(
        self,
        customer: &mut Customer,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let mut next = customer.clone();
        let (cleared_phone, cleared_email) = (
            matches!(self.phone, Patch::Clear),
            matches!(self.email, Patch::Clear),
        );
        self.name.apply_to(&mut next.name);
        self.phone.apply_to(&mut next.phone);
        self.email.apply_to(&mut next.email);
        self.language.apply_to(&mut next.language);
        if cleared_phone {
            next.consent.sms = false;
            next.consent.whatsapp = false;
        }
        if cleared_email {
            next.consent.email = false;
        }
        self.consent.apply_to(&mut next.consent);
        next.check_consent()?;
        next.updated_at = now;
        *customer = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: &ValidationErrors) -> Vec<(&'static str, &'static str)> {
        e.0.iter().map(|f| (f.field, f.code)).collect()
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        for (raw, e164) in [
            ("+33 6 12 34 56 78", "+33612345678"),
            ("+33612345678", "+33612345678"),
            ("+1 (415) 555-0100", "+14155550100"),
            (" +44 20 7946 0958 ", "+442079460958"),
        ] {
            assert_eq!(Phone::parse(raw).unwrap().as_str(), e164, "{raw}");
        }
        for bad in [
            "06 12 34 56 78",
            "+33 1",
            "+999 123456",
            "+33 6 12 34 56 78 90 12",
            "phone",
            "",
            "+1 800 FLOWERS",
            "+33 6 12 34 56 78 ext. 5",
        ] {
            assert_eq!(
                Phone::parse(bad).unwrap_err().code,
                "invalid_phone",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_consent_needs_its_address() {
        let consent = ConsentFields {
            sms: Some(true),
            whatsapp: Some(true),
            email: Some(true),
            push: Some(true),
        };
        let e = NewCustomer::parse(Some("Ann"), None, None, consent, None).unwrap_err();
        assert_eq!(
            codes(&e),
            [
                ("consent.sms", "requires_phone"),
                ("consent.whatsapp", "requires_phone"),
                ("consent.email", "requires_email"),
            ]
        );
        let c = NewCustomer::parse(
            None,
            Some("+33612345678"),
            Some("ann@example.com"),
            consent,
            Some("fr"),
        )
        .unwrap();
        let mut c = c.into_customer(Uuid::nil(), DateTime::UNIX_EPOCH);
        assert!(c.consent.sms && c.consent.email && c.consent.push);

        // Clearing the phone withdraws its channels; asking for one at the same time is
        // refused, and changes nothing.
        let bad = CustomerChanges::parse(
            Patch::Keep,
            Patch::Clear,
            Patch::Keep,
            ConsentFields {
                sms: Some(true),
                ..ConsentFields::default()
            },
            Patch::Keep,
        )
        .unwrap();
        assert_eq!(
            codes(&bad.apply_to(&mut c, DateTime::UNIX_EPOCH).unwrap_err()),
            [("consent.sms", "requires_phone")]
        );
        assert!(c.phone.is_some());
        CustomerChanges::parse(
            Patch::Set("Ann".into()),
            Patch::Clear,
            Patch::Keep,
            ConsentFields::default(),
            Patch::Clear,
        )
        .unwrap()
        .apply_to(&mut c, DateTime::UNIX_EPOCH)
        .unwrap();
        assert_eq!(
            (
                c.phone.clone(),
                c.consent.sms,
                c.consent.whatsapp,
                c.consent.email
            ),
            (None, false, false, true)
        );
        assert_eq!(c.language, None);
    }

    #[test]
    fn every_field_is_reported() {
        let e = CustomerChanges::parse(
            Patch::Set(" ".into()),
            Patch::Set("12".into()),
            Patch::Set("nope".into()),
            ConsentFields::default(),
            Patch::Set("de".into()),
        )
        .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field).collect();
        assert_eq!(fields, ["name", "phone", "email", "language"]);
    }
}
