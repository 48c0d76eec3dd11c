//! Memory routes: `/api/v1/memories*`, and photo delivery.

use accueil_app::couples::{InCoupleError, InCoupleLookupError};
use accueil_app::memories::{
    CreateMemoryError, MemoryError, MemoryView, PhotoError, PhotoFile, PhotoFileError, PhotoLinks,
    PhotoPart, Timeline,
};
use accueil_domain::memories::{
    ByteRange, Memory, MemoryChanges, NewMemory, Photo, PhotoSize, PhotoUpload, Rendition,
    TimelinePage,
};
use accueil_domain::validation::{FieldError, Fields, ValidationErrors};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::body::{self, Body, Form};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{FromQuery, Query, patch_of};
use crate::problems::{Errors, INTERNAL, INVALID_CURSOR, Problems, Spec, VALIDATION};

type App = web::Data<accueil_app::App>;

/// The text fields a memory form may carry besides `photo`.
const FORM_FIELDS: &[&str] = &["title", "description", "happened_on"];

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_memories)
        .service(create_memory)
        .service(get_memory)
        .service(update_memory)
        .service(delete_memory)
        .service(memory_photo);
}

crate::problems!(PhotoError {
    via ;
    UnsupportedImage => Spec::new(415, "unsupported_image_type", "the photo's bytes are not a JPEG, PNG or WebP image, whatever its name or declared type"),
    PhotoTooLarge { .. } => crate::json::PAYLOAD_TOO_LARGE,
    TooManyPixels { .. } => Spec::new(422, "image_too_large", "the photo has more pixels than `ACCUEIL_MAX_PHOTO_PIXELS`"),
    UnreadableImage(_) => Spec::new(422, "unreadable_image", "the photo's signature is right but its content cannot be decoded"),
    Media(_) => INTERNAL,
});

crate::problems!(CreateMemoryError {
    via Denied(accueil_app::couples::CoupleDenied), Photo(PhotoError), Store(accueil_app::StoreError);
});

crate::problems!(MemoryError {
    via Denied(accueil_app::couples::CoupleDenied), NotFound(accueil_app::couples::NotFound), Photo(PhotoError), Store(accueil_app::StoreError);
});

crate::problems!(PhotoFileError {
    via Denied(accueil_app::couples::CoupleDenied), NotFound(accueil_app::couples::NotFound), Store(accueil_app::StoreError);
    Media(_) => INTERNAL,
});

/// The ways a memory body can be refused before its use case runs: a multipart form that is
/// not one, a part twice.
pub(crate) struct MemoryBodies;

impl Problems for MemoryBodies {
    fn specs() -> Vec<Spec> {
        vec![
            Spec::new(
                400,
                "invalid_multipart",
                "the `multipart/form-data` body cannot be read",
            ),
            Spec::new(400, "duplicate_field", "a form part was sent twice"),
            Spec::new(
                400,
                "unknown_field",
                "the body has a field (a JSON field or a form part) the endpoint does not accept",
            ),
        ]
    }
}

/// One stored image of a photo.
#[derive(Serialize, ToSchema)]
pub struct RenditionBody {
    /// Where to get it with credentials (`Authorization` or `X-API-Key`); in the public view,
    /// through the share link, without credentials.
    pub url: String,
    /// Where to get it without credentials (an `<img src>`), until `signed_urls_expire_at`:
    /// a link signed by the server, absolute when `ACCUEIL_PUBLIC_URL` is set, else relative
    /// to the server's root. The same for every read within a window of half the lifetime,
    /// so browsers reuse their copy. Absent in the public view and in the export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_url: Option<String>,
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
    /// When the `signed_url`s stop working (read the memory again for fresh ones). Absent
    /// where they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_urls_expire_at: Option<DateTime<Utc>>,
    /// At most 320 pixels on its longer side.
    pub thumb: RenditionBody,
    /// At most 1280 pixels on its longer side.
    pub medium: RenditionBody,
    /// The upload, without its metadata (EXIF, GPS).
    pub original: RenditionBody,
}

