//! Each operation's error declares its HTTP status and stable code once, here, with
//! [`problems!`]: from that one declaration come the `ApiError` an error answers with, the
//! OpenAPI responses of every operation that can fail with it ([`Errors`]), and the list of
//! codes in docs/api.md (generated from the document; a test keeps it current).
//!
//! An error's `Display` text is its problem's `detail`; the declaration gives the status, the
//! code and what the code means to a client. Variants that wrap another error (the caller's
//! authentication, validation, storage) delegate to that error's declaration, so a 401 is
//! declared once for every operation that authenticates.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use accueil_app::StoreError;
use accueil_app::scope::NotFound;
use accueil_domain::validation::ValidationErrors;
use actix_web::http::StatusCode;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use crate::error::ApiError;

/// One problem an operation can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Spec {
    /// The HTTP status.
    pub status: u16,
    /// The stable code clients switch on.
    pub code: &'static str,
    /// What it means, for the documentation.
    pub meaning: &'static str,
}

impl Spec {
    /// A problem declaration.
    pub const fn new(status: u16, code: &'static str, meaning: &'static str) -> Self {
        Self {
            status,
            code,
            meaning,
        }
    }

    /// The answer, with `detail` saying what went wrong this time.
    pub fn answer(&self, detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            self.code,
            title(self.status),
            detail,
        )
    }
}

/// The short, fixed summary of a status (the problem's `title`).
pub(crate) fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload too large",
        415 => "Unsupported media type",
        416 => "Range not satisfiable",
        422 => "Invalid request",
        426 => "Upgrade required",
        429 => "Too many requests",
        502 => "Bad gateway",
        503 => "Service unavailable",
        _ => "Internal error",
    }
}

/// An error whose problems are declared: every answer it can give.
pub trait Problems {
    /// Every problem this error can answer with.
    fn specs() -> Vec<Spec>;
}

/// An operation that can fail in several ways: `Errors<(QnaError, InvalidCursor)>`.
impl<A: Problems, B: Problems> Problems for (A, B) {
    fn specs() -> Vec<Spec> {
        let mut all = A::specs();
        all.extend(B::specs());
        all
    }
}

/// Declares an error's problems and generates `From<error> for ApiError` and
/// [`Problems`]. Wrapping variants come first, after `via`, with the type they wrap
/// (delegated to); then one arm per other variant with its [`Spec`]. The match is
/// exhaustive, so a new variant cannot be forgotten:
///
/// ```ignore
/// problems!(QnaError {
///     via Denied(CoupleDenied), Invalid(ValidationErrors), Store(StoreError);
///     NotFound => NOT_FOUND,
///     NotAuthor => Spec::new(403, "not_author", "only the partner who asked may change it"),
/// });
/// ```
#[macro_export]
macro_rules! problems {
    ($ty:ident { via $($via:ident($inner:ty)),* ; $($v:ident $(($($t:tt)*))? $({$($s:tt)*})? => $spec:expr),* $(,)? }) => {
        impl From<$ty> for $crate::ApiError {
            fn from(e: $ty) -> Self {
                #[allow(unreachable_patterns)]
                match e {
                    $($ty::$via(inner) => $crate::ApiError::from(inner),)*
                    $(ref e @ $ty::$v $(($($t)*))? $({$($s)*})? => {
                        let spec: $crate::problems::Spec = $spec;
                        spec.answer(e.to_string())
                    })*
                }
            }
        }
        impl $crate::problems::Problems for $ty {
            fn specs() -> Vec<$crate::problems::Spec> {
                let own: Vec<$crate::problems::Spec> = vec![$($spec),*];
                let mut all: Vec<$crate::problems::Spec> = Vec::new();
                $(all.extend(<$inner as $crate::problems::Problems>::specs());)*
                all.extend(own);
                all
            }
        }
    };
}

/// 404 for an object that does not exist or is not the caller's (never saying which).
pub const NOT_FOUND: Spec = Spec::new(
    404,
    "not_found",
    "no such object, or not one the caller may see (another couple's or user's included)",
);

impl From<NotFound> for ApiError {
    fn from(e: NotFound) -> Self {
        NOT_FOUND.answer(e.to_string())
    }
}

impl Problems for NotFound {
    fn specs() -> Vec<Spec> {
        vec![NOT_FOUND]
    }
}

/// Query parameters that are not of the expected form.
pub const INVALID_QUERY: Spec = Spec::new(400, "invalid_query", "a query parameter is malformed");

/// A list cursor this API did not make.
pub const INVALID_CURSOR: Spec = Spec::new(
    400,
    "invalid_cursor",
    "the `cursor` did not come from this API's `next_cursor`",
);

/// A list with a cursor: it can be refused.
pub struct InvalidCursor;

