//! The OpenAPI 3.1 document, generated from the handlers, served at `/api/v1/openapi.json`
//! with a Swagger UI page at `/api/docs` whose assets are compiled into the binary.

use actix_web::web;
use utoipa::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Components, OpenApi as Doc};
use utoipa_swagger_ui::SwaggerUi;

/// The static part of the document; paths and schemas are collected from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Accueil API",
        description = "One backend for the couples app, the couple memories site, SmartQueue, Focus and minimal identity, on a shared identity core.\n\nErrors are RFC 9457 problems (`application/problem+json`) whose `code` is stable: clients switch on it.",
    ),
    tags(
        (name = "auth", description = "Registration, login, tokens and sessions"),
        (name = "users", description = "The caller's account"),
        (name = "couples", description = "Pairing: create, invite, join, leave, export"),
        (name = "qna", description = "Questions and answers, with mutual reveal"),
        (name = "goals", description = "The couple's goals and their actions"),
        (name = "checkins", description = "Daily check-ins: mood, stress, energy"),
        (name = "letters", description = "Monthly letters, one per couple per month"),
        (name = "sync", description = "The couple's change feed"),
        (name = "memories", description = "The couple memories site: memories and photos, perspectives, share links"),
        (name = "tenants", description = "SmartQueue: tenants, their members and roles, the catalogue (sites, services, queues, counters), customers and agents"),
        (name = "tickets", description = "SmartQueue: taking tickets, waiting lists, and the agents' actions"),
        (name = "realtime", description = "Realtime notifications over WebSocket (docs/realtime.md)"),
        (name = "probes", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

pub(crate) fn base() -> Doc {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// Adds what the route collection cannot know: the security schemes, and on every operation
/// that takes a bearer token the API-key alternative, except where credentials are managed.
pub(crate) fn finish(mut doc: Doc) -> Doc {
    let unknown = crate::schema::expand(&mut doc);
    if !unknown.is_empty() {
        tracing::error!(
            ?unknown,
            "request fields name value kinds that do not exist"
        );
    }
    crate::schema::required_when(&mut doc, "AnswerRequest", "status", "ANSWERED", "text");
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ] {
            let Some(op) = op.as_mut() else { continue };
            let extra = transport_problems(path, method, op);
            crate::problems::merge_into(&mut op.responses, &extra);
            let session_only = crate::identity::SESSION_ONLY
                .iter()
                .any(|(m, p)| *m == method && *p == path.as_str());
            if let Some(security) = op.security.as_mut()
                && !security.is_empty()
                && !session_only
            {
                security.push(SecurityRequirement::new("api_key", Vec::<String>::new()));
            }
        }
    }
    let components = doc.components.get_or_insert_with(Components::new);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "Access token from /api/v1/auth/login or /api/v1/auth/refresh",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "A key from POST /api/v1/users/me/api-keys; `read` keys may only make safe requests",
        ))),
    );
    doc
}

/// The problems the server can answer an operation with before or around its use case: a body
/// it cannot read, a malformed query parameter, a path parameter of the wrong form, a `read`
/// API key on a request that changes data, a database that is down or failing. Derived from
/// the operation's shape, so no handler can forget one.
fn transport_problems(
    path: &str,
    method: &str,
    op: &utoipa::openapi::path::Operation,
) -> Vec<crate::problems::Spec> {
    use crate::problems::Problems;
    use utoipa::openapi::path::ParameterIn;
    let mut specs = Vec::new();
    // The authentication extractor refuses a `read` key by the request's method alone, so only
    // an operation that takes credentials and is not a `GET` can answer it.
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) && method != "get" {
        specs.push(crate::auth::READ_ONLY_KEY);
    }
    if op.request_body.is_some() {
        specs.extend(crate::json::body_specs());
    }
    let located = |place: fn(&ParameterIn) -> bool| {
        op.parameters.iter().flatten().any(|p| match p {
            utoipa::openapi::RefOr::T(p) => place(&p.parameter_in),
            utoipa::openapi::RefOr::Ref(_) => false,
        })
    };
    if located(|p| matches!(p, ParameterIn::Query)) {
        specs.push(crate::problems::INVALID_QUERY);
    }
    // A path parameter of the wrong form answers 404; one that takes any text (a provider's
    // name, a share token) cannot be of the wrong form, so only the others can.
    let parsed_path_parameter = op.parameters.iter().flatten().any(|p| match p {
        utoipa::openapi::RefOr::T(p) => {
            matches!(p.parameter_in, ParameterIn::Path)
                && p.schema.as_ref().is_none_or(|schema| {
                    serde_json::to_value(schema).ok() != Some(serde_json::json!({"type": "string"}))
                })
        }
        utoipa::openapi::RefOr::Ref(_) => false,
    });
    if parsed_path_parameter {
        specs.push(crate::problems::NOT_FOUND);
    }
    if path.starts_with("/api/") {
        specs.extend(accueil_app::StoreError::specs());
    }
    specs
}

/// The document at `/api/v1/openapi.json` and the Swagger UI at `/api/docs/`.
pub(crate) fn serve(cfg: &mut web::ServiceConfig, doc: Doc) {
    cfg.service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/v1/openapi.json", doc))
        .service(web::redirect("/api/docs", "/api/docs/"));
}
