//! Couples handlers.

use accueil_app::couples::{AnswerInput, JoinInput, QuestionInput, QuestionPatch, SyncRequest};
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::bad_cursor;
use super::dto::{
    AnswerRequest, ChangeBody, ChangesBody, CoupleBody, CoupleExportBody, InviteBody,
    InviteRequest, JoinRequest, PageParams, QuestionBody, QuestionPage, QuestionPatchRequest,
    QuestionRequest, SyncParams,
};
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ProblemBody};

type App = web::Data<accueil_app::App>;

/// Create a couple; the caller becomes partner A.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` is `/api/v1/couple`", body = CoupleBody),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired`, `session_revoked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`already_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/couple")]
pub(super) async fn create_couple(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let view = app.couples.create(&auth.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/couple"))
        .json(CoupleBody::from(&view)))
}

/// The caller's couple with both partners.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The couple", body = CoupleBody),
        (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/couple")]
pub(super) async fn get_couple(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CoupleBody::from(&app.couples.get(&auth.0).await?)))
}

/// Make a 6-digit invite code for the other partner (a new one revokes the previous one).
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    request_body(content = InviteRequest, description = "Optional; `{}` or no body for the default 60 minutes"),
    responses(
        (status = 201, description = "The code and its expiry", body = InviteBody),
        (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`couple_full`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` on `ttl_minutes` (`out_of_range`)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/couple/invite")]
pub(super) async fn invite(
    app: App,
    auth: Auth,
    body: Option<web::Json<InviteRequest>>,
) -> Result<HttpResponse, ApiError> {
    let ttl = body
        .map(web::Json::into_inner)
        .unwrap_or_default()
        .ttl_minutes;
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
    responses(
        (status = 200, description = "The couple, now full", body = CoupleBody),
        (status = 400, description = "`invalid_code`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`code_used`, `already_in_couple`, `couple_full`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 410, description = "`code_expired`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many attempts for this user or client", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/couple/join")]
pub(super) async fn join(
    app: App,
    auth: Auth,
    ip: ClientIp,
    body: web::Json<JoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = app
        .couples
        .join(
            &auth.0,
            JoinInput {
                code: body.into_inner().code,
                client_ip: ip.0,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(CoupleBody::from(&view)))
}

/// Leave the couple: it is dissolved for both partners. Its content stays available to both,
/// read-only, through `GET /api/v1/couple/export` for 30 days, then is deleted.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Left"),
        (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/couple/leave")]
pub(super) async fn leave(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    app.couples.leave(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The couple's data as JSON: the current couple, or the last one left less than 30 days ago.
#[utoipa::path(
    tag = "couples",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export", body = CoupleExportBody),
        (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/couple/export")]
pub(super) async fn export(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let e = app.couples.export(&auth.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"accueil-couple.json\"",
        ))
        .json(CoupleExportBody {
            couple: CoupleBody::from(&e.couple),
            profile: super::profile::CoupleProfileBody::from(&e.couple.couple.profile),
            questions: e.questions.iter().map(QuestionBody::from).collect(),
            goals: e.goals.iter().map(super::content::GoalBody::from).collect(),
            checkins: e
                .checkins
                .iter()
                .map(super::content::CheckInBody::from)
                .collect(),
            letters: e
                .letters
                .iter()
                .map(super::content::LetterBody::from)
                .collect(),
            exported_at: chrono::Utc::now(),
        }))
}

/// The couple's questions, newest first.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page", body = QuestionPage),
        (status = 400, description = "`invalid_cursor`, `invalid_query`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/qna/questions")]
pub(super) async fn list_questions(
    app: App,
    auth: Auth,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let after = match &q.cursor {
        Some(c) => Some(Uuid::try_parse(c).map_err(|_| bad_cursor())?),
        None => None,
    };
    let page = app
        .couples
        .questions(&auth.0, after, q.limit.unwrap_or(50))
        .await?;
    Ok(HttpResponse::Ok().json(QuestionPage {
        items: page.items.iter().map(QuestionBody::from).collect(),
        next_cursor: page.next.map(|id| id.simple().to_string()),
    }))
}

/// Ask a question.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    request_body = QuestionRequest,
    responses(
        (status = 201, description = "Created", body = QuestionBody),
        (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: text `required` `too_long` `invalid_characters`; theme the same", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/qna/questions")]
pub(super) async fn ask(
    app: App,
    auth: Auth,
    body: web::Json<QuestionRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let view = app
        .couples
        .ask(
            &auth.0,
            QuestionInput {
                text: b.text,
                theme: b.theme,
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/qna/questions/{}", view.question.id),
        ))
        .json(QuestionBody::from(&view)))
}

/// One question with the answers the caller may see.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    responses(
        (status = 200, description = "The question", body = QuestionBody),
        (status = 404, description = "`not_found` (also for another couple's question), `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/qna/questions/{id}")]
pub(super) async fn get_question(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(QuestionBody::from(
        &app.couples.question(&auth.0, id.into_inner()).await?,
    )))
}

/// Edit a question (its author only).
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    request_body = QuestionPatchRequest,
    responses(
        (status = 200, description = "The question", body = QuestionBody),
        (status = 403, description = "`not_author`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[patch("/qna/questions/{id}")]
pub(super) async fn edit_question(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<QuestionPatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let patch = QuestionPatch {
        text: b.text,
        theme: crate::json::patch_of(b.theme),
    };
    let view = app
        .couples
        .edit_question(&auth.0, id.into_inner(), patch)
        .await?;
    Ok(HttpResponse::Ok().json(QuestionBody::from(&view)))
}

/// Delete a question and its answers (its author only).
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`not_author`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[delete("/qna/questions/{id}")]
pub(super) async fn delete_question(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.couples
        .delete_question(&auth.0, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create or update the caller's answer. The partner's answer text stays hidden from the
/// caller until both have answered (`ANSWERED`); `reveal` says where it stands.
#[utoipa::path(
    tag = "qna",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Question id")),
    request_body = AnswerRequest,
    responses(
        (status = 200, description = "The question with its answers", body = QuestionBody),
        (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: status `invalid_status`; text `required` `too_long` `invalid_characters`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/qna/questions/{id}/answers")]
pub(super) async fn answer(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<AnswerRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let view = app
        .couples
        .answer(
            &auth.0,
            id.into_inner(),
            AnswerInput {
                status: b.status,
                text: b.text,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(QuestionBody::from(&view)))
}

/// What changed in the couple since the last call ("smart polling").
///
/// Keep the `next_cursor` and send it back as `cursor`: the feed is numbered by the database,
/// so no change is missed or repeated. Entries name the entity, never its content.
#[utoipa::path(
    tag = "sync",
    security(("bearer" = [])),
    params(SyncParams),
    responses(
        (status = 200, description = "Changes after the cursor", body = ChangesBody),
        (status = 400, description = "`invalid_cursor`, `invalid_query`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/sync/changes")]
pub(super) async fn changes(
    app: App,
    auth: Auth,
    q: web::Query<SyncParams>,
) -> Result<HttpResponse, ApiError> {
    let request = match (&q.cursor, q.since) {
        (Some(c), _) => SyncRequest::After(
            c.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(bad_cursor)?,
        ),
        (None, Some(t)) => SyncRequest::Since(t),
        (None, None) => SyncRequest::Default,
    };
    let page = app.couples.changes(&auth.0, request).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ChangesBody {
            changes: page.changes.iter().map(ChangeBody::from).collect(),
            next_cursor: page.next_cursor.to_string(),
            has_more: page.has_more,
        }))
}
