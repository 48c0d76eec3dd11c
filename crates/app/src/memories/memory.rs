//! Memories: create, read, update, delete, the timeline with search, and serving photos. Every
//! change is recorded in the couple's feed (`memory` entries; a deletion is a tombstone).

use accueil_domain::couples::{ChangeOp, CoupleId, EntityKind, local_day};
use accueil_domain::memories::{
    ByteRange, ImageFormat, Memory, MemoryChanges, MemoryId, NewMemory, Photo, PhotoSize,
    PhotoUpload, TimelinePage,
};
use accueil_domain::validation::Patch;
use accueil_ports::StoreError;
use accueil_ports::media::{FileError, FileRead, ImageError, ProcessedImage};
use accueil_ports::memories::TimelineQuery;
use uuid::Uuid;

use super::photo_links::LinkKey;
use super::{MemoriesService, MemoryView, rendition_key};
use crate::identity::Caller;
use crate::scope::{
    CoupleCx, CoupleDenied, InCoupleError, InCoupleLookupError, NotFound, NotInCouple,
};

/// A page of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Memories, latest first.
    pub items: Vec<MemoryView>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// A photo rendition to send, or the news that the client's copy is current.
#[derive(Debug)]
pub struct PhotoFile {
    /// Its format.
    pub format: ImageFormat,
    /// Its strong entity tag, quoted.
    pub etag: String,
    /// The whole rendition's length in bytes.
    pub len: u64,
    /// What is sent of it.
    pub part: PhotoPart,
    /// The bytes (of the part), streamed from the file store; `None` when the client already
    /// holds this version (answer 304) or asked for a range outside the file (416).
    pub content: Option<FileRead>,
}

/// Which part of a rendition an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoPart {
    /// All of it (200), or nothing because the client's copy is current (304).
    Whole,
    /// The bytes `first..=last` (206).
    Range {
        /// The first byte.
        first: u64,
        /// The last byte.
        last: u64,
    },
    /// The asked range starts past the end (416).
    Unsatisfiable,
}

/// A memory the caller's couple does not have (or, for a photo request, one without a photo).
const NO_MEMORY: NotFound = NotFound("memory");

/// Why an uploaded photo was not taken: it is checked, processed and its files are written
/// before the unit of work of the memory that shows it.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The photo is not JPEG, PNG or WebP.
    #[error("the photo is not a JPEG, PNG or WebP image")]
    UnsupportedImage,
    /// The photo is larger than allowed.
    #[error("photo larger than {max} bytes")]
    PhotoTooLarge {
        /// The limit.
        max: usize,
    },
    /// The photo has more pixels than allowed.
    #[error("{width}x{height} pixels is more than the {max_pixels} allowed")]
    TooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The limit.
        max_pixels: u64,
    },
    /// The photo's signature is right but it cannot be decoded.
    #[error("unreadable image: {0}")]
    UnreadableImage(String),
    /// The image processor or the file store failed.
    #[error("media failure: {0}")]
    Media(String),
}

impl From<FileError> for PhotoError {
    fn from(e: FileError) -> Self {
        Self::Media(e.to_string())
    }
}

impl From<ImageError> for PhotoError {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::Unsupported => Self::UnsupportedImage,
            ImageError::TooManyPixels {
                width,
                height,
                max_pixels,
            } => Self::TooManyPixels {
                width,
                height,
                max_pixels,
            },
            ImageError::Unreadable(m) => Self::UnreadableImage(m),
            ImageError::Internal(m) => Self::Media(m),
        }
    }
}

/// Why making a memory failed: its scope, or its photo.
#[derive(Debug, thiserror::Error)]
pub enum CreateMemoryError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// The photo was not taken.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why changing a memory failed. Reading, listing and deleting memories fail only as their
/// scope can ([`InCoupleError`]), or with a missing memory ([`InCoupleLookupError`]).
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// No such memory in the caller's couple.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The new photo was not taken.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<InCoupleLookupError> for MemoryError {
    fn from(e: InCoupleLookupError) -> Self {
        match e {
            InCoupleLookupError::Denied(d) => Self::Denied(d),
            InCoupleLookupError::NotFound(n) => Self::NotFound(n),
            InCoupleLookupError::Store(s) => Self::Store(s),
        }
    }
}

