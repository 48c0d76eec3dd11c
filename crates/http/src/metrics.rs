//! Prometheus metrics: the HTTP instruments, the middleware that feeds them, and `GET /metrics`.
//!
//! Requests are labelled by the route's template (`/api/v1/goals/{id}`), never by the raw
//! path, and a request no route matches counts as `unmatched`: the number of series stays
//! bounded by the routes, whatever clients send. Methods outside the ones we serve count as
//! `other` for the same reason.
//!
//! `/metrics` is not part of the versioned API, so it stays out of the OpenAPI document; it is
//! not registered at all when metrics are off (a 404 like any unknown path). What only the
//! server can see (the database pools) is registered by the server as a collector on
//! [`Metrics::registry`]; the outbox backlog is read through the application at scrape time.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::error::ApiError;
use crate::middleware::Head;

/// Who may read `/metrics`.
#[derive(Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Not served (404), and no request is measured.
    Off,
    /// Anyone who reaches the port.
    Open,
    /// Only with `Authorization: Bearer <token>`.
    Token(String),
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
            Self::Open => f.write_str("Open"),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

/// The label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets, in seconds: from a cached read to a slow photo upload.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The registry and the instruments this crate feeds. Cheap to clone; one per server, shared
/// by its workers.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    access: MetricsAccess,
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
    outbox: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("access", &self.inner.access)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh registry with the HTTP and outbox instruments.
    ///
    /// # Errors
    /// The library's error if an instrument cannot be made (a programming error: the names
    /// are constant and distinct).
    pub fn new(access: MetricsAccess) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "accueil_http_requests_total",
                "HTTP requests answered, by route template, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "accueil_http_request_duration_seconds",
                "Time to the response's head, by route template and method",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )?;
        let in_flight = IntGauge::new(
            "accueil_http_requests_in_flight",
            "HTTP requests being handled now",
        )?;
        let outbox = IntGaugeVec::new(
            Opts::new(
                "accueil_mail_outbox_entries",
                "Mail outbox entries by delivery state, read at scrape time",
            ),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                access,
                registry,
                requests,
                latency,
                in_flight,
                outbox,
            }),
        })
    }

    /// The registry, where the server adds its own collectors.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Whether `/metrics` is served and requests are measured.
    pub fn enabled(&self) -> bool {
        self.inner.access != MetricsAccess::Off
    }
}

/// The method label: the ones routes serve, else `other` (a client may send any token).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts the request in flight while it runs, even when the client goes away (the future is
/// dropped then, and so is this).
struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Measures every request: count by route, method and status; latency; in flight.
pub(crate) async fn measure(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(metrics) = req
        .app_data::<web::Data<Metrics>>()
        .map(|m| m.inner.clone())
    else {
        return next.call(req).await;
    };
    // HEAD is routed as GET further in; it is still counted as HEAD.
    let method = method_label(req.method());
    metrics.in_flight.inc();
    let _guard = InFlight(metrics.in_flight.clone());
    let started = Instant::now();
    let result = next.call(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (route, status) = match &result {
        Ok(res) => {
            let head = res.request().extensions().get::<Head>().is_some();
            let method = if head { "HEAD" } else { method };
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| UNMATCHED.to_owned());
            (route, (res.status(), method))
        }
        Err(e) => (
            UNMATCHED.to_owned(),
            (e.as_response_error().status_code(), method),
        ),
    };
    let (status, method) = status;
    metrics
        .requests
        .with_label_values(&[route.as_str(), method, status.as_str()])
        .inc();
    metrics
        .latency
        .with_label_values(&[route.as_str(), method])
        .observe(elapsed);
    result
}

/// Compares without stopping at the first difference, so the time taken does not tell how
/// much of a guess was right (only whether its length was).
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn authorised(req: &HttpRequest, access: &MetricsAccess) -> bool {
    match access {
        MetricsAccess::Off => false,
        MetricsAccess::Open => true,
        MetricsAccess::Token(token) => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| same_secret(given.trim().as_bytes(), token.as_bytes())),
    }
}

/// `GET /metrics`, in Prometheus' text format.
async fn scrape(
    req: HttpRequest,
    metrics: web::Data<Metrics>,
    app: web::Data<accueil_app::App>,
) -> Result<HttpResponse, ApiError> {
    let m = &metrics.inner;
    if !authorised(&req, &m.access) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "the metrics token is missing or wrong",
        ));
    }
    match app.notify.backlog().await {
        Ok(counts) => {
            for (state, n) in counts {
                m.outbox
                    .with_label_values(&[state.as_str()])
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        Err(e) => {
            // A scrape still answers with what it has; a stale count would mislead, so the
            // series go until the next scrape that can read them.
            tracing::warn!(error = %e, "metrics: cannot count the outbox");
            m.outbox.reset();
        }
    }
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&m.registry.gather(), &mut body)
        .map_err(|e| {
            tracing::error!(error = %e, "metrics: cannot encode");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the metrics could not be encoded",
            )
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, prometheus::TEXT_FORMAT))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// Registers `/metrics` when metrics are on.
pub(crate) fn serve(cfg: &mut web::ServiceConfig, metrics: Option<&Metrics>) {
    if let Some(m) = metrics.filter(|m| m.enabled()) {
        cfg.app_data(web::Data::new(m.clone())).service(
            web::resource("/metrics")
                .get(scrape)
                .default_service(web::to(crate::error::only_get)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }

    #[test]
    fn the_token_is_redacted() {
        let debug = format!("{:?}", MetricsAccess::Token("s3cret".into()));
        assert!(!debug.contains("s3cret"));
    }
}
