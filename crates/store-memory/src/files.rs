//! A file store in memory, for tests and for running without a disk.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use accueil_ports::media::{FileError, FileKey, FileStore};
use async_trait::async_trait;

/// Files in a map, shared by its clones.
#[derive(Debug, Clone, Default)]
pub struct MemoryFileStore {
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
}

impl MemoryFileStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every key stored, in order (for tests).
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-changed: every change is
        // one map operation.
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl FileStore for MemoryFileStore {
    async fn put(&self, key: &FileKey, bytes: Vec<u8>) -> Result<(), FileError> {
        self.lock().insert(key.as_str().to_owned(), bytes);
        Ok(())
    }

    async fn get(&self, key: &FileKey) -> Result<Option<Vec<u8>>, FileError> {
        Ok(self.lock().get(key.as_str()).cloned())
    }

    async fn open(
        &self,
        key: &FileKey,
    ) -> Result<Option<accueil_ports::media::FileRead>, FileError> {
        Ok(self
            .lock()
            .get(key.as_str())
            .cloned()
            .map(|bytes| accueil_ports::media::FileRead {
                len: bytes.len() as u64,
                stream: Box::pin(futures_util::stream::iter([Ok(bytes)])),
            }))
    }

    async fn open_range(
        &self,
        key: &FileKey,
        start: u64,
        len: u64,
    ) -> Result<Option<accueil_ports::media::FileRead>, FileError> {
        let Some(bytes) = self.lock().get(key.as_str()).cloned() else {
            return Ok(None);
        };
        let from = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let to = usize::try_from(start.saturating_add(len))
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let part = bytes[from..to].to_vec();
        Ok(Some(accueil_ports::media::FileRead {
            len: part.len() as u64,
            stream: Box::pin(futures_util::stream::iter([Ok(part)])),
        }))
    }

    async fn delete(&self, key: &FileKey) -> Result<(), FileError> {
        self.lock().remove(key.as_str());
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &FileKey) -> Result<(), FileError> {
        let folder = format!("{}/", prefix.as_str());
        self.lock()
            .retain(|k, _| k != prefix.as_str() && !k.starts_with(&folder));
        Ok(())
    }
}