/// Why a memory's photo could not be served (the caller's couple's, or the export's).
#[derive(Debug, thiserror::Error)]
pub enum PhotoFileError {
    /// Not authenticated, or in no couple (nor one left less than 30 days ago, for the
    /// export's).
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// No such memory, or it has no photo (or its file went meanwhile).
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The file store failed.
    #[error("media failure: {0}")]
    Media(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FileError> for PhotoFileError {
    fn from(e: FileError) -> Self {
        Self::Media(e.to_string())
    }
}

impl From<crate::identity::AuthError> for PhotoFileError {
    fn from(e: crate::identity::AuthError) -> Self {
        Self::Denied(e.into())
    }
}

impl From<InCoupleLookupError> for PhotoFileError {
    fn from(e: InCoupleLookupError) -> Self {
        match e {
            InCoupleLookupError::Denied(d) => Self::Denied(d),
            InCoupleLookupError::NotFound(n) => Self::NotFound(n),
            InCoupleLookupError::Store(s) => Self::Store(s),
        }
    }
}

/// A memory of the couple.
fn memory_of(cx: &mut CoupleCx<'_>, id: Uuid) -> Result<Memory, InCoupleLookupError> {
    Ok(cx
        .tx
        .memories()
        .memory(cx.couple.id, MemoryId(id))?
        .ok_or(NO_MEMORY)?)
}

impl MemoriesService {
    /// Checks an upload, makes its renditions and stores them. The returned photo's files
    /// exist; the caller removes them if its unit of work fails.
    async fn store_photo(
        &self,
        couple: CoupleId,
        upload: PhotoUpload,
    ) -> Result<Photo, PhotoError> {
        let max = self.settings.max_photo_bytes;
        if upload.0.len() > max {
            return Err(PhotoError::PhotoTooLarge { max });
        }
        let format = ImageFormat::sniff(&upload.0).ok_or(PhotoError::UnsupportedImage)?;
        let ProcessedImage {
            original,
            medium,
            thumb,
        } = self.ports.images.process(format, upload.0).await?;
        let photo = Photo {
            id: self.ports.ids.new_id(),
            original: original.rendition,
            medium: medium.rendition,
            thumb: thumb.rendition,
        };
        let written = async {
            for (size, image) in [
                (PhotoSize::Original, original),
                (PhotoSize::Medium, medium),
                (PhotoSize::Thumb, thumb),
            ] {
                let key = rendition_key(couple, &photo, size)?;
                self.ports.files.put(&key, image.bytes).await?;
            }
            Ok::<(), FileError>(())
        }
        .await;
        if let Err(e) = written {
            self.forget_photo(couple, &photo).await;
            return Err(e.into());
        }
        Ok(photo)
    }

    /// The caller's couple, checked in a unit of its own before an upload is processed (image
    /// work is slow and needs no lock), and checked again where it matters, in the unit of
    /// work that stores the memory. Requests without a photo run one unit only.
    async fn couple_for_upload(&self, caller: &Caller) -> Result<CoupleId, CreateMemoryError> {
        self.ports
            .read_in_couple(caller, |cx| -> Result<CoupleId, CreateMemoryError> {
                Ok(cx.couple.id)
            })
            .await
    }

    /// Creates a memory in the caller's couple.
    ///
    /// # Errors
    /// See [`CreateMemoryError`].
    pub async fn create(
        &self,
        caller: &Caller,
        new: NewMemory,
    ) -> Result<MemoryView, CreateMemoryError> {
        let photo = match new.photo {
            Some(upload) => {
                let couple = self.couple_for_upload(caller).await?;
                Some((couple, self.store_photo(couple, upload).await?))
            }
            None => None,
        };
        let id = MemoryId(self.ports.ids.new_id());
        let (title, description, happened_on) = (new.title, new.description, new.happened_on);
        let kept = photo.map(|(_, p)| p);
        let service = self.clone();
        let saved = self
            .ports
            .write_in_couple(
                caller,
                move |cx| -> Result<(Memory, LinkKey), CreateMemoryError> {
                    if let Some(uploaded_for) = photo.map(|(c, _)| c)
                        && uploaded_for != cx.couple.id
                    {
                        // The caller changed couples while the photo was processed.
                        return Err(CoupleDenied::NotInCouple(NotInCouple).into());
                    }
                    let memory = Memory {
                        id,
                        couple_id: cx.couple.id,
                        title,
                        description,
                        happened_on,
                        recorded_on: local_day(cx.now, cx.couple.profile.time_zone.as_ref()),
                        photo: kept,
                        created_by: cx.me.user.id,
                        created_at: cx.now,
                        updated_at: cx.now,
                    };
                    cx.tx.memories().insert_memory(&memory)?;
                    cx.changed(EntityKind::Memory, memory.id.0, ChangeOp::Upsert)?;
                    let key = service.link_key(cx.tx, cx.couple.id, cx.now)?;
                    Ok((memory, key))
                },
            )
            .await;
        if saved.is_err()
            && let Some((couple, photo)) = photo
        {
            self.forget_photo(couple, &photo).await;
        }
        saved.map(|(memory, key)| self.view(memory, key))
    }

    /// One memory of the caller's couple, with its photo links.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn get(&self, caller: &Caller, id: Uuid) -> Result<MemoryView, InCoupleLookupError> {
        let service = self.clone();
        let (memory, key) = self
            .ports
            .read_in_couple(caller, move |cx| {
                let memory = memory_of(cx, id)?;
                let key = service.link_key(cx.tx, cx.couple.id, cx.now)?;
                Ok::<_, InCoupleLookupError>((memory, key))
            })
            .await?;
        Ok(self.view(memory, key))
    }

    /// One memory of the caller's couple, without links.
    async fn memory(&self, caller: &Caller, id: Uuid) -> Result<Memory, InCoupleLookupError> {
        self.ports
            .read_in_couple(caller, move |cx| memory_of(cx, id))
            .await
    }

    /// Changes a memory: text fields, the day, and the photo (replaced or removed; the old
    /// photo's files are deleted once the change is committed).
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub async fn update(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: MemoryChanges,
    ) -> Result<MemoryView, MemoryError> {
        let MemoryChanges {
            title,
            description,
            happened_on,
            photo,
        } = changes;
        let (photo_patch, new_photo) = match photo {
            Patch::Set(upload) => {
                // 404 before any image work.
                let couple = self.memory(caller, id).await?.couple_id;
                let photo = self.store_photo(couple, upload).await?;
                (Patch::Set(photo), Some((couple, photo)))
            }
            Patch::Clear => (Patch::Clear, None),
            Patch::Keep => (Patch::Keep, None),
        };
        let service = self.clone();
        let saved = self
            .ports
            .write_in_couple(
                caller,
                move |cx| -> Result<(Memory, Option<Photo>, LinkKey), MemoryError> {
                    if new_photo.is_some_and(|(c, _)| c != cx.couple.id) {
                        return Err(NO_MEMORY.into());
                    }
                    let mut memory = memory_of(cx, id)?;
                    let old_photo = memory.photo;
                    if let Some(title) = title {
                        memory.title = title;
                    }
                    description.apply_to(&mut memory.description);
                    happened_on.apply_to(&mut memory.happened_on);
                    photo_patch.apply_to(&mut memory.photo);
                    memory.updated_at = cx.now;
                    if !cx.tx.memories().update_memory(&memory)? {
                        return Err(NO_MEMORY.into());
                    }
                    cx.changed(EntityKind::Memory, memory.id.0, ChangeOp::Upsert)?;
                    let dropped =
                        old_photo.filter(|old| memory.photo.map(|p| p.id) != Some(old.id));
                    let key = service.link_key(cx.tx, cx.couple.id, cx.now)?;
                    Ok((memory, dropped, key))
                },
            )
            .await;
        match saved {
            Ok((memory, dropped, key)) => {
                if let Some(old) = dropped {
                    self.forget_photo(memory.couple_id, &old).await;
                }
                Ok(self.view(memory, key))
            }
            Err(e) => {
                if let Some((couple, photo)) = new_photo {
                    self.forget_photo(couple, &photo).await;
                }
                Err(e)
            }
        }
    }

    /// Deletes a memory, then its photo's files.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn delete(&self, caller: &Caller, id: Uuid) -> Result<(), InCoupleLookupError> {
        let (couple, photo) = self
            .ports
            .write_in_couple(
                caller,
                move |cx| -> Result<(CoupleId, Option<Photo>), InCoupleLookupError> {
                    let memory = memory_of(cx, id)?;
                    cx.tx.memories().delete_memory(cx.couple.id, memory.id)?;
                    cx.changed(EntityKind::Memory, memory.id.0, ChangeOp::Delete)?;
                    Ok((cx.couple.id, memory.photo))
                },
            )
            .await?;
        if let Some(photo) = photo {
            self.forget_photo(couple, &photo).await;
        }
        Ok(())
    }

