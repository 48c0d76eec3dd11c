//! Request bodies, paths and queries: malformed JSON and unknown fields are 400, a body over
//! the limit is 413, a wrong content type is 415, all as problems; and [`Valid`], which turns
//! a body into a domain command in one step, every field's problem at once (422).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web::{JsonConfig, PathConfig, QueryConfig};

use std::future::Future;
use std::pin::Pin;

use accueil_domain::validation::ValidationErrors;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::problems::Spec;

/// The application's clock reading, for request checks.
pub type Now = chrono::DateTime<chrono::Utc>;

/// A domain command made from a request body: the body's DTO, checked field by field into the
/// command. The one place a request is validated; handlers receive valid commands only.
pub trait FromBody: Sized + 'static {
    /// The JSON body (with `deny_unknown_fields`).
    type Body: DeserializeOwned + 'static;

    /// The command, or every field's problem. `app` gives what a check may need (the clock:
    /// an expiry must be in the future).
    ///
    /// # Errors
    /// The problems of every invalid field.
    fn from_body(body: Self::Body, now: Now) -> Result<Self, ValidationErrors>;
}

/// Query parameters read into a value the use case takes (a page position, a filter), or
/// the problem that says why they cannot be.
pub trait FromQuery: Sized + 'static {
    /// The parameters (with `deny_unknown_fields`).
    type Query: DeserializeOwned + 'static;

    /// The value.
    ///
    /// # Errors
    /// The problem to answer (400 `invalid_cursor`, 422 `validation_failed`, ...).
    fn from_query(query: Self::Query) -> Result<Self, ApiError>;
}

/// Query parameters parsed into `T` (see [`FromQuery`]); malformed parameters are 400
/// `invalid_query`. utoipa cannot tell that this extractor's parameters are in the query (it
/// knows only `web::Query`): their struct says so with `#[into_params(parameter_in = Query)]`.
pub struct Query<T>(pub T);

impl<T: FromQuery> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            web::Query::<T::Query>::from_query(req.query_string())
                .map_err(|e| query_error(&e))
                .and_then(|q| T::from_query(q.into_inner()))
                .map(Query)
                .map_err(Into::into),
        )
    }
}

/// An optional body: none at all (no `Content-Length`, or 0, and no chunked body) is `None`;
/// any body is read as [`Valid`] would, its problems answered.
pub struct MaybeValid<T>(pub Option<T>);

impl<T: FromBody> FromRequest for MaybeValid<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let length = headers
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let chunked = headers.contains_key(actix_web::http::header::TRANSFER_ENCODING);
        if !chunked && length.unwrap_or(0) == 0 {
            return Box::pin(async { Ok(MaybeValid(None)) });
        }
        let valid = Valid::<T>::from_request(req, payload);
        Box::pin(async move { Ok(MaybeValid(Some(valid.await?.0))) })
    }
}

/// A JSON body parsed into the command `T` (see [`FromBody`]).
pub struct Valid<T>(pub T);

impl<T: FromBody> FromRequest for Valid<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Read as a JSON object first: serde reads a struct from an array too (its fields by
        // position), and the document says a body is an object.
        let body =
            web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(req, payload);
        let app = req.app_data::<web::Data<accueil_app::App>>().cloned();
        Box::pin(async move {
            let object = serde_json::Value::Object(body.await?.into_inner());
            let body = <T::Body as serde::Deserialize>::deserialize(object)
                .map_err(|e| deserialize_error(&e))?;
            let app = app.ok_or_else(|| {
                ApiError::internal(&std::io::Error::other("application state missing"))
            })?;
            T::from_body(body, app.now())
                .map(Valid)
                .map_err(|e| ApiError::validation(&e).into())
        })
    }
}

pub(crate) fn config(limit: usize) -> JsonConfig {
    JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(&err).into())
}

/// A body that is not JSON of the request's shape.
pub(crate) const INVALID_JSON: Spec = Spec::new(
    400,
    "invalid_json",
    "the body is not JSON of the expected shape (missing field, wrong type)",
);

/// A body with a field the endpoint does not take (which also closes mass assignment).
pub(crate) const UNKNOWN_FIELD: Spec = Spec::new(
    400,
    "unknown_field",
    "the body has a field the endpoint does not accept",
);

