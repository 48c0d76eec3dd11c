//! Signed photo links: URLs that carry their own authorisation, for clients that cannot send
//! a header with a request (an `<img src>`).
//!
//! Every memory a partner reads comes with one link per photo size. A link names the memory,
//! the photo (new for every upload), the size, its expiry and the couple's link generation,
//! and is signed by the server ([`PhotoLink::message`] under [`PhotoLink::PURPOSE`]); no
//! session is looked up to serve it. Links made within one window are identical
//! ([`link_expiry`]), so browsers reuse their cached copy. A couple revokes all its links by
//! bumping its generation ([`MemoriesService::rotate_photo_links`]); a new server secret
//! revokes everyone's.

use accueil_domain::couples::CoupleId;
use accueil_domain::memories::{ByteRange, Memory, MemoryId, PhotoLink, PhotoSize, link_expiry};
use accueil_ports::{StoreError, StoreExt, Tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{MemoriesService, PhotoFile, PhotoFileError};
use crate::identity::Caller;
use crate::scope::InCoupleError;

/// Signed links to one memory's photo, one per size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoLinks {
    /// The photo they show.
    pub photo: Uuid,
    /// When they stop working.
    pub expires: DateTime<Utc>,
    /// The couple's link generation they were made under.
    pub generation: u64,
    /// The thumbnail's signature (base64url).
    pub thumb: String,
    /// The medium size's signature.
    pub medium: String,
    /// The original's signature.
    pub original: String,
}

impl PhotoLinks {
    /// The signature of one size's link.
    pub fn signature(&self, size: PhotoSize) -> &str {
        match size {
            PhotoSize::Thumb => &self.thumb,
            PhotoSize::Medium => &self.medium,
            PhotoSize::Original => &self.original,
        }
    }
}

/// A memory as a partner reads it: with signed links to its photo, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryView {
    /// The memory.
    pub memory: Memory,
    /// Links to its photo's sizes; `None` without a photo (and in the public view, whose
    /// links go through the share link).
    pub photo_links: Option<PhotoLinks>,
}

impl std::ops::Deref for MemoryView {
    type Target = Memory;

    fn deref(&self) -> &Memory {
        &self.memory
    }
}

/// What links made in one unit of work share: the couple's generation and the expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinkKey {
    generation: u64,
    expires: i64,
}

/// What a signed link presents, as it came (its signature is not checked yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedLink {
    /// The memory, from the path.
    pub memory: Uuid,
    /// The size, from the path.
    pub size: PhotoSize,
    /// The photo.
    pub photo: Uuid,
    /// The expiry, Unix seconds.
    pub expires: i64,
    /// The generation.
    pub generation: u64,
    /// The signature.
    pub signature: String,
}

