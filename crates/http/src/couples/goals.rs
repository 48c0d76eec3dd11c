//! Goals and their actions: `/api/v1/goals*`.

use accueil_app::couples::{
    GoalError, GoalView, GoalWithActions, InCoupleError, InCoupleLookupError,
};
use accueil_domain::couples::{
    ActionChanges, ActionCounts, Goal, GoalAction, GoalChanges, NewAction, NewGoal,
};
use accueil_domain::validation::ValidationErrors;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{PageParams, Paging};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Query, Valid, patch_of};
use crate::problems::{Errors, InvalidCursor, Spec};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_goals)
        .service(create_goal)
        .service(get_goal)
        .service(edit_goal)
        .service(delete_goal)
        .service(list_actions)
        .service(add_action)
        .service(edit_action)
        .service(delete_action);
}

crate::problems!(GoalError {
    via Denied(accueil_app::couples::CoupleDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
    Transition(_) => Spec::new(409, "invalid_transition", "a goal status change the rules forbid: only DONE → PAUSED (reopen as ACTIVE first)"),
});

/// A new goal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalRequest {
    /// 1 to 200 characters.
    #[schema(example = "Learn Portuguese", format = "text:200")]
    pub title: String,
    /// Up to 5,000 characters.
    #[schema(format = "text:5000")]
    pub description: Option<String>,
    /// `YYYY-MM-DD`.
    pub target_date: Option<NaiveDate>,
    /// `ACTIVE` (default), `PAUSED` or `DONE`.
    #[schema(format = "enum:ACTIVE,PAUSED,DONE")]
    pub status: Option<String>,
}

/// Goal changes: absent fields are kept; `null` clears `description` and `target_date`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalPatchRequest {
    /// Title (1 to 200 characters).
    #[schema(format = "text:200")]
    pub title: Option<String>,
    /// Description (up to 5,000 characters), or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:5000")]
    pub description: Option<Option<String>>,
    /// Target date, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub target_date: Option<Option<NaiveDate>>,
    /// New status: any change but DONE → PAUSED (ACTIVE ↔ PAUSED, ACTIVE → DONE,
    /// PAUSED → DONE, DONE → ACTIVE).
    #[schema(format = "enum:ACTIVE,PAUSED,DONE")]
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

/// How many actions a goal has, and how many are done.
#[derive(Serialize, ToSchema)]
pub struct ActionCountsBody {
    /// All its actions.
    pub total: u32,
    /// Those marked done.
    pub done: u32,
}

impl From<ActionCounts> for ActionCountsBody {
    fn from(c: ActionCounts) -> Self {
        Self {
            total: c.total,
            done: c.done,
        }
    }
}

/// A goal's own fields, shared by its answer and its export.
#[derive(Serialize, ToSchema)]
pub struct GoalFields {
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
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Goal> for GoalFields {
    fn from(g: &Goal) -> Self {
        Self {
            id: g.id,
            author_id: g.author.0,
            title: g.title.as_str().to_owned(),
            description: g.description.as_ref().map(|d| d.as_str().to_owned()),
            target_date: g.target_date,
            status: g.status.as_str(),
            completed_at: g.completed_at,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A goal with the counts of its actions (list them with `GET /api/v1/goals/{id}/actions`).
#[derive(Serialize, ToSchema)]
pub struct GoalBody {
    /// The goal.
    #[serde(flatten)]
    pub goal: GoalFields,
    /// How many actions it has, and how many are done.
    pub actions: ActionCountsBody,
}

impl From<&GoalView> for GoalBody {
    fn from(v: &GoalView) -> Self {
        Self {
            goal: GoalFields::from(&v.goal),
            actions: v.actions.into(),
        }
    }
}

/// A goal in the couple's export: every field of a goal, and all its actions (a document of
/// record is not paged).
#[derive(Serialize, ToSchema)]
pub struct ExportedGoalBody {
    /// The goal.
    #[serde(flatten)]
    pub goal: GoalFields,
    /// All its actions, oldest first.
    pub actions: Vec<ActionBody>,
}

impl From<&GoalWithActions> for ExportedGoalBody {
    fn from(v: &GoalWithActions) -> Self {
        Self {
            goal: GoalFields::from(&v.goal),
            actions: v.actions.iter().map(ActionBody::from).collect(),
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

/// A page of a goal's actions.
#[derive(Serialize, ToSchema)]
pub struct ActionPage {
    /// Oldest first.
    pub items: Vec<ActionBody>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// A new action.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// 1 to 200 characters.
    #[schema(format = "text:200")]
    pub title: String,
    /// `A`, `B` or `BOTH` (default).
    #[schema(format = "enum:A,B,BOTH")]
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<NaiveDate>,
}

/// Action changes: absent fields are kept; `null` clears `due_date`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionPatchRequest {
    /// Title (1 to 200 characters).
    #[schema(format = "text:200")]
    pub title: Option<String>,
    /// Owner: `A`, `B` or `BOTH`.
    #[schema(format = "enum:A,B,BOTH")]
    pub owner: Option<String>,
    /// Due date, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub due_date: Option<Option<NaiveDate>>,
    /// Done (sets or clears `completed_at`).
    pub done: Option<bool>,
}

impl FromBody for NewGoal {
    type Body = GoalRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewGoal::parse(
            &b.title,
            b.description.as_deref(),
            b.target_date,
            b.status.as_deref(),
        )
    }
}

impl FromBody for GoalChanges {
    type Body = GoalPatchRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        GoalChanges::parse(
            b.title.as_deref(),
            patch_of(b.description),
            patch_of(b.target_date),
            b.status.as_deref(),
        )
    }
}

impl FromBody for NewAction {
    type Body = ActionRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewAction::parse(&b.title, b.owner.as_deref(), b.due_date)
    }
}

impl FromBody for ActionChanges {
    type Body = ActionPatchRequest;

    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        ActionChanges::parse(
            b.title.as_deref(),
            b.owner.as_deref(),
            patch_of(b.due_date),
            b.done,
        )
    }
}

/// The couple's goals with their action counts, newest first.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, description = "A page", body = GoalPage),
    Errors<(InCoupleError, InvalidCursor)>,
))]
#[get("/goals")]
async fn list_goals(
    app: App,
    auth: Auth,
    Query(page): Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let page = app.couples.goals(&auth.0, page.after, page.limit).await?;
    Ok(HttpResponse::Ok().json(GoalPage {
        items: page.items.iter().map(GoalBody::from).collect(),
        next_cursor: page.next.map(|id| id.simple().to_string()),
    }))
}