impl PhotoBody {
    /// The photo's renditions, at URLs under `base` (`.../photo`), and at signed URLs when
    /// there are links.
    pub(crate) fn new(photo: &Photo, base: &str, signed: Option<SignedUrls<'_>>) -> Self {
        let r = |size: PhotoSize, r: Rendition| RenditionBody {
            url: format!("{base}?size={}", size.as_str()),
            signed_url: signed.map(|s| s.url(size)),
            content_type: r.format.mime(),
            width: r.width,
            height: r.height,
            bytes: r.bytes,
        };
        Self {
            signed_urls_expire_at: signed.map(|s| s.links.expires),
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

/// Where the signed photo URLs start: `ACCUEIL_PUBLIC_URL` when it is set (absolute URLs),
/// else nothing (URLs relative to the server's root).
#[derive(Debug, Clone)]
pub(crate) struct PhotoUrlBase(pub(crate) String);

impl PhotoUrlBase {
    pub(crate) fn of(req: &HttpRequest) -> &str {
        req.app_data::<PhotoUrlBase>().map_or("", |b| b.0.as_str())
    }
}

/// One memory's signed links, and where they are served.
#[derive(Clone, Copy)]
pub(crate) struct SignedUrls<'a> {
    memory: Uuid,
    links: &'a PhotoLinks,
    base: &'a str,
}

impl SignedUrls<'_> {
    fn url(self, size: PhotoSize) -> String {
        // The signature is base64url: it needs no escaping in a query.
        format!(
            "{}/api/v1/photos/{}/{}?v={}&expires={}&g={}&sig={}",
            self.base,
            self.memory,
            size.as_str(),
            self.links.photo,
            self.links.expires.timestamp(),
            self.links.generation,
            self.links.signature(size)
        )
    }
}

impl MemoryBody {
    /// A memory of the caller's couple, with its signed photo links.
    pub(crate) fn view(v: &MemoryView, req: &HttpRequest) -> Self {
        let base = PhotoUrlBase::of(req);
        let signed = v.photo_links.as_ref().map(|links| SignedUrls {
            memory: v.id.0,
            links,
            base,
        });
        Self::new(&v.memory, OWN_PHOTOS, signed)
    }

    /// A memory whose photo is served under `photo_base` + `/{id}/photo`.
    pub(crate) fn new(m: &Memory, photo_base: &str, signed: Option<SignedUrls<'_>>) -> Self {
        Self {
            id: m.id.0,
            title: m.title.as_str().to_owned(),
            description: m.description.as_ref().map(|d| d.as_str().to_owned()),
            happened_on: m.happened_on,
            photo: m
                .photo
                .as_ref()
                .map(|p| PhotoBody::new(p, &format!("{photo_base}/{}/photo", m.id.0), signed)),
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
    pub(crate) fn new(t: &Timeline, req: &HttpRequest) -> Self {
        Self {
            items: t.items.iter().map(|m| MemoryBody::view(m, req)).collect(),
            next_cursor: t.next.clone(),
        }
    }

    /// The page as visitors of a share link see it: without the partners' account ids, with
    /// photo URLs through the link (which needs no credentials) and no signed ones.
    pub(crate) fn public(t: &Timeline, photo_base: &str) -> Self {
        Self {
            items: t
                .items
                .iter()
                .map(|m| MemoryBody {
                    created_by: None,
                    ..MemoryBody::new(&m.memory, photo_base, None)
                })
                .collect(),
            next_cursor: t.next.clone(),
        }
    }
}

impl MemoryBody {
    /// A memory of the couple export: its photo links are the export's, which keep working
    /// as long as the export does.
    pub(crate) fn exported(m: &Memory) -> Self {
        Self::new(m, EXPORT_PHOTOS, None)
    }
}

/// Where the couple export's photos are served.
const EXPORT_PHOTOS: &str = "/api/v1/couple/export/memories";

/// Timeline parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Words to find in titles and descriptions (case-insensitive), up to 100 characters;
    /// blank: no search.
    #[param(format = "search")]
    pub q: Option<String>,
    /// 1 to 100 (default 20); more is read as 100, 0 as the default.
    #[param(minimum = 0, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(format = "timeline-cursor")]
    pub cursor: Option<String>,
}

impl FromQuery for TimelinePage {
    type Query = TimelineParams;