/// A body over the limit.
pub(crate) const PAYLOAD_TOO_LARGE: Spec = Spec::new(
    413,
    "payload_too_large",
    "the body is over the endpoint's limit (`ACCUEIL_JSON_LIMIT`; photos: `ACCUEIL_MAX_PHOTO_BYTES`)",
);

/// A body of a type the endpoint does not read.
pub(crate) const UNSUPPORTED_MEDIA_TYPE: Spec = Spec::new(
    415,
    "unsupported_media_type",
    "the body is not `application/json` (or, where accepted, `multipart/form-data`)",
);

/// The problems of every operation that reads a JSON body (the OpenAPI document lists them
/// on each such operation).
pub(crate) fn body_specs() -> Vec<Spec> {
    vec![
        INVALID_JSON,
        UNKNOWN_FIELD,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        crate::problems::VALIDATION,
    ]
}

fn json_error(err: &JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            too_large("the request body is larger than this endpoint accepts")
        }
        JsonPayloadError::ContentType => {
            UNSUPPORTED_MEDIA_TYPE.answer("send the body as application/json")
        }
        JsonPayloadError::Deserialize(e) => deserialize_error(e),
        other => INVALID_JSON.answer(other.to_string()),
    }
}

/// A body that parsed as JSON but not as the request type: unknown fields are told apart.
pub(crate) fn deserialize_error(e: &serde_json::Error) -> ApiError {
    let msg = e.to_string();
    if msg.contains("unknown field") {
        UNKNOWN_FIELD.answer(msg)
    } else {
        INVALID_JSON.answer(msg)
    }
}

/// 413, the same whichever way the body came.
pub(crate) fn too_large(detail: impl Into<String>) -> ApiError {
    PAYLOAD_TOO_LARGE.answer(detail)
}

pub(crate) fn path_config() -> PathConfig {
    PathConfig::default().error_handler(|err: PathError, _req| {
        crate::problems::NOT_FOUND.answer(err.to_string()).into()
    })
}

pub(crate) fn query_config() -> QueryConfig {
    QueryConfig::default().error_handler(|err: QueryPayloadError, _req| query_error(&err).into())
}

fn query_error(err: &QueryPayloadError) -> ApiError {
    crate::problems::INVALID_QUERY.answer(err.to_string())
}

/// For `Option<Option<T>>` fields of partial updates: an absent field stays `None` (with
/// `#[serde(default)]`), `null` becomes `Some(None)` (clear), a value `Some(Some(v))` (set).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// An object field (`Option<T>`, `null` is `None`) read as a JSON object only, never from an
/// array (see [`Valid`]).
pub(crate) fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::de::Error;
    match <Option<serde_json::Map<String, serde_json::Value>> as serde::Deserialize>::deserialize(
        d,
    )? {
        None => Ok(None),
        Some(map) => T::deserialize(serde_json::Value::Object(map))
            .map(Some)
            .map_err(D::Error::custom),
    }
}

/// A JSON integer, also when written with a zero fraction (`7.0`): JSON Schema counts `7.0`
/// as an integer, and the document's `integer` fields are read that way.
pub(crate) fn integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntegerVisitor)
}

/// [`integer`] for an optional field (`null` is `None`).
pub(crate) fn optional_integer<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            integer(d).map(Some)
        }
    }
    d.deserialize_option(V)
}

struct IntegerVisitor;

impl serde::de::Visitor<'_> for IntegerVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("integer {v} is out of range")))
    }

    #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
        // In range and whole: the conversion is exact.
        if v.fract() == 0.0 && (-9_007_199_254_740_992.0..=9_007_199_254_740_992.0).contains(&v) {
            Ok(v as i64)
        } else {
            Err(E::custom(format!(
                "invalid type: floating point `{v}`, expected an integer"
            )))
        }
    }
}

/// The three-way patch of such a field.
pub(crate) fn patch_of<T>(field: Option<Option<T>>) -> accueil_domain::validation::Patch<T> {
    use accueil_domain::validation::Patch;
    match field {
        None => Patch::Keep,
        Some(None) => Patch::Clear,
        Some(Some(v)) => Patch::Set(v),
    }
}

/// [`integer`] for a field of a partial update that `null` clears (see [`nullable`]).
pub(crate) fn nullable_integer<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<i64>>, D::Error> {
    optional_integer(d).map(Some)
}
