//! Field-level validation failures, shared by every module's input rules.
//!
//! A use case collects every failing field at once so a client can show all problems in one
//! round trip; the HTTP layer renders them as the `errors` array of a 422 problem.

use std::fmt;

/// One invalid input field: which field, a stable machine code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, in the API's snake_case spelling.
    pub field: &'static str,
    /// A stable snake_case code that clients can switch on.
    pub code: &'static str,
    /// An English explanation for developers.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code)
    }
}

/// A non-empty list of field errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} field(s) invalid", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Gathers the errors of several independent checks; `Ok` when there are none.
    pub fn collect(errors: Vec<FieldError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self(errors))
        }
    }
}

/// True when `s` holds a control character (C0, DEL or C1), which no text field accepts.
pub fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A required free text of at most `max` characters: trimmed, not blank, no control characters
/// except line breaks and tabs.
///
/// # Errors
/// A [`FieldError`] on `field`: `required`, `too_long` or `invalid_characters`.
pub fn bounded_text(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "required", "must not be blank"));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(s.to_owned())
}

/// Every field problem of one check: a [`FieldError`] or several.
pub trait IntoFieldErrors {
    /// The problems, as a list.
    fn into_field_errors(self) -> Vec<FieldError>;
}

impl IntoFieldErrors for FieldError {
    fn into_field_errors(self) -> Vec<FieldError> {
        vec![self]
    }
}

impl IntoFieldErrors for ValidationErrors {
    fn into_field_errors(self) -> Vec<FieldError> {
        self.0
    }
}

/// The outcomes of several independent field checks, as one: every value when all passed,
/// otherwise every problem of every field at once (so a client fixes a form in one round
/// trip), never a half-validated value.
///
/// `(Title::parse(&r.title), r.note.as_deref().map(Note::parse).transpose()).all()?`
pub trait Fields {
    /// The checked values.
    type Output;
    /// All values, or all problems.
    ///
    /// # Errors
    /// [`ValidationErrors`] with the problems of every failed check, in order.
    fn all(self) -> Result<Self::Output, ValidationErrors>;
}

macro_rules! fields_for_tuples {
    ($( ($($t:ident $e:ident $v:ident),+) )+) => {$(
        impl<$($t, $e: IntoFieldErrors),+> Fields for ($(Result<$t, $e>,)+) {
            type Output = ($($t,)+);
            fn all(self) -> Result<Self::Output, ValidationErrors> {
                let ($($v,)+) = self;
                let mut errors = Vec::new();
                $(
                    let $v = match $v {
                        Ok(v) => Some(v),
                        Err(e) => {
                            errors.extend(e.into_field_errors());
                            None
                        }
                    };
                )+
                match ($($v,)+) {
                    ($(Some($v),)+) => Ok(($($v,)+)),
                    _ => Err(ValidationErrors(errors)),
                }
            }
        }
    )+};
}

fields_for_tuples! {
    (A EA a)
    (A EA a, B EB b)
    (A EA a, B EB b, C EC c)
    (A EA a, B EB b, C EC c, D ED d)
    (A EA a, B EB b, C EC c, D ED d, F EF f)
    (A EA a, B EB b, C EC c, D ED d, F EF f, G EG g)
    (A EA a, B EB b, C EC c, D ED d, F EF f, G EG g, H EH h)
    (A EA a, B EB b, C EC c, D ED d, F EF f, G EG g, H EH h, I EI i)
}

/// A field that may be absent from a partial update, set to a value, or cleared with `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Absent: keep the stored value.
    #[default]
    Keep,
    /// `null`: remove it.
    Clear,
    /// A new value.
    Set(T),
}

impl<T> Patch<T> {
    /// Applies the patch to an optional field.
    pub fn apply_to(self, target: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *target = None,
            Patch::Set(v) => *target = Some(v),
        }
    }

    /// Checks a set value with `parse`; `Keep` and `Clear` pass as they are.
    ///
    /// # Errors
    /// `parse`'s error for a set value.
    pub fn try_map<U, E>(self, parse: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        match self {
            Patch::Keep => Ok(Patch::Keep),
            Patch::Clear => Ok(Patch::Clear),
            Patch::Set(v) => parse(v).map(Patch::Set),
        }
    }

    /// Whether it changes anything.
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

#[cfg(test)]
mod fields_tests {
    use super::*;

    fn bad(field: &'static str) -> FieldError {
        FieldError::new(field, "required", "must not be blank")
    }

    #[test]
    fn all_values_or_every_problem() {
        let ok: Result<(u8, &str), ValidationErrors> =
            (Ok::<_, FieldError>(1u8), Ok::<_, FieldError>("x")).all();
        assert_eq!(ok.unwrap(), (1, "x"));
        let two = (
            Err::<u8, _>(bad("a")),
            Ok::<_, FieldError>(2u8),
            Err::<u8, _>(bad("c")),
        )
            .all()
            .unwrap_err();
        assert_eq!(
            two.0.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["a", "c"]
        );
        let nested = (
            Err::<u8, _>(ValidationErrors(vec![bad("x"), bad("y")])),
            Err::<u8, _>(bad("z")),
        )
            .all()
            .unwrap_err();
        assert_eq!(nested.0.len(), 3);
    }
}