    fn from_query(p: TimelineParams) -> Result<Self, ApiError> {
        TimelinePage::parse(p.cursor.as_deref(), p.q.as_deref(), p.limit).map_err(|v| {
            // A bad cursor is 400 `invalid_cursor`, as on every list; the search is 422.
            if v.0.iter().any(|e| e.field == "cursor") {
                INVALID_CURSOR.answer("this cursor did not come from this API")
            } else {
                ApiError::validation(&v)
            }
        })
    }
}

/// A timeline can be refused for its cursor or its search.
pub(crate) struct TimelineProblems;

impl Problems for TimelineProblems {
    fn specs() -> Vec<Spec> {
        vec![INVALID_CURSOR, VALIDATION]
    }
}

/// A new memory, as JSON (add the photo later with a multipart PATCH, or send the whole
/// memory as `multipart/form-data`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemoryRequest {
    /// 1 to 200 characters.
    #[schema(format = "text:200")]
    pub title: String,
    /// Up to 10,000 characters.
    #[schema(format = "text:10000")]
    pub description: Option<String>,
    /// `YYYY-MM-DD`.
    pub happened_on: Option<NaiveDate>,
}

/// A new memory as `multipart/form-data`: text parts and a `photo` file part. The photo's
/// type is read from its bytes (JPEG, PNG or WebP); its file name and declared type are
/// ignored. (Only its schema is used: the form is read part by part, see `body::read`.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NewMemoryForm {
    /// 1 to 200 characters.
    #[schema(format = "text:200")]
    title: String,
    /// Up to 10,000 characters; blank: none.
    #[schema(nullable = false, format = "blank-or-text:10000")]
    description: Option<String>,
    /// `YYYY-MM-DD`; blank: none.
    #[schema(nullable = false, format = "blank-or-date")]
    happened_on: Option<String>,
    /// The image (at most the configured size, 16 MiB by default); an empty part is no photo.
    #[schema(nullable = false, value_type = Option<String>, format = Binary)]
    photo: Option<Vec<u8>>,
}

/// Memory changes as `multipart/form-data`: the parts sent are changed, and a `photo` part
/// replaces the photo.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct MemoryPatchForm {
    /// 1 to 200 characters.
    #[schema(nullable = false, format = "text:200")]
    title: Option<String>,
    /// Up to 10,000 characters; blank clears it.
    #[schema(nullable = false, format = "blank-or-text:10000")]
    description: Option<String>,
    /// `YYYY-MM-DD`; blank clears it.
    #[schema(nullable = false, format = "blank-or-date")]
    happened_on: Option<String>,
    /// The new image; an empty part leaves the photo as it is.
    #[schema(nullable = false, value_type = Option<String>, format = Binary)]
    photo: Option<Vec<u8>>,
}

/// The schema of a field that can only be `null` (`MemoryPatchRequest::photo`).
fn only_null() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Null)
        .description(Some("Only `null`: removes the photo and its files."))
        .build()
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
    #[schema(format = "text:200")]
    pub title: Option<String>,
    /// Up to 10,000 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:10000")]
    pub description: Option<Option<String>>,
    /// `YYYY-MM-DD`, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<NaiveDate>, nullable)]
    pub happened_on: Option<Option<NaiveDate>>,
    /// Only `null`: removes the photo and its files.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(schema_with = only_null)]
    pub photo: Option<Option<NoPhoto>>,
}

/// A form's `happened_on` part: absent (`None`), empty (`Some(None)`: clear it), or a day.
fn form_day(form: &Form) -> Result<Option<Option<NaiveDate>>, FieldError> {
    match form.get("happened_on").map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| Some(Some(d)))
            .map_err(|_| FieldError::new("happened_on", "invalid_date", "a date as YYYY-MM-DD")),
    }
}

/// A form's text part: absent, empty (clear it), or a value.
fn form_text(form: &Form, name: &str) -> Option<Option<String>> {
    form.get(name).map(|v| {
        if v.trim().is_empty() {
            None
        } else {
            Some(v.to_owned())
        }
    })
}

