//! Q&A: `/api/v1/qna/questions` and a question's answers, with mutual reveal.

use accueil_app::couples::{InCoupleError, InCoupleLookupError, QnaError, QuestionView};
use accueil_domain::couples::{Answer, AnswerDraft, NewQuestion, QuestionChanges};
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{PageParams, Paging};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Query, Valid, patch_of};
use crate::problems::{Errors, InvalidCursor, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_questions)
        .service(ask)
        .service(get_question)
        .service(edit_question)
        .service(delete_question)
        .service(answer);
}

crate::problems!(QnaError {
    via Denied(accueil_app::couples::CoupleDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
    NotAuthor => Spec::new(403, "not_author", "only the partner who asked may change or delete a question"),
});

/// A new question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    /// 1 to 1,000 characters.
    #[schema(example = "Where should we travel next?", format = "text:1000")]
    pub text: String,
    /// Optional theme (1 to 50 characters).
    #[schema(example = "travel", format = "text:50")]
    pub theme: Option<String>,
}

/// Question changes (its author only): absent fields are kept; `theme: null` clears.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionPatchRequest {
    /// New text (1 to 1,000 characters).
    #[schema(format = "text:1000")]
    pub text: Option<String>,
    /// New theme (1 to 50 characters), or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:50")]
    pub theme: Option<Option<String>>,
}

/// The caller's answer (created, or replaced).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// `ANSWERED`, `NEEDS_TIME` or `CLARIFY`.
    #[schema(example = "ANSWERED", format = "enum:ANSWERED,NEEDS_TIME,CLARIFY")]
    pub status: String,
    /// The answer, 1 to 5,000 characters (required with `ANSWERED`).
    #[schema(format = "text:5000")]
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

impl FromBody for NewQuestion {
    type Body = QuestionRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewQuestion::parse(&b.text, b.theme.as_deref())
    }
}

impl FromBody for QuestionChanges {
    type Body = QuestionPatchRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        QuestionChanges::parse(b.text.as_deref(), patch_of(b.theme))
    }
}

impl FromBody for AnswerDraft {
    type Body = AnswerRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        AnswerDraft::parse(&b.status, b.text.as_deref())
    }
}

/// The couple's questions, newest first.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "A page", body = QuestionPage), Errors<(InCoupleError, InvalidCursor)>)
)]
#[get("/qna/questions")]
async fn list_questions(
    app: App,
    auth: Auth,
    Query(page): Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let page = app
        .couples
        .questions(&auth.0, page.after, page.limit)
        .await?;
    Ok(HttpResponse::Ok().json(QuestionPage {
        items: page.items.iter().map(QuestionBody::from).collect(),
        next_cursor: page.next.map(|id| id.simple().to_string()),
    }))
}

/// Ask a question.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    request_body = QuestionRequest,
    responses((status = 201, description = "Created", body = QuestionBody), Errors<InCoupleError>)
)]
#[post("/qna/questions")]
async fn ask(
    app: App,
    auth: Auth,
    Valid(new): Valid<NewQuestion>,
) -> Result<HttpResponse, ApiError> {
    let view = app.couples.ask(&auth.0, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/qna/questions/{}", view.question.id),
        ))
        .json(QuestionBody::from(&view)))
}

/// One question with the answers the caller may see.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    responses((status = 200, description = "The question", body = QuestionBody), Errors<InCoupleLookupError>)
)]
#[get("/qna/questions/{id}")]
async fn get_question(app: App, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(QuestionBody::from(
        &app.couples.question(&auth.0, id.into_inner()).await?,
    )))
}

/// Edit a question (its author only): absent fields are kept; `theme: null` clears it.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    request_body = QuestionPatchRequest,
    responses((status = 200, description = "The question", body = QuestionBody), Errors<QnaError>)
)]
#[patch("/qna/questions/{id}")]
async fn edit_question(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    Valid(changes): Valid<QuestionChanges>,
) -> Result<HttpResponse, ApiError> {
    let view = app
        .couples
        .edit_question(&auth.0, id.into_inner(), changes)
        .await?;
    Ok(HttpResponse::Ok().json(QuestionBody::from(&view)))
}

/// Delete a question and its answers (its author only).
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    responses((status = 204, description = "Deleted"), Errors<QnaError>)
)]
#[delete("/qna/questions/{id}")]
async fn delete_question(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.couples
        .delete_question(&auth.0, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create or update the caller's answer. The partner's answer text stays hidden from the
/// caller until both have answered (`ANSWERED`); `reveal` says where it stands.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    request_body = AnswerRequest,
    responses((status = 200, description = "The question with its answers", body = QuestionBody), Errors<InCoupleLookupError>)
)]
#[post("/qna/questions/{id}/answers")]
async fn answer(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    Valid(draft): Valid<AnswerDraft>,
) -> Result<HttpResponse, ApiError> {
    let view = app.couples.answer(&auth.0, id.into_inner(), draft).await?;
    Ok(HttpResponse::Ok().json(QuestionBody::from(&view)))
}
