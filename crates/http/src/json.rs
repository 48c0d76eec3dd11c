//! Body, path and query extractor settings: malformed JSON and unknown fields are 400, a body
//! over the limit is 413, a wrong content type is 415, all as problems.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::web::{JsonConfig, PathConfig, QueryConfig};

use crate::error::ApiError;

pub(crate) fn config(limit: usize) -> JsonConfig {
    JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(&err).into())
}

fn json_error(err: &JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            too_large("the request body is larger than this endpoint accepts")
        }
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as application/json",
        ),
        JsonPayloadError::Deserialize(e) => deserialize_error(e),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "Bad request",
            other.to_string(),
        ),
    }
}

/// A body that parsed as JSON but not as the request type: unknown fields are told apart.
pub(crate) fn deserialize_error(e: &serde_json::Error) -> ApiError {
    let msg = e.to_string();
    if msg.contains("unknown field") {
        ApiError::new(StatusCode::BAD_REQUEST, "unknown_field", "Bad request", msg)
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "Bad request", msg)
    }
}

/// 413, the same whichever way the body came.
pub(crate) fn too_large(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Payload too large",
        detail,
    )
}

pub(crate) fn path_config() -> PathConfig {
    PathConfig::default()
        .error_handler(|err: PathError, _req| ApiError::not_found(err.to_string()).into())
}

pub(crate) fn query_config() -> QueryConfig {
    QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "Bad request",
            err.to_string(),
        )
        .into()
    })
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

/// The use cases' three-way patch of such a field.
pub(crate) fn patch_of<T>(field: Option<Option<T>>) -> accueil_app::identity::Patch<T> {
    use accueil_app::identity::Patch;
    match field {
        None => Patch::Keep,
        Some(None) => Patch::Clear,
        Some(Some(v)) => Patch::Set(v),
    }
}
