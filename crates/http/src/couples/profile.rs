//! `/api/v1/couple/profile` and `/api/v1/couple/together`.

use accueil_app::couples::{CoupleProfilePatch, ProfileError};
use accueil_domain::couples::{CoupleProfile, Together};
use actix_web::{HttpResponse, get, patch, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::not_in_couple;
use crate::auth::Auth;
use crate::error::{ApiError, ProblemBody};
use crate::json::patch_of;

type App = web::Data<accueil_app::App>;

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::NotInCouple(n) => not_in_couple(n),
            ProfileError::NoStartDate => ApiError::conflict(
                "start_date_not_set",
                "set the couple's start_date first (PATCH /api/v1/couple/profile)",
            ),
            ProfileError::Invalid(v) => ApiError::validation(&v),
            ProfileError::Store(e) => ApiError::store(&e),
        }
    }
}

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
    #[schema(value_type = Option<String>, nullable)]
    pub home_message: Option<Option<String>>,
    /// Up to 10,000 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub intro_text: Option<Option<String>>,
    /// IANA time zone (`Europe/Paris`), or `null` for UTC.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable)]
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

/// The couple's profile (partners only).
#[utoipa::path(tag = "couples", security(("bearer" = [])), responses(
    (status = 200, description = "The profile", body = CoupleProfileBody),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/couple/profile")]
pub(super) async fn get_profile(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CoupleProfileBody::from(
        &app.couples.couple_profile(&auth.0).await?,
    )))
}

/// Change the couple's profile (either partner).
#[utoipa::path(tag = "couples", security(("bearer" = [])), request_body = CoupleProfilePatchRequest, responses(
    (status = 200, description = "The profile", body = CoupleProfileBody),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: home_message, intro_text `required` `too_long`; time_zone `unknown_time_zone`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[patch("/couple/profile")]
pub(super) async fn update_profile(
    app: App,
    auth: Auth,
    body: web::Json<CoupleProfilePatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let profile = app
        .couples
        .update_couple_profile(
            &auth.0,
            CoupleProfilePatch {
                start_date: patch_of(b.start_date),
                home_message: patch_of(b.home_message),
                intro_text: patch_of(b.intro_text),
                time_zone: patch_of(b.time_zone),
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(CoupleProfileBody::from(&profile)))
}

/// How long the couple has been together: years, months, days and hours since the start date
/// (midnight in the couple's time zone), counted on the calendar (month lengths, leap years),
/// and the total in days.
#[utoipa::path(tag = "couples", security(("bearer" = [])), responses(
    (status = 200, description = "The counter", body = TogetherBody),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`start_date_not_set`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/couple/together")]
pub(super) async fn together(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let profile = app.couples.couple_profile(&auth.0).await?;
    let (since, t) = app.couples.together(&auth.0).await?;
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
