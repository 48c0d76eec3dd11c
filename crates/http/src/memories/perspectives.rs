//! Perspective routes: `/api/v1/perspectives*`. `PUT /perspectives/{number}` writes one slot,
//! `POST /perspectives {number, content}` creates or replaces one (the seed's form): while the
//! couple has one member they write both; once partner B joins, each writes only their own.

use accueil_app::couples::{InCoupleError, InCoupleLookupError};
use accueil_app::memories::{PerspectiveError, PerspectiveView, UpsertPerspectiveError};
use accueil_domain::memories::{PerspectiveDraft, PerspectiveText};
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Valid};
use crate::problems::{Errors, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_perspectives)
        .service(get_perspective)
        .service(put_perspective)
        .service(upsert_perspective);
}

crate::problems!(PerspectiveError {
    via Denied(accueil_app::couples::CoupleDenied), Store(accueil_app::StoreError);
    NotFound(_) => Spec::new(404, "not_found", "perspectives are numbered 1 (partner A) and 2 (partner B)"),
    NotYours => Spec::new(403, "not_your_perspective", "a partner writes only their own perspective (A: 1, B: 2); a member alone in the couple writes both until a partner joins"),
});

crate::problems!(UpsertPerspectiveError {
    via Denied(accueil_app::couples::CoupleDenied), Store(accueil_app::StoreError);
    NotYours => Spec::new(403, "not_your_perspective", "a partner writes only their own perspective (A: 1, B: 2); a member alone in the couple writes both until a partner joins"),
});

/// A perspective slot.
#[derive(Serialize, ToSchema)]
pub struct PerspectiveBody {
    /// 1 (partner A) or 2 (partner B).
    pub number: u8,
    /// The text, `null` until written.
    pub content: Option<String>,
    /// Who wrote it (`null` in the public view).
    pub author_id: Option<Uuid>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&PerspectiveView> for PerspectiveBody {
    fn from(v: &PerspectiveView) -> Self {
        Self {
            number: v.number,
            content: v
                .perspective
                .as_ref()
                .map(|p| p.content.as_str().to_owned()),
            author_id: v.perspective.as_ref().map(|p| p.author.0),
            updated_at: v.perspective.as_ref().map(|p| p.updated_at),
        }
    }
}

/// A perspective's text.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerspectiveRequest {
    /// 1 to 10,000 characters.
    #[schema(format = "text:10000")]
    pub content: String,
}

/// A perspective to create or replace.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerspectiveUpsertRequest {
    /// 1 (partner A's) or 2 (partner B's).
    #[serde(deserialize_with = "crate::json::integer")]
    #[schema(example = 1, minimum = 1, maximum = 2)]
    pub number: i64,
    /// 1 to 10,000 characters.
    #[schema(format = "text:10000")]
    pub content: String,
}

impl FromBody for PerspectiveDraft {
    type Body = PerspectiveUpsertRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        PerspectiveDraft::parse(b.number, &b.content)
    }
}

impl FromBody for PerspectiveText {
    type Body = PerspectiveRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        PerspectiveText::parse(&b.content).map_err(|e| ValidationErrors(vec![e]))
    }
}

/// Both partners' perspectives.
#[utoipa::path(tag = "memories", security(("bearer" = [])), responses(
    (status = 200, description = "Slots 1 and 2", body = [PerspectiveBody]),
    Errors<InCoupleError>,
))]
#[get("/perspectives")]
async fn list_perspectives(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let all = app.memories.perspectives(&auth.0).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(PerspectiveBody::from).collect::<Vec<_>>()))
}

/// One perspective: 1 is partner A's, 2 is partner B's.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("number" = u8, Path, description = "1 or 2")), responses(
    (status = 200, description = "The slot", body = PerspectiveBody),
    Errors<InCoupleLookupError>,
))]
#[get("/perspectives/{number}")]
async fn get_perspective(
    app: App,
    auth: Auth,
    number: web::Path<u8>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PerspectiveBody::from(
        &app.memories
            .perspective(&auth.0, number.into_inner())
            .await?,
    )))
}

/// Write the caller's own perspective (partner A: 1, partner B: 2; a member alone in the couple
/// writes both until a partner joins).
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("number" = u8, Path, description = "1 or 2")), request_body = PerspectiveRequest, responses(
    (status = 200, description = "The slot", body = PerspectiveBody),
    Errors<PerspectiveError>,
))]
#[put("/perspectives/{number}")]
async fn put_perspective(
    app: App,
    auth: Auth,
    number: web::Path<u8>,
    Valid(content): Valid<PerspectiveText>,
) -> Result<HttpResponse, ApiError> {
    let view = app
        .memories
        .write_perspective(&auth.0, number.into_inner(), content)
        .await?;
    Ok(HttpResponse::Ok().json(PerspectiveBody::from(&view)))
}

/// Create or replace a perspective: `{number, content}`. Partner A writes 1 and B writes 2;
/// while nobody has joined, A writes both, and a number 2 that A wrote alone becomes B's to
/// rewrite once B joins. 201 when the slot was empty, 200 when its text was replaced.
#[utoipa::path(tag = "memories", security(("bearer" = [])), request_body = PerspectiveUpsertRequest, responses(
    (status = 200, description = "Replaced", body = PerspectiveBody),
    (status = 201, description = "Created", body = PerspectiveBody),
    Errors<UpsertPerspectiveError>,
))]
#[post("/perspectives")]
async fn upsert_perspective(
    app: App,
    auth: Auth,
    Valid(draft): Valid<PerspectiveDraft>,
) -> Result<HttpResponse, ApiError> {
    let (view, created) = app.memories.upsert_perspective(&auth.0, draft).await?;
    let body = PerspectiveBody::from(&view);
    Ok(if created {
        HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("/api/v1/perspectives/{}", view.number),
            ))
            .json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
