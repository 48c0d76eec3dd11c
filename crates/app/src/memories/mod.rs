//! The couple memories site's use cases: memories and their photos, the partners'
//! perspectives, and share links that make part of a couple's site public.
//!
//! The couple is always the caller's active couple, found inside the same unit of work as
//! what it guards, so another couple's memory, photo or share is simply not found.
//!
//! Photos live in the file store, outside the database's transactions. New files are written
//! before the unit of work that references them and removed again if it fails; files a unit of
//! work stops referencing are removed after it commits. A crash in between can leave an
//! unreferenced file, never a memory whose photo is missing. A caller must let `create`,
//! `update` and `delete` run to their end once started (the HTTP layer runs them as their own
//! task, so a client hanging up cannot stop them between the commit and the clean-up).

mod memory;
mod perspectives;
mod public;
mod shares;

pub use memory::*;
pub use perspectives::*;
pub use public::*;
pub use shares::*;

use accueil_domain::couples::CoupleId;
use accueil_domain::memories::{Photo, PhotoSize};
use accueil_ports::media::{FileError, FileKey};
use chrono::{DateTime, Utc};

use crate::Ports;

/// Settings of the memories site.
#[derive(Debug, Clone)]
pub struct MemoriesSettings {
    /// The largest photo upload, in bytes (the HTTP layer refuses larger bodies while they
    /// stream in; the use case checks again).
    pub max_photo_bytes: usize,
    /// How many share links a couple may have active at once.
    pub max_active_shares: usize,
}

impl Default for MemoriesSettings {
    fn default() -> Self {
        Self {
            max_photo_bytes: 16 * 1024 * 1024,
            max_active_shares: 50,
        }
    }
}

/// The memories site's use cases.
#[derive(Clone)]
pub struct MemoriesService {
    ports: Ports,
    settings: MemoriesSettings,
}

impl MemoriesService {
    /// A service over these ports.
    pub fn new(ports: Ports, settings: MemoriesSettings) -> Self {
        Self { ports, settings }
    }

    /// Its settings.
    pub fn settings(&self) -> &MemoriesSettings {
        &self.settings
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Deletes a photo's files after the unit of work that dropped it committed. A failure is
    /// logged, not reported: the request succeeded, and an unreferenced file harms nobody.
    async fn forget_photo(&self, couple: CoupleId, photo: &Photo) {
        if let Err(e) = self.delete_photo_files(couple, photo).await {
            tracing::warn!(%couple, photo = %photo.id, error = %e, "photo files not deleted");
        }
    }

    async fn delete_photo_files(&self, couple: CoupleId, photo: &Photo) -> Result<(), FileError> {
        self.ports
            .files
            .delete_prefix(&photo_folder(couple, photo.id)?)
            .await
    }

    /// Deletes everything a couple stored, once its rows are purged.
    ///
    /// # Errors
    /// A [`FileError`] when the folder could not be deleted.
    pub async fn delete_couple_files(&self, couple: CoupleId) -> Result<(), FileError> {
        self.ports
            .files
            .delete_prefix(&couple_folder(couple)?)
            .await
    }
}

/// Everything a couple stores lives under one folder, so purging a couple is one call.
fn couple_folder(couple: CoupleId) -> Result<FileKey, FileError> {
    FileKey::new(format!("couples/{}", couple.0.simple()))
}

/// A photo's renditions share a folder named after the photo's id, which is new for each
/// upload: a rendition's bytes never change.
fn photo_folder(couple: CoupleId, photo: uuid::Uuid) -> Result<FileKey, FileError> {
    FileKey::new(format!(
        "couples/{}/photos/{}",
        couple.0.simple(),
        photo.simple()
    ))
}

fn rendition_key(couple: CoupleId, photo: &Photo, size: PhotoSize) -> Result<FileKey, FileError> {
    FileKey::new(format!(
        "{}/{}.{}",
        photo_folder(couple, photo.id)?,
        size.as_str(),
        photo.rendition(size).format.extension()
    ))
}
