//! Goals and actions, check-ins and letters: DTOs and handlers.

use accueil_app::couples::{
    ActionInput, ActionPatch, CheckInInput, ContentError, GoalInput, GoalPatch, GoalView,
};
use accueil_domain::couples::{CheckIn, GoalAction, Letter};
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{bad_cursor, not_in_couple};
use crate::auth::Auth;
use crate::error::{ApiError, ProblemBody};

type App = web::Data<accueil_app::App>;

impl From<ContentError> for ApiError {
    fn from(e: ContentError) -> Self {
        match e {
            ContentError::NotInCouple(n) => not_in_couple(n),
            ContentError::NotFound => ApiError::not_found("no such resource"),
            ContentError::Transition(t) => ApiError::conflict("invalid_transition", t.to_string()),
            ContentError::Invalid(v) => ApiError::validation(&v),
            ContentError::Store(e) => ApiError::store(&e),
        }
    }
}

/// A new goal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalRequest {
    /// 1 to 200 characters.
    #[schema(example = "Learn Portuguese")]
    pub title: String,
    /// Up to 5,000 characters.
    pub description: Option<String>,
    /// `YYYY-MM-DD`.
    pub target_date: Option<NaiveDate>,
    /// `ACTIVE` (default), `PAUSED` or `DONE`.
    pub status: Option<String>,
}

/// Goal changes: absent fields are kept; `null` clears `description` and `target_date`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalPatchRequest {
    /// Title.
    pub title: Option<String>,
    /// Description, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// Target date, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub target_date: Option<Option<NaiveDate>>,
    /// New status: ACTIVE ↔ PAUSED, ACTIVE → DONE, DONE → ACTIVE.
    pub status: Option<String>,
}

