//! Bodies that come as JSON or as `multipart/form-data` (the seed's `-F photo=@...`).
//!
//! Multipart bodies are read part by part as they stream in, each part against its own limit,
//! so an oversize upload is refused with 413 once the limit is passed, holding at most the
//! limit in memory; a `Content-Length` over the limit is refused before reading anything. Only
//! the bytes of the `photo` part matter: its file name and Content-Type are ignored (the type
//! is decided by the use case from the bytes themselves).

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::json::{deserialize_error, too_large};

/// The largest JSON body a handler reading its own body accepts (the `JsonConfig` limit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonLimit(pub usize);

/// Turns for reading and processing photo uploads (a form holds up to the photo limit in
/// memory while it is read, decoded and stored): uploads past the limit wait for a turn
/// before their body is read.
#[derive(Debug, Clone)]
pub(crate) struct UploadPermits(std::sync::Arc<tokio::sync::Semaphore>);

impl UploadPermits {
    pub(crate) fn new(n: usize) -> Self {
        Self(std::sync::Arc::new(tokio::sync::Semaphore::new(n.max(1))))
    }
}

/// A turn held until the handler that read the form finishes.
pub(crate) type UploadTurn = Option<tokio::sync::OwnedSemaphorePermit>;

/// The largest text part of a form.
const TEXT_PART_LIMIT: usize = 64 * 1024;
/// Room for the text parts and multipart framing on top of the photo.
const FORM_OVERHEAD: usize = 512 * 1024;

/// A form's parts.
#[derive(Debug, Default)]
pub(crate) struct Form {
    /// Text parts by name.
    pub text: Vec<(String, String)>,
    /// The `photo` part's bytes.
    pub photo: Option<Vec<u8>>,
}

impl Form {
    /// A text part.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.text
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A body read either way.
pub(crate) enum Body<T> {
    /// `application/json`.
    Json(T),
    /// `multipart/form-data`.
    Form(Form),
}

fn bad(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Reads a JSON body of type `T` or a form whose text parts are among `fields` and whose
/// `photo` part is at most `photo_limit` bytes. A form is read during an upload turn, which
/// the caller keeps until it is done with the photo.
pub(crate) async fn read<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    fields: &[&str],
    photo_limit: usize,
) -> Result<(Body<T>, UploadTurn), ApiError> {
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => {
            let limit = req.app_data::<JsonLimit>().map_or(64 * 1024, |l| l.0);
            Ok((Body::Json(read_json(req, payload, limit).await?), None))
        }
        "multipart/form-data" => {
            let turn = match req.app_data::<UploadPermits>() {
                Some(permits) => Some(permits.0.clone().acquire_owned().await.map_err(|e| {
                    ApiError::internal(&std::io::Error::other(format!("upload turns: {e}")))
                })?),
                None => None,
            };
            let form = read_form(req, payload, fields, photo_limit).await?;
            Ok((Body::Form(form), turn))
        }
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "send application/json, or multipart/form-data with a `photo` part",
        )),
    }
}

async fn read_json<T: DeserializeOwned>(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<T, ApiError> {
    let over = || too_large("the request body is larger than this endpoint accepts");
    if declared_length(req).is_some_and(|n| n > limit) {
        return Err(over());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| bad("invalid_json", e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    // An object first, as `Valid` reads bodies: serde would read a struct from an array too.
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| {
            if e.is_data() {
                deserialize_error(&e)
            } else {
                bad("invalid_json", e.to_string())
            }
        })?;
    T::deserialize(serde_json::Value::Object(object)).map_err(|e| deserialize_error(&e))
}

async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    fields: &[&str],
    photo_limit: usize,
) -> Result<Form, ApiError> {
    let photo_too_large = || too_large(format!("a photo is at most {photo_limit} bytes"));
    if declared_length(req).is_some_and(|n| n > photo_limit + FORM_OVERHEAD) {
        return Err(photo_too_large());
    }
    let mut parts = Multipart::new(req.headers(), payload);
    let mut form = Form::default();
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| bad("invalid_multipart", e.to_string()))?;
        let name = part.name().unwrap_or_default().to_owned();
        let is_photo = name == "photo";
        if !is_photo && !fields.contains(&name.as_str()) {
            return Err(bad(
                "unknown_field",
                format!(
                    "unknown form field `{name}`; expected photo, {}",
                    fields.join(", ")
                ),
            ));
        }
        if (is_photo && form.photo.is_some()) || form.get(&name).is_some() {
            return Err(bad(
                "duplicate_field",
                format!("form field `{name}` sent twice"),
            ));
        }
        let limit = if is_photo {
            photo_limit
        } else {
            TEXT_PART_LIMIT
        };
        let mut bytes = Vec::with_capacity(declared_length(req).map_or(0, |n| n.min(limit)));
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| bad("invalid_multipart", e.to_string()))?;
            if bytes.len() + chunk.len() > limit {
                return Err(if is_photo {
                    photo_too_large()
                } else {
                    too_large(format!("form field `{name}` is larger than {limit} bytes"))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_photo {
            // A browser form with no file chosen sends an empty part: no photo.
            if !bytes.is_empty() {
                form.photo = Some(bytes);
            }
        } else {
            let text = String::from_utf8(bytes).map_err(|_| {
                bad(
                    "invalid_multipart",
                    format!("form field `{name}` is not UTF-8"),
                )
            })?;
            form.text.push((name, text));
        }
    }
    Ok(form)
}
