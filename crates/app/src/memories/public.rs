//! What a share link shows, to anyone holding it: the couple's profile and counter, both
//! perspectives, and the shared memories with their photos. Any problem with the link (unknown,
//! revoked, expired, or its couple dissolved) answers the same "not found", so a link tells
//! nothing about why it stopped working.

use accueil_domain::couples::{CoupleProfile, Together, together};
use accueil_domain::memories::{
    Memory, MemoryId, PhotoSize, Share, ShareScope, ShareState, TimelinePage,
};
use accueil_ports::memories::TimelineQuery;
use accueil_ports::{StoreError, StoreExt};
use chrono::NaiveDate;
use uuid::Uuid;

use super::perspectives::slots;
use super::{
    MemoriesService, MemoryView, PerspectiveView, PhotoFile, PhotoFileError, Timeline,
    timeline_page,
};
use accueil_domain::memories::ByteRange;

/// The public view of a couple's site through a share link.
#[derive(Debug, Clone)]
pub struct PublicSite {
    /// The share (its expiry is shown to visitors).
    pub share: Share,
    /// The couple's profile.
    pub profile: CoupleProfile,
    /// Time together, when the start date is set.
    pub together: Option<(NaiveDate, Together)>,
    /// Both perspective slots.
    pub perspectives: Vec<PerspectiveView>,
    /// A page of the shared memories.
    pub memories: Timeline,
}

