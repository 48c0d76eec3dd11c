//! Memory routes: `/api/v1/memories*`, and photo delivery.

use accueil_app::memories::{
    MemoryPatch, NewMemory, PhotoFile, PhotoUpload, Timeline, TimelineInput,
};
use accueil_domain::memories::{Memory, Photo, PhotoSize, Rendition};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::body::{self, Body, Form};
use crate::auth::Auth;
use crate::error::{ApiError, ProblemBody};
use crate::json::patch_of;

type App = web::Data<accueil_app::App>;

/// The text fields a memory form may carry besides `photo`.
const FORM_FIELDS: &[&str] = &["title", "description", "happened_on"];

/// One stored image of a photo.
#[derive(Serialize, ToSchema)]
pub struct RenditionBody {
    /// Where to get it.
    pub url: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: &'static str,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Bytes.
    pub bytes: u64,
}

/// A memory's photo, in three sizes.
#[derive(Serialize, ToSchema)]
pub struct PhotoBody {
    /// At most 320 pixels on its longer side.
    pub thumb: RenditionBody,
    /// At most 1280 pixels on its longer side.
    pub medium: RenditionBody,
    /// The upload, without its metadata (EXIF, GPS).
    pub original: RenditionBody,
}

impl PhotoBody {
    /// The photo's renditions, at URLs under `base` (`.../photo`).
    pub(crate) fn new(photo: &Photo, base: &str) -> Self {
        let r = |size: PhotoSize, r: Rendition| RenditionBody {
            url: format!("{base}?size={}", size.as_str()),
            content_type: r.format.mime(),
            width: r.width,
            height: r.height,
            bytes: r.bytes,
        };
        Self {
            thumb: r(PhotoSize::Thumb, photo.thumb),
            medium: r(PhotoSize::Medium, photo.medium),
            original: r(PhotoSize::Original, photo.original),
        }
    }
}

/// A memory.
#[derive(Serialize, ToSchema)]
pub struct MemoryBody {
    /// Its id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// The day it happened (`YYYY-MM-DD`).
    pub happened_on: Option<NaiveDate>,
    /// Its photo.
    pub photo: Option<PhotoBody>,
    /// Who created it (absent in the public view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl MemoryBody {
    /// A memory whose photo is served under `photo_base` + `/{id}/photo`.
    pub(crate) fn new(m: &Memory, photo_base: &str) -> Self {
        Self {
            id: m.id.0,
            title: m.title.as_str().to_owned(),
            description: m.description.as_ref().map(|d| d.as_str().to_owned()),
            happened_on: m.happened_on,
            photo: m
                .photo
                .as_ref()
                .map(|p| PhotoBody::new(p, &format!("{photo_base}/{}/photo", m.id.0))),
            created_by: Some(m.created_by.0),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

const OWN_PHOTOS: &str = "/api/v1/memories";

/// A page of the timeline.
#[derive(Serialize, ToSchema)]
pub struct MemoryPage {
    /// Latest day first (`happened_on`, else the day it was recorded), then latest recorded.
    pub items: Vec<MemoryBody>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl MemoryPage {
    pub(crate) fn new(t: &Timeline, photo_base: &str) -> Self {
        Self {
            items: t
                .items
                .iter()
                .map(|m| MemoryBody::new(m, photo_base))
                .collect(),
            next_cursor: t.next.clone(),
        }
    }

    /// The page as visitors of a share link see it: without the partners' account ids.
    pub(crate) fn public(t: &Timeline, photo_base: &str) -> Self {
        let mut page = Self::new(t, photo_base);
        for m in &mut page.items {
            m.created_by = None;
        }
        page
    }
}

/// Timeline parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    /// Words to find in titles and descriptions (case-insensitive), up to 100 characters.
    pub q: Option<String>,
    /// 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl From<TimelineParams> for TimelineInput {
    fn from(p: TimelineParams) -> Self {
        Self {
            cursor: p.cursor,
            q: p.q,
            limit: p.limit.unwrap_or(0),
        }
    }
}

/// A new memory, as JSON (add the photo later with a multipart PATCH, or send the whole
/// memory as `multipart/form-data`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemoryRequest {
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 10,000 characters.
    pub description: Option<String>,
    /// `YYYY-MM-DD`.
    pub happened_on: Option<NaiveDate>,
}

/// A memory as `multipart/form-data`: text parts and a `photo` file part. The photo's type is
/// read from its bytes (JPEG, PNG or WebP); its file name and declared type are ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MemoryForm {
    /// Required on creation.
    title: Option<String>,
    /// Empty clears it (PATCH).
    description: Option<String>,
    /// `YYYY-MM-DD`; empty clears it (PATCH).
    happened_on: Option<String>,
    /// The image (at most the configured size, 16 MiB by default).
    #[schema(value_type = Option<String>, format = Binary)]
    photo: Option<Vec<u8>>,
}

/// A photo can only be removed (`null`) through JSON; uploads are multipart.
#[derive(Debug)]
pub enum NoPhoto {}

impl<'de> Deserialize<'de> for NoPhoto {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "`photo` may only be null here (to remove it); upload a photo as multipart/form-data",
        ))
    }
}

