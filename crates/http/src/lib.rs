//! Accueil's HTTP adapter: actix-web handlers, request and response DTOs, authentication
//! extractors, RFC 9457 problem responses and the OpenAPI document.
//!
//! Handlers are thin: they turn a DTO into a use-case input, call the application, and map the
//! typed result to a response. Every route is registered through utoipa-actix-web, so a route
//! cannot exist without its OpenAPI operation; a test walks the document against the server.

mod auth;
mod client_ip;
pub mod couples;
mod error;
mod health;
pub mod identity;
mod json;
pub mod memories;
mod metrics;
mod middleware;
mod openapi;
#[cfg(test)]
mod problem_codes_doc;
pub mod problems;
pub mod queues;
pub mod realtime;
mod schema;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Condition, DefaultHeaders, from_fn};
use actix_web::web;
use utoipa_actix_web::{AppExt, scope};

pub use auth::Auth;
pub use client_ip::{ClientIp, TrustedProxies};
pub use error::{ApiError, ProblemBody};
pub use metrics::{Metrics, MetricsAccess, UNMATCHED};
pub use openapi::ApiDoc;
pub use realtime::{Realtime, RealtimeSettings};

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed to call the API from a browser; `*` allows any. Empty: no CORS headers,
    /// so browsers allow same-origin calls only.
    pub cors_origins: Vec<String>,
    /// Largest JSON body accepted, in bytes.
    pub json_limit: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How many photo uploads are read and processed at once; more wait their turn before
    /// their body is read, so memory stays bounded by this times the photo size limit.
    pub upload_concurrency: usize,
    /// Whether password sign-in is on (off: OAuth-only mode, the password routes answer 403
    /// and leave the OpenAPI document).
    pub password_auth: bool,
    /// The app page that browser sign-in flows end on (the result in its fragment).
    pub oauth_redirect_url: String,
    /// Whether cookies are `Secure` (the API is served over HTTPS).
    pub secure_cookies: bool,
    /// What signed photo URLs start with: the configured public URL (absolute URLs), or
    /// empty (URLs relative to the server's root).
    pub photo_url_base: String,
    /// The metrics registry and who may read `/metrics`; `None`: no metrics at all.
    pub metrics: Option<Metrics>,
    /// The realtime hub (one per server, shared by the workers); `None`: WebSocket handshakes
    /// answer 503.
    pub realtime: Option<Realtime>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            json_limit: 64 * 1024,
            trusted_proxies: Vec::new(),
            upload_concurrency: 4,
            password_auth: true,
            oauth_redirect_url: "/".into(),
            secure_cookies: false,
            photo_url_base: String::new(),
            metrics: None,
            realtime: None,
        }
    }
}

/// Every documented route. Registered twice with the same code: once to collect the OpenAPI
/// document, once to serve; so a route cannot be served without being documented.
fn api_routes(
    password_auth: bool,
) -> impl FnOnce(&mut utoipa_actix_web::service_config::ServiceConfig) {
    move |cfg| {
        cfg.service(
            scope("/api/v1")
                .configure(|c| identity::configure(c, password_auth))
                .configure(couples::configure)
                .configure(memories::configure)
                .configure(queues::configure)
                .configure(realtime::configure),
        )
        .configure(health::configure);
    }
}

/// The OpenAPI document of every route, with password sign-in on.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi_for(true)
}

/// The OpenAPI document of the routes served with or without password sign-in.
pub fn openapi_for(password_auth: bool) -> utoipa::openapi::OpenApi {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .configure(api_routes(password_auth))
        .split_for_parts();
    openapi::finish(doc)
}

/// The whole application: routes, OpenAPI document and docs page, middleware.
pub fn build_app(
    app: web::Data<accueil_app::App>,
    settings: HttpSettings,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let doc = openapi_for(settings.password_auth);
    let known = web::Data::new(error::Routes::of(&doc));
    let password_auth = settings.password_auth;
    let metrics = settings.metrics.clone();
    let realtime = settings.realtime.clone();
    // The document's own routes come first: `/api/v1/openapi.json` would otherwise fall into
    // the `/api/v1` scope, which answers 404 for any path it does not know.
    let (routes, _) = actix_web::App::new()
        .configure(move |cfg| openapi::serve(cfg, doc))
        .configure(move |cfg| metrics::serve(cfg, metrics.as_ref()))
        .configure(move |cfg| {
            if !password_auth {
                identity::password_routes_disabled(cfg);
            }
        })
        .into_utoipa_app()
        .app_data(app)
        .app_data(known)
        .app_data(web::Data::new(TrustedProxies(
            settings.trusted_proxies.clone(),
        )))
        .app_data(json::config(settings.json_limit))
        .app_data(memories::JsonLimit(settings.json_limit))
        .app_data(memories::UploadPermits::new(settings.upload_concurrency))
        .app_data(memories::PhotoUrlBase(
            settings.photo_url_base.trim_end_matches('/').to_owned(),
        ))
        .app_data(identity::OAuthWeb {
            redirect_url: settings.oauth_redirect_url.clone(),
            secure_cookies: settings.secure_cookies,
        })
        .configure(move |cfg| {
            if let Some(r) = realtime {
                cfg.app_data(web::Data::new(r));
            }
        })
        .app_data(json::path_config())
        .app_data(json::query_config())
        .configure(api_routes(password_auth))
        .split_for_parts();
    routes
        .default_service(web::to(error::fallback))
        .wrap(from_fn(middleware::head_as_get))
        .wrap(from_fn(middleware::request_context))
        .wrap(Condition::new(
            !settings.cors_origins.is_empty(),
            cors(&settings.cors_origins),
        ))
        .wrap(from_fn(metrics::measure))
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "no-referrer")),
        )
        .wrap(from_fn(middleware::trim_trailing_slash))
}

/// The request headers a browser on another origin may send.
pub const CORS_ALLOWED_HEADERS: [header::HeaderName; 8] = [
    header::AUTHORIZATION,
    header::HeaderName::from_static("x-api-key"),
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::IF_NONE_MATCH,
    header::RANGE,
    header::IF_RANGE,
    header::HeaderName::from_static("x-request-id"),
];

/// The response headers a script on another origin may read.
pub const CORS_EXPOSED_HEADERS: [header::HeaderName; 8] = [
    header::LOCATION,
    header::RETRY_AFTER,
    header::ETAG,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::CONTENT_LENGTH,
    header::WWW_AUTHENTICATE,
    header::HeaderName::from_static("x-request-id"),
];

/// Cross-origin calls: credentials (cookies) are never allowed, so the API's own credentials
/// (`Authorization`, `X-API-Key`) travel as headers the preflight allows.
fn cors(origins: &[String]) -> Cors {
    let base = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers(CORS_ALLOWED_HEADERS)
        .expose_headers(CORS_EXPOSED_HEADERS)
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        base.allow_any_origin()
    } else {
        origins.iter().fold(base, |c, o| c.allowed_origin(o))
    }
}
