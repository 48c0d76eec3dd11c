//! The file store on a local disk: one file per key under a root directory.
//!
//! Files live under `root/files/`, their key's segments becoming directories; a write goes
//! first to a uniquely named file in `root/staging/`, is synced, then renamed into place, so a
//! reader sees the old file or the whole new one, never a part, and a crash leaves at worst a
//! stray file in staging. Both directories are on the same filesystem (the root), which is what
//! makes the rename atomic. The two directory names cannot clash: every key lives below
//! `files/`, so no key can name the staging directory.
//!
//! All the disk work runs on tokio's blocking pool: file system calls block, and a slow disk
//! must not stall the async workers that serve everything else.

use std::fs::{self, File};
use std::io::{self, ErrorKind, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accueil_ports::media::{FileError, FileKey, FileRead, FileStore};
use async_trait::async_trait;

/// How old a staging file must be before `open` deletes it: old enough that no write of a
/// server sharing the root can still be using it.
const STALE_STAGING: Duration = Duration::from_secs(3600);

/// How many times a write retries when the directory it was renaming into disappeared under
/// it (a concurrent delete removed it while it was empty).
const RENAME_ATTEMPTS: usize = 3;

/// Files on a local disk.
#[derive(Debug, Clone)]
pub struct LocalFileStore {
    dirs: Arc<Dirs>,
}

#[derive(Debug)]
struct Dirs {
    files: PathBuf,
    staging: PathBuf,
}

impl LocalFileStore {
    /// Opens the store rooted at `root`, creating it and its two directories when missing, and
    /// deleting staging files left an hour or more ago by writes that crashed. It blocks on the
    /// disk: call it at start-up.
    ///
    /// # Errors
    /// The I/O error when the directories cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        let dirs = Dirs {
            files: root.join("files"),
            staging: root.join("staging"),
        };
        fs::create_dir_all(&dirs.files)?;
        fs::create_dir_all(&dirs.staging)?;
        remove_stale_staging(&dirs.staging);
        Ok(Self {
            dirs: Arc::new(dirs),
        })
    }

    /// Where the file of `key` is.
    fn path_of(&self, key: &FileKey) -> Result<PathBuf, FileError> {
        // `FileKey` already refuses anything but plain segments; checking the path again means
        // a future change to its rules cannot make a key climb out of the root.
        let rel = Path::new(key.as_str());
        let plain = rel.components().count() > 0
            && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if plain {
            Ok(self.dirs.files.join(rel))
        } else {
            Err(FileError::InvalidKey(key.as_str().to_owned()))
        }
    }

    /// The whole file, or `len` bytes from `start`, streamed 64 KiB at a time and read on
    /// tokio's blocking pool (tokio::fs), ending after the first error.
    async fn read_part(
        &self,
        key: &FileKey,
        part: Option<(u64, u64)>,
    ) -> Result<Option<FileRead>, FileError> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let path = self.path_of(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(io_error("open", key, &e)),
        };
        let size = file
            .metadata()
            .await
            .map_err(|e| io_error("open", key, &e))?
            .len();
        let (start, len) = part.map_or((0, size), |(start, len)| {
            let start = start.min(size);
            (start, len.min(size - start))
        });
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(|e| io_error("seek", key, &e))?;
        }
        let key = key.clone();
        let stream = futures_util::stream::unfold(Some(file.take(len)), move |state| {
            let key = key.clone();
            async move {
                let mut file = state?;
                let mut buf = vec![0u8; 64 * 1024];
                match file.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(buf), Some(file)))
                    }
                    Err(e) => Some((Err(io_error("read", &key, &e)), None)),
                }
            }
        });
        Ok(Some(FileRead {
            len,
            stream: Box::pin(stream),
        }))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Dirs) -> Result<T, FileError> + Send + 'static,
    ) -> Result<T, FileError> {
        let dirs = self.dirs.clone();
        tokio::task::spawn_blocking(move || f(&dirs))
            .await
            .map_err(|e| FileError::Io(format!("file task failed: {e}")))?
    }
}

#[async_trait]
impl FileStore for LocalFileStore {
    async fn put(&self, key: &FileKey, bytes: Vec<u8>) -> Result<(), FileError> {
        let path = self.path_of(key)?;
        let key = key.clone();
        self.blocking(move |dirs| put(dirs, &path, &bytes).map_err(|e| io_error("write", &key, &e)))
            .await
    }

