//! Media ports: a store for files (photos) and an image processor.
//!
//! Files are immutable blobs under keys the server makes; nothing a client sends becomes part of
//! a key. The local-filesystem adapter maps a key to a path under its root; an S3-compatible
//! adapter maps it to an object name. Files are not transactional: a use case writes new files
//! before the unit of work that references them, and deletes old ones after the unit of work
//! that stopped referencing them committed, so a failure leaves at worst an unreferenced file,
//! never a row pointing at nothing.

use accueil_domain::memories::{ImageFormat, Rendition};
use async_trait::async_trait;

/// A file's name in the store: `/`-separated segments of ASCII letters, digits, `-`, `_` and
/// `.`, none of them empty, `.` or `..`. Made by the server only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileKey(String);

impl FileKey {
    /// Checks a key.
    ///
    /// # Errors
    /// `FileError::InvalidKey` when it is not of the form above or longer than 512 bytes.
    pub fn new(key: impl Into<String>) -> Result<Self, FileError> {
        let key = key.into();
        let ok = !key.is_empty()
            && key.len() <= 512
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
        if ok {
            Ok(Self(key))
        } else {
            Err(FileError::InvalidKey(key))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a file operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The key is not a valid key (a bug in the caller).
    #[error("invalid file key {0:?}")]
    InvalidKey(String),
    /// The store failed (disk full, permission, network).
    #[error("file store failure: {0}")]
    Io(String),
}

/// A file's bytes, chunk by chunk, as they are read: serving a 16 MiB original does not hold
/// it whole in memory.
pub type ByteStream =
    std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<Vec<u8>, FileError>> + Send>>;

/// A file opened for reading.
pub struct FileRead {
    /// Its size in bytes.
    pub len: u64,
    /// Its bytes.
    pub stream: ByteStream,
}

impl std::fmt::Debug for FileRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileRead")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Where files live.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Stores `bytes` under `key`, replacing what is there. When it returns `Ok` the file is
    /// durable (on a local disk: written, synced and renamed into place), so a reader never
    /// sees a partial file.
    ///
    /// # Errors
    /// `FileError::Io` when it could not be stored; then nothing is visible under `key`.
    async fn put(&self, key: &FileKey, bytes: Vec<u8>) -> Result<(), FileError>;

    /// The bytes under `key`, or `None` when there is no such file.
    ///
    /// # Errors
    /// `FileError::Io` when the file exists but cannot be read.
    async fn get(&self, key: &FileKey) -> Result<Option<Vec<u8>>, FileError>;

    /// Opens the file under `key` for reading as a stream, or `None` when there is no such
    /// file. The stream yields the bytes `get` would return.
    ///
    /// # Errors
    /// `FileError::Io` when the file exists but cannot be opened; a read failure later comes
    /// as an `Err` item of the stream.
    async fn open(&self, key: &FileKey) -> Result<Option<FileRead>, FileError>;

    /// Opens `len` bytes of the file under `key` from byte `start` (both within the file:
    /// the caller resolved the range against the file's size), or `None` when there is no
    /// such file. The read's `len` is the part's length.
    ///
    /// # Errors
    /// As [`FileStore::open`].
    async fn open_range(
        &self,
        key: &FileKey,
        start: u64,
        len: u64,
    ) -> Result<Option<FileRead>, FileError>;

    /// Deletes the file under `key`; deleting a missing file succeeds.
    ///
    /// # Errors
    /// `FileError::Io` when it exists and could not be deleted.
    async fn delete(&self, key: &FileKey) -> Result<(), FileError>;

    /// Deletes every file whose key starts with `prefix` followed by `/` (a "folder"), and the
    /// folder itself; a missing folder succeeds.
    ///
    /// # Errors
    /// `FileError::Io` when something under it could not be deleted.
    async fn delete_prefix(&self, prefix: &FileKey) -> Result<(), FileError>;
}

/// One encoded image made by the processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedImage {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its format and dimensions (`bytes` field equal to `bytes.len()`).
    pub rendition: Rendition,
}

/// What the processor makes of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    /// The upload in its own format, with its metadata (EXIF, XMP, IPTC, comments, text
    /// chunks) removed; only the orientation survives, so the photo still displays upright.
    pub original: EncodedImage,
    /// Upright, at most `medium_edge` pixels on its longer side (never enlarged).
    pub medium: EncodedImage,
    /// Upright, at most `thumb_edge` pixels on its longer side (never enlarged).
    pub thumb: EncodedImage,
}

/// Why an upload is not a usable image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// Its bytes are not JPEG, PNG or WebP.
    #[error("not a JPEG, PNG or WebP image")]
    Unsupported,
    /// More pixels than allowed (a decompression bomb, or just too large).
    #[error("{width}x{height} pixels is more than the {max_pixels} allowed")]
    TooManyPixels {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The limit.
        max_pixels: u64,
    },
    /// Its signature is right but it cannot be decoded (truncated, corrupt).
    #[error("unreadable image: {0}")]
    Unreadable(String),
    /// The processor failed for a reason of its own.
    #[error("image processing failed: {0}")]
    Internal(String),
}

/// Decodes, checks and re-encodes uploads, off the async workers.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ImageProcessor: Send + Sync {
    /// Processes an upload whose signature was already recognised as `format`.
    ///
    /// # Errors
    /// See [`ImageError`]: `Unsupported` when the bytes are not of `format` after all,
    /// `TooManyPixels` before decoding when the header announces too many pixels, `Unreadable`
    /// when decoding fails.
    async fn process(
        &self,
        format: ImageFormat,
        bytes: Vec<u8>,
    ) -> Result<ProcessedImage, ImageError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_climb_out_of_the_store() {
        assert!(FileKey::new("couples/abc/memories/123/thumb").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/./b",
            "a/",
            "a\\b",
            "a b",
            "é",
        ] {
            assert!(FileKey::new(bad).is_err(), "{bad:?}");
        }
        assert!(FileKey::new("a".repeat(513)).is_err());
    }
}
