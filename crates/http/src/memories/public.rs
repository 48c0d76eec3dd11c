//! The public view of a share link: `/api/v1/public/{token}*`, without credentials. Every
//! failure is the same 404, so a link tells nothing about why it does not work.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use accueil_app::memories::{PublicError, PublicPhotoError};
use accueil_domain::memories::TimelinePage;
use utoipa_actix_web::service_config::ServiceConfig;

use super::memory::{
    MemoryPage, PhotoParams, REVALIDATE, RangeProblems, TimelineParams, TimelineProblems,
    byte_range, if_none_match, photo_response,
};
use super::perspectives::PerspectiveBody;
use crate::couples::profile::{CoupleProfileBody, TogetherBody};
use crate::error::ApiError;
use crate::json::Query;
use crate::problems::{Errors, INTERNAL, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(public_site).service(public_photo);
}

/// 404 for anything wrong with a share link: one answer, so a link tells nothing of why.
const LINK_NOT_FOUND: Spec = Spec::new(
    404,
    "not_found",
    "unknown, revoked or expired link, dissolved couple, or a memory the link does not show: all alike",
);

crate::problems!(PublicError {
    via Store(accueil_app::StoreError);
    NotFound => LINK_NOT_FOUND,
});

crate::problems!(PublicPhotoError {
    via Store(accueil_app::StoreError);
    NotFound => LINK_NOT_FOUND,
    Media(_) => INTERNAL,
});

/// What a share link shows.
#[derive(Serialize, ToSchema)]
pub struct PublicSiteBody {
    /// The couple's profile.
    pub profile: CoupleProfileBody,
    /// Time together; `null` until the start date is set.
    pub together: Option<TogetherBody>,
    /// Both perspectives.
    pub perspectives: Vec<PerspectiveBody>,
    /// A page of the shared memories (photo URLs work through this link only).
    pub memories: MemoryPage,
    /// When the link stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A couple's site through a share link, read-only.
#[utoipa::path(tag = "memories", params(("token" = String, Path, description = "The share token"), TimelineParams), responses(
    (status = 200, description = "The shared site", body = PublicSiteBody),
    Errors<(PublicError, TimelineProblems)>,
))]
#[get("/public/{token}")]
async fn public_site(
    app: App,
    token: web::Path<String>,
    Query(page): Query<TimelinePage>,
) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let site = app.memories.public_site(&token, page).await?;
    let base = format!("/api/v1/public/{token}/memories");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(PublicSiteBody {
            profile: CoupleProfileBody::from(&site.profile),
            together: site
                .together
                .map(|(since, t)| TogetherBody::new(since, &t, &site.profile)),
            perspectives: site
                .perspectives
                .iter()
                .map(|p| PerspectiveBody {
                    author_id: None,
                    ..PerspectiveBody::from(p)
                })
                .collect(),
            memories: MemoryPage::public(&site.memories, &base),
            expires_at: site.share.expires_at,
        }))
}

/// A shared memory's photo through the share link.
#[utoipa::path(tag = "memories", params(("token" = String, Path, description = "The share token"), ("id" = Uuid, Path), PhotoParams), responses(
    (status = 200, description = "The image: image/jpeg, image/png or image/webp", content_type = "image/*"),
    (status = 206, description = "The asked `Range` of the image (`Content-Range` says which)", content_type = "image/*"),
    (status = 304, description = "Not modified"),
    Errors<(PublicPhotoError, RangeProblems)>,
))]
#[get("/public/{token}/memories/{id}/photo")]
async fn public_photo(
    app: App,
    path: web::Path<(String, Uuid)>,
    params: web::Query<PhotoParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let size = params.size();
    let (token, id) = path.into_inner();
    let file = app
        .memories
        .public_photo(&token, id, size, if_none_match(&req), byte_range(&req))
        .await?;
    Ok(photo_response(file, REVALIDATE))
}