/// Memory changes as JSON: absent fields are kept, `null` clears.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryPatchRequest {
    /// 1 to 200 characters.
    pub title: Option<String>,
    /// Up to 10,000 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// `YYYY-MM-DD`, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub happened_on: Option<Option<NaiveDate>>,
    /// Only `null`: removes the photo and its files.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<()>, nullable)]
    pub photo: Option<Option<NoPhoto>>,
}

fn form_day(form: &Form) -> Result<Option<Option<NaiveDate>>, ApiError> {
    match form.get("happened_on").map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| Some(Some(d)))
            .map_err(|_| {
                ApiError::validation(&accueil_domain::validation::ValidationErrors(vec![
                    accueil_domain::validation::FieldError::new(
                        "happened_on",
                        "invalid_date",
                        "a date as YYYY-MM-DD",
                    ),
                ]))
            }),
    }
}

fn form_text(form: &Form, name: &str) -> Option<Option<String>> {
    form.get(name).map(|v| {
        if v.trim().is_empty() {
            None
        } else {
            Some(v.to_owned())
        }
    })
}

/// Runs a use case that writes files and rows as its own task: actix drops a request's future
/// when the client hangs up, which must not stop a change between its commit and the deletion
/// of the files it orphaned.
async fn run_to_end<T, F, Fut>(app: &App, work: F) -> Result<T, ApiError>
where
    F: FnOnce(App) -> Fut,
    Fut: std::future::Future<Output = T> + 'static,
    T: 'static,
{
    actix_web::rt::spawn(work(app.clone()))
        .await
        .map_err(|e| ApiError::internal(&e))
}

fn photo_limit(app: &App) -> usize {
    app.memories.settings().max_photo_bytes
}

/// The caller's couple's timeline, paginated, with optional text search.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(TimelineParams), responses(
    (status = 200, description = "A page", body = MemoryPage),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 400, description = "`invalid_cursor`, `invalid_query`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: q `too_long`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/memories")]
pub(super) async fn list_memories(
    app: App,
    auth: Auth,
    params: web::Query<TimelineParams>,
) -> Result<HttpResponse, ApiError> {
    let page = app
        .memories
        .timeline(&auth.0, params.into_inner().into())
        .await?;
    Ok(HttpResponse::Ok().json(MemoryPage::new(&page, OWN_PHOTOS)))
}

/// Create a memory, from JSON or from a form with a `photo` part.
#[utoipa::path(tag = "memories", security(("bearer" = [])),
    request_body(content(
        (NewMemoryRequest = "application/json"),
        (MemoryForm = "multipart/form-data"),
    )),
    responses(
    (status = 201, description = "Created (Location: its URL)", body = MemoryBody),
    (status = 400, description = "`invalid_json`, `unknown_field`, `invalid_multipart`, `duplicate_field`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 413, description = "`payload_too_large`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 415, description = "`unsupported_media_type` (body), `unsupported_image_type` (photo not JPEG, PNG or WebP)", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: title `required` `too_long`, description `too_long`, happened_on `invalid_date`; `image_too_large` (pixels), `unreadable_image`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[post("/memories")]
pub(super) async fn create_memory(
    app: App,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (body, _turn) =
        body::read::<NewMemoryRequest>(&req, payload, FORM_FIELDS, photo_limit(&app)).await?;
    let input = match body {
        Body::Json(b) => NewMemory {
            title: b.title,
            description: b.description,
            happened_on: b.happened_on,
            photo: None,
        },
        Body::Form(form) => NewMemory {
            title: form.get("title").unwrap_or_default().to_owned(),
            description: form_text(&form, "description").flatten(),
            happened_on: form_day(&form)?.flatten(),
            photo: form.photo.map(PhotoUpload),
        },
    };
    let memory = run_to_end(&app, move |app| async move {
        app.memories.create(&auth.0, input).await
    })
    .await??;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{OWN_PHOTOS}/{}", memory.id.0)))
        .json(MemoryBody::new(&memory, OWN_PHOTOS)))
}

/// One memory.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The memory", body = MemoryBody),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/memories/{id}")]
pub(super) async fn get_memory(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let memory = app.memories.get(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MemoryBody::new(&memory, OWN_PHOTOS)))
}