    /// A page of the caller's couple's timeline.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn timeline(
        &self,
        caller: &Caller,
        page: TimelinePage,
    ) -> Result<Timeline, InCoupleError> {
        let service = self.clone();
        let (items, key) = self
            .ports
            .read_in_couple(caller, move |cx| -> Result<_, InCoupleError> {
                let query = TimelineQuery {
                    after: page.after,
                    search: page.search,
                    share: None,
                };
                let items = cx
                    .tx
                    .memories()
                    .timeline(cx.couple.id, &query, page.limit + 1)?;
                Ok((items, service.link_key(cx.tx, cx.couple.id, cx.now)?))
            })
            .await?;
        Ok(timeline_page(items, page.limit, |m| self.view(m, key)))
    }

    /// A rendition of a memory's photo, for the couple.
    ///
    /// # Errors
    /// See [`PhotoFileError`]; `NotFound` when the memory has no photo.
    pub async fn photo(
        &self,
        caller: &Caller,
        id: Uuid,
        size: PhotoSize,
        if_none_match: Option<&str>,
        range: Option<ByteRange>,
    ) -> Result<PhotoFile, PhotoFileError> {
        let memory = self.memory(caller, id).await?;
        self.photo_file(&memory, size, if_none_match, range).await
    }

    /// A rendition of a photo of the couple the caller may export (the active one, or the
    /// last one left less than 30 days ago): the export's photo links, which keep working as
    /// long as the export does.
    ///
    /// # Errors
    /// See [`PhotoFileError`]; `Denied(NotInCouple)` when there is no couple to export.
    pub async fn export_photo(
        &self,
        caller: &Caller,
        id: Uuid,
        size: PhotoSize,
        if_none_match: Option<&str>,
        range: Option<ByteRange>,
    ) -> Result<PhotoFile, PhotoFileError> {
        let memory = self
            .ports
            .read_as(caller, move |cx| -> Result<Memory, PhotoFileError> {
                let couple = crate::lifecycle::exportable_couple(cx.tx, cx.me.user.id, cx.now)?
                    .ok_or(CoupleDenied::NotInCouple(NotInCouple))?;
                cx.tx
                    .memories()
                    .memory(couple.id, MemoryId(id))?
                    .ok_or(PhotoFileError::NotFound(NO_MEMORY))
            })
            .await?;
        self.photo_file(&memory, size, if_none_match, range).await
    }

    /// A rendition, all of it or the asked range of it (resolved against the stored length,
    /// so a suffix range needs no second look at the file), or nothing when the client's copy
    /// is current: `If-None-Match` is decided before `Range`, as RFC 9110 orders them.
    pub(super) async fn photo_file(
        &self,
        memory: &Memory,
        size: PhotoSize,
        if_none_match: Option<&str>,
        range: Option<ByteRange>,
    ) -> Result<PhotoFile, PhotoFileError> {
        let photo = memory.photo.ok_or(NO_MEMORY)?;
        let etag = photo.etag(size);
        let rendition = photo.rendition(size);
        let (format, len) = (rendition.format, rendition.bytes);
        let answer = |part, content| PhotoFile {
            format,
            etag: etag.clone(),
            len,
            part,
            content,
        };
        if if_none_match.is_some_and(|h| etag_matches(h, &etag)) {
            return Ok(answer(PhotoPart::Whole, None));
        }
        let part = match range.map(|r| r.resolve(len)) {
            None => PhotoPart::Whole,
            Some(Some((first, last))) => PhotoPart::Range { first, last },
            Some(None) => return Ok(answer(PhotoPart::Unsatisfiable, None)),
        };
        let key = rendition_key(memory.couple_id, &photo, size)?;
        let opened = match part {
            PhotoPart::Range { first, last } => {
                self.ports
                    .files
                    .open_range(&key, first, last - first + 1)
                    .await?
            }
            _ => self.ports.files.open(&key).await?,
        };
        // A photo replaced or deleted between reading its row and its file is gone: that is a
        // race, answered like a missing photo.
        let content = opened.ok_or_else(|| {
            tracing::warn!(memory = %memory.id.0, %key, "a photo's file is missing");
            PhotoFileError::NotFound(NO_MEMORY)
        })?;
        Ok(answer(part, Some(content)))
    }
}

