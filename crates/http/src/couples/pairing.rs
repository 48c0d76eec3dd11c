//! Pairing: `POST`/`GET /api/v1/couple`, `/couple/invite`, `/couple/join`, `/couple/leave`,
//! and the couple export `/couple/export` with its photo links.

use accueil_app::couples::{
    CoupleView, CreateCoupleError, ExportError, InCoupleError, InviteError, JoinError,
};
use accueil_app::identity::AuthError;
use accueil_app::lifecycle::CoupleExport;
use accueil_app::memories::PhotoFileError;
use accueil_domain::couples::{Invite, InviteProblem, InviteTtl, JoinProblem};
use accueil_domain::identity::User;
use accueil_domain::memories::PhotoSize;
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::checkins::CheckInBody;
use super::goals::ExportedGoalBody;
use super::letters::LetterBody;
use super::profile::CoupleProfileBody;
use super::qna::QuestionBody;
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::json::{FromBody, MaybeValid, Now};
use crate::memories::{MemoryBody, PerspectiveBody, ShareBody, photo_response};
use crate::problems::{Errors, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_couple)
        .service(get_couple)
        .service(invite)
        .service(join)
        .service(leave)
        .service(export)
        .service(export_photo);
}

const ALREADY_IN_COUPLE: Spec = Spec::new(
    409,
    "already_in_couple",
    "the caller is in a couple already; leave it first",
);

crate::problems!(CreateCoupleError {
    via Auth(AuthError), Store(accueil_app::StoreError);
    AlreadyInCouple => ALREADY_IN_COUPLE,
});

const COUPLE_FULL: Spec = Spec::new(409, "couple_full", "the couple has both partners");

crate::problems!(InviteError {
    via Denied(accueil_app::couples::CoupleDenied), Store(accueil_app::StoreError);
    CoupleFull => COUPLE_FULL,
});

crate::problems!(JoinProblem {
    via ;
    Invite(InviteProblem::Invalid) => Spec::new(400, "invalid_code", "the code is unknown, malformed or revoked"),
    Invite(InviteProblem::Expired) => Spec::new(410, "code_expired", "the code has expired: ask for a new one"),
    Invite(InviteProblem::Used) => Spec::new(409, "code_used", "the code was already used"),
    AlreadyInCouple => ALREADY_IN_COUPLE,
    CoupleFull => COUPLE_FULL,
});

crate::problems!(JoinError {
    via Auth(AuthError), Refused(JoinProblem), RateLimited(accueil_app::identity::RateLimited), Store(accueil_app::StoreError);
});

crate::problems!(ExportError {
    via Auth(AuthError), NotInCouple(accueil_app::couples::NotInCouple), Store(accueil_app::StoreError);
});

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
    #[serde(default, deserialize_with = "crate::json::optional_integer")]
    #[schema(example = 60, minimum = 1, maximum = 10080)]
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

impl FromBody for InviteTtl {
    type Body = InviteRequest;

    fn from_body(body: InviteRequest, _: Now) -> Result<Self, ValidationErrors> {
        InviteTtl::minutes(body.ttl_minutes).map_err(|e| ValidationErrors(vec![e]))
    }
}

/// The couple's data: the couple, its profile, and every module's content.
#[derive(Serialize, ToSchema)]
pub struct CoupleExportBody {
    /// The couple.
    pub couple: CoupleBody,
    /// Its profile.
    pub profile: CoupleProfileBody,
    /// Every question, as the caller may see it.
    pub questions: Vec<QuestionBody>,
    /// Every goal with its actions.
    pub goals: Vec<ExportedGoalBody>,
    /// Both partners' check-ins.
    pub checkins: Vec<CheckInBody>,
    /// Every letter.
    pub letters: Vec<LetterBody>,
    /// Every memory; its photo's links (`photo.*.url`: thumb, medium and original) are under
    /// `/api/v1/couple/export/`, and work (with the caller's credentials) as long as the export
    /// does: 30 days after the couple was dissolved.
    pub memories: Vec<MemoryBody>,
    /// Both perspective slots.
    pub perspectives: Vec<PerspectiveBody>,
    /// Every share link, in every state (never their tokens).
    pub shares: Vec<ShareBody>,
    /// When this export was made.
    pub exported_at: DateTime<Utc>,
}