/// Create a goal.
#[utoipa::path(tag = "goals", security(("bearer" = [])), request_body = GoalRequest, responses(
    (status = 201, description = "Created", body = GoalBody),
    Errors<InCoupleError>,
))]
#[post("/goals")]
async fn create_goal(
    app: App,
    auth: Auth,
    Valid(new): Valid<NewGoal>,
) -> Result<HttpResponse, ApiError> {
    let view = app.couples.create_goal(&auth.0, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/goals/{}", view.goal.id)))
        .json(GoalBody::from(&view)))
}

/// One goal with its action counts.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), responses(
    (status = 200, description = "The goal", body = GoalBody),
    Errors<InCoupleLookupError>,
))]
#[get("/goals/{id}")]
async fn get_goal(app: App, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(GoalBody::from(
        &app.couples.goal(&auth.0, id.into_inner()).await?,
    )))
}

/// Change a goal. Status changes follow the rules: any change but DONE → PAUSED (a finished goal
/// is reopened as ACTIVE first).
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), request_body = GoalPatchRequest, responses(
    (status = 200, description = "The goal", body = GoalBody),
    Errors<GoalError>,
))]
#[patch("/goals/{id}")]
async fn edit_goal(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    Valid(changes): Valid<GoalChanges>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(GoalBody::from(
        &app.couples
            .edit_goal(&auth.0, id.into_inner(), changes)
            .await?,
    )))
}

/// Delete a goal and its actions.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), responses(
    (status = 204, description = "Deleted"),
    Errors<InCoupleLookupError>,
))]
#[delete("/goals/{id}")]
async fn delete_goal(app: App, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    app.couples.delete_goal(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A goal's actions, oldest first, page by page.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id"), PageParams), responses(
    (status = 200, description = "A page", body = ActionPage),
    Errors<(InCoupleLookupError, InvalidCursor)>,
))]
#[get("/goals/{id}/actions")]
async fn list_actions(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    Query(page): Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let page = app
        .couples
        .actions(&auth.0, id.into_inner(), page.after, page.limit)
        .await?;
    Ok(HttpResponse::Ok().json(ActionPage {
        items: page.items.iter().map(ActionBody::from).collect(),
        next_cursor: page.next.map(|id| id.simple().to_string()),
    }))
}

/// Add an action to a goal.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id")), request_body = ActionRequest, responses(
    (status = 201, description = "Created", body = ActionBody),
    Errors<InCoupleLookupError>,
))]
#[post("/goals/{id}/actions")]
async fn add_action(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    Valid(new): Valid<NewAction>,
) -> Result<HttpResponse, ApiError> {
    let goal = id.into_inner();
    let action = app.couples.add_action(&auth.0, goal, new).await?;
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
    Errors<InCoupleLookupError>,
))]
#[patch("/goals/{id}/actions/{action_id}")]
async fn edit_action(
    app: App,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    Valid(changes): Valid<ActionChanges>,
) -> Result<HttpResponse, ApiError> {
    let (goal, id) = path.into_inner();
    let action = app.couples.edit_action(&auth.0, goal, id, changes).await?;
    Ok(HttpResponse::Ok().json(ActionBody::from(&action)))
}

/// Delete an action.
#[utoipa::path(tag = "goals", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Goal id"), ("action_id" = Uuid, Path, description = "Action id")), responses(
    (status = 204, description = "Deleted"),
    Errors<InCoupleLookupError>,
))]
#[delete("/goals/{id}/actions/{action_id}")]
async fn delete_action(
    app: App,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (goal, id) = path.into_inner();
    app.couples.delete_action(&auth.0, goal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
