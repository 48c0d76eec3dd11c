//! Daily check-ins: `/api/v1/checkins*`, and their weekly trends.

use accueil_app::couples::{CheckInError, InCoupleError, InCoupleLookupError, Trends};
use accueil_domain::couples::{CheckIn, CheckInChanges, CheckInDraft, TrendWeeks, WeekStats};
use accueil_domain::validation::{Fields, ValidationErrors};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::bad_cursor;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, FromQuery, Now, Query, Valid, patch_of};
use crate::problems::{Errors, InvalidCursor};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    // `trends` before `{id}`: a path that is not an id must not reach the id's extractor. The
    // router skips a resource whose method does not match, so the other methods of
    // `/checkins/trends` are given to the fallback here (405, `Allow: GET, HEAD`), not to
    // `PATCH`/`DELETE /checkins/{id}` (an undocumented route: it serves no operation).
    cfg.service(list_checkins)
        .service(check_in)
        .service(trends)
        .route("/checkins/trends", web::route().to(crate::error::fallback))
        .service(get_checkin)
        .service(edit_checkin)
        .service(delete_checkin);
}

crate::problems!(CheckInError {
    via Denied(accueil_app::couples::CoupleDenied), Invalid(ValidationErrors), Store(accueil_app::StoreError);
});

/// A day's check-in.
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
    /// The day it is for, `YYYY-MM-DD`: today (the default) or one of the 7 days before, in
    /// your time zone (your profile's, else the couple's, else UTC).
    pub date: Option<NaiveDate>,
}

/// Check-in changes: absent fields are kept; `note: null` removes the note. The day stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInPatchRequest {
    /// 1 to 10.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 10)]
    pub mood: Option<i64>,
    /// 1 to 10.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 10)]
    pub stress: Option<i64>,
    /// 1 to 10.
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(minimum = 1, maximum = 10)]
    pub energy: Option<i64>,
    /// Up to 2,000 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:2000")]
    pub note: Option<Option<String>>,
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
        CheckInDraft::parse(b.mood, b.stress, b.energy, b.note.as_deref(), b.date)
    }
}

impl FromBody for CheckInChanges {
    type Body = CheckInPatchRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        CheckInChanges::parse(b.mood, b.stress, b.energy, patch_of(b.note))
    }
}

/// Trend parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// How many ISO weeks, the current one included: 1 to 52 (default 4).
    #[param(minimum = 1, maximum = 52)]
    pub weeks: Option<u32>,
}

impl FromQuery for TrendWeeks {
    type Query = TrendParams;

    fn from_query(q: TrendParams) -> Result<Self, ApiError> {
        let (weeks,) = (q.weeks.map(TrendWeeks::parse).transpose(),).all()?;
        Ok(weeks.unwrap_or(TrendWeeks::DEFAULT))
    }
}

/// One partner's check-ins of one ISO week.
#[derive(Serialize, ToSchema)]
pub struct WeekBody {
    /// The week's Monday.
    pub week_start: NaiveDate,
    /// The ISO week, `YYYY-Www`.
    #[schema(example = "2026-W49")]
    pub week: String,
    /// How many check-ins (0 to 7).
    pub count: u32,
    /// Mean mood (1 to 10), `null` without check-ins.
    pub mood: Option<f64>,
    /// Mean stress, `null` without check-ins.
    pub stress: Option<f64>,
    /// Mean energy, `null` without check-ins.
    pub energy: Option<f64>,
}

impl From<&WeekStats> for WeekBody {
    fn from(w: &WeekStats) -> Self {
        let iso = w.week_start.iso_week();
        Self {
            week_start: w.week_start,
            week: format!("{}-W{:02}", iso.year(), iso.week()),
            count: w.count,
            mood: w.mood,
            stress: w.stress,
            energy: w.energy,
        }
    }
}

/// One partner's weeks.
#[derive(Serialize, ToSchema)]
pub struct PartnerTrendBody {
    /// The partner.
    pub user_id: Uuid,
    /// Oldest week first, the current one last; weeks without check-ins included.
    pub weeks: Vec<WeekBody>,
}

/// Both partners' weekly trends.
#[derive(Serialize, ToSchema)]
pub struct TrendsBody {
    /// The couple's time zone, whose calendar decides the current week (`null`: UTC).
    pub time_zone: Option<String>,
    /// Partner A's, then partner B's (once joined).
    pub partners: Vec<PartnerTrendBody>,
}

impl From<&Trends> for TrendsBody {
    fn from(t: &Trends) -> Self {
        Self {
            time_zone: t.time_zone.as_ref().map(|z| z.as_str().to_owned()),
            partners: t
                .partners
                .iter()
                .map(|p| PartnerTrendBody {
                    user_id: p.user_id.0,
                    weeks: p.weeks.iter().map(WeekBody::from).collect(),
                })
                .collect(),
        }
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

/// Record a check-in for today or, with `date`, one of the 7 days before (days in the caller's
/// time zone: their profile's, else the couple's, else UTC; a later day is `in_future`, an
/// earlier one `too_old`). One per partner per day: posting again for the same day updates it.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), request_body = CheckInRequest, responses(
    (status = 200, description = "The day's check-in, created or updated", body = CheckInBody),
    Errors<CheckInError>,
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

/// Each partner's weekly averages of mood, stress and energy over the last `weeks` ISO weeks
/// (Monday to Sunday), the current one included, "current" by the couple's time zone (UTC
/// when unset). Weeks without a check-in have `count: 0` and `null` averages.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(TrendParams), responses(
    (status = 200, description = "The trends", body = TrendsBody),
    Errors<(InCoupleError, ValidationErrors)>,
))]
#[get("/checkins/trends")]
async fn trends(
    app: App,
    auth: Auth,
    Query(weeks): Query<TrendWeeks>,
) -> Result<HttpResponse, ApiError> {
    let t = app.couples.checkin_trends(&auth.0, weeks).await?;
    Ok(HttpResponse::Ok().json(TrendsBody::from(&t)))
}

/// Change one of the caller's own check-ins (the partner's answer `not_found`, as for a
/// delete: a partner's check-in is theirs alone to write).
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Check-in id")), request_body = CheckInPatchRequest, responses(
    (status = 200, description = "The check-in", body = CheckInBody),
    Errors<InCoupleLookupError>,
))]
#[patch("/checkins/{id}")]
async fn edit_checkin(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    Valid(changes): Valid<CheckInChanges>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CheckInBody::from(
        &app.couples
            .edit_checkin(&auth.0, id.into_inner(), changes)
            .await?,
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
