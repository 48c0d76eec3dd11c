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
