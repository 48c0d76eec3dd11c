//! Daily check-ins: `/api/v1/checkins*`.

use accueil_app::couples::{InCoupleError, InCoupleLookupError};
use accueil_domain::couples::{CheckIn, CheckInDraft};
use accueil_domain::validation::ValidationErrors;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::bad_cursor;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, FromQuery, Now, Query, Valid};
use crate::problems::{Errors, InvalidCursor};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_checkins)
        .service(check_in)
        .service(get_checkin)
        .service(delete_checkin);
}

/// Today's check-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    /// 1 to 10.
    #[serde(deserialize_with = "crate::json::integer")]
    #[schema(example = 7, minimum = 1, maximum = 10)]
    pub mood: i64,
    /// 1 to 10.
    #[serde(deserialize_with = "crate::json::integer")]
    #[schema(example = 4, minimum = 1, maximum = 10)]
    pub stress: i64,
    /// 1 to 10.
    #[serde(deserialize_with = "crate::json::integer")]
    #[schema(example = 6, minimum = 1, maximum = 10)]
    pub energy: i64,
    /// Up to 2,000 characters.
    #[schema(format = "text:2000")]
    pub note: Option<String>,
}

/// A check-in.
#[derive(Serialize, ToSchema)]
pub struct CheckInBody {
    /// Id.
    pub id: Uuid,
    /// Whose.
    pub user_id: Uuid,
    /// The local day it is for (`YYYY-MM-DD`, in the partner's time zone).
    pub date: NaiveDate,
    /// 1 to 10.
    pub mood: u8,
    /// 1 to 10.
    pub stress: u8,
    /// 1 to 10.
    pub energy: u8,
    /// Note.
    pub note: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&CheckIn> for CheckInBody {
    fn from(c: &CheckIn) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id.0,
            date: c.day,
            mood: c.mood.get(),
            stress: c.stress.get(),
            energy: c.energy.get(),
            note: c.note.as_ref().map(|n| n.as_str().to_owned()),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A page of check-ins.
#[derive(Serialize, ToSchema)]
pub struct CheckInPage {
    /// Newest day first.
    pub items: Vec<CheckInBody>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// Check-in filters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckInParams {
    /// First day (inclusive), `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub to: Option<NaiveDate>,
    /// 1 to 200 (default 50); more is read as 200, 0 as 1.
    #[param(minimum = 0, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(format = "day-cursor")]
    pub cursor: Option<String>,
}

impl FromBody for CheckInDraft {
    type Body = CheckInRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        CheckInDraft::parse(b.mood, b.stress, b.energy, b.note.as_deref())
    }
}

/// Which check-ins: a day range and a page position.
struct CheckInQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<(NaiveDate, Uuid)>,
    limit: u32,
}

impl FromQuery for CheckInQuery {
    type Query = CheckInParams;

    fn from_query(q: CheckInParams) -> Result<Self, ApiError> {
        let after = match &q.cursor {
            Some(c) => {
                let (day, id) = c.split_once('_').ok_or_else(bad_cursor)?;
                Some((
                    day.parse::<NaiveDate>().map_err(|_| bad_cursor())?,
                    Uuid::try_parse(id).map_err(|_| bad_cursor())?,
                ))
            }
            None => None,
        };
        Ok(Self {
            from: q.from,
            to: q.to,
            after,
            limit: q.limit.unwrap_or(50),
        })
    }
}

/// Both partners' check-ins, newest day first, optionally between two days.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(CheckInParams), responses(
    (status = 200, description = "A page", body = CheckInPage),
    Errors<(InCoupleError, InvalidCursor)>,
))]
#[get("/checkins")]
async fn list_checkins(
    app: App,
    auth: Auth,
    Query(q): Query<CheckInQuery>,
) -> Result<HttpResponse, ApiError> {
    let (items, next) = app
        .couples
        .checkins(&auth.0, q.from, q.to, q.after, q.limit)
        .await?;
    Ok(HttpResponse::Ok().json(CheckInPage {
        items: items.iter().map(CheckInBody::from).collect(),
        next_cursor: next.map(|(d, id)| format!("{d}_{}", id.simple())),
    }))
}

/// Record today's check-in (the caller's local day, from their profile's time zone; UTC when
/// unset). Posting again the same day updates it.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), request_body = CheckInRequest, responses(
    (status = 200, description = "Today's check-in, created or updated", body = CheckInBody),
    Errors<InCoupleError>,
))]
#[post("/checkins")]
async fn check_in(
    app: App,
    auth: Auth,
    Valid(draft): Valid<CheckInDraft>,
) -> Result<HttpResponse, ApiError> {
    let c = app.couples.check_in(&auth.0, draft).await?;
    Ok(HttpResponse::Ok().json(CheckInBody::from(&c)))
}

/// One check-in of the couple.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Check-in id")), responses(
    (status = 200, description = "The check-in", body = CheckInBody),
    Errors<InCoupleLookupError>,
))]
#[get("/checkins/{id}")]
async fn get_checkin(app: App, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CheckInBody::from(
        &app.couples.checkin(&auth.0, id.into_inner()).await?,
    )))
}

/// Delete one of the caller's own check-ins (the partner's answer `not_found`).
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Check-in id")), responses(
    (status = 204, description = "Deleted"),
    Errors<InCoupleLookupError>,
))]
#[delete("/checkins/{id}")]
async fn delete_checkin(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.couples.delete_checkin(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