    async fn get(&self, key: &FileKey) -> Result<Option<Vec<u8>>, FileError> {
        let path = self.path_of(key)?;
        let key = key.clone();
        self.blocking(move |_| match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(io_error("read", &key, &e)),
        })
        .await
    }

    async fn open(&self, key: &FileKey) -> Result<Option<FileRead>, FileError> {
        self.read_part(key, None).await
    }

    async fn open_range(
        &self,
        key: &FileKey,
        start: u64,
        len: u64,
    ) -> Result<Option<FileRead>, FileError> {
        self.read_part(key, Some((start, len))).await
    }

    async fn delete(&self, key: &FileKey) -> Result<(), FileError> {
        let path = self.path_of(key)?;
        let key = key.clone();
        self.blocking(move |dirs| {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if is_absent(&e) => return Ok(()),
                Err(e) => return Err(io_error("delete", &key, &e)),
            }
            remove_empty_parents(&dirs.files, &path);
            Ok(())
        })
        .await
    }

    async fn delete_prefix(&self, prefix: &FileKey) -> Result<(), FileError> {
        let path = self.path_of(prefix)?;
        let key = prefix.clone();
        self.blocking(move |dirs| {
            // `symlink_metadata` so that a link is removed as a link, never followed out of
            // the root.
            let removed = match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
                Ok(_) => fs::remove_file(&path),
                Err(e) => Err(e),
            };
            match removed {
                Ok(()) => {}
                Err(e) if is_absent(&e) => return Ok(()),
                Err(e) => return Err(io_error("delete", &key, &e)),
            }
            remove_empty_parents(&dirs.files, &path);
            Ok(())
        })
        .await
    }
}

/// The blocking part of `put`.
fn put(dirs: &Dirs, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let staged = dirs
        .staging
        .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
    let written =
        write_synced(&staged, bytes).and_then(|()| rename_into_place(dirs, &staged, path));
    if written.is_err() {
        // Nothing may stay visible under the key after a failure; the staged copy is only
        // clutter, so failing to remove it is not worth reporting over the real error.
        let _ = fs::remove_file(&staged);
    }
    written
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create_new(path)?;
    file.write_all(bytes)?;
    // The data must be on disk before the rename makes it visible, or a crash could leave a
    // visible file whose blocks were never written.
    file.sync_all()
}

fn rename_into_place(dirs: &Dirs, staged: &Path, path: &Path) -> io::Result<()> {
    let parent = path.parent().unwrap_or(&dirs.files);
    let mut attempt = 1;
    loop {
        let created = !parent.is_dir();
        if created {
            fs::create_dir_all(parent)?;
        }
        match fs::rename(staged, path) {
            Ok(()) => {
                sync_dirs(&dirs.files, parent, created);
                return Ok(());
            }
            // A delete of the last file of a sibling removed the empty directory between our
            // `create_dir_all` and our rename: make it again.
            Err(e) if e.kind() == ErrorKind::NotFound && attempt < RENAME_ATTEMPTS => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Makes the new directory entries durable: the file's in its parent and, when the parent
/// directories were just created, theirs in their own parents up to the files directory.
/// Best effort: the data itself is already synced, and some filesystems refuse to sync
/// directories.
fn sync_dirs(files: &Path, parent: &Path, created: bool) {
    let mut dir = Some(parent);
    while let Some(d) = dir {
        if let Err(e) = File::open(d).and_then(|f| f.sync_all()) {
            tracing::debug!(dir = %d.display(), error = %e, "could not sync a directory");
            return;
        }
        if !created || d == files {
            return;
        }
        dir = d.parent().filter(|p| p.starts_with(files));
    }
}

/// Removes the directories left empty above `path`, up to but not including `files`. Best
/// effort: an empty directory costs nothing but an inode, and a concurrent write may just have
/// put a file in one, which is why this stops at the first directory that is not empty.
fn remove_empty_parents(files: &Path, path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == files || !d.starts_with(files) || fs::remove_dir(d).is_err() {
            return;
        }
        dir = d.parent();
    }
}

/// Deletes staging files old enough that no live write can own them. Best effort.
fn remove_stale_staging(staging: &Path) {
    let Ok(entries) = fs::read_dir(staging) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age >= STALE_STAGING);
        if stale {
            match fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %entry.path().display(), "removed a stale staged file")
                }
                Err(e) => tracing::warn!(
                    file = %entry.path().display(),
                    error = %e,
                    "could not remove a stale staged file"
                ),
            }
        }
    }
}

/// Whether an error means there is no file there: nothing at all, a directory where the file
/// would be (a key that is only a prefix), or a file where a parent directory would be.
fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory
    )
}

