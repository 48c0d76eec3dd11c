//! Monthly letters: `/api/v1/letters*`, time-locked with `deliver_on`.

use accueil_app::couples::{
    DeleteLetterError, InCoupleError, InCoupleLookupError, LetterError, WriteLetterError,
};
use accueil_domain::couples::{LetterChanges, LetterDraft, LetterView, Month};
use accueil_domain::validation::{Fields, ValidationErrors};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, FromQuery, Now, Query, Valid, patch_of};
use crate::problems::{Errors, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_letters)
        .service(write_letter)
        .service(get_letter)
        .service(edit_letter)
        .service(delete_letter);
}

/// The letter is sealed for the caller: only the partner who sealed it may change it before its
/// day.
const LETTER_SEALED: Spec = Spec::new(
    409,
    "letter_sealed",
    "the letter is time-locked by the other partner until its `deliver_on` day (in your time zone); until then you may not overwrite, change or delete it",
);

crate::problems!(WriteLetterError {
    via Denied(accueil_app::couples::CoupleDenied), Invalid(ValidationErrors), Store(accueil_app::StoreError);
    Sealed(_) => LETTER_SEALED,
});

crate::problems!(LetterError {
    via Denied(accueil_app::couples::CoupleDenied), NotFound(accueil_app::couples::NotFound), Invalid(ValidationErrors), Store(accueil_app::StoreError);
    Sealed(_) => LETTER_SEALED,
});

crate::problems!(DeleteLetterError {
    via Denied(accueil_app::couples::CoupleDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
    Sealed(_) => LETTER_SEALED,
});

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
    /// Seal the letter until this day (`YYYY-MM-DD`): from today to five years ahead, in your
    /// time zone. Absent: an existing letter keeps its delivery day.
    pub deliver_on: Option<NaiveDate>,
}

/// Letter changes: absent fields are kept; `deliver_on: null` removes the time lock.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LetterPatchRequest {
    /// New content (1 to 20,000 characters); you become its `last_author_id`.
    #[schema(format = "text:20000")]
    pub content: Option<String>,
    /// Seal the letter until this day (today to five years ahead, in your time zone; you
    /// become `sealed_by_id`), or `null` to remove the lock.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub deliver_on: Option<Option<NaiveDate>>,
}

/// A letter, as the caller may see it.
#[derive(Serialize, ToSchema)]
pub struct LetterBody {
    /// Id.
    pub id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    /// Content; `null` while the letter is sealed for the caller.
    pub content: Option<String>,
    /// The day the letter opens for the partner who did not seal it (local midnight in their
    /// time zone), if it is time-locked.
    pub deliver_on: Option<NaiveDate>,
    /// Whether it is sealed for the caller now (then `content` is `null`). Nothing is written
    /// when a letter opens: a client holding a sealed letter fetches it again on its day.
    pub sealed: bool,
    /// The partner who set `deliver_on` (who may see and change it meanwhile).
    pub sealed_by_id: Option<Uuid>,
    /// Who wrote the current content.
    pub last_author_id: Uuid,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&LetterView> for LetterBody {
    fn from(l: &LetterView) -> Self {
        Self {
            id: l.id,
            month: l.month.to_string(),
            content: l.content.as_ref().map(|c| c.as_str().to_owned()),
            deliver_on: l.lock.map(|k| k.deliver_on),
            sealed: l.sealed,
            sealed_by_id: l.lock.map(|k| k.set_by.0),
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
        LetterDraft::parse(&b.month, &b.content, b.deliver_on)
    }
}

impl FromBody for LetterChanges {
    type Body = LetterPatchRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        LetterChanges::parse(b.content.as_deref(), patch_of(b.deliver_on))
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

/// The couple's letters, newest month first (`?month=YYYY-MM` for one month). A letter sealed
/// for the caller comes with `sealed: true` and `content: null`.
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

/// Write the couple's letter of a month: created the first time, its content replaced after
/// (by either partner, unless it is sealed for the caller: `letter_sealed`). With
/// `deliver_on`, the letter is sealed for the other partner until that day begins in their time
/// zone (their profile's, else the couple's, else UTC); without it, an existing lock is kept.
#[utoipa::path(tag = "letters", security(("bearer" = [])), request_body = LetterRequest, responses(
    (status = 200, description = "The letter", body = LetterBody),
    Errors<WriteLetterError>,
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

/// One letter of the couple (`content: null` while it is sealed for the caller).
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

/// Change a letter's content or delivery day, as either partner (not while it is sealed for the
/// caller: `letter_sealed`). `deliver_on: null` removes the time lock.
#[utoipa::path(tag = "letters", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Letter id")), request_body = LetterPatchRequest, responses(
    (status = 200, description = "The letter", body = LetterBody),
    Errors<LetterError>,
))]
#[patch("/letters/{id}")]
async fn edit_letter(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    Valid(changes): Valid<LetterChanges>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(LetterBody::from(
        &app.couples
            .edit_letter(&auth.0, id.into_inner(), changes)
            .await?,
    )))
}

/// Delete a letter, as either partner (not while it is sealed for the caller: `letter_sealed`).
#[utoipa::path(tag = "letters", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Letter id")), responses(
    (status = 204, description = "Deleted"),
    Errors<DeleteLetterError>,
))]
#[delete("/letters/{id}")]
async fn delete_letter(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.couples.delete_letter(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
