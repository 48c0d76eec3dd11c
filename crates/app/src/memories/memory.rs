//! Memories: create, read, update, delete, the timeline with search, and serving photos.

use accueil_domain::couples::{Couple, CoupleId, local_day};
use accueil_domain::memories::{
    ImageFormat, Memory, MemoryDescription, MemoryId, MemoryTitle, Photo, PhotoSize, SearchTerm,
    TimelineCursor,
};
use accueil_domain::validation::ValidationErrors;
use accueil_ports::media::{FileError, FileRead, ImageError, ProcessedImage};
use accueil_ports::memories::TimelineQuery;
use accueil_ports::{StoreError, StoreExt};
use chrono::NaiveDate;
use uuid::Uuid;

use super::{MemoriesService, rendition_key};
use crate::couples::{NotInCouple, my_couple};
use crate::identity::{Patch, Principal};

/// An uploaded photo: only its bytes count (the client's file name and type are ignored).
#[derive(Clone, PartialEq, Eq)]
pub struct PhotoUpload(pub Vec<u8>);

impl std::fmt::Debug for PhotoUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhotoUpload({} bytes)", self.0.len())
    }
}

/// A new memory.
#[derive(Debug, Clone, Default)]
pub struct NewMemory {
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 10,000 characters.
    pub description: Option<String>,
    /// The day it happened.
    pub happened_on: Option<NaiveDate>,
    /// Its photo.
    pub photo: Option<PhotoUpload>,
}

/// A partial update of a memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryPatch {
    /// A new title.
    pub title: Option<String>,
    /// Set or clear the description.
    pub description: Patch<String>,
    /// Set or clear the day.
    pub happened_on: Patch<NaiveDate>,
    /// Replace or remove the photo.
    pub photo: Patch<PhotoUpload>,
}

/// A page of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Memories, latest first.
    pub items: Vec<Memory>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// Which page of the timeline.
#[derive(Debug, Clone, Default)]
pub struct TimelineInput {
    /// A cursor from a previous page.
    pub cursor: Option<String>,
    /// Text to search titles and descriptions for.
    pub q: Option<String>,
    /// Page size (1 to 100; 0 means the default, 20).
    pub limit: u32,
}

impl TimelineInput {
    pub(super) fn page_size(&self) -> u32 {
        match self.limit {
            0 => 20,
            n => n.min(100),
        }
    }
}

/// A photo rendition to send, or the news that the client's copy is current.
#[derive(Debug)]
pub struct PhotoFile {
    /// Its format.
    pub format: ImageFormat,
    /// Its strong entity tag, quoted.
    pub etag: String,
    /// The bytes, streamed from the file store; `None` when the client already holds this
    /// version (answer 304).
    pub content: Option<FileRead>,
}

/// Why a memory request failed.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// No couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// No such memory in the caller's couple (or no photo, for a photo request).
    #[error("no such memory")]
    NotFound,
    /// Invalid fields.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The photo is not JPEG, PNG or WebP.
    #[error("unsupported image type")]
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
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FileError> for MemoryError {
    fn from(e: FileError) -> Self {
        Self::Media(e.to_string())
    }
}

