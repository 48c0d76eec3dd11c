//! Questions and answers, with mutual reveal: a partner's answer stays hidden from the other
//! until both have answered.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::CoupleId;
use crate::identity::UserId;
use crate::validation::{FieldError, Fields, Patch, ValidationErrors};

use crate::validation::bounded_text as text;

/// A question's text: 1 to 1,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionText(String);

impl QuestionText {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `text`: `required`, `too_long`, `invalid_characters`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        text("text", raw, 1000).map(Self)
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A question's theme: 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme(String);

impl Theme {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `theme`: `required`, `too_long`, `invalid_characters`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        text("theme", raw, 50).map(Self)
    }
    /// The theme.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// An answer's text: 1 to 5,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerText(String);

impl AnswerText {
    /// Validates.
    ///
    /// # Errors
    /// A [`FieldError`] on `text`: `required`, `too_long`, `invalid_characters`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        text("text", raw, 5000).map(Self)
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuilds a stored value.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A question, scoped to a couple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Id.
    pub id: Uuid,
    /// The couple.
    pub couple_id: CoupleId,
    /// Who asked (the only one who may edit or delete it).
    pub author: UserId,
    /// Text.
    pub text: QuestionText,
    /// Optional theme.
    pub theme: Option<Theme>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Where an answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerStatus {
    /// Answered.
    Answered,
    /// The partner needs time to think.
    NeedsTime,
    /// The partner asks for the question to be clarified.
    Clarify,
}

impl AnswerStatus {
    /// The stable name (`ANSWERED`, `NEEDS_TIME`, `CLARIFY`), as the seed's clients send it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "ANSWERED",
            Self::NeedsTime => "NEEDS_TIME",
            Self::Clarify => "CLARIFY",
        }
    }

    /// Parses a name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ANSWERED" => Some(Self::Answered),
            "NEEDS_TIME" => Some(Self::NeedsTime),
            "CLARIFY" => Some(Self::Clarify),
            _ => None,
        }
    }
}

/// One partner's answer to a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Id.
    pub id: Uuid,
    /// The question.
    pub question_id: Uuid,
    /// The couple.
    pub couple_id: CoupleId,
    /// Who answered.
    pub author: UserId,
    /// Status.
    pub status: AnswerStatus,
    /// Text (required when `Answered`).
    pub text: Option<AnswerText>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What the viewer may see of the partner's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// Both answered: everything is visible.
    Revealed,
    /// The viewer answered; the partner has not (yet).
    WaitingForPartner,
    /// The partner answered; the viewer has not: the partner's text stays hidden until they do.
    WaitingForYou,
    /// Nobody answered.
    NotAnswered,
}

impl Reveal {
    /// The stable name sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revealed => "revealed",
            Self::WaitingForPartner => "waiting_for_partner",
            Self::WaitingForYou => "waiting_for_you",
            Self::NotAnswered => "not_answered",
        }
    }
}

/// Mutual reveal: the partner's answer text is shown only once both have answered (status
/// `ANSWERED`). A "needs time" or "clarify" reply counts as not answered yet.
pub fn reveal(mine: Option<&Answer>, partners: Option<&Answer>) -> Reveal {
    let answered = |a: Option<&Answer>| a.is_some_and(|a| a.status == AnswerStatus::Answered);
    match (answered(mine), answered(partners)) {
        (true, true) => Reveal::Revealed,
        (true, false) => Reveal::WaitingForPartner,
        (false, true) => Reveal::WaitingForYou,
        (false, false) => Reveal::NotAnswered,
    }
}

/// A question to ask, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuestion {
    /// Text.
    pub text: QuestionText,
    /// Optional theme.
    pub theme: Option<Theme>,
}

impl NewQuestion {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem: `text` and `theme` as their types say.
    pub fn parse(text: &str, theme: Option<&str>) -> Result<Self, ValidationErrors> {
        let (text, theme) = (
            QuestionText::parse(text),
            theme.map(Theme::parse).transpose(),
        )
            .all()?;
        Ok(Self { text, theme })
    }
}

