//! Monthly letters: `/api/v1/letters*`.

use accueil_app::couples::{InCoupleError, InCoupleLookupError};
use accueil_domain::couples::{Letter, LetterDraft, Month};
use accueil_domain::validation::{Fields, ValidationErrors};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, FromQuery, Now, Query, Valid};
use crate::problems::Errors;

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_letters)
        .service(write_letter)
        .service(get_letter);
}

/// A letter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LetterRequest {
    /// `YYYY-MM`.
    #[schema(example = "2026-11", format = "month")]
    pub month: String,
    /// 1 to 20,000 characters.
    #[schema(format = "text:20000")]
    pub content: String,
}

/// A letter.
#[derive(Serialize, ToSchema)]
pub struct LetterBody {
    /// Id.
    pub id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    /// Content.
    pub content: String,
    /// Who wrote the current content.
    pub last_author_id: Uuid,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Letter> for LetterBody {
    fn from(l: &Letter) -> Self {
        Self {
            id: l.id,
            month: l.month.to_string(),
            content: l.content.as_str().to_owned(),
            last_author_id: l.last_author.0,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// A page of letters.
#[derive(Serialize, ToSchema)]
pub struct LetterPage {
    /// Newest month first.
    pub items: Vec<LetterBody>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// Letter filters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LetterParams {
    /// Only this month (`YYYY-MM`).
    #[param(format = "month")]
    pub month: Option<String>,
    /// 1 to 200 (default 50); more is read as 200, 0 as 1.
    #[param(minimum = 0, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor` (a month, `YYYY-MM`).
    #[param(format = "month")]
    pub cursor: Option<String>,
}

impl FromBody for LetterDraft {
    type Body = LetterRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        LetterDraft::parse(&b.month, &b.content)
    }
}

/// Which letters: one month, or a page position.
struct LetterQuery {
    month: Option<Month>,
    after: Option<Month>,
    limit: u32,
}

impl FromQuery for LetterQuery {
    type Query = LetterParams;

    fn from_query(q: LetterParams) -> Result<Self, ApiError> {
        let (month, after) = (
            q.month
                .as_deref()
                .map(|m| Month::parse("month", m))
                .transpose(),
            q.cursor
                .as_deref()
                .map(|m| Month::parse("cursor", m))
                .transpose(),
        )
            .all()?;
        Ok(Self {
            month,
            after,
            limit: q.limit.unwrap_or(50),
        })
    }
}

/// The couple's letters, newest month first (`?month=YYYY-MM` for one month).
#[utoipa::path(tag = "letters", security(("bearer" = [])), params(LetterParams), responses(
    (status = 200, description = "A page", body = LetterPage),
    Errors<(InCoupleError, accueil_domain::validation::ValidationErrors)>,
))]
#[get("/letters")]
async fn list_letters(
    app: App,
    auth: Auth,
    Query(q): Query<LetterQuery>,
) -> Result<HttpResponse, ApiError> {
    let (items, next) = app
        .couples
        .letters(&auth.0, q.month, q.after, q.limit)
        .await?;
    Ok(HttpResponse::Ok().json(LetterPage {
        items: items.iter().map(LetterBody::from).collect(),
        next_cursor: next.map(|m| m.to_string()),
    }))
}

/// Write the couple's letter of a month: created the first time, its content replaced after.
#[utoipa::path(tag = "letters", security(("bearer" = [])), request_body = LetterRequest, responses(
    (status = 200, description = "The letter", body = LetterBody),
    Errors<InCoupleError>,
))]
#[post("/letters")]
async fn write_letter(
    app: App,
    auth: Auth,
    Valid(draft): Valid<LetterDraft>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(LetterBody::from(
        &app.couples.write_letter(&auth.0, draft).await?,
    )))
}

/// One letter of the couple.
#[utoipa::path(tag = "letters", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Letter id")), responses(
    (status = 200, description = "The letter", body = LetterBody),
    Errors<InCoupleLookupError>,
))]
#[get("/letters/{id}")]
async fn get_letter(app: App, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(LetterBody::from(
        &app.couples.letter(&auth.0, id.into_inner()).await?,
    )))
}