/// Change a memory: JSON for text fields (`"photo": null` removes the photo), or a form with
/// any of the text parts and a `photo` part that replaces the photo.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content(
        (MemoryPatchRequest = "application/json"),
        (MemoryForm = "multipart/form-data"),
    )),
    responses(
    (status = 200, description = "The memory", body = MemoryBody),
    (status = 400, description = "`invalid_json`, `unknown_field`, `invalid_multipart`, `duplicate_field`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 413, description = "`payload_too_large`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 415, description = "`unsupported_media_type`, `unsupported_image_type`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`, `image_too_large`, `unreadable_image`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[patch("/memories/{id}")]
pub(super) async fn update_memory(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (body, _turn) =
        body::read::<MemoryPatchRequest>(&req, payload, FORM_FIELDS, photo_limit(&app)).await?;
    let patch = match body {
        Body::Json(b) => MemoryPatch {
            title: b.title,
            description: patch_of(b.description),
            happened_on: patch_of(b.happened_on),
            photo: patch_of(b.photo.map(|p| p.map(|never| match never {}))),
        },
        Body::Form(form) => MemoryPatch {
            title: form.get("title").map(ToOwned::to_owned),
            description: patch_of(form_text(&form, "description")),
            happened_on: patch_of(form_day(&form)?),
            photo: patch_of(form.photo.map(|p| Some(PhotoUpload(p)))),
        },
    };
    let id = id.into_inner();
    let memory = run_to_end(&app, move |app| async move {
        app.memories.update(&auth.0, id, patch).await
    })
    .await??;
    Ok(HttpResponse::Ok().json(MemoryBody::new(&memory, OWN_PHOTOS)))
}

/// Delete a memory and its photo's files.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 404, description = "`not_found`, `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[delete("/memories/{id}")]
pub(super) async fn delete_memory(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    run_to_end(&app, move |app| async move {
        app.memories.delete(&auth.0, id).await
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// Which rendition.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PhotoParams {
    /// `thumb`, `medium` or `original` (default).
    pub size: Option<String>,
}

impl PhotoParams {
    pub(crate) fn size(&self) -> Result<PhotoSize, ApiError> {
        match self.size.as_deref() {
            None => Ok(PhotoSize::Original),
            Some(s) => PhotoSize::parse(s).ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    "Bad request",
                    "size is thumb, medium or original",
                )
            }),
        }
    }
}

pub(crate) fn if_none_match(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
}

/// A rendition, or 304 when the client's copy is current. Photos are user content: they are
/// never sniffed into another type, never run as a document, and revalidated on every use
/// (a share can be revoked, a photo replaced).
pub(crate) fn photo_response(file: PhotoFile) -> HttpResponse {
    let mut res = match file.content {
        Some(_) => HttpResponse::Ok(),
        None => HttpResponse::NotModified(),
    };
    res.insert_header((header::ETAG, file.etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ));
    match file.content {
        Some(content) => res
            .content_type(file.format.mime())
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"photo.{}\"", file.format.extension()),
            ))
            // Streamed from the store with its length known: an original is never held whole.
            .no_chunking(content.len)
            .streaming(content.stream.map(|chunk| {
                chunk
                    .map(web::Bytes::from)
                    .map_err(actix_web::error::ErrorInternalServerError)
            })),
        None => res.finish(),
    }
}

/// A memory's photo (partners only): `ETag`, `Cache-Control: private, no-cache`, 304 on a
/// matching `If-None-Match`.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path), PhotoParams), responses(
    (status = 200, description = "The image: image/jpeg, image/png or image/webp", content_type = "image/*"),
    (status = 304, description = "Not modified"),
    (status = 400, description = "`invalid_query`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "`not_found` (also when the memory has no photo), `not_in_couple`", body = ProblemBody, content_type = "application/problem+json"),
))]
#[get("/memories/{id}/photo")]
pub(super) async fn memory_photo(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    params: web::Query<PhotoParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let size = params.size()?;
    let file = app
        .memories
        .photo(&auth.0, id.into_inner(), size, if_none_match(&req))
        .await?;
    Ok(photo_response(file))
}