impl From<ImageError> for MemoryError {
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

impl MemoriesService {
    /// The caller's couple, read in its own unit of work: checked before slow work (image
    /// processing), and checked again where it matters, inside the writing unit of work.
    async fn couple_of(&self, who: &Principal) -> Result<Couple, MemoryError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<Couple, MemoryError> { Ok(my_couple(tx, me)??) })
            .await
    }

    /// Checks an upload, makes its renditions and stores them. The returned photo's files
    /// exist; the caller removes them if its unit of work fails.
    async fn store_photo(
        &self,
        couple: CoupleId,
        upload: PhotoUpload,
    ) -> Result<Photo, MemoryError> {
        let max = self.settings.max_photo_bytes;
        if upload.0.len() > max {
            return Err(MemoryError::PhotoTooLarge { max });
        }
        let format = ImageFormat::sniff(&upload.0).ok_or(MemoryError::UnsupportedImage)?;
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

    /// Creates a memory in the caller's couple.
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub async fn create(&self, who: &Principal, input: NewMemory) -> Result<Memory, MemoryError> {
        let mut errors = Vec::new();
        let title = MemoryTitle::parse(&input.title).map_err(|e| errors.push(e));
        let description = input
            .description
            .as_deref()
            .map(MemoryDescription::parse)
            .transpose()
            .map_err(|e| errors.push(e));
        ValidationErrors::collect(errors)?;
        let (Ok(title), Ok(description)) = (title, description) else {
            return Err(MemoryError::Invalid(ValidationErrors(Vec::new())));
        };
        let found = self.couple_of(who).await?;
        let couple = found.id;
        let photo = match input.photo {
            Some(upload) => Some(self.store_photo(couple, upload).await?),
            None => None,
        };
        let now = self.now();
        let recorded_on = local_day(now, found.profile.time_zone.as_ref());
        let memory = Memory {
            id: MemoryId(self.ports.ids.new_id()),
            couple_id: couple,
            title,
            description,
            happened_on: input.happened_on,
            recorded_on,
            photo,
            created_by: who.user.id,
            created_at: now,
            updated_at: now,
        };
        let me = who.user.id;
        let m = memory.clone();
        let saved = self
            .ports
            .store
            .write(move |tx| -> Result<(), MemoryError> {
                let now_couple = my_couple(tx, me)??;
                if now_couple.id != m.couple_id {
                    return Err(NotInCouple.into());
                }
                tx.memories().insert_memory(&m)?;
                Ok(())
            })
            .await;
        if let Err(e) = saved {
            if let Some(photo) = &memory.photo {
                self.forget_photo(couple, photo).await;
            }
            return Err(e);
        }
        Ok(memory)
    }

    /// One memory of the caller's couple.
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub async fn get(&self, who: &Principal, id: Uuid) -> Result<Memory, MemoryError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<Memory, MemoryError> {
                let couple = my_couple(tx, me)??;
                tx.memories()
                    .memory(couple.id, MemoryId(id))?
                    .ok_or(MemoryError::NotFound)
            })
            .await
    }

    /// Changes a memory: text fields, the day, and the photo (replaced or removed; the old
    /// photo's files are deleted once the change is committed).
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub async fn update(
        &self,
        who: &Principal,
        id: Uuid,
        patch: MemoryPatch,
    ) -> Result<Memory, MemoryError> {
        let mut errors = Vec::new();
        let title = patch
            .title
            .as_deref()
            .map(MemoryTitle::parse)
            .transpose()
            .map_err(|e| errors.push(e));
        let description = patch
            .description
            .parse(|v| MemoryDescription::parse(v), &mut errors);
        ValidationErrors::collect(errors)?;
        let Ok(title) = title else {
            return Err(MemoryError::Invalid(ValidationErrors(Vec::new())));
        };
        // 404 before any image work.
        let couple = self.get(who, id).await?.couple_id;
        let (photo_patch, new_photo) = match patch.photo {
            Patch::Set(upload) => {
                let photo = self.store_photo(couple, upload).await?;
                (Patch::Set(photo), Some(photo))
            }
            Patch::Clear => (Patch::Clear, None),
            Patch::Keep => (Patch::Keep, None),
        };
        let now = self.now();
        let me = who.user.id;
        let happened_on = patch.happened_on;
        let saved = self
            .ports
            .store
            .write(move |tx| -> Result<(Memory, Option<Photo>), MemoryError> {
                let c = my_couple(tx, me)??;
                if c.id != couple {
                    return Err(MemoryError::NotFound);
                }
                let mut memory = tx
                    .memories()
                    .memory(couple, MemoryId(id))?
                    .ok_or(MemoryError::NotFound)?;
                let old_photo = memory.photo;
                if let Some(title) = title {
                    memory.title = title;
                }
                description.apply_to(&mut memory.description);
                happened_on.apply_to(&mut memory.happened_on);
                photo_patch.apply_to(&mut memory.photo);
                memory.updated_at = now;
                if !tx.memories().update_memory(&memory)? {
                    return Err(MemoryError::NotFound);
                }
                let dropped = old_photo.filter(|old| memory.photo.map(|p| p.id) != Some(old.id));
                Ok((memory, dropped))
            })
            .await;
        match saved {
            Ok((memory, dropped)) => {
                if let Some(old) = dropped {
                    self.forget_photo(couple, &old).await;
                }
                Ok(memory)
            }
            Err(e) => {
                if let Some(photo) = new_photo {
                    self.forget_photo(couple, &photo).await;
                }
                Err(e)
            }
        }
    }

    /// Deletes a memory, then its photo's files.
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub async fn delete(&self, who: &Principal, id: Uuid) -> Result<(), MemoryError> {
        let me = who.user.id;
        let (couple, photo) = self
            .ports
            .store
            .write(
                move |tx| -> Result<(CoupleId, Option<Photo>), MemoryError> {
                    let couple = my_couple(tx, me)??;
                    let memory = tx
                        .memories()
                        .memory(couple.id, MemoryId(id))?
                        .ok_or(MemoryError::NotFound)?;
                    tx.memories().delete_memory(couple.id, memory.id)?;
                    Ok((couple.id, memory.photo))
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
    /// See [`MemoryError`].
    pub async fn timeline(
        &self,
        who: &Principal,
        input: TimelineInput,
    ) -> Result<Timeline, MemoryError> {
        let query = timeline_query(&input)?;
        let me = who.user.id;
        let limit = input.page_size();
        self.ports
            .store
            .read(move |tx| -> Result<Timeline, MemoryError> {
                let couple = my_couple(tx, me)??;
                let items = tx.memories().timeline(couple.id, &query, limit + 1)?;
                Ok(timeline_page(items, limit))
            })
            .await
    }

    /// A rendition of a memory's photo, for the couple.
    ///
    /// # Errors
    /// See [`MemoryError`]; `NotFound` when the memory has no photo.
    pub async fn photo(
        &self,
        who: &Principal,
        id: Uuid,
        size: PhotoSize,
        if_none_match: Option<&str>,
    ) -> Result<PhotoFile, MemoryError> {
        let memory = self.get(who, id).await?;
        self.photo_file(&memory, size, if_none_match).await
    }

    pub(super) async fn photo_file(
        &self,
        memory: &Memory,
        size: PhotoSize,
        if_none_match: Option<&str>,
    ) -> Result<PhotoFile, MemoryError> {
        let photo = memory.photo.ok_or(MemoryError::NotFound)?;
        let etag = photo.etag(size);
        let format = photo.rendition(size).format;
        if if_none_match.is_some_and(|h| etag_matches(h, &etag)) {
            return Ok(PhotoFile {
                format,
                etag,
                content: None,
            });
        }
        let key = rendition_key(memory.couple_id, &photo, size)?;
        // A photo replaced or deleted between reading its row and its file is gone: that is a
        // race, answered like a missing photo.
        let content = self.ports.files.open(&key).await?.ok_or_else(|| {
            tracing::warn!(memory = %memory.id.0, %key, "a photo's file is missing");
            MemoryError::NotFound
        })?;
        Ok(PhotoFile {
            format,
            etag,
            content: Some(content),
        })
    }
}

/// Parses a timeline request.
pub(super) fn timeline_query(input: &TimelineInput) -> Result<TimelineQuery, ValidationErrors> {
    let mut errors = Vec::new();
    let after = input
        .cursor
        .as_deref()
        .map(TimelineCursor::parse)
        .transpose()
        .map_err(|e| errors.push(e));
    let search = input
        .q
        .as_deref()
        .map(SearchTerm::parse)
        .transpose()
        .map_err(|e| errors.push(e));
    ValidationErrors::collect(errors)?;
    Ok(TimelineQuery {
        after: after.ok().flatten(),
        search: search.ok().flatten().flatten(),
        share: None,
    })
}

/// Cuts `limit + 1` memories to a page and its next cursor.
pub(super) fn timeline_page(items: Vec<Memory>, limit: u32) -> Timeline {
    let (items, next) = crate::couples::paged(items, limit, |m| m.cursor().encode());
    Timeline { items, next }
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
    use super::*;
    use crate::identity::testing::Harness;

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
        NewMemory {
            title: title.into(),
            description: Some("Au bord du lac".into()),
            happened_on: NaiveDate::from_ymd_opt(2024, 6, 1),
            photo: photo.map(|p| PhotoUpload(p.to_vec())),
        }
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
            .photo(&b, memory.id.0, PhotoSize::Original, None)
            .await
            .unwrap();
        assert_eq!(bytes_of(original.content).await.as_deref(), Some(JPEG));
        assert_eq!(original.format, ImageFormat::Jpeg);
        let again = m
            .photo(&b, memory.id.0, PhotoSize::Original, Some(&original.etag))
            .await
            .unwrap();
        assert!(again.content.is_none(), "a current copy is not sent again");
        let thumb = m
            .photo(&b, memory.id.0, PhotoSize::Thumb, None)
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
            Err(MemoryError::NotFound)
        ));
    }

    #[tokio::test]
    async fn a_bad_upload_changes_nothing() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        assert!(matches!(
            m.create(&a, new("x", Some(b"<html>photo.jpg"))).await,
            Err(MemoryError::UnsupportedImage)
        ));
        assert!(matches!(
            m.create(&a, new(" ", Some(JPEG))).await,
            Err(MemoryError::Invalid(_))
        ));
        assert!(h.files.keys().is_empty());
        let page = m.timeline(&a, TimelineInput::default()).await.unwrap();
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
                MemoryPatch {
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
                MemoryPatch {
                    photo: Patch::Clear,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(bare.photo, None);
        assert!(h.files.keys().is_empty());
        assert!(matches!(
            m.photo(&a, memory.id.0, PhotoSize::Thumb, None).await,
            Err(MemoryError::NotFound)
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
        assert!(matches!(m.get(&y, id).await, Err(MemoryError::NotFound)));
        assert!(matches!(
            m.photo(&y, id, PhotoSize::Original, None).await,
            Err(MemoryError::NotFound)
        ));
        assert!(matches!(
            m.update(
                &y,
                id,
                MemoryPatch {
                    photo: Patch::Set(PhotoUpload(PNG.to_vec())),
                    ..Default::default()
                }
            )
            .await,
            Err(MemoryError::NotFound)
        ));
        assert!(matches!(m.delete(&y, id).await, Err(MemoryError::NotFound)));
        assert_eq!(h.files.keys().len(), 3, "nothing stored, nothing deleted");
        assert!(
            m.timeline(&y, TimelineInput::default())
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
                NewMemory {
                    title: title.into(),
                    happened_on: NaiveDate::from_ymd_opt(2020, 1, 1 + i as u32),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        let first = m
            .timeline(
                &a,
                TimelineInput {
                    limit: 2,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let titles = |t: &Timeline| {
            t.items
                .iter()
                .map(|m| m.title.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(&first), ["Trois", "Deux"]);
        let rest = m
            .timeline(
                &a,
                TimelineInput {
                    limit: 2,
                    cursor: first.next.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(titles(&rest), ["Un"]);
        assert_eq!(rest.next, None);
        let found = m
            .timeline(
                &a,
                TimelineInput {
                    q: Some("DEUX".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(titles(&found), ["Deux"]);
        assert!(matches!(
            m.timeline(
                &a,
                TimelineInput {
                    cursor: Some("nope".into()),
                    ..Default::default()
                }
            )
            .await,
            Err(MemoryError::Invalid(_))
        ));
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
                crate::couples::CoupleProfilePatch {
                    time_zone: Patch::Set("Pacific/Honolulu".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let m = h.memories().create(&a, new("Le soir", None)).await.unwrap();
        let m = Memory {
            happened_on: None,
            ..m
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
