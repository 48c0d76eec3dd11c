//! Request and response bodies of the couples routes.

use accueil_app::couples::{CoupleView, QuestionView};
use accueil_domain::couples::{Answer, Change, Invite};
use accueil_domain::identity::User;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A partner, as the other partner sees them (no e-mail address).
#[derive(Serialize, ToSchema)]
pub struct PartnerBody {
    /// User id.
    pub id: Uuid,
    /// Display name, if set.
    pub display_name: Option<String>,
    /// Username, if set.
    pub username: Option<String>,
    /// Picture, if set.
    pub avatar_url: Option<String>,
}

impl From<&User> for PartnerBody {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            display_name: u.display_name.as_ref().map(|d| d.as_str().to_owned()),
            username: u.username.as_ref().map(|n| n.as_str().to_owned()),
            avatar_url: u.avatar_url.as_ref().map(|a| a.as_str().to_owned()),
        }
    }
}

/// A couple.
#[derive(Serialize, ToSchema)]
pub struct CoupleBody {
    /// Id.
    pub id: Uuid,
    /// Who created it.
    pub partner_a: PartnerBody,
    /// Who joined, once someone did.
    pub partner_b: Option<PartnerBody>,
    /// Whether both partners are there.
    pub is_full: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When partner B joined.
    pub paired_at: Option<DateTime<Utc>>,
    /// When a partner left (exports only).
    pub dissolved_at: Option<DateTime<Utc>>,
}

impl From<&CoupleView> for CoupleBody {
    fn from(v: &CoupleView) -> Self {
        Self {
            id: v.couple.id.0,
            partner_a: PartnerBody::from(&v.partner_a),
            partner_b: v.partner_b.as_ref().map(PartnerBody::from),
            is_full: v.couple.is_full(),
            created_at: v.couple.created_at,
            paired_at: v.couple.paired_at,
            dissolved_at: v.couple.dissolved_at,
        }
    }
}

/// Invite request.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Lifetime in minutes: 1 to 10080 (7 days); default 60.
    #[schema(example = 60)]
    pub ttl_minutes: Option<i64>,
}

/// An invite code.
#[derive(Serialize, ToSchema)]
pub struct InviteBody {
    /// Six digits to give the other partner.
    #[schema(example = "493027")]
    pub code: String,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
}

impl From<&Invite> for InviteBody {
    fn from(i: &Invite) -> Self {
        Self {
            code: i.code.clone(),
            expires_at: i.expires_at,
        }
    }
}

/// Join request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The 6-digit code.
    #[schema(example = "493027")]
    pub code: String,
}

/// A new question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    /// 1 to 1,000 characters.
    #[schema(example = "Where should we travel next?")]
    pub text: String,
    /// Optional theme (1 to 50 characters).
    #[schema(example = "travel")]
    pub theme: Option<String>,
}

/// Question changes (its author only): absent fields are kept; `theme: null` clears.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionPatchRequest {
    /// New text.
    pub text: Option<String>,
    /// New theme, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub theme: Option<Option<String>>,
}

/// The caller's answer (created, or replaced).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// `ANSWERED`, `NEEDS_TIME` or `CLARIFY`.
    #[schema(example = "ANSWERED")]
    pub status: String,
    /// The answer (required with `ANSWERED`).
    pub text: Option<String>,
}

/// An answer.
#[derive(Serialize, ToSchema)]
pub struct AnswerBody {
    /// Id.
    pub id: Uuid,
    /// Who answered.
    pub author_id: Uuid,
    /// `ANSWERED`, `NEEDS_TIME` or `CLARIFY`.
    pub status: &'static str,
    /// The words; `null` for the partner's answer until both have answered.
    pub text: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Answer> for AnswerBody {
    fn from(a: &Answer) -> Self {
        Self {
            id: a.id,
            author_id: a.author.0,
            status: a.status.as_str(),
            text: a.text.as_ref().map(|t| t.as_str().to_owned()),
            updated_at: a.updated_at,
        }
    }
}

/// A question with the answers the caller may see.
#[derive(Serialize, ToSchema)]
pub struct QuestionBody {
    /// Id.
    pub id: Uuid,
    /// Who asked.
    pub author_id: Uuid,
    /// Text.
    pub text: String,
    /// Theme.
    pub theme: Option<String>,
    /// The answers: the caller's, and the partner's (its text hidden until both answered).
    pub answers: Vec<AnswerBody>,
    /// `revealed`, `waiting_for_partner` (you answered, they have not), `waiting_for_you`
    /// (they answered; answer to see it), `not_answered`.
    #[schema(example = "waiting_for_partner")]
    pub reveal: &'static str,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&QuestionView> for QuestionBody {
    fn from(v: &QuestionView) -> Self {
        Self {
            id: v.question.id,
            author_id: v.question.author.0,
            text: v.question.text.as_str().to_owned(),
            theme: v.question.theme.as_ref().map(|t| t.as_str().to_owned()),
            answers: v
                .mine
                .iter()
                .chain(v.partners.iter())
                .map(AnswerBody::from)
                .collect(),
            reveal: v.reveal.as_str(),
            created_at: v.question.created_at,
            updated_at: v.question.updated_at,
        }
    }
}

/// A page of questions.
#[derive(Serialize, ToSchema)]
pub struct QuestionPage {
    /// Newest first.
    pub items: Vec<QuestionBody>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Page parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// The couple's data.
#[derive(Serialize, ToSchema)]
pub struct CoupleExportBody {
    /// The couple.
    pub couple: CoupleBody,
    /// Its profile.
    pub profile: super::profile::CoupleProfileBody,
    /// Every question, as the caller may see it.
    pub questions: Vec<QuestionBody>,
    /// Every goal with its actions.
    pub goals: Vec<super::content::GoalBody>,
    /// Both partners' check-ins.
    pub checkins: Vec<super::content::CheckInBody>,
    /// Every letter.
    pub letters: Vec<super::content::LetterBody>,
    /// When this export was made.
    pub exported_at: DateTime<Utc>,
}

/// Sync parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    /// The `next_cursor` of the previous answer (`0` for everything).
    pub cursor: Option<String>,
    /// For the seed apps: changes after this RFC 3339 instant (default: the last 24 hours).
    /// Prefer `cursor`: instants can miss writes.
    pub since: Option<DateTime<Utc>>,
}

/// One change.
#[derive(Serialize, ToSchema)]
pub struct ChangeBody {
    /// `couple`, `invite`, `question`, `answer`.
    #[serde(rename = "type")]
    #[schema(example = "question")]
    pub kind: &'static str,
    /// The entity's id.
    pub id: Uuid,
    /// `upsert` (fetch it) or `delete` (drop it).
    #[schema(example = "upsert")]
    pub op: &'static str,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl From<&Change> for ChangeBody {
    fn from(c: &Change) -> Self {
        Self {
            kind: c.kind.as_str(),
            id: c.entity_id,
            op: c.op.as_str(),
            updated_at: c.at,
        }
    }
}

/// A page of the change feed.
#[derive(Serialize, ToSchema)]
pub struct ChangesBody {
    /// Oldest first.
    pub changes: Vec<ChangeBody>,
    /// Send it as `cursor` next time.
    #[schema(example = "42")]
    pub next_cursor: String,
    /// More changes are waiting: call again at once.
    pub has_more: bool,
}