impl CoupleExportBody {
    /// The body of an export made at `at`.
    pub(crate) fn of(e: &CoupleExport, at: DateTime<Utc>) -> Self {
        Self {
            couple: CoupleBody::from(&e.couple),
            profile: CoupleProfileBody::from(&e.couple.couple.profile),
            questions: e.questions.iter().map(QuestionBody::from).collect(),
            goals: e.goals.iter().map(ExportedGoalBody::from).collect(),
            checkins: e.checkins.iter().map(CheckInBody::from).collect(),
            letters: e.letters.iter().map(LetterBody::from).collect(),
            memories: e.memories.iter().map(MemoryBody::exported).collect(),
            perspectives: e.perspectives.iter().map(PerspectiveBody::from).collect(),
            shares: e
                .shares
                .iter()
                .map(|s| ShareBody::of(s, s.state(at)))
                .collect(),
            exported_at: at,
        }
    }
}

/// Create a couple; the caller becomes partner A.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` is `/api/v1/couple`", body = CoupleBody),
        Errors<CreateCoupleError>,
    )
)]
#[post("/couple")]
async fn create_couple(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let view = app.couples.create(&auth.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/couple"))
        .json(CoupleBody::from(&view)))
}

/// The caller's couple with both partners.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses((status = 200, description = "The couple", body = CoupleBody), Errors<InCoupleError>)
)]
#[get("/couple")]
async fn get_couple(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CoupleBody::from(&app.couples.get(&auth.0).await?)))
}

/// Make a 6-digit invite code for the other partner (a new one revokes the previous one).
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    request_body(content = Option<InviteRequest>, description = "Optional; `{}` or no body for the default 60 minutes"),
    responses((status = 201, description = "The code and its expiry", body = InviteBody), Errors<InviteError>)
)]
#[post("/couple/invite")]
async fn invite(
    app: App,
    auth: Auth,
    MaybeValid(body): MaybeValid<InviteTtl>,
) -> Result<HttpResponse, ApiError> {
    let ttl = match body {
        Some(ttl) => ttl,
        None => InviteTtl::minutes(None).map_err(|e| ValidationErrors(vec![e]))?,
    };
    let invite = app.couples.invite(&auth.0, ttl).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(InviteBody::from(&invite)))
}

/// Join a couple with its code; the caller becomes partner B.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    request_body = JoinRequest,
    responses((status = 200, description = "The couple, now full", body = CoupleBody), Errors<JoinError>)
)]
#[post("/couple/join")]
async fn join(
    app: App,
    auth: Auth,
    ip: ClientIp,
    body: web::Json<JoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = app.couples.join(&auth.0, &body.code, ip.0).await?;
    Ok(HttpResponse::Ok().json(CoupleBody::from(&view)))
}

/// Leave the couple: it is dissolved for both partners. Its content stays available to both,
/// read-only, through `GET /api/v1/couple/export` for 30 days, then is deleted.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses((status = 204, description = "Left"), Errors<InCoupleError>)
)]
#[post("/couple/leave")]
async fn leave(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    app.couples.leave(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The couple's data as JSON: the current couple, or the last one left less than 30 days ago,
/// with everything every module holds of it (questions, goals, check-ins, letters, memories
/// with links to their photos, perspectives, share links).
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses((status = 200, description = "The export", body = CoupleExportBody), Errors<ExportError>)
)]
#[get("/couple/export")]
async fn export(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let e = app.couples.export(&auth.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"accueil-couple.json\"",
        ))
        .json(CoupleExportBody::of(&e, app.now())))
}

/// Which rendition of an exported photo.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportPhotoParams {
    /// `thumb`, `medium` or `original` (default).
    #[param(inline)]
    pub size: Option<crate::memories::SizeParam>,
}

/// A photo of the couple export: the active couple's, or the last one left less than 30 days
/// ago (the export's own links; they stop working when the export does).
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Memory id"), ExportPhotoParams),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 206, description = "The asked `Range` of the image (`Content-Range` says which)", content_type = "image/*"),
        (status = 304, description = "The `If-None-Match` entity tag is current"),
        Errors<(PhotoFileError, crate::memories::RangeProblems)>,
    )
)]
#[get("/couple/export/memories/{id}/photo")]
async fn export_photo(
    app: App,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    q: web::Query<ExportPhotoParams>,
) -> Result<HttpResponse, ApiError> {
    let size = q.size.map_or(PhotoSize::Original, PhotoSize::from);
    let file = app
        .memories
        .export_photo(
            &auth.0,
            id.into_inner(),
            size,
            crate::memories::if_none_match(&req),
            crate::memories::byte_range(&req),
        )
        .await?;
    Ok(photo_response(file, crate::memories::REVALIDATE))
}
