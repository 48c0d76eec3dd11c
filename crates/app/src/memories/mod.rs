//! The couple memories site's use cases: memories and their photos, the partners'
//! perspectives, and share links that make part of a couple's site public.
//!
//! Every use case runs in the caller's couple scope ([`crate::scope`]): the couple is found in
//! the same unit of work as what it guards, so another couple's memory, photo or share is
//! simply not found, and every change is recorded in the couple's feed.
//!
//! Photos live in the file store, outside the database's transactions. New files are written
//! before the unit of work that references them and removed again if it fails; files a unit of
//! work stops referencing are removed after it commits. A crash in between can leave an
//! unreferenced file, never a memory whose photo is missing. A caller must let `create`,
//! `update` and `delete` run to their end once started (the HTTP layer runs them as their own
//! task, so a client hanging up cannot stop them between the commit and the clean-up).

mod memory;
mod perspectives;
mod photo_links;
mod public;
mod shares;

pub use memory::*;
pub use perspectives::*;
pub use photo_links::*;
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
    /// How long a signed photo link works at most (at least half of it: see
    /// [`accueil_domain::memories::link_expiry`]).
    pub photo_url_ttl: std::time::Duration,
}

impl Default for MemoriesSettings {
    fn default() -> Self {
        Self {
            max_photo_bytes: 16 * 1024 * 1024,
            max_active_shares: 50,
            photo_url_ttl: std::time::Duration::from_secs(3600),
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

/// What the memories module does when an account's lifecycle needs it: its content of a
/// couple export, and the files of purged couples.
pub(crate) struct Lifecycle {
    pub(crate) service: MemoriesService,
}

impl crate::lifecycle::Lifecycle for Lifecycle {
    fn name(&self) -> &'static str {
        "memories"
    }

    fn export_couple(
        &self,
        tx: &mut dyn accueil_ports::Tx,
        _viewer: accueil_domain::identity::UserId,
        into: &mut crate::lifecycle::CoupleExport,
    ) -> Result<(), accueil_ports::StoreError> {
        let couple = into.couple.couple.id;
        let mut query = accueil_ports::memories::TimelineQuery::default();
        loop {
            let page = tx.memories().timeline(couple, &query, 200)?;
            let Some(last) = page.last().map(accueil_domain::memories::Memory::cursor) else {
                break;
            };
            into.memories.extend(page);
            query.after = Some(last);
        }
        into.perspectives = perspectives::slots(tx.perspectives().perspectives(couple)?);
        into.shares = tx.shares().shares(couple)?;
        // A dissolved couple's links stopped working when it dissolved (the public page
        // answers 404): the export says so rather than listing them as active.
        if let Some(dissolved) = into.couple.couple.dissolved_at {
            for share in &mut into.shares {
                share.revoked_at = Some(share.revoked_at.map_or(dissolved, |r| r.min(dissolved)));
            }
        }
        Ok(())
    }

    fn purge<'a>(
        &'a self,
        _now: DateTime<Utc>,
        log: &'a mut crate::lifecycle::PurgeLog,
    ) -> crate::lifecycle::PurgeFuture<'a> {
        Box::pin(async move {
            // Rows went with their couple (foreign keys cascade); files are not in the
            // database, so they go now. A failure is counted: the folder stays for an
            // operator, the purge goes on.
            for couple in log.couples.clone() {
                if let Err(e) = self.service.delete_couple_files(couple).await {
                    tracing::error!(%couple, error = %e, "files of a purged couple not deleted");
                    log.file_failures += 1;
                }
            }
            Ok(())
        })
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
