//! The change feed: `GET /api/v1/sync/changes`.

use accueil_app::couples::{InCoupleError, SyncRequest};
use accueil_domain::couples::Change;
#[cfg(test)]
use accueil_domain::couples::EntityKind;
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::bad_cursor;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromQuery, Query};
use crate::problems::{Errors, InvalidCursor};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(changes);
}

/// Sync parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncParams {
    /// The `next_cursor` of the previous answer (`0` for everything).
    #[param(format = "feed-cursor")]
    pub cursor: Option<String>,
    /// For the seed apps: changes after this RFC 3339 instant (default: the last 24 hours).
    /// Prefer `cursor`: instants can miss writes.
    pub since: Option<DateTime<Utc>>,
}

/// One change.
#[derive(Serialize, ToSchema)]
pub struct ChangeBody {
    /// What changed.
    #[serde(rename = "type")]
    #[schema(value_type = ChangeKind, example = "question")]
    pub kind: &'static str,
    /// The entity's id.
    pub id: Uuid,
    /// `upsert` (fetch it) or `delete` (drop it).
    #[schema(example = "upsert")]
    pub op: &'static str,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl From<&Change> for ChangeBody {
    fn from(c: &Change) -> Self {
        Self {
            kind: c.kind.as_str(),
            id: c.entity_id,
            op: c.op.as_str(),
            updated_at: c.at,
        }
    }
}

/// A page of the change feed.
#[derive(Serialize, ToSchema)]
pub struct ChangesBody {
    /// Oldest first.
    pub changes: Vec<ChangeBody>,
    /// Send it as `cursor` next time.
    #[schema(example = "42")]
    pub next_cursor: String,
    /// More changes are waiting: call again at once.
    pub has_more: bool,
}

/// What a change entry is about (`EntityKind` in the domain; a test keeps the two the same).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum ChangeKind {
    /// The couple itself (pairing, profile).
    Couple,
    /// A pairing invite.
    Invite,
    /// A question.
    Question,
    /// An answer.
    Answer,
    /// A goal.
    Goal,
    /// An action of a goal.
    GoalAction,
    /// A check-in.
    Checkin,
    /// A letter.
    Letter,
    /// A memory (its photo included).
    Memory,
    /// A perspective (its `id` is its number as a UUID).
    Perspective,
    /// A share link.
    Share,
}

/// The kinds the document lists, as the domain names them.
#[cfg(test)]
const DOCUMENTED_KINDS: [&str; 11] = [
    "couple",
    "invite",
    "question",
    "answer",
    "goal",
    "goal_action",
    "checkin",
    "letter",
    "memory",
    "perspective",
    "share",
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_is_documented() {
        let domain: Vec<&str> = super::EntityKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(domain, super::DOCUMENTED_KINDS);
    }
}

impl FromQuery for SyncRequest {
    type Query = SyncParams;

    fn from_query(q: SyncParams) -> Result<Self, ApiError> {
        Ok(match (&q.cursor, q.since) {
            (Some(c), _) => SyncRequest::After(
                c.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(bad_cursor)?,
            ),
            (None, Some(t)) => SyncRequest::Since(t),
            (None, None) => SyncRequest::Default,
        })
    }
}

/// What changed in the couple since the last call ("smart polling").
///
/// Keep the `next_cursor` and send it back as `cursor`: the feed is numbered by the database,
/// so no change is missed or repeated. Entries name the entity, never its content; a `delete`
/// is a tombstone. Kinds: `couple` (pairing, profile), `invite`, `question`, `answer`, `goal`,
/// `goal_action`, `checkin`, `letter`, `memory` (its photo included), `perspective` (its `id`
/// is the perspective's number as a UUID: `00000000-0000-0000-0000-000000000001` or `…02`;
/// fetch `/api/v1/perspectives/{number}`), `share`.
#[utoipa::path(
    tag = "sync",
    security(("bearer" = [])),
    params(SyncParams),
    responses(
        (status = 200, description = "Changes after the cursor", body = ChangesBody),
        Errors<(InCoupleError, InvalidCursor)>,
    )
)]
#[get("/sync/changes")]
async fn changes(
    app: App,
    auth: Auth,
    Query(request): Query<SyncRequest>,
) -> Result<HttpResponse, ApiError> {
    let page = app.couples.changes(&auth.0, request).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ChangesBody {
            changes: page.changes.iter().map(ChangeBody::from).collect(),
            next_cursor: page.next_cursor.to_string(),
            has_more: page.has_more,
        }))
}
