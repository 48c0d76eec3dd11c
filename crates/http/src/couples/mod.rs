//! Couples routes: `/api/v1/couple*`, `/api/v1/qna/*`, `/api/v1/goals*`, `/api/v1/checkins*`,
//! `/api/v1/letters*`, `/api/v1/sync/changes`.

mod content;
mod dto;
mod handlers;
pub(crate) mod profile;

use accueil_app::couples::{
    InviteError, JoinError, NotInCouple, PairingError, QnaError, SyncError,
};
use accueil_domain::couples::{InviteProblem, JoinProblem};
use actix_web::http::StatusCode;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;

/// Registers the couples routes (inside `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::create_couple)
        .service(handlers::get_couple)
        .service(profile::get_profile)
        .service(profile::update_profile)
        .service(profile::together)
        .service(handlers::invite)
        .service(handlers::join)
        .service(handlers::leave)
        .service(handlers::export)
        .service(handlers::list_questions)
        .service(handlers::ask)
        .service(handlers::get_question)
        .service(handlers::edit_question)
        .service(handlers::delete_question)
        .service(handlers::answer)
        .service(handlers::changes)
        .service(content::list_goals)
        .service(content::create_goal)
        .service(content::get_goal)
        .service(content::edit_goal)
        .service(content::delete_goal)
        .service(content::list_actions)
        .service(content::add_action)
        .service(content::edit_action)
        .service(content::delete_action)
        .service(content::list_checkins)
        .service(content::check_in)
        .service(content::get_checkin)
        .service(content::delete_checkin)
        .service(content::list_letters)
        .service(content::write_letter)
        .service(content::get_letter);
}

pub(crate) fn not_in_couple(_: NotInCouple) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_in_couple",
        "Not found",
        "you are not in a couple; create one or join with a code",
    )
}

/// 400 for a list cursor this API did not make.
pub(crate) fn bad_cursor() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
        "Bad request",
        "this cursor did not come from this API",
    )
}

impl From<PairingError> for ApiError {
    fn from(e: PairingError) -> Self {
        match e {
            PairingError::NotInCouple(n) => not_in_couple(n),
            PairingError::AlreadyInCouple => {
                ApiError::conflict("already_in_couple", "you are in a couple already")
            }
            PairingError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<InviteError> for ApiError {
    fn from(e: InviteError) -> Self {
        match e {
            InviteError::NotInCouple(n) => not_in_couple(n),
            InviteError::CoupleFull => {
                ApiError::conflict("couple_full", "the couple has both partners")
            }
            InviteError::Invalid(v) => ApiError::validation(&v),
            InviteError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<JoinError> for ApiError {
    fn from(e: JoinError) -> Self {
        match e {
            JoinError::Refused(JoinProblem::Invite(InviteProblem::Invalid)) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_code",
                "Bad request",
                "this code is not valid",
            ),
            JoinError::Refused(JoinProblem::Invite(InviteProblem::Expired)) => ApiError::new(
                StatusCode::GONE,
                "code_expired",
                "Gone",
                "this code has expired; ask for a new one",
            ),
            JoinError::Refused(JoinProblem::Invite(InviteProblem::Used)) => {
                ApiError::conflict("code_used", "this code was already used")
            }
            JoinError::Refused(JoinProblem::AlreadyInCouple) => ApiError::conflict(
                "already_in_couple",
                "you are in a couple already; leave it first",
            ),
            JoinError::Refused(JoinProblem::CoupleFull) => {
                ApiError::conflict("couple_full", "this couple has both partners")
            }
            JoinError::RateLimited(r) => ApiError::rate_limited(r.retry_after),
            JoinError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<QnaError> for ApiError {
    fn from(e: QnaError) -> Self {
        match e {
            QnaError::NotInCouple(n) => not_in_couple(n),
            QnaError::NotFound => ApiError::not_found("no such question"),
            QnaError::NotAuthor => ApiError::forbidden(
                "not_author",
                "only the partner who asked may change or delete a question",
            ),
            QnaError::Invalid(v) => ApiError::validation(&v),
            QnaError::Store(e) => ApiError::store(&e),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::NotInCouple(n) => not_in_couple(n),
            SyncError::Store(e) => ApiError::store(&e),
        }
    }
}
