//! Liveness and readiness probes, outside `/api`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;

/// Probe answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready);
}

/// The process is alive. Touches nothing else, so it stays cheap under load.
#[utoipa::path(tag = "probes", responses((status = 200, description = "Alive", body = HealthBody)))]
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthBody { status: "ok" })
}

/// The database answers, its migrations are applied, and the event listener hears the other
/// instances.
#[utoipa::path(
    tag = "probes",
    responses(
        (status = 200, description = "Ready", body = HealthBody),
        (status = 503, description = "Database unreachable, migrations pending, or the event listener reconnecting (`service_unavailable`; the detail says which)", body = crate::ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
async fn ready(app: web::Data<accueil_app::App>) -> Result<HttpResponse, ApiError> {
    use accueil_app::NotReady;
    match app.ready().await {
        Ok(()) => Ok(HttpResponse::Ok().json(HealthBody { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            // The database's error may name hosts: only the bus's own message is shown.
            let detail = match e {
                NotReady::Store(_) => "the database is not ready".to_owned(),
                NotReady::Events(why) => why,
            };
            Err(ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service unavailable",
                detail,
            ))
        }
    }
}