/// A creation body, JSON or form, as a command.
fn new_memory(body: Body<NewMemoryRequest>) -> Result<NewMemory, ValidationErrors> {
    match body {
        Body::Json(b) => NewMemory::parse(&b.title, b.description.as_deref(), b.happened_on, None),
        Body::Form(mut form) => {
            let (day,) = (form_day(&form),).all()?;
            let description = form_text(&form, "description").flatten();
            let photo = form.photo.take().map(PhotoUpload);
            NewMemory::parse(
                form.get("title").unwrap_or_default(),
                description.as_deref(),
                day.flatten(),
                photo,
            )
        }
    }
}

/// A change body, JSON or form, as a command.
fn memory_changes(body: Body<MemoryPatchRequest>) -> Result<MemoryChanges, ValidationErrors> {
    match body {
        Body::Json(b) => MemoryChanges::parse(
            b.title.as_deref(),
            patch_of(b.description),
            patch_of(b.happened_on),
            patch_of(b.photo.map(|p| p.map(|never| match never {}))),
        ),
        Body::Form(mut form) => {
            let (day,) = (form_day(&form),).all()?;
            let photo = form.photo.take().map(|p| Some(PhotoUpload(p)));
            MemoryChanges::parse(
                form.get("title"),
                patch_of(form_text(&form, "description")),
                patch_of(day),
                patch_of(photo),
            )
        }
    }
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
    Errors<(InCoupleError, TimelineProblems)>,
))]
#[get("/memories")]
async fn list_memories(
    app: App,
    auth: Auth,
    Query(page): Query<TimelinePage>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = app.memories.timeline(&auth.0, page).await?;
    Ok(HttpResponse::Ok().json(MemoryPage::new(&page, &req)))
}

/// Create a memory, from JSON or from a form with a `photo` part.
#[utoipa::path(tag = "memories", security(("bearer" = [])),
    request_body(content(
        (NewMemoryRequest = "application/json"),
        (NewMemoryForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Created (Location: its URL)", body = MemoryBody),
        Errors<(CreateMemoryError, MemoryBodies)>,
    )
)]
#[post("/memories")]
async fn create_memory(
    app: App,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (body, _turn) =
        body::read::<NewMemoryRequest>(&req, payload, FORM_FIELDS, photo_limit(&app)).await?;
    let new = new_memory(body)?;
    let memory = run_to_end(&app, move |app| async move {
        app.memories.create(&auth.0, new).await
    })
    .await??;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{OWN_PHOTOS}/{}", memory.id.0)))
        .json(MemoryBody::view(&memory, &req)))
}

/// One memory.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The memory", body = MemoryBody),
    Errors<InCoupleLookupError>,
))]
#[get("/memories/{id}")]
async fn get_memory(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let memory = app.memories.get(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MemoryBody::view(&memory, &req)))
}

/// Change a memory: JSON for text fields (`"photo": null` removes the photo), or a form with
/// any of the text parts and a `photo` part that replaces the photo.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content(
        (MemoryPatchRequest = "application/json"),
        (MemoryPatchForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The memory", body = MemoryBody),
        Errors<(MemoryError, MemoryBodies)>,
    )
)]
#[patch("/memories/{id}")]
async fn update_memory(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (body, _turn) =
        body::read::<MemoryPatchRequest>(&req, payload, FORM_FIELDS, photo_limit(&app)).await?;
    let changes = memory_changes(body)?;
    let id = id.into_inner();
    let memory = run_to_end(&app, move |app| async move {
        app.memories.update(&auth.0, id, changes).await
    })
    .await??;
    Ok(HttpResponse::Ok().json(MemoryBody::view(&memory, &req)))
}

/// Delete a memory and its photo's files.
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted"),
    Errors<InCoupleLookupError>,
))]
#[delete("/memories/{id}")]
async fn delete_memory(
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

/// A photo's size.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeParam {
    /// At most 320 pixels on its longer side.
    Thumb,
    /// At most 1280 pixels on its longer side.
    Medium,
    /// The upload, without its metadata.
    Original,
}