/// Why a signed link served nothing.
#[derive(Debug, thiserror::Error)]
pub enum PhotoLinkError {
    /// The signature is not the server's for this link, or the couple revoked its links
    /// since it was made.
    #[error("this photo link was not made by this server, was changed, or was revoked")]
    Invalid,
    /// The link is authentic but expired.
    #[error("this photo link has expired; read the memory again for a fresh one")]
    Expired,
    /// The memory is gone, its photo was replaced or removed, or its couple dissolved.
    #[error("no such photo")]
    NotFound,
    /// The file store failed.
    #[error("media failure: {0}")]
    Media(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MemoriesService {
    /// The key of the links made now for a couple's memories, inside a unit of work.
    pub(crate) fn link_key(
        &self,
        tx: &mut dyn Tx,
        couple: CoupleId,
        now: DateTime<Utc>,
    ) -> Result<LinkKey, StoreError> {
        Ok(LinkKey {
            generation: tx.memories().photo_link_generation(couple)?,
            expires: link_expiry(now.timestamp(), self.settings.photo_url_ttl.as_secs()),
        })
    }

    /// A memory with its signed photo links.
    pub(crate) fn view(&self, memory: Memory, key: LinkKey) -> MemoryView {
        let photo_links = memory.photo.map(|photo| {
            let sign = |size| {
                let link = PhotoLink {
                    memory: memory.id,
                    photo: photo.id,
                    size,
                    expires: key.expires,
                    generation: key.generation,
                };
                self.ports.links.sign(PhotoLink::PURPOSE, &link.message())
            };
            PhotoLinks {
                photo: photo.id,
                expires: DateTime::from_timestamp(key.expires, 0)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
                generation: key.generation,
                thumb: sign(PhotoSize::Thumb),
                medium: sign(PhotoSize::Medium),
                original: sign(PhotoSize::Original),
            }
        });
        MemoryView {
            memory,
            photo_links,
        }
    }

    /// Serves a signed link: its signature and expiry are checked before anything is read,
    /// then its generation against the couple's.
    ///
    /// # Errors
    /// See [`PhotoLinkError`].
    pub async fn photo_by_link(
        &self,
        link: PresentedLink,
        if_none_match: Option<&str>,
        range: Option<ByteRange>,
    ) -> Result<PhotoFile, PhotoLinkError> {
        let claims = PhotoLink {
            memory: MemoryId(link.memory),
            photo: link.photo,
            size: link.size,
            expires: link.expires,
            generation: link.generation,
        };
        if !self
            .ports
            .links
            .verify(PhotoLink::PURPOSE, &claims.message(), &link.signature)
        {
            return Err(PhotoLinkError::Invalid);
        }
        if claims.expires <= self.now().timestamp() {
            return Err(PhotoLinkError::Expired);
        }
        let found = self
            .ports
            .store
            .read(move |tx| tx.memories().memory_for_link(claims.memory))
            .await?
            .filter(|f| !f.dissolved)
            .ok_or(PhotoLinkError::NotFound)?;
        if found.generation != claims.generation {
            return Err(PhotoLinkError::Invalid);
        }
        if found.memory.photo.map(|p| p.id) != Some(claims.photo) {
            return Err(PhotoLinkError::NotFound);
        }
        self.photo_file(&found.memory, claims.size, if_none_match, range)
            .await
            .map_err(|e| match e {
                PhotoFileError::NotFound(_) => PhotoLinkError::NotFound,
                other => PhotoLinkError::Media(other.to_string()),
            })
    }

    /// Revokes every photo link of the caller's couple: links made from now on carry the new
    /// generation.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn rotate_photo_links(&self, caller: &Caller) -> Result<(), InCoupleError> {
        self.ports
            .write_in_couple(caller, |cx| -> Result<(), InCoupleError> {
                cx.tx.memories().rotate_photo_links(cx.couple.id)?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use accueil_domain::memories::{MemoryChanges, NewMemory, PhotoUpload};
    use accueil_domain::validation::Patch;
    use accueil_ports::system::Clock;
    use chrono::Duration;

    use super::*;
    use crate::memories::PhotoPart;
    use crate::testing::Harness;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

    fn presented(view: &MemoryView, size: PhotoSize) -> PresentedLink {
        let links = view.photo_links.clone().unwrap();
        PresentedLink {
            memory: view.id.0,
            size,
            photo: links.photo,
            expires: links.expires.timestamp(),
            generation: links.generation,
            signature: links.signature(size).to_owned(),
        }
    }

    async fn body(file: PhotoFile) -> Vec<u8> {
        let mut stream = file.content.unwrap().stream;
        let mut all = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            all.extend(chunk.unwrap());
        }
        all
    }

    #[tokio::test]
    async fn a_memory_read_twice_in_a_window_carries_the_same_working_links() {
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        let created = m
            .create(
                &a,
                NewMemory::parse("x", None, None, Some(PhotoUpload(JPEG.to_vec()))).unwrap(),
            )
            .await
            .unwrap();
        h.advance(Duration::seconds(5));
        let read = m.get(&b, created.id.0).await.unwrap();
        assert_eq!(
            read.photo_links, created.photo_links,
            "same window, same links"
        );
        let links = read.photo_links.clone().unwrap();
        let left = links.expires - h.clock.now();
        assert!(
            left > Duration::minutes(30) && left <= Duration::hours(1),
            "{left}"
        );
        assert_ne!(links.thumb, links.original, "one signature per size");
        let listed = m
            .timeline(
                &a,
                accueil_domain::memories::TimelinePage::parse(None, None, None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(listed.items[0].photo_links, read.photo_links);

        let file = m
            .photo_by_link(presented(&read, PhotoSize::Original), None, None)
            .await
            .unwrap();
        assert_eq!(file.part, PhotoPart::Whole);
        assert_eq!(body(file).await, JPEG);
        let part = m
            .photo_by_link(
                presented(&read, PhotoSize::Original),
                None,
                ByteRange::parse("bytes=2-4"),
            )
            .await
            .unwrap();
        assert_eq!(part.part, PhotoPart::Range { first: 2, last: 4 });
        assert_eq!(part.len, JPEG.len() as u64);
        assert_eq!(body(part).await, &JPEG[2..=4]);
        let past = m
            .photo_by_link(
                presented(&read, PhotoSize::Original),
                None,
                ByteRange::parse("bytes=500-"),
            )
            .await
            .unwrap();
        assert_eq!(past.part, PhotoPart::Unsatisfiable);
        assert!(past.content.is_none());
        let etag = m
            .photo_by_link(presented(&read, PhotoSize::Thumb), None, None)
            .await
            .unwrap()
            .etag;
        let current = m
            .photo_by_link(
                presented(&read, PhotoSize::Thumb),
                Some(&etag),
                ByteRange::parse("bytes=0-1"),
            )
            .await
            .unwrap();
        assert!(current.content.is_none(), "304 before any range");
        assert_eq!(current.part, PhotoPart::Whole);
    }

    #[tokio::test]
    async fn changed_expired_revoked_or_stale_links_serve_nothing() {
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        let view = m
            .create(
                &a,
                NewMemory::parse("x", None, None, Some(PhotoUpload(JPEG.to_vec()))).unwrap(),
            )
            .await
            .unwrap();
        let link = presented(&view, PhotoSize::Medium);
        let serve = |l: PresentedLink| {
            let m = m.clone();
            async move { m.photo_by_link(l, None, None).await }
        };
        for tampered in [
            PresentedLink {
                size: PhotoSize::Original,
                ..link.clone()
            },
            PresentedLink {
                expires: link.expires + 3600,
                ..link.clone()
            },
            PresentedLink {
                generation: 1,
                ..link.clone()
            },
            PresentedLink {
                memory: Uuid::from_u128(1),
                ..link.clone()
            },
            PresentedLink {
                signature: "AAAA".into(),
                ..link.clone()
            },
        ] {
            assert!(matches!(
                serve(tampered).await,
                Err(PhotoLinkError::Invalid)
            ));
        }
        assert!(serve(link.clone()).await.is_ok());

        m.rotate_photo_links(&b).await.unwrap();
        assert!(
            matches!(serve(link.clone()).await, Err(PhotoLinkError::Invalid)),
            "revoked by either partner"
        );
        let fresh = m.get(&a, view.id.0).await.unwrap();
        assert_eq!(fresh.photo_links.as_ref().unwrap().generation, 1);
        let fresh_link = presented(&fresh, PhotoSize::Medium);
        assert!(serve(fresh_link.clone()).await.is_ok());

        let replaced = m
            .update(
                &a,
                view.id.0,
                MemoryChanges {
                    photo: Patch::Set(PhotoUpload(JPEG.to_vec())),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            matches!(serve(fresh_link).await, Err(PhotoLinkError::NotFound)),
            "a link shows one photo, not its replacement"
        );
        let latest = presented(&replaced, PhotoSize::Medium);
        h.advance(Duration::hours(1));
        assert!(matches!(
            serve(latest.clone()).await,
            Err(PhotoLinkError::Expired)
        ));
        let again = presented(&m.get(&a, view.id.0).await.unwrap(), PhotoSize::Medium);
        m.delete(&a, view.id.0).await.unwrap();
        assert!(matches!(serve(again).await, Err(PhotoLinkError::NotFound)));
    }
}