/// Cuts `limit + 1` memories to a page and its next cursor, each memory shown by `show`.
pub(super) fn timeline_page(
    items: Vec<Memory>,
    limit: u32,
    show: impl Fn(Memory) -> MemoryView,
) -> Timeline {
    let (items, next) = crate::couples::paged(items, limit, |m| m.cursor().encode());
    Timeline {
        items: items.into_iter().map(show).collect(),
        next,
    }
}

/// Whether an `If-None-Match` header names this entity tag (or is `*`). Weak comparison, as
/// RFC 9110 prescribes for `If-None-Match`.
fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::testing::Harness;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];

    /// The whole content of a streamed file.
    pub(crate) async fn bytes_of(content: Option<FileRead>) -> Option<Vec<u8>> {
        let mut stream = content?.stream;
        let mut all = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            all.extend(chunk.unwrap());
        }
        Some(all)
    }
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-new";

    fn new(title: &str, photo: Option<&[u8]>) -> NewMemory {
        NewMemory::parse(
            title,
            Some("Au bord du lac"),
            NaiveDate::from_ymd_opt(2024, 6, 1),
            photo.map(|p| PhotoUpload(p.to_vec())),
        )
        .unwrap()
    }

    fn page(cursor: Option<&str>, q: Option<&str>, limit: u32) -> TimelinePage {
        TimelinePage::parse(cursor, q, Some(limit)).unwrap()
    }

    #[tokio::test]
    async fn a_photo_is_stored_served_and_deleted_with_its_memory() {
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        let memory = m.create(&a, new("Évian", Some(JPEG))).await.unwrap();
        let photo = memory.photo.unwrap();
        assert_eq!(h.files.keys().len(), 3, "original, medium and thumb");
        assert!(
            h.files
                .keys()
                .iter()
                .all(|k| k.contains(&photo.id.simple().to_string()))
        );
        let original = m
            .photo(&b, memory.id.0, PhotoSize::Original, None, None)
            .await
            .unwrap();
        assert_eq!(bytes_of(original.content).await.as_deref(), Some(JPEG));
        assert_eq!(original.format, ImageFormat::Jpeg);
        let again = m
            .photo(
                &b,
                memory.id.0,
                PhotoSize::Original,
                Some(&original.etag),
                None,
            )
            .await
            .unwrap();
        assert!(again.content.is_none(), "a current copy is not sent again");
        let thumb = m
            .photo(&b, memory.id.0, PhotoSize::Thumb, None, None)
            .await
            .unwrap();
        assert_eq!(
            bytes_of(thumb.content).await.as_deref(),
            Some(&b"thumb"[..])
        );
        m.delete(&b, memory.id.0).await.unwrap();
        assert!(h.files.keys().is_empty(), "files go with the memory");
        assert!(matches!(
            m.get(&a, memory.id.0).await,
            Err(InCoupleLookupError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_bad_upload_changes_nothing() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        assert!(matches!(
            m.create(&a, new("x", Some(b"<html>photo.jpg"))).await,
            Err(CreateMemoryError::Photo(PhotoError::UnsupportedImage))
        ));
        assert!(
            NewMemory::parse(" ", None, None, Some(PhotoUpload(JPEG.to_vec()))).is_err(),
            "refused at the edge, before any image work"
        );
        assert!(h.files.keys().is_empty());
        let page = m.timeline(&a, page(None, None, 0)).await.unwrap();
        assert!(page.items.is_empty());
    }

    #[tokio::test]
    async fn replacing_or_removing_a_photo_deletes_the_old_files() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        let memory = m.create(&a, new("x", Some(JPEG))).await.unwrap();
        let old = memory.photo.unwrap().id.simple().to_string();
        let replaced = m
            .update(
                &a,
                memory.id.0,
                MemoryChanges {
                    photo: Patch::Set(PhotoUpload(PNG.to_vec())),
                    description: Patch::Clear,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(replaced.description, None);
        assert_eq!(replaced.title.as_str(), "x");
        assert_eq!(replaced.photo.unwrap().original.format, ImageFormat::Png);
        assert_eq!(h.files.keys().len(), 3);
        assert!(h.files.keys().iter().all(|k| !k.contains(&old)));
        let bare = m
            .update(
                &a,
                memory.id.0,
                MemoryChanges {
                    photo: Patch::Clear,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(bare.photo, None);
        assert!(h.files.keys().is_empty());
        assert!(matches!(
            m.photo(&a, memory.id.0, PhotoSize::Thumb, None, None).await,
            Err(PhotoFileError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn another_couple_finds_nothing() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let (y, _) = h.paired("y@example.org", "z@example.org").await;
        let m = h.memories();
        let memory = m.create(&a, new("x", Some(JPEG))).await.unwrap();
        let id = memory.id.0;
        assert!(matches!(
            m.get(&y, id).await,
            Err(InCoupleLookupError::NotFound(_))
        ));
        assert!(matches!(
            m.photo(&y, id, PhotoSize::Original, None, None).await,
            Err(PhotoFileError::NotFound(_))
        ));
        assert!(matches!(
            m.update(
                &y,
                id,
                MemoryChanges {
                    photo: Patch::Set(PhotoUpload(PNG.to_vec())),
                    ..Default::default()
                }
            )
            .await,
            Err(MemoryError::NotFound(_))
        ));
        assert!(matches!(
            m.delete(&y, id).await,
            Err(InCoupleLookupError::NotFound(_))
        ));
        assert_eq!(h.files.keys().len(), 3, "nothing stored, nothing deleted");
        assert!(
            m.timeline(&y, page(None, None, 0))
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_timeline_pages_and_searches() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        for (i, title) in ["Un", "Deux", "Trois"].into_iter().enumerate() {
            m.create(
                &a,
                NewMemory::parse(
                    title,
                    None,
                    NaiveDate::from_ymd_opt(2020, 1, 1 + i as u32),
                    None,
                )
                .unwrap(),
            )
            .await
            .unwrap();
        }
        let first = m.timeline(&a, page(None, None, 2)).await.unwrap();
        let titles = |t: &Timeline| {
            t.items
                .iter()
                .map(|m| m.title.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(&first), ["Trois", "Deux"]);
        let rest = m
            .timeline(&a, page(first.next.as_deref(), None, 2))
            .await
            .unwrap();
        assert_eq!(titles(&rest), ["Un"]);
        assert_eq!(rest.next, None);
        let found = m.timeline(&a, page(None, Some("DEUX"), 10)).await.unwrap();
        assert_eq!(titles(&found), ["Deux"]);
        assert!(
            TimelinePage::parse(Some("nope"), None, None).is_err(),
            "a cursor this API did not make is refused at the edge"
        );
    }

    #[tokio::test]
    async fn purging_a_dissolved_couple_deletes_its_files() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let (y, _) = h.paired("y@example.org", "z@example.org").await;
        let m = h.memories();
        m.create(&a, new("x", Some(JPEG))).await.unwrap();
        m.create(&y, new("y", Some(PNG))).await.unwrap();
        h.couples().leave(&a).await.unwrap();
        let app = h.whole_app();
        assert_eq!(app.purge().await.unwrap().couples, 0, "kept 30 days");
        assert_eq!(h.files.keys().len(), 6);
        h.advance(chrono::Duration::days(31));
        assert_eq!(app.purge().await.unwrap().couples, 1);
        assert_eq!(
            h.files.keys().len(),
            3,
            "only the other couple's files remain"
        );
        let keys = h.files.keys();
        assert!(keys.iter().any(|k| k.ends_with("original.png")));
        assert!(!keys.iter().any(|k| k.ends_with("original.jpg")));
    }

    #[tokio::test]
    async fn an_undated_memory_belongs_to_the_couples_day() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        // 09:30 UTC is 23:30 the day before in Honolulu.
        h.couples()
            .update_couple_profile(
                &a,
                accueil_domain::couples::CoupleProfileChanges {
                    time_zone: Patch::Set(
                        accueil_domain::identity::TimeZone::parse("Pacific/Honolulu").unwrap(),
                    ),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let m = h.memories().create(&a, new("Le soir", None)).await.unwrap();
        let m = Memory {
            happened_on: None,
            ..m.memory
        };
        assert_eq!(
            m.timeline_day(),
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
        );
        assert_eq!(
            m.created_at.date_naive(),
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        );
    }
}
