//! Memories-site routes, one file per aggregate: `/api/v1/memories*` (memory),
//! the signed photo links `/api/v1/photos/*` and their revocation (photo_links),
//! `/api/v1/perspectives*`, `/api/v1/couple/shares*` (shares) and the public
//! `/api/v1/public/{token}*`.

mod body;
mod memory;
mod perspectives;
mod photo_links;
mod public;
mod shares;

pub(crate) use body::{JsonLimit, UploadPermits};
pub(crate) use memory::PhotoUrlBase;
pub(crate) use memory::{
    MemoryBody, REVALIDATE, RangeProblems, SizeParam, byte_range, if_none_match, photo_response,
};
pub(crate) use perspectives::PerspectiveBody;
pub(crate) use shares::ShareBody;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the memories routes (inside `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(memory::configure)
        .configure(perspectives::configure)
        .configure(photo_links::configure)
        .configure(shares::configure)
        .configure(public::configure);
}
