//! Memories-site routes: `/api/v1/memories*`, `/api/v1/perspectives*`,
//! `/api/v1/couple/shares*` and the public `/api/v1/public/{token}*`.

mod body;
mod memory;
mod perspectives;
mod public;
mod shares;

pub(crate) use body::{JsonLimit, UploadPermits};

use accueil_app::memories::{MemoryError, PerspectiveError, PublicError, ShareError};
use actix_web::http::StatusCode;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::couples::{bad_cursor, not_in_couple};
use crate::error::ApiError;

/// Registers the memories routes (inside `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(memory::list_memories)
        .service(memory::create_memory)
        .service(memory::get_memory)
        .service(memory::update_memory)
        .service(memory::delete_memory)
        .service(memory::memory_photo)
        .service(perspectives::list_perspectives)
        .service(perspectives::get_perspective)
        .service(perspectives::put_perspective)
        .service(shares::create_share)
        .service(shares::list_shares)
        .service(shares::revoke_share)
        .service(public::public_site)
        .service(public::public_photo);
}

/// A bad timeline cursor is 400 `invalid_cursor`, as on every list; other fields are 422.
fn invalid(v: &accueil_domain::validation::ValidationErrors) -> ApiError {
    if v.0.iter().any(|e| e.field == "cursor") {
        bad_cursor()
    } else {
        ApiError::validation(v)
    }
}

impl From<PerspectiveError> for ApiError {
    fn from(e: PerspectiveError) -> Self {
        match e {
            PerspectiveError::NotInCouple(n) => not_in_couple(n),
            PerspectiveError::NotFound => {
                ApiError::not_found("perspectives are numbered 1 (partner A) and 2 (partner B)")
            }
            PerspectiveError::NotYours => ApiError::forbidden(
                "not_your_perspective",
                "a partner writes only their own perspective (A: 1, B: 2)",
            ),
            PerspectiveError::Invalid(v) => ApiError::validation(&v),
            PerspectiveError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<MemoryError> for ApiError {
    fn from(e: MemoryError) -> Self {
        match e {
            MemoryError::NotInCouple(n) => not_in_couple(n),
            MemoryError::NotFound => {
                ApiError::not_found("no such memory (or photo) in your couple")
            }
            MemoryError::Invalid(v) => invalid(&v),
            MemoryError::UnsupportedImage => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_image_type",
                "Unsupported media type",
                "a photo must be a JPEG, PNG or WebP image (judged by its content, not its name)",
            ),
            MemoryError::PhotoTooLarge { max } => {
                crate::json::too_large(format!("a photo is at most {max} bytes"))
            }
            e @ MemoryError::TooManyPixels { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "image_too_large",
                "Image too large",
                e.to_string(),
            ),
            MemoryError::UnreadableImage(detail) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable_image",
                "Unreadable image",
                format!("the photo could not be decoded: {detail}"),
            ),
            e @ MemoryError::Media(_) => ApiError::internal(&e),
            MemoryError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<ShareError> for ApiError {
    fn from(e: ShareError) -> Self {
        match e {
            ShareError::NotInCouple(n) => not_in_couple(n),
            ShareError::NotFound => ApiError::not_found("no such share link in your couple"),
            ShareError::Invalid(v) => ApiError::validation(&v),
            e @ ShareError::TooMany { .. } => ApiError::conflict("too_many_shares", e.to_string()),
            ShareError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<PublicError> for ApiError {
    fn from(e: PublicError) -> Self {
        match e {
            PublicError::NotFound => {
                ApiError::not_found("this link does not exist or no longer works")
            }
            PublicError::Invalid(v) => invalid(&v),
            e @ PublicError::Media(_) => ApiError::internal(&e),
            PublicError::Store(e) => ApiError::store(&e),
        }
    }
}
