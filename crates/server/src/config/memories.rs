//! The memories site: how large a photo may be, how many share links a couple may keep, and
//! how long signed photo URLs work.

use chrono::Duration;

use super::declare::section;

section! {
    /// Photos and share links.
    pub struct Memories in "memories" () {
        /// largest photo upload in bytes; a larger body is refused with 413 while it streams in
        max_photo_bytes: usize = "16777216", env "ACCUEIL_MAX_PHOTO_BYTES", sample "8388608";
        /// largest photo in pixels, checked from the header before decoding
        max_photo_pixels: u64 = "40000000", env "ACCUEIL_MAX_PHOTO_PIXELS", sample "20000000";
        /// share links a couple may have active at once
        max_active_shares: usize = "50", env "ACCUEIL_MAX_ACTIVE_SHARES", sample "10";
        /// lifetime of the signed photo URLs in memory bodies (`<img src>` without a header);
        /// each works between half of it and all of it, and reads within a half share one URL
        photo_url_ttl: Duration = "1h", env "ACCUEIL_PHOTO_URL_TTL", sample "2h";
    }
}

impl Memories {
    /// The memories use cases' settings.
    #[must_use]
    pub fn app(&self) -> accueil_app::memories::MemoriesSettings {
        accueil_app::memories::MemoriesSettings {
            max_photo_bytes: self.max_photo_bytes,
            max_active_shares: self.max_active_shares,
            photo_url_ttl: self
                .photo_url_ttl
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(3600)),
        }
    }
}