/// Why a share link's page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PublicError {
    /// Unknown, revoked or expired link, or a dissolved couple.
    #[error("no such share link, or not one that shows this")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a photo of a share link could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PublicPhotoError {
    /// As for the page, or a memory or photo the link does not show (alike).
    #[error("no such share link, or not one that shows this")]
    NotFound,
    /// The file store failed.
    #[error("media failure: {0}")]
    Media(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PublicError> for PublicPhotoError {
    fn from(e: PublicError) -> Self {
        match e {
            PublicError::NotFound => Self::NotFound,
            PublicError::Store(s) => Self::Store(s),
        }
    }
}

impl MemoriesService {
    /// The live share behind a token, inside a unit of work.
    fn live_share(
        tx: &mut dyn accueil_ports::Tx,
        digest: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Share, accueil_domain::couples::Couple), PublicError> {
        let share = tx
            .shares()
            .share_by_digest(digest)?
            .filter(|s| s.state(now) == ShareState::Active)
            .ok_or(PublicError::NotFound)?;
        let couple = tx
            .pairing()
            .couple(share.couple_id)?
            .filter(|c| c.dissolved_at.is_none())
            .ok_or(PublicError::NotFound)?;
        Ok((share, couple))
    }

    /// What a share link shows.
    ///
    /// # Errors
    /// See [`PublicError`].
    pub async fn public_site(
        &self,
        token: &str,
        page: TimelinePage,
    ) -> Result<PublicSite, PublicError> {
        let mut query = TimelineQuery {
            after: page.after,
            search: page.search,
            share: None,
        };
        let digest = self.ports.opaque_tokens.digest(token).0;
        let now = self.now();
        let limit = page.limit;
        self.ports
            .store
            .read(move |tx| -> Result<PublicSite, PublicError> {
                let (share, couple) = Self::live_share(tx, &digest, now)?;
                if matches!(share.scope, ShareScope::Only(_)) {
                    query.share = Some(share.id);
                }
                let items = tx.memories().timeline(couple.id, &query, limit + 1)?;
                let stored = tx.perspectives().perspectives(couple.id)?;
                let profile = couple.profile.clone();
                let together = profile
                    .start_date
                    .map(|start| (start, together(start, now, profile.time_zone.as_ref())));
                Ok(PublicSite {
                    share,
                    together,
                    profile,
                    perspectives: slots(stored),
                    // The page's photo URLs go through the share link, which
                    // authorises them and is revoked with it: no signed links here.
                    memories: timeline_page(items, limit, |memory| MemoryView {
                        memory,
                        photo_links: None,
                    }),
                })
            })
            .await
    }

    /// A photo rendition of a memory the link shows.
    ///
    /// # Errors
    /// See [`PublicPhotoError`].
    pub async fn public_photo(
        &self,
        token: &str,
        memory: Uuid,
        size: PhotoSize,
        if_none_match: Option<&str>,
        range: Option<ByteRange>,
    ) -> Result<PhotoFile, PublicPhotoError> {
        let digest = self.ports.opaque_tokens.digest(token).0;
        let now = self.now();
        let memory = self
            .ports
            .store
            .read(move |tx| -> Result<Memory, PublicPhotoError> {
                let (share, couple) = Self::live_share(tx, &digest, now)?;
                if !share.scope.includes(MemoryId(memory)) {
                    return Err(PublicPhotoError::NotFound);
                }
                tx.memories()
                    .memory(couple.id, MemoryId(memory))?
                    .ok_or(PublicPhotoError::NotFound)
            })
            .await?;
        self.photo_file(&memory, size, if_none_match, range)
            .await
            .map_err(|e| match e {
                PhotoFileError::NotFound(_) => PublicPhotoError::NotFound,
                other => PublicPhotoError::Media(other.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use accueil_ports::system::Clock;
    use chrono::Duration;

    use super::*;
    use crate::testing::Harness;
    use accueil_domain::memories::{NewMemory, NewShare, PhotoUpload, TimelinePage};

    use crate::memories::ShareError;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 9];

    #[tokio::test]
    async fn a_share_shows_what_it_lists_until_revoked_or_expired() {
        let h = Harness::new();
        let (a, b) = h.paired("a@example.org", "b@example.org").await;
        let m = h.memories();
        let shown = m
            .create(
                &a,
                NewMemory::parse("Montrée", None, None, Some(PhotoUpload(JPEG.to_vec()))).unwrap(),
            )
            .await
            .unwrap();
        let hidden = m
            .create(
                &a,
                NewMemory::parse("Cachée", None, None, Some(PhotoUpload(JPEG.to_vec()))).unwrap(),
            )
            .await
            .unwrap();
        let listed = m
            .create_share(
                &b,
                NewShare::parse(
                    Some(h.clock.now() + Duration::days(1)),
                    Some(vec![shown.id.0]),
                    h.clock.now(),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let everything = m
            .create_share(&a, NewShare::parse(None, None, h.clock.now()).unwrap())
            .await
            .unwrap();
        let site = m
            .public_site(
                &listed.token,
                TimelinePage::parse(None, None, None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(site.memories.items.len(), 1);
        assert_eq!(site.memories.items[0].id, shown.id);
        assert_eq!(site.perspectives.len(), 2);
        assert!(
            m.public_photo(&listed.token, shown.id.0, PhotoSize::Thumb, None, None)
                .await
                .is_ok()
        );
        assert!(matches!(
            m.public_photo(&listed.token, hidden.id.0, PhotoSize::Thumb, None, None)
                .await,
            Err(PublicPhotoError::NotFound)
        ));
        assert_eq!(
            m.public_site(
                &everything.token,
                TimelinePage::parse(None, None, None).unwrap()
            )
            .await
            .unwrap()
            .memories
            .items
            .len(),
            2
        );

        h.advance(Duration::days(1));
        assert!(matches!(
            m.public_site(
                &listed.token,
                TimelinePage::parse(None, None, None).unwrap()
            )
            .await,
            Err(PublicError::NotFound)
        ));
        m.revoke_share(&b, everything.share.id.0).await.unwrap();
        assert!(matches!(
            m.public_site(
                &everything.token,
                TimelinePage::parse(None, None, None).unwrap()
            )
            .await,
            Err(PublicError::NotFound)
        ));
        assert!(matches!(
            m.public_photo(&everything.token, shown.id.0, PhotoSize::Thumb, None, None)
                .await,
            Err(PublicPhotoError::NotFound)
        ));
        assert!(matches!(
            m.public_site("garbage", TimelinePage::parse(None, None, None).unwrap())
                .await,
            Err(PublicError::NotFound)
        ));
        let states: Vec<_> = m.shares(&a).await.unwrap().iter().map(|s| s.1).collect();
        assert_eq!(states, [ShareState::Expired, ShareState::Revoked]);
    }

    #[tokio::test]
    async fn shares_list_only_the_couples_own_memories() {
        let h = Harness::new();
        let (a, _) = h.paired("a@example.org", "b@example.org").await;
        let (y, _) = h.paired("y@example.org", "z@example.org").await;
        let m = h.memories();
        let theirs = m
            .create(&y, NewMemory::parse("À eux", None, None, None).unwrap())
            .await
            .unwrap();
        assert!(matches!(
            m.create_share(
                &a,
                NewShare::parse(None, Some(vec![theirs.id.0]), h.clock.now()).unwrap()
            )
            .await,
            Err(ShareError::Invalid(_))
        ));
        assert!(NewShare::parse(Some(h.clock.now()), None, h.clock.now()).is_err());
        let mine = m
            .create_share(&a, NewShare::parse(None, None, h.clock.now()).unwrap())
            .await
            .unwrap();
        assert!(matches!(
            m.revoke_share(&y, mine.share.id.0).await,
            Err(crate::scope::InCoupleLookupError::NotFound(_))
        ));
    }
}
