//! RFC 9457 problem details with stable machine codes.
//!
//! Every error answer is `application/problem+json` with `type` (`/problems/<code>`), `title`,
//! `status`, `code` and `detail`; validation failures add `errors`, one per field. Unexpected
//! failures are logged with their cause and answered as 500 without internals.

use accueil_app::StoreError;
use accueil_domain::validation::{FieldError, ValidationErrors};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The request field.
    #[schema(example = "password")]
    pub field: String,
    /// A stable code for this field's problem.
    #[schema(example = "too_short")]
    pub code: String,
    /// An English explanation.
    #[schema(example = "at least 8 characters")]
    pub message: String,
}

/// A problem response body (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemBody {
    /// `/problems/<code>`.
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation_failed")]
    pub kind: String,
    /// A short summary of the problem type.
    #[schema(example = "Invalid request")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 422)]
    pub status: u16,
    /// Stable code that clients switch on.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// What went wrong this time.
    #[schema(example = "1 field is invalid")]
    pub detail: String,
    /// Per-field problems (validation failures only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// With `link_required`: send it with the account's password to
    /// `POST /api/v1/auth/link-identity` (valid ten minutes, one attempt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_token: Option<String>,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldProblem>,
    retry_after: Option<u64>,
    // Boxed: the error travels in every handler's `Result`, so it stays small.
    link_token: Option<Box<str>>,
}