/// Changes to a question, checked: absent fields are kept; the theme may be cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuestionChanges {
    /// New text.
    pub text: Option<QuestionText>,
    /// New theme, or clear it.
    pub theme: Patch<Theme>,
}

impl QuestionChanges {
    /// Checks every field.
    ///
    /// # Errors
    /// Every field's problem, as for [`NewQuestion::parse`].
    pub fn parse(text: Option<&str>, theme: Patch<String>) -> Result<Self, ValidationErrors> {
        let (text, theme) = (
            text.map(QuestionText::parse).transpose(),
            theme.try_map(|t| Theme::parse(&t)),
        )
            .all()?;
        Ok(Self { text, theme })
    }

    /// Applies the changes to `question` at `now`.
    pub fn apply_to(self, question: &mut Question, now: DateTime<Utc>) {
        if let Some(t) = self.text {
            question.text = t;
        }
        self.theme.apply_to(&mut question.theme);
        question.updated_at = now;
    }
}

/// An answer to give, checked: `ANSWERED` needs its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerDraft {
    /// Status.
    pub status: AnswerStatus,
    /// Text.
    pub text: Option<AnswerText>,
}

impl AnswerDraft {
    /// Checks every field.
    ///
    /// # Errors
    /// `status` `invalid_status`; `text` as [`AnswerText::parse`] says, or `required` with
    /// `ANSWERED`.
    pub fn parse(status: &str, text: Option<&str>) -> Result<Self, ValidationErrors> {
        let parsed = AnswerStatus::parse(status).ok_or_else(|| {
            FieldError::new(
                "status",
                "invalid_status",
                "ANSWERED, NEEDS_TIME or CLARIFY",
            )
        });
        let needs_text = matches!(parsed, Ok(AnswerStatus::Answered)) && text.is_none();
        let text = match text {
            Some(t) => AnswerText::parse(t).map(Some),
            None if needs_text => Err(FieldError::new(
                "text",
                "required",
                "an answer needs its text",
            )),
            None => Ok(None),
        };
        let (status, text) = (parsed, text).all()?;
        Ok(Self { status, text })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn answer(status: AnswerStatus) -> Answer {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Answer {
            id: Uuid::nil(),
            question_id: Uuid::nil(),
            couple_id: CoupleId(Uuid::nil()),
            author: UserId(Uuid::nil()),
            status,
            text: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn mutual_reveal() {
        let yes = answer(AnswerStatus::Answered);
        let later = answer(AnswerStatus::NeedsTime);
        assert_eq!(reveal(None, None), Reveal::NotAnswered);
        assert_eq!(reveal(Some(&yes), None), Reveal::WaitingForPartner);
        assert_eq!(reveal(None, Some(&yes)), Reveal::WaitingForYou);
        assert_eq!(
            reveal(Some(&later), Some(&yes)),
            Reveal::WaitingForYou,
            "needs-time is not an answer"
        );
        assert_eq!(reveal(Some(&yes), Some(&later)), Reveal::WaitingForPartner);
        assert_eq!(reveal(Some(&yes), Some(&yes)), Reveal::Revealed);
    }

    #[test]
    fn texts_and_statuses() {
        assert_eq!(QuestionText::parse("  ").unwrap_err().code, "required");
        assert_eq!(
            QuestionText::parse(&"x".repeat(1001)).unwrap_err().code,
            "too_long"
        );
        assert_eq!(Theme::parse(&"x".repeat(51)).unwrap_err().code, "too_long");
        assert!(AnswerText::parse("line\nbreak").is_ok());
        assert_eq!(
            AnswerStatus::parse("needs_time"),
            Some(AnswerStatus::NeedsTime)
        );
        assert_eq!(AnswerStatus::parse("maybe"), None);
    }
}