impl Problems for InvalidCursor {
    fn specs() -> Vec<Spec> {
        vec![INVALID_CURSOR]
    }
}

/// The problems every storage failure can answer with.
pub const UNAVAILABLE: Spec = Spec::new(
    503,
    "service_unavailable",
    "the database is unreachable; retry shortly",
);

/// A failure the client cannot fix.
pub const INTERNAL: Spec = Spec::new(
    500,
    "internal_error",
    "unexpected; the cause is in the server log under the request id",
);

/// A field-by-field validation failure.
pub const VALIDATION: Spec = Spec::new(
    422,
    "validation_failed",
    "one or more fields are invalid; `errors` lists each with its own code",
);

/// A storage failure answers 503 when the database is unreachable, else 500 (a conflict the
/// use case did not expect, a corrupt row): [`ApiError::store`].
impl Problems for StoreError {
    fn specs() -> Vec<Spec> {
        vec![UNAVAILABLE, INTERNAL]
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::store(&e)
    }
}

impl Problems for ValidationErrors {
    fn specs() -> Vec<Spec> {
        vec![VALIDATION]
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::validation(&e)
    }
}

/// The OpenAPI responses of an operation that fails with `E`: one response per status, its
/// description listing each code and what it means, its body a problem document. Used in
/// `#[utoipa::path(responses(..., Errors<E>))]`.
pub struct Errors<E>(PhantomData<E>);

impl<E: Problems> utoipa::IntoResponses for Errors<E> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&E::specs())
    }
}

/// Responses for these problems, one per status.
pub(crate) fn responses(specs: &[Spec]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<(String, String)>> = BTreeMap::new();
    for s in specs {
        add(&mut by_status, s.status, s.code, s.meaning);
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), RefOr::T(response(status, &codes))))
        .collect()
}

fn add(
    by_status: &mut BTreeMap<u16, Vec<(String, String)>>,
    status: u16,
    code: &str,
    meaning: &str,
) {
    let list = by_status.entry(status).or_default();
    if !list.iter().any(|(c, _)| c == code) {
        list.push((code.to_owned(), meaning.to_owned()));
    }
}

/// Adds `specs` to an operation's responses, merging with the problems it already lists under
/// the same status.
pub(crate) fn merge_into(responses: &mut utoipa::openapi::Responses, specs: &[Spec]) {
    let mut by_status: BTreeMap<u16, Vec<(String, String)>> = BTreeMap::new();
    for s in specs {
        add(&mut by_status, s.status, s.code, s.meaning);
    }
    for (status, extra) in by_status {
        let key = status.to_string();
        let mut codes = match responses.responses.get(&key) {
            Some(RefOr::T(existing)) => codes_of(existing),
            _ => Vec::new(),
        };
        if matches!(responses.responses.get(&key), Some(RefOr::T(r)) if codes_of(r).is_empty()) {
            // A response that is not a problem (a 200 of its own): leave it alone.
            continue;
        }
        for (c, m) in extra {
            if !codes.iter().any(|(x, _)| *x == c) {
                codes.push((c, m));
            }
        }
        responses
            .responses
            .insert(key, RefOr::T(response(status, &codes)));
    }
}

/// The extension that lists a response's codes, for tools and the docs generator.
pub(crate) const CODES_EXTENSION: &str = "x-problem-codes";

/// One problem response.
pub(crate) fn response(status: u16, codes: &[(String, String)]) -> Response {
    let description = codes
        .iter()
        .map(|(code, meaning)| format!("`{code}`: {meaning}"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let listed: Vec<serde_json::Value> = codes
        .iter()
        .map(|(code, meaning)| serde_json::json!({"code": code, "meaning": meaning}))
        .collect();
    let mut b = ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ProblemBody")))
                .build(),
        )
        .extensions(Some(
            ExtensionsBuilder::new()
                .add(CODES_EXTENSION, serde_json::Value::Array(listed))
                .build(),
        ));
    if status == 401 {
        b = b.header(
            "WWW-Authenticate",
            HeaderBuilder::new().description(Some("`Bearer`")).build(),
        );
    }
    if status == 429 {
        b = b.header(
            "Retry-After",
            HeaderBuilder::new()
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    if status == 405 {
        b = b.header(
            "Allow",
            HeaderBuilder::new()
                .description(Some("The methods the path serves"))
                .build(),
        );
    }
    b.build()
}

/// The problems a response of the document lists (from its extension): (code, meaning).
pub(crate) fn codes_of(response: &Response) -> Vec<(String, String)> {
    response
        .extensions
        .as_ref()
        .and_then(|e| e.get(CODES_EXTENSION))
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    Some((
                        c.get("code")?.as_str()?.to_owned(),
                        c.get("meaning")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
