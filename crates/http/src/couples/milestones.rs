//! The couple's coming milestones: `GET /api/v1/couple/milestones`.

use accueil_app::couples::TogetherError;
use accueil_domain::couples::{CoupleProfile, Milestone, Milestones};
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromQuery, Query};
use crate::problems::Errors;

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(milestones);
}

/// How many milestones.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MilestoneParams {
    /// 1 to 50 (default 10); more is read as 50, 0 as 1.
    #[param(minimum = 0, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
}

/// How many milestones, with the default applied.
struct MilestoneQuery {
    limit: u32,
}

impl FromQuery for MilestoneQuery {
    type Query = MilestoneParams;

    fn from_query(q: MilestoneParams) -> Result<Self, ApiError> {
        Ok(Self {
            limit: q.limit.unwrap_or(10),
        })
    }
}

/// One coming milestone.
#[derive(Serialize, ToSchema)]
pub struct MilestoneBody {
    /// `anniversary` (whole years) or `days` (a round number of days).
    #[schema(example = "days", format = "enum:anniversary,days")]
    pub kind: &'static str,
    /// How many years or days.
    #[schema(example = 1000)]
    pub number: u32,
    /// Its day on the couple's calendar (`YYYY-MM-DD`).
    pub date: NaiveDate,
    /// Days from today to it; 0 when it is today.
    pub days_remaining: i64,
}

impl From<&Milestone> for MilestoneBody {
    fn from(m: &Milestone) -> Self {
        Self {
            kind: m.kind.as_str(),
            number: m.number,
            date: m.date,
            days_remaining: m.days_remaining,
        }
    }
}

/// Where the couple stands and its next milestones.
#[derive(Serialize, ToSchema)]
pub struct MilestonesBody {
    /// The start date counted from.
    pub since: NaiveDate,
    /// Today on the couple's calendar.
    pub today: NaiveDate,
    /// The time zone that decides the day.
    pub time_zone: String,
    /// Days together so far (0 while the start date is still to come).
    pub days_together: i64,
    /// `false` while the start date is still to come.
    pub started: bool,
    /// The next milestones, soonest first (an anniversary before a day count on the same day).
    pub upcoming: Vec<MilestoneBody>,
}

impl MilestonesBody {
    fn new(since: NaiveDate, m: &Milestones, profile: &CoupleProfile) -> Self {
        Self {
            since,
            today: m.today,
            time_zone: profile
                .time_zone
                .as_ref()
                .map_or_else(|| "UTC".to_owned(), |z| z.as_str().to_owned()),
            days_together: m.days_together,
            started: m.started,
            upcoming: m.upcoming.iter().map(MilestoneBody::from).collect(),
        }
    }
}

/// The couple's next milestones, counted from the start date in the couple's time zone:
/// anniversaries every year (a 29 February start has them on 28 February in other years) and
/// round numbers of days — 50, 100, 200, 300, 365, 500, 777, every 1,000, and 1,111 to 9,999
/// with repeated digits — where day N is the start date plus N days. A milestone of today is
/// listed with 0 days remaining.
#[utoipa::path(tag = "couples", security(("bearer" = [])), params(MilestoneParams), responses(
    (status = 200, description = "The milestones", body = MilestonesBody),
    Errors<TogetherError>,
))]
#[get("/couple/milestones")]
async fn milestones(
    app: App,
    auth: Auth,
    Query(q): Query<MilestoneQuery>,
) -> Result<HttpResponse, ApiError> {
    let (profile, since, m) = app.couples.milestones(&auth.0, q.limit).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(MilestonesBody::new(since, &m, &profile)))
}
