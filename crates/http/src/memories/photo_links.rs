//! Signed photo links: `GET /api/v1/photos/{memory_id}/{size}?v=&expires=&g=&sig=`, served to
//! anyone holding one (no credentials: the signature is the authorisation), and
//! `POST /api/v1/memories/photo-urls/rotate`, which revokes every link of the caller's couple.
//!
//! A link's bytes never change (it names the photo, new for every upload), so it is cached
//! until it expires: `Cache-Control: private, max-age=<seconds left>`, with a strong `ETag`
//! for revalidation and `Range` for partial reads.

use accueil_app::couples::InCoupleError;
use accueil_app::memories::{PhotoLinkError, PresentedLink};
use accueil_domain::memories::PhotoSize;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::memory::{RangeProblems, SizeParam, byte_range, if_none_match, photo_response};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::problems::{Errors, INTERNAL, NOT_FOUND, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(signed_photo).service(rotate_photo_links);
}

crate::problems!(PhotoLinkError {
    via Store(accueil_app::StoreError);
    Invalid => Spec::new(403, "photo_link_invalid", "the photo link's signature is not this server's for it (changed, or made under another server secret), or the couple revoked its links since"),
    Expired => Spec::new(403, "photo_link_expired", "the photo link is authentic but expired: read the memory again for a fresh one"),
    NotFound => NOT_FOUND,
    Media(_) => INTERNAL,
});

/// What a signed link carries besides its path: copy it as the memory body gives it.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignedPhotoParams {
    /// The photo's id (a replaced photo's links stop working).
    pub v: Uuid,
    /// When the link stops working, in Unix seconds.
    #[param(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64)]
    pub expires: i64,
    /// The couple's link generation it was made under (stored as a signed 64-bit number).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub g: u64,
    /// The server's signature (base64url).
    pub sig: String,
}

/// A photo through a signed link, without credentials: the `signed_url` of a memory body's
/// rendition. `Cache-Control: private, max-age=<seconds until the link expires>`, a strong
/// `ETag` (304 on a matching `If-None-Match`), one `Range` of bytes (206, or 416 past the
/// end).
#[utoipa::path(tag = "memories",
    params(
        ("memory_id" = Uuid, Path, description = "The memory"),
        ("size" = inline(SizeParam), Path, description = "`thumb`, `medium` or `original`"),
        SignedPhotoParams,
    ),
    responses(
        (status = 200, description = "The image: image/jpeg, image/png or image/webp", content_type = "image/*"),
        (status = 206, description = "The asked `Range` of the image (`Content-Range` says which)", content_type = "image/*"),
        (status = 304, description = "Not modified"),
        Errors<(PhotoLinkError, RangeProblems)>,
    )
)]
#[get("/photos/{memory_id}/{size}")]
async fn signed_photo(
    app: App,
    path: web::Path<(Uuid, SizeParam)>,
    params: web::Query<SignedPhotoParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (memory, size) = path.into_inner();
    let SignedPhotoParams { v, expires, g, sig } = params.into_inner();
    let file = app
        .memories
        .photo_by_link(
            PresentedLink {
                memory,
                size: PhotoSize::from(size),
                photo: v,
                expires,
                generation: g,
                signature: sig,
            },
            if_none_match(&req),
            byte_range(&req),
        )
        .await?;
    // Served only before `expires`, so at least one second is left.
    let left = (expires - app.now().timestamp()).max(0);
    Ok(photo_response(file, &format!("private, max-age={left}")))
}

/// Revoke every signed photo link of the couple (either partner): links already handed out
/// answer 403 `photo_link_invalid`; memories read from now on carry new ones.
#[utoipa::path(tag = "memories", security(("bearer" = [])), responses(
    (status = 204, description = "Revoked"),
    Errors<InCoupleError>,
))]
#[post("/memories/photo-urls/rotate")]
async fn rotate_photo_links(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    app.memories.rotate_photo_links(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}
