//! Perspective routes: `/api/v1/perspectives*`.

use accueil_app::memories::PerspectiveView;
use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, ProblemBody};

type App = web::Data<accueil_app::App>;

/// A perspective slot.
#[derive(Serialize, ToSchema)]
pub struct PerspectiveBody {
    /// 1 (partner A) or 2 (partner B).
    pub number: u8,
    /// The text, `null` until written.
    pub content: Option<String>,
    /// Who wrote it (`null` in the public view).
    pub author_id: Option<Uuid>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&PerspectiveView> for PerspectiveBody {
    fn from(v: &PerspectiveView) -> Self {
        Self {
            number: v.number,
            content: v
                .perspective
                .as_ref()
                .map(|p| p.content.as_str().to_owned()),
            author_id: v.perspective.as_ref().map(|p| p.author.0),
            updated_at: v.perspective.as_ref().map(|p| p.updated_at),
        }
    }
}

/// A perspective's text.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerspectiveRequest {
    /// 1 to 10,000 characters.
    pub content: String,
}

/// Both partners' perspectives.
#[utoipa::path(tag = "memories", security(("bearer" = [])), responses(
    (status = 200, description = "Slots 1 and 2", body = [PerspectiveBody]),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/perspectives")]
pub(super) async fn list_perspectives(app: App, auth: Auth) -> Result<HttpResponse, ApiError> {
    let all = app.memories.perspectives(&auth.0).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(PerspectiveBody::from).collect::<Vec<_>>()))
}

/// One perspective: 1 is partner A's, 2 is partner B's.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("number" = u8, Path, description = "1 or 2")), responses(
    (status = 200, description = "The slot", body = PerspectiveBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/perspectives/{number}")]
pub(super) async fn get_perspective(
    app: App,
    auth: Auth,
    number: web::Path<u8>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PerspectiveBody::from(
        &app.memories
            .perspective(&auth.0, number.into_inner())
            .await?,
    )))
}

/// Write the caller's own perspective (partner A: 1, partner B: 2).
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("number" = u8, Path, description = "1 or 2")), request_body = PerspectiveRequest, responses(
    (status = 200, description = "The slot", body = PerspectiveBody),
    (status = 403, description = "`not_your_perspective`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: content `required` `too_long`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[put("/perspectives/{number}")]
pub(super) async fn put_perspective(
    app: App,
    auth: Auth,
    number: web::Path<u8>,
    body: web::Json<PerspectiveRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = app
        .memories
        .write_perspective(&auth.0, number.into_inner(), &body.content)
        .await?;
    Ok(HttpResponse::Ok().json(PerspectiveBody::from(&view)))
}