impl ApiError {
    /// A problem with this status, code, title and detail.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            link_token: None,
        }
    }

    /// 429 with `Retry-After` in whole seconds (at least 1).
    pub fn rate_limited(retry_after: chrono::Duration) -> Self {
        let secs = u64::try_from((retry_after.num_milliseconds() + 999) / 1000)
            .unwrap_or(1)
            .max(1);
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests",
            format!("too many requests; retry in {secs} s"),
        );
        e.retry_after = Some(secs);
        e
    }

    /// 422 with one entry per invalid field.
    pub fn validation(errors: &ValidationErrors) -> Self {
        let n = errors.0.len();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Invalid request",
            if n == 1 {
                "1 field is invalid".to_owned()
            } else {
                format!("{n} fields are invalid")
            },
        );
        e.errors = errors.0.iter().map(field_problem).collect();
        e
    }

    /// 401 for a missing or unusable credential.
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, "Unauthorized", detail)
    }

    /// 404 `not_found`: no such object, or not one the caller may see.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    /// 409.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    /// 403.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, "Forbidden", detail)
    }

    /// 500 for a failure the client cannot fix; the cause is logged, never sent.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, source = ?cause.source().map(ToString::to_string), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            "an unexpected error occurred",
        )
    }

    /// 503 when storage is unreachable (the client may retry), else 500.
    pub fn store(cause: &StoreError) -> Self {
        match cause {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %cause, "storage unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "Service unavailable",
                    "the service is temporarily unavailable; try again shortly",
                )
            }
            _ => Self::internal(cause),
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub(crate) fn body(&self) -> ProblemBody {
        ProblemBody {
            kind: format!("/problems/{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            code: self.code.to_owned(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            link_token: self.link_token.as_deref().map(ToOwned::to_owned),
        }
    }

    /// Adds the link token of a `link_required` problem.
    #[must_use]
    pub fn with_link_token(mut self, token: String) -> Self {
        self.link_token = Some(token.into_boxed_str());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

fn field_problem(f: &FieldError) -> FieldProblem {
    FieldProblem {
        field: f.field.to_owned(),
        code: f.code.to_owned(),
        message: f.message.clone(),
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.body())
    }
}

/// 405 with `Allow`: a known path asked with a method it does not serve.
pub(crate) const METHOD_NOT_ALLOWED: crate::problems::Spec = crate::problems::Spec::new(
    405,
    "method_not_allowed",
    "the path exists but does not serve this method; `Allow` lists the ones it does",
);

/// The methods each documented path serves, for the answer to a wrong method.
pub(crate) struct Routes(Vec<(actix_web::dev::ResourceDef, Vec<&'static str>)>);

/// The methods a path can serve, in the order `Allow` lists them.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

impl Routes {
    /// The paths and methods of the document (the routes that are served: a route cannot be
    /// served without being documented).
    pub(crate) fn of(doc: &utoipa::openapi::OpenApi) -> Self {
        Self(
            doc.paths
                .paths
                .iter()
                .map(|(path, item)| {
                    let served = [
                        item.get.is_some(),
                        item.post.is_some(),
                        item.put.is_some(),
                        item.patch.is_some(),
                        item.delete.is_some(),
                    ];
                    let methods = METHODS
                        .into_iter()
                        .zip(served)
                        .filter_map(|(m, served)| served.then_some(m))
                        .collect();
                    (actix_web::dev::ResourceDef::new(path.as_str()), methods)
                })
                .collect(),
        )
    }
}

/// Answer for a request no route serves: 405 with `Allow` when the path is known (its method
/// is not), else 404.
pub(crate) async fn fallback(
    req: actix_web::HttpRequest,
    routes: Option<actix_web::web::Data<Routes>>,
) -> HttpResponse {
    // A documented path without parameters is its own resource (`/checkins/trends` is not a
    // `/checkins/{id}`): when one matches, it alone says what is served.
    if let Some(res) = literal_path_not_allowed(&req) {
        return res;
    }
    // Else every documented path the request's path matches counts: two paths of one shape
    // (`/identities/{id}` for DELETE, `/identities/{provider}` for POST) are one resource to a
    // client, and `Allow` lists what it serves.
    let served: Vec<&str> = routes
        .as_deref()
        .map(|r| {
            r.0.iter()
                .filter(|(def, _)| def.is_match(req.path()))
                .flat_map(|(_, methods)| methods.iter().copied())
                .collect()
        })
        .unwrap_or_default();
    not_allowed(&req, &served)
        .unwrap_or_else(|| ApiError::not_found("no such resource").error_response())
}

/// 405 with `Allow: GET, HEAD`, for an undocumented resource that serves only `GET`
/// (`/metrics`), so it answers a wrong method like every documented path does.
pub(crate) async fn only_get(req: actix_web::HttpRequest) -> HttpResponse {
    not_allowed(&req, &["GET"])
        .unwrap_or_else(|| ApiError::not_found("no such resource").error_response())
}

/// 405 with `Allow` when the request's path is a documented path without parameters (which
/// then does not serve its method).
fn literal_path_not_allowed(req: &actix_web::HttpRequest) -> Option<HttpResponse> {
    let routes = req.app_data::<actix_web::web::Data<Routes>>()?;
    let served: Vec<&str> = routes
        .0
        .iter()
        .filter(|(def, _)| {
            !def.pattern().is_some_and(|p| p.contains('{')) && def.is_match(req.path())
        })
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect();
    not_allowed(req, &served)
}

/// 405 with `Allow` listing `served`, or `None` when it is empty.
fn not_allowed(req: &actix_web::HttpRequest, served: &[&str]) -> Option<HttpResponse> {
    use actix_web::HttpMessage;
    let mut allow: Vec<&str> = METHODS.into_iter().filter(|m| served.contains(m)).collect();
    if allow.is_empty() {
        return None;
    }
    if allow.contains(&"GET") {
        allow.insert(1, "HEAD");
    }
    let allow = allow.join(", ");
    // A HEAD reaches here routed as GET (see `middleware::head_as_get`): name what was sent.
    let method = if req.extensions().get::<crate::middleware::Head>().is_some() {
        "HEAD"
    } else {
        req.method().as_str()
    };
    let mut res = METHOD_NOT_ALLOWED
        .answer(format!("{method} is not served here; use {allow}"))
        .error_response();
    if let Ok(v) = HeaderValue::from_str(&allow) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    Some(res)
}