fn io_error(action: &str, key: &FileKey, e: &io::Error) -> FileError {
    FileError::Io(format!("could not {action} {key}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn key(k: &str) -> FileKey {
        FileKey::new(k).unwrap()
    }

    fn store() -> (tempfile::TempDir, LocalFileStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFileStore::open(dir.path().join("media")).unwrap();
        (dir, store)
    }

    fn staging_entries(store: &LocalFileStore) -> usize {
        fs::read_dir(&store.dirs.staging).unwrap().count()
    }

    #[tokio::test]
    async fn puts_and_gets_round_trip() {
        let (_dir, store) = store();
        let k = key("couples/abc/memories/1/thumb");
        store.put(&k, b"hello".to_vec()).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap(), Some(b"hello".to_vec()));
        store.put(&key("top"), Vec::new()).await.unwrap();
        assert_eq!(store.get(&key("top")).await.unwrap(), Some(Vec::new()));
    }

    #[tokio::test]
    async fn a_range_reads_only_its_bytes() {
        let (_dir, store) = store();
        let k = key("a/original.jpg");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
        store.put(&k, bytes.clone()).await.unwrap();
        let read = |start, len| {
            let (store, k) = (&store, &k);
            async move {
                let r = store.open_range(k, start, len).await.unwrap().unwrap();
                let declared = r.len;
                let mut all = Vec::new();
                let mut s = r.stream;
                while let Some(c) = futures_util::StreamExt::next(&mut s).await {
                    all.extend(c.unwrap());
                }
                assert_eq!(declared, all.len() as u64);
                all
            }
        };
        assert_eq!(read(0, 10).await, bytes[..10]);
        assert_eq!(read(70_000, 100_000).await, bytes[70_000..170_000]);
        assert_eq!(read(199_990, 50).await, bytes[199_990..], "cut at the end");
        assert!(
            store
                .open_range(&key("a/none"), 0, 1)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn put_replaces_the_file() {
        let (_dir, store) = store();
        let k = key("a/b.jpg");
        store.put(&k, b"old and longer".to_vec()).await.unwrap();
        store.put(&k, b"new".to_vec()).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap(), Some(b"new".to_vec()));
    }

    #[tokio::test]
    async fn missing_files_are_none() {
        let (_dir, store) = store();
        assert_eq!(store.get(&key("nothing/here")).await.unwrap(), None);
        store.put(&key("folder/file"), b"x".to_vec()).await.unwrap();
        // A folder is not a file, and nothing lies below a file.
        assert_eq!(store.get(&key("folder")).await.unwrap(), None);
        assert_eq!(store.get(&key("folder/file/below")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn deleting_a_missing_file_succeeds() {
        let (_dir, store) = store();
        store.delete(&key("never/was")).await.unwrap();
        store.delete_prefix(&key("never")).await.unwrap();
    }

    #[tokio::test]
    async fn delete_removes_the_file_and_its_empty_folders() {
        let (dir, store) = store();
        store.put(&key("a/b/c/one"), b"1".to_vec()).await.unwrap();
        store.put(&key("a/two"), b"2".to_vec()).await.unwrap();
        store.delete(&key("a/b/c/one")).await.unwrap();
        assert_eq!(store.get(&key("a/b/c/one")).await.unwrap(), None);
        let files = dir.path().join("media/files");
        assert!(!files.join("a/b").exists(), "empty folders are removed");
        assert!(files.join("a").is_dir(), "a folder with a file stays");
        store.delete(&key("a/two")).await.unwrap();
        assert!(!files.join("a").exists());
        assert!(files.is_dir(), "the files directory itself stays");
    }

    #[tokio::test]
    async fn delete_prefix_removes_a_folder_and_leaves_its_siblings() {
        let (dir, store) = store();
        for k in [
            "c/1/m/a",
            "c/1/m/b",
            "c/1/m/deep/x",
            "c/1/other",
            "c/10/m/a",
        ] {
            store.put(&key(k), k.as_bytes().to_vec()).await.unwrap();
        }
        store.delete_prefix(&key("c/1/m")).await.unwrap();
        for gone in ["c/1/m/a", "c/1/m/b", "c/1/m/deep/x"] {
            assert_eq!(store.get(&key(gone)).await.unwrap(), None, "{gone}");
        }
        for kept in ["c/1/other", "c/10/m/a"] {
            assert!(store.get(&key(kept)).await.unwrap().is_some(), "{kept}");
        }
        assert!(!dir.path().join("media/files/c/1/m").exists());
        // A prefix that names a file removes that file.
        store.delete_prefix(&key("c/1/other")).await.unwrap();
        assert_eq!(store.get(&key("c/1/other")).await.unwrap(), None);
        assert!(!dir.path().join("media/files/c/1").exists());
    }

    #[tokio::test]
    async fn nothing_is_left_in_staging() {
        let (_dir, store) = store();
        for i in 0..5 {
            store
                .put(&key(&format!("x/{i}")), vec![i; 1000])
                .await
                .unwrap();
        }
        // A write that cannot be renamed (a file stands where its folder would be) fails and
        // leaves nothing behind either.
        assert!(store.put(&key("x/1/below"), vec![1]).await.is_err());
        assert_eq!(staging_entries(&store), 0);
    }

    #[tokio::test]
    async fn keys_map_below_the_root_only() {
        let (_dir, store) = store();
        let path = store.path_of(&key("a/b.c")).unwrap();
        assert!(path.starts_with(&store.dirs.files));
        assert_eq!(
            path.strip_prefix(&store.dirs.files).unwrap(),
            Path::new("a/b.c")
        );
    }

    #[test]
    fn open_removes_only_stale_staging_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFileStore::open(dir.path()).unwrap();
        let old = store.dirs.staging.join("old.part");
        let fresh = store.dirs.staging.join("fresh.part");
        fs::write(&old, b"x").unwrap();
        fs::write(&fresh, b"x").unwrap();
        let long_ago = SystemTime::now() - 2 * STALE_STAGING;
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        let store = LocalFileStore::open(dir.path()).unwrap();
        assert!(!old.exists());
        assert!(fresh.exists());
        assert_eq!(staging_entries(&store), 1);
    }
}