/// An action.
#[derive(Serialize, ToSchema)]
pub struct ActionBody {
    /// Id.
    pub id: Uuid,
    /// The goal.
    pub goal_id: Uuid,
    /// Title.
    pub title: String,
    /// `A`, `B` or `BOTH`.
    pub owner: &'static str,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Done?
    pub done: bool,
    /// When it was done.
    pub completed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&GoalAction> for ActionBody {
    fn from(a: &GoalAction) -> Self {
        Self {
            id: a.id,
            goal_id: a.goal_id,
            title: a.title.as_str().to_owned(),
            owner: a.owner.as_str(),
            due_date: a.due_date,
            done: a.done,
            completed_at: a.completed_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A goal with its actions.
#[derive(Serialize, ToSchema)]
pub struct GoalBody {
    /// Id.
    pub id: Uuid,
    /// Who created it.
    pub author_id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Target date.
    pub target_date: Option<NaiveDate>,
    /// `ACTIVE`, `DONE` or `PAUSED`.
    pub status: &'static str,
    /// When it was marked done.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its actions, oldest first.
    pub actions: Vec<ActionBody>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&GoalView> for GoalBody {
    fn from(v: &GoalView) -> Self {
        let g = &v.goal;
        Self {
            id: g.id,
            author_id: g.author.0,
            title: g.title.as_str().to_owned(),
            description: g.description.as_ref().map(|d| d.as_str().to_owned()),
            target_date: g.target_date,
            status: g.status.as_str(),
            completed_at: g.completed_at,
            actions: v.actions.iter().map(ActionBody::from).collect(),
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A page of goals.
#[derive(Serialize, ToSchema)]
pub struct GoalPage {
    /// Newest first.
    pub items: Vec<GoalBody>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// A new action.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// 1 to 200 characters.
    pub title: String,
    /// `A`, `B` or `BOTH` (default).
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<NaiveDate>,
}

/// Action changes: absent fields are kept; `null` clears `due_date`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionPatchRequest {
    /// Title.
    pub title: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Due date, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub due_date: Option<Option<NaiveDate>>,
    /// Done (sets or clears `completed_at`).
    pub done: Option<bool>,
}

/// Today's check-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    /// 1 to 10.
    #[schema(example = 7)]
    pub mood: i64,
    /// 1 to 10.
    #[schema(example = 4)]
    pub stress: i64,
    /// 1 to 10.
    #[schema(example = 6)]
    pub energy: i64,
    /// Up to 2,000 characters.
    pub note: Option<String>,
}

/// A check-in.
#[derive(Serialize, ToSchema)]
pub struct CheckInBody {
    /// Id.
    pub id: Uuid,
    /// Whose.
    pub user_id: Uuid,
    /// The local day it is for (`YYYY-MM-DD`, in the partner's time zone).
    pub date: NaiveDate,
    /// 1 to 10.
    pub mood: u8,
    /// 1 to 10.
    pub stress: u8,
    /// 1 to 10.
    pub energy: u8,
    /// Note.
    pub note: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&CheckIn> for CheckInBody {
    fn from(c: &CheckIn) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id.0,
            date: c.day,
            mood: c.mood.get(),
            stress: c.stress.get(),
            energy: c.energy.get(),
            note: c.note.as_ref().map(|n| n.as_str().to_owned()),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A page of check-ins.
#[derive(Serialize, ToSchema)]
pub struct CheckInPage {
    /// Newest day first.
    pub items: Vec<CheckInBody>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// Check-in filters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckInParams {
    /// First day (inclusive), `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub to: Option<NaiveDate>,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A letter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LetterRequest {
    /// `YYYY-MM`.
    #[schema(example = "2026-11")]
    pub month: String,
    /// 1 to 20,000 characters.
    pub content: String,
}

/// A letter.
#[derive(Serialize, ToSchema)]
pub struct LetterBody {
    /// Id.
    pub id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    /// Content.
    pub content: String,
    /// Who wrote the current content.
    pub last_author_id: Uuid,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Letter> for LetterBody {
    fn from(l: &Letter) -> Self {
        Self {
            id: l.id,
            month: l.month.to_string(),
            content: l.content.as_str().to_owned(),
            last_author_id: l.last_author.0,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// A page of letters.
#[derive(Serialize, ToSchema)]
pub struct LetterPage {
    /// Newest month first.
    pub items: Vec<LetterBody>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// Letter filters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LetterParams {
    /// Only this month (`YYYY-MM`).
    pub month: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Page parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GoalPageParams {
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// The couple's goals with their actions, newest first.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(GoalPageParams), responses(
    (status = 200, description = "A page", body = GoalPage),
    (status = 400, description = "`invalid_cursor`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/goals")]
pub(super) async fn list_goals(
    app: App,
    auth: Auth,
    q: web::Query<GoalPageParams>,
) -> Result<HttpResponse, ApiError> {
    let after = match &q.cursor {
        Some(c) => Some(Uuid::try_parse(c).map_err(|_| bad_cursor())?),
        None => None,
    };
    let page = app
        .couples
        .goals(&auth.0, after, q.limit.unwrap_or(50))
        .await?;
    Ok(HttpResponse::Ok().json(GoalPage {
        items: page.items.iter().map(GoalBody::from).collect(),
        next_cursor: page.next.map(|id| id.simple().to_string()),
    }))
}

/// Create a goal.
#[utoipa::path(tag = "goals", security(("bearer" = [])), request_body = GoalRequest, responses(
    (status = 201, description = "Created", body = GoalBody),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: title `required` `too_long`; description `too_long`; status `invalid_status`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/goals")]
pub(super) async fn create_goal(
    app: App,
    auth: Auth,
    body: web::Json<GoalRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let view = app
        .couples
        .create_goal(
            &auth.0,
            GoalInput {
                title: b.title,
                description: b.description,
                target_date: b.target_date,
                status: b.status,
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/goals/{}", view.goal.id)))
        .json(GoalBody::from(&view)))
}

/// One goal with its actions.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), responses(
    (status = 200, description = "The goal", body = GoalBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/goals/{id}")]
pub(super) async fn get_goal(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(GoalBody::from(
        &app.couples.goal(&auth.0, id.into_inner()).await?,
    )))
}

/// Change a goal. Status changes follow the rules: ACTIVE ↔ PAUSED, ACTIVE → DONE, DONE → ACTIVE.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), request_body = GoalPatchRequest, responses(
    (status = 200, description = "The goal", body = GoalBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "`invalid_transition`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[patch("/goals/{id}")]
pub(super) async fn edit_goal(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<GoalPatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let patch = GoalPatch {
        title: b.title,
        description: crate::json::patch_of(b.description),
        target_date: crate::json::patch_of(b.target_date),
        status: b.status,
    };
    Ok(HttpResponse::Ok().json(GoalBody::from(
        &app.couples
            .edit_goal(&auth.0, id.into_inner(), patch)
            .await?,
    )))
}

/// Delete a goal and its actions.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), responses(
    (status = 204, description = "Deleted"),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[delete("/goals/{id}")]
pub(super) async fn delete_goal(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.couples.delete_goal(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A goal's actions, oldest first.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), responses(
    (status = 200, description = "The actions", body = [ActionBody]),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/goals/{id}/actions")]
pub(super) async fn list_actions(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actions = app.couples.actions(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(actions.iter().map(ActionBody::from).collect::<Vec<_>>()))
}

/// Add an action to a goal.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), request_body = ActionRequest, responses(
    (status = 201, description = "Created", body = ActionBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: title; owner `invalid_owner`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/goals/{id}/actions")]
pub(super) async fn add_action(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<ActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let goal = id.into_inner();
    let action = app
        .couples
        .add_action(
            &auth.0,
            goal,
            ActionInput {
                title: b.title,
                owner: b.owner,
                due_date: b.due_date,
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/goals/{goal}/actions/{}", action.id),
        ))
        .json(ActionBody::from(&action)))
}

/// Change an action (`done: true` marks it completed).
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id"), ("action_id" = Uuid, Path, description = "Action id")), request_body = ActionPatchRequest, responses(
    (status = 200, description = "The action", body = ActionBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[patch("/goals/{id}/actions/{action_id}")]
pub(super) async fn edit_action(
    app: App,
    auth: Auth,
    ids: web::Path<(Uuid, Uuid)>,
    body: web::Json<ActionPatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let (goal, id) = ids.into_inner();
    let b = body.into_inner();
    let patch = ActionPatch {
        title: b.title,
        owner: b.owner,
        due_date: crate::json::patch_of(b.due_date),
        done: b.done,
    };
    Ok(HttpResponse::Ok().json(ActionBody::from(
        &app.couples.edit_action(&auth.0, goal, id, patch).await?,
    )))
}

/// Delete an action.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id"), ("action_id" = Uuid, Path, description = "Action id")), responses(
    (status = 204, description = "Deleted"),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[delete("/goals/{id}/actions/{action_id}")]
pub(super) async fn delete_action(
    app: App,
    auth: Auth,
    ids: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (goal, id) = ids.into_inner();
    app.couples.delete_action(&auth.0, goal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Both partners' check-ins, newest day first, optionally between two days.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(CheckInParams), responses(
    (status = 200, description = "A page", body = CheckInPage),
    (status = 400, description = "`invalid_cursor`, `invalid_query`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/checkins")]
pub(super) async fn list_checkins(
    app: App,
    auth: Auth,
    q: web::Query<CheckInParams>,
) -> Result<HttpResponse, ApiError> {
    let after = match &q.cursor {
        Some(c) => {
            let (day, id) = c.split_once('_').ok_or_else(bad_cursor)?;
            Some((
                day.parse::<NaiveDate>().map_err(|_| bad_cursor())?,
                Uuid::try_parse(id).map_err(|_| bad_cursor())?,
            ))
        }
        None => None,
    };
    let (items, next) = app
        .couples
        .checkins(&auth.0, q.from, q.to, after, q.limit.unwrap_or(50))
        .await?;
    Ok(HttpResponse::Ok().json(CheckInPage {
        items: items.iter().map(CheckInBody::from).collect(),
        next_cursor: next.map(|(d, id)| format!("{d}_{}", id.simple())),
    }))
}

/// Record today's check-in (the caller's local day, from their profile's time zone; UTC when
/// unset). Posting again the same day updates it.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), request_body = CheckInRequest, responses(
    (status = 200, description = "Today's check-in, created or updated", body = CheckInBody),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: mood, stress, energy `out_of_range`; note `too_long`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/checkins")]
pub(super) async fn check_in(
    app: App,
    auth: Auth,
    body: web::Json<CheckInRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let c = app
        .couples
        .check_in(
            &auth.0,
            CheckInInput {
                mood: b.mood,
                stress: b.stress,
                energy: b.energy,
                note: b.note,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(CheckInBody::from(&c)))
}

/// One check-in of the couple.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Check-in id")), responses(
    (status = 200, description = "The check-in", body = CheckInBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/checkins/{id}")]
pub(super) async fn get_checkin(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CheckInBody::from(
        &app.couples.checkin(&auth.0, id.into_inner()).await?,
    )))
}

/// Delete one of the caller's own check-ins.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Check-in id")), responses(
    (status = 204, description = "Deleted"),
    (status = 404, description = "`not_found` (also for the partner's check-ins), `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[delete("/checkins/{id}")]
pub(super) async fn delete_checkin(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    app.couples.delete_checkin(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The couple's letters, newest month first (`?month=YYYY-MM` for one month).
#[utoipa::path(tag = "letters", security(("bearer" = [])), params(LetterParams), responses(
    (status = 200, description = "A page", body = LetterPage),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: month or cursor `invalid_month`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/letters")]
pub(super) async fn list_letters(
    app: App,
    auth: Auth,
    q: web::Query<LetterParams>,
) -> Result<HttpResponse, ApiError> {
    let (items, next) = app
        .couples
        .letters(
            &auth.0,
            q.month.as_deref(),
            q.cursor.as_deref(),
            q.limit.unwrap_or(50),
        )
        .await?;
    Ok(HttpResponse::Ok().json(LetterPage {
        items: items.iter().map(LetterBody::from).collect(),
        next_cursor: next.map(|m| m.to_string()),
    }))
}

/// Write the couple's letter of a month: created the first time, its content replaced after.
#[utoipa::path(tag = "letters", security(("bearer" = [])), request_body = LetterRequest, responses(
    (status = 200, description = "The letter", body = LetterBody),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: month `invalid_month`; content `required` `too_long`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/letters")]
pub(super) async fn write_letter(
    app: App,
    auth: Auth,
    body: web::Json<LetterRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    Ok(HttpResponse::Ok().json(LetterBody::from(
        &app.couples
            .write_letter(&auth.0, &b.month, &b.content)
            .await?,
    )))
}

/// One letter of the couple.
#[utoipa::path(tag = "letters", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Letter id")), responses(
    (status = 200, description = "The letter", body = LetterBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/letters/{id}")]
pub(super) async fn get_letter(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(LetterBody::from(
        &app.couples.letter(&auth.0, id.into_inner()).await?,
    )))
}
