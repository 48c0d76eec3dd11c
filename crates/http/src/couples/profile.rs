//! The couple's profile and counter: `GET`/`PATCH /api/v1/couple/profile`,
//! `GET /api/v1/couple/together`.

use accueil_app::couples::{InCoupleError, TogetherError};
use accueil_domain::couples::{CoupleProfile, CoupleProfileChanges, Together};
use accueil_domain::validation::ValidationErrors;
use actix_web::{HttpResponse, get, patch, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Valid, patch_of};
use crate::problems::{Errors, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_profile)
        .service(update_profile)
        .service(together);
}

crate::problems!(TogetherError {
    via Denied(accueil_app::couples::CoupleDenied), Store(accueil_app::StoreError);
    NoStartDate => Spec::new(409, "start_date_not_set", "the counter and the milestones need the couple's `start_date`: set it with `PATCH /api/v1/couple/profile`"),
});

/// The couple's profile.
#[derive(Serialize, ToSchema)]
pub struct CoupleProfileBody {
    /// When they got together (`YYYY-MM-DD`).
    pub start_date: Option<NaiveDate>,
    /// Home page message.
    pub home_message: Option<String>,
    /// Their story.
    pub intro_text: Option<String>,
    /// IANA time zone of the counter (UTC when unset).
    pub time_zone: Option<String>,
}

impl From<&CoupleProfile> for CoupleProfileBody {
    fn from(p: &CoupleProfile) -> Self {
        Self {
            start_date: p.start_date,
            home_message: p.home_message.as_ref().map(|m| m.as_str().to_owned()),
            intro_text: p.intro_text.as_ref().map(|t| t.as_str().to_owned()),
            time_zone: p.time_zone.as_ref().map(|z| z.as_str().to_owned()),
        }
    }
}

/// Profile changes: absent fields are kept, `null` clears.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoupleProfilePatchRequest {
    /// `YYYY-MM-DD`, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub start_date: Option<Option<NaiveDate>>,
    /// Up to 500 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:500")]
    pub home_message: Option<Option<String>>,
    /// Up to 10,000 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:10000")]
    pub intro_text: Option<Option<String>>,
    /// IANA time zone (`Europe/Paris`), or `null` for UTC.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "time-zone")]
    pub time_zone: Option<Option<String>>,
}

/// Time together.
#[derive(Serialize, ToSchema)]
pub struct TogetherBody {
    /// The start date counted from.
    pub since: NaiveDate,
    /// Whole years.
    pub years: u32,
    /// Whole months after the years.
    pub months: u32,
    /// Whole days after the months.
    pub days: u32,
    /// Whole hours after the days.
    pub hours: u32,
    /// Days since the start date.
    pub total_days: i64,
    /// `false` while the start date is still to come (everything is 0 then).
    pub started: bool,
    /// The time zone the counter uses.
    pub time_zone: String,
}

impl FromBody for CoupleProfileChanges {
    type Body = CoupleProfilePatchRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        CoupleProfileChanges::parse(
            patch_of(b.start_date),
            patch_of(b.home_message),
            patch_of(b.intro_text),
            patch_of(b.time_zone),
        )
    }
}

/// The couple's profile (partners only).
#[utoipa::path(tag = "couples", security(("bearer" = [])), responses(
    (status = 200, description = "The profile", body = CoupleProfileBody),
    Errors<InCoupleError>,
))]
#[get("/couple/profile")]
async fn get_profile(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CoupleProfileBody::from(
        &app.couples.couple_profile(&auth.0).await?,
    )))
}

/// Change the couple's profile (either partner): absent fields are kept, `null` clears.
#[utoipa::path(tag = "couples", security(("bearer" = [])), request_body = CoupleProfilePatchRequest, responses(
    (status = 200, description = "The profile", body = CoupleProfileBody),
    Errors<InCoupleError>,
))]
#[patch("/couple/profile")]
async fn update_profile(
    app: App,
    auth: Auth,
    Valid(changes): Valid<CoupleProfileChanges>,
) -> Result<HttpResponse, ApiError> {
    let profile = app.couples.update_couple_profile(&auth.0, changes).await?;
    Ok(HttpResponse::Ok().json(CoupleProfileBody::from(&profile)))
}

/// How long the couple has been together: years, months, days and hours since the start date
/// (midnight in the couple's time zone), counted on the calendar (month lengths, leap years),
/// and the total in days.
#[utoipa::path(tag = "couples", security(("bearer" = [])), responses(
    (status = 200, description = "The counter", body = TogetherBody),
    Errors<TogetherError>,
))]
#[get("/couple/together")]
async fn together(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let (profile, since, t) = app.couples.together(&auth.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TogetherBody::new(since, &t, &profile)))
}

impl TogetherBody {
    /// The counter of a profile whose start date is `since`.
    pub(crate) fn new(since: NaiveDate, t: &Together, profile: &CoupleProfile) -> Self {
        Self {
            since,
            years: t.years,
            months: t.months,
            days: t.days,
            hours: t.hours,
            total_days: t.total_days,
            started: t.started,
            time_zone: profile
                .time_zone
                .as_ref()
                .map_or_else(|| "UTC".to_owned(), |z| z.as_str().to_owned()),
        }
    }
}
