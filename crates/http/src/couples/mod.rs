//! Couples routes, one file per aggregate: `/api/v1/couple*` (pairing, profile, milestones,
//! export),
//! `/api/v1/qna/*`, `/api/v1/goals*`, `/api/v1/checkins*`, `/api/v1/letters*`,
//! `/api/v1/sync/changes` (feed). Each file holds its bodies, how its errors answer, and its
//! handlers.

mod checkins;
mod feed;
mod goals;
mod letters;
mod milestones;
mod pairing;
pub(crate) mod profile;
mod qna;

use accueil_app::StoreError;
use accueil_app::couples::{
    CoupleDenied, InCoupleError, InCoupleLookupError, NotFound, NotInCouple,
};
use accueil_app::identity::AuthError;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::error::ApiError;
use crate::json::FromQuery;
use crate::problems::{INVALID_CURSOR, Problems, Spec};

pub(crate) use pairing::CoupleExportBody;

/// Registers the couples routes (inside `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(pairing::configure)
        .configure(profile::configure)
        .configure(milestones::configure)
        .configure(qna::configure)
        .configure(goals::configure)
        .configure(checkins::configure)
        .configure(letters::configure)
        .configure(feed::configure);
}

/// 404 `not_in_couple`.
pub(crate) const NOT_IN_COUPLE: Spec = Spec::new(
    404,
    "not_in_couple",
    "the caller has no couple: create one, or join with a code",
);

impl From<NotInCouple> for ApiError {
    fn from(_: NotInCouple) -> Self {
        NOT_IN_COUPLE.answer("you are not in a couple; create one or join with a code")
    }
}

impl Problems for NotInCouple {
    fn specs() -> Vec<Spec> {
        vec![NOT_IN_COUPLE]
    }
}

crate::problems!(CoupleDenied {
    via Auth(AuthError), NotInCouple(NotInCouple);
});

crate::problems!(InCoupleError {
    via Denied(CoupleDenied), Store(StoreError);
});

crate::problems!(InCoupleLookupError {
    via Denied(CoupleDenied), NotFound(NotFound), Store(StoreError);
});

/// Page parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1 to 200 (default 50); more is read as 200, 0 as 1.
    #[param(minimum = 0, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

/// A page position: after the item a previous page's `next_cursor` named, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    /// Where to start.
    pub(crate) after: Option<Uuid>,
    /// How many (the use case bounds it).
    pub(crate) limit: u32,
}

impl FromQuery for Paging {
    type Query = PageParams;

    fn from_query(q: PageParams) -> Result<Self, ApiError> {
        let after = match &q.cursor {
            Some(c) => Some(Uuid::try_parse(c).map_err(|_| bad_cursor())?),
            None => None,
        };
        Ok(Self {
            after,
            limit: q.limit.unwrap_or(50),
        })
    }
}

/// 400 for a list cursor this API did not make.
pub(crate) fn bad_cursor() -> ApiError {
    INVALID_CURSOR.answer("this cursor did not come from this API")
}
