//! Liveness and readiness probes, outside `/api`.

use std::collections::BTreeMap;

use accueil_app::{CheckState, Readiness};
use actix_web::http::{StatusCode, header};
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
    /// `/ready` only: each part's state, `ok` or `disabled` (off by setting on this instance).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!({"database": "ok", "events": "ok", "jobs": "ok"}))]
    pub checks: Option<BTreeMap<&'static str, String>>,
}

/// `/ready` when a part is not ready: the problem, and each part's state (`ok`, `disabled`,
/// or what is wrong).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotReadyBody {
    /// The problem (`service_unavailable`).
    #[serde(flatten)]
    pub problem: crate::ProblemBody,
    /// Each part's state.
    #[schema(example = json!({"database": "ok", "events": "ok", "jobs": "no jobs round finished since 2026-11-22 09:30:00 UTC"}))]
    pub checks: BTreeMap<&'static str, String>,
}

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready);
}

/// The process is alive. Touches nothing else, so it stays cheap under load.
#[utoipa::path(tag = "probes", responses((status = 200, description = "Alive", body = HealthBody)))]
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthBody {
        status: "ok",
        checks: None,
    })
}

fn states(readiness: &Readiness) -> BTreeMap<&'static str, String> {
    readiness
        .checks
        .iter()
        .map(|c| {
            let state = match &c.state {
                CheckState::Ok => "ok".to_owned(),
                CheckState::Disabled => "disabled".to_owned(),
                CheckState::Failed(why) => why.clone(),
            };
            (c.name, state)
        })
        .collect()
}

/// The instance can serve: the database answers and its migrations are applied, and the jobs
/// runner does its rounds (unless it is off on this instance). `checks` tells each part.
#[utoipa::path(
    tag = "probes",
    responses(
        (status = 200, description = "Ready", body = HealthBody),
        (status = 503, description = "Database unreachable, migrations pending or jobs runner stalled (`service_unavailable`); `checks` says which", body = NotReadyBody, content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
async fn ready(app: web::Data<accueil_app::App>) -> HttpResponse {
    let readiness = app.ready().await;
    let checks = states(&readiness);
    if readiness.is_ready() {
        return HttpResponse::Ok().json(HealthBody {
            status: "ok",
            checks: Some(checks),
        });
    }
    let failing: Vec<&str> = readiness
        .checks
        .iter()
        .filter(|c| matches!(c.state, CheckState::Failed(_)))
        .map(|c| c.name)
        .collect();
    tracing::warn!(?checks, "not ready");
    let problem = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "Service unavailable",
        format!("not ready: {}", failing.join(", ")),
    );
    HttpResponse::ServiceUnavailable()
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(NotReadyBody {
            problem: problem.body(),
            checks,
        })
}