impl From<SizeParam> for PhotoSize {
    fn from(s: SizeParam) -> Self {
        match s {
            SizeParam::Thumb => PhotoSize::Thumb,
            SizeParam::Medium => PhotoSize::Medium,
            SizeParam::Original => PhotoSize::Original,
        }
    }
}

/// Which rendition.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PhotoParams {
    /// `thumb`, `medium` or `original` (default).
    #[param(inline)]
    pub size: Option<SizeParam>,
}

impl PhotoParams {
    pub(crate) fn size(&self) -> PhotoSize {
        self.size.map_or(PhotoSize::Original, PhotoSize::from)
    }
}

pub(crate) fn if_none_match(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
}

/// The one byte range a request asks for, if any. A request with `If-Range` gets the whole
/// file (which RFC 9110 always allows): a resumed download of a changed file must not splice
/// two versions, and a photo's bytes never change under its URL anyway.
pub(crate) fn byte_range(req: &HttpRequest) -> Option<ByteRange> {
    if req.headers().contains_key(header::IF_RANGE) {
        return None;
    }
    req.headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(ByteRange::parse)
}

/// A `Range` past the end of the rendition.
pub(crate) const RANGE_NOT_SATISFIABLE: Spec = Spec::new(
    416,
    "range_not_satisfiable",
    "the `Range` starts past the end of the image; `Content-Range: bytes */<length>` gives its length",
);

/// What a photo route can answer besides its use case's errors: a range it cannot serve.
pub(crate) struct RangeProblems;

impl Problems for RangeProblems {
    fn specs() -> Vec<Spec> {
        vec![RANGE_NOT_SATISFIABLE]
    }
}

/// Photos a partner fetches with credentials are revalidated on every use (a photo can be
/// replaced under the same URL).
pub(crate) const REVALIDATE: &str = "private, no-cache";

/// A rendition, part of it (206), 304 when the client's copy is current, or 416 for a range
/// past its end. Photos are user content: they are never sniffed into another type, never run
/// as a document.
pub(crate) fn photo_response(file: PhotoFile, cache_control: &str) -> HttpResponse {
    if file.part == PhotoPart::Unsatisfiable {
        let mut res = actix_web::ResponseError::error_response(
            &RANGE_NOT_SATISFIABLE.answer(format!("the image has {} bytes", file.len)),
        );
        if let Ok(v) = header::HeaderValue::from_str(&format!("bytes */{}", file.len)) {
            res.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return res;
    }
    let mut res = match (file.part, &file.content) {
        (PhotoPart::Unsatisfiable, _) | (_, None) => HttpResponse::NotModified(),
        (PhotoPart::Range { .. }, Some(_)) => HttpResponse::PartialContent(),
        (PhotoPart::Whole, Some(_)) => HttpResponse::Ok(),
    };
    res.insert_header((header::ETAG, file.etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ));
    match file.part {
        PhotoPart::Range { first, last } => {
            res.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {first}-{last}/{}", file.len),
            ));
        }
        PhotoPart::Unsatisfiable | PhotoPart::Whole => {}
    }
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
/// matching `If-None-Match`, one `Range` of bytes (206, or 416 `range_not_satisfiable` past
/// the end).
#[utoipa::path(tag = "memories", security(("bearer" = [])), params(("id" = Uuid, Path), PhotoParams), responses(
    (status = 200, description = "The image: image/jpeg, image/png or image/webp", content_type = "image/*"),
    (status = 206, description = "The asked `Range` of the image (`Content-Range` says which)", content_type = "image/*"),
    (status = 304, description = "Not modified"),
    Errors<(PhotoFileError, RangeProblems)>,
))]
#[get("/memories/{id}/photo")]
async fn memory_photo(
    app: App,
    auth: Auth,
    id: web::Path<Uuid>,
    params: web::Query<PhotoParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let file = app
        .memories
        .photo(
            &auth.0,
            id.into_inner(),
            params.size(),
            if_none_match(&req),
            byte_range(&req),
        )
        .await?;
    Ok(photo_response(file, REVALIDATE))
}
