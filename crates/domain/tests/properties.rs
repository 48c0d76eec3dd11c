//! Property tests of the identity value types: normalisation is stable, and no input slips past
//! the rules.

use accueil_domain::identity::{
    Email, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, Password, PasswordContext, Username,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn email_normalisation_is_idempotent(local in "[A-Za-z0-9._%+-]{1,20}", domain in "[A-Za-z0-9-]{1,12}\\.[A-Za-z]{2,6}", pad in " {0,3}") {
        let raw = format!("{pad}{local}@{domain}{pad}");
        if let Ok(e) = Email::parse(&raw) {
            let again = Email::parse(e.as_str()).unwrap();
            prop_assert_eq!(&again, &e);
            prop_assert_eq!(e.as_str().trim(), e.as_str());
            let domain_part = e.as_str().rsplit_once('@').unwrap().1;
            prop_assert_eq!(domain_part, domain_part.to_lowercase());
            prop_assert_eq!(e.canonical(), e.as_str().to_lowercase());
        }
    }

    #[test]
    fn any_string_either_parses_to_an_email_with_one_domain_or_is_refused(raw in "\\PC{0,40}") {
        if let Ok(e) = Email::parse(&raw) {
            prop_assert!(e.as_str().contains('@'));
            prop_assert!(!e.as_str().chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn usernames_are_lower_case_and_stable(raw in "[A-Za-z0-9][A-Za-z0-9_.-]{2,31}") {
        let u = Username::parse(&raw).unwrap();
        prop_assert_eq!(u.as_str(), raw.to_ascii_lowercase());
        prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u);
    }

    #[test]
    fn short_or_overlong_passwords_never_pass(candidate in "\\PC{0,80}") {
        let chars = candidate.chars().count();
        let ok = Password::new(&candidate, PasswordContext::default()).is_ok();
        if chars < MIN_PASSWORD_CHARS || candidate.len() > MAX_PASSWORD_BYTES {
            prop_assert!(!ok);
        }
    }
}
