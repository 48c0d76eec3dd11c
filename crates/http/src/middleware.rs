//! Request context: the request id, and one log line per request; HEAD answered as GET.
//!
//! The id comes from the client's `X-Request-Id` when it is a short printable token (so a
//! mobile app or a load balancer can correlate), otherwise a new UUID; it is echoed on every
//! response. The log line carries method, path (never the query string, which may hold
//! tokens; share tokens in `/api/v1/public/...` paths are masked too), status, latency and id.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn acceptable(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        })
}

pub(crate) async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), ToOwned::to_owned);
    let method = req.method().clone();
    let path = loggable_path(req.path());
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.call(req).instrument(span).await?;
    // The route that matched decides too: a percent-encoded path reaches the public routes
    // without starting with `/api/v1/public/` as sent.
    let path = match res.request().match_pattern() {
        Some(pattern) if pattern.contains("{token}") => pattern,
        _ => path,
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID, v);
    }
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(%method, %path, status, latency_ms, request_id = %id, "request");
    } else {
        tracing::info!(%method, %path, status, latency_ms, request_id = %id, "request");
    }
    Ok(res)
}

/// Marks a request that came as HEAD and is routed as GET.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head;

/// HEAD is GET without the body (RFC 9110 §9.3.2): every GET route answers it, with the same
/// status and headers (`Content-Length`, `ETag` included). The request is routed as GET; the
/// connection knows it was HEAD and sends no body. The log line still says HEAD.
pub(crate) async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(Head);
    }
    next.call(req).await
}

/// A share link's token is a secret in its path: logs show `/api/v1/public/***/...`.
fn loggable_path(path: &str) -> String {
    const PUBLIC: &str = "/api/v1/public/";
    match path.strip_prefix(PUBLIC) {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("{PUBLIC}***/{tail}"),
            None => format!("{PUBLIC}***"),
        },
        None => path.to_owned(),
    }
}

/// `/api/v1/auth/login/` means `/api/v1/auth/login`. The docs page keeps its slash: its
/// assets are addressed relative to `/api/docs/`.
pub(crate) async fn trim_trailing_slash(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    if path.len() > 1 && path.ends_with('/') && !path.starts_with("/api/docs") {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let uri = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = uri.parse::<actix_web::http::Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn request_ids_are_short_printable_tokens() {
        assert!(acceptable("3f2c9a1e-0b7d-4c1e-9a55-2f1e8b6c7d90"));
        assert!(acceptable("lb:abc/1=="));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("x\r\nSet-Cookie: y"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
