//! Photo formats and sizes. The format of an upload is decided by its first bytes (its "magic
//! number"), never by the client's file name or Content-Type: an HTML page named `photo.jpg` is
//! not a JPEG.
//!
//! Also here: what a signed photo link says ([`PhotoLink`]) and when links made now expire
//! ([`link_expiry`]), and the byte range a client may ask of a rendition ([`ByteRange`]).

use uuid::Uuid;

use super::MemoryId;

/// The image formats a memory's photo may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// WebP (`RIFF????WEBP`).
    WebP,
}

impl ImageFormat {
    /// Every format, for parsing.
    pub const ALL: [ImageFormat; 3] = [Self::Jpeg, Self::Png, Self::WebP];

    /// The format whose signature `bytes` start with, if any.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::WebP)
        } else {
            None
        }
    }

    /// The media type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// The sizes a photo is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoSize {
    /// At most 320 pixels on its longer side.
    Thumb,
    /// At most 1280 pixels on its longer side.
    Medium,
    /// The upload itself, without its metadata.
    Original,
}

impl PhotoSize {
    /// Every size.
    pub const ALL: [PhotoSize; 3] = [Self::Thumb, Self::Medium, Self::Original];

    /// Its name in URLs and storage keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Thumb => "thumb",
            Self::Medium => "medium",
            Self::Original => "original",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// One stored image of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendition {
    /// Its format.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A memory's photo: three renditions stored under keys made from its id, which is new for
/// every upload, so a rendition's bytes never change and its id makes a strong ETag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Photo {
    /// Made by the server for this upload.
    pub id: Uuid,
    /// The upload without its metadata.
    pub original: Rendition,
    /// The medium size.
    pub medium: Rendition,
    /// The thumbnail.
    pub thumb: Rendition,
}

impl Photo {
    /// One of its renditions.
    pub fn rendition(&self, size: PhotoSize) -> Rendition {
        match size {
            PhotoSize::Thumb => self.thumb,
            PhotoSize::Medium => self.medium,
            PhotoSize::Original => self.original,
        }
    }

    /// A strong entity tag for one rendition (quoted, as sent in `ETag`).
    pub fn etag(&self, size: PhotoSize) -> String {
        format!("\"{}-{}\"", self.id.simple(), size.as_str())
    }
}

/// What a signed photo link stands for: one rendition of one photo of one memory, until a
/// time, under the couple's current link generation. Its [`PhotoLink::message`] is what the
/// server's signer signs, so none of these can be changed in a link without breaking its
/// signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLink {
    /// The memory.
    pub memory: MemoryId,
    /// The photo (new for every upload: a link to a replaced photo stops working, and the
    /// bytes behind a link never change, so browsers may keep them until it expires).
    pub photo: Uuid,
    /// The rendition.
    pub size: PhotoSize,
    /// When the link stops working, in Unix seconds.
    pub expires: i64,
    /// The couple's link generation when it was made; bumping it revokes every link.
    pub generation: u64,
}

impl PhotoLink {
    /// The signer's purpose label for photo links: keys signing them sign nothing else.
    pub const PURPOSE: &'static str = "accueil/photo-link/v1";

    /// The signed bytes: every field, in a fixed order, each of a fixed or delimited form.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{}|{}|{}|{}|{}",
            self.memory.0.simple(),
            self.photo.simple(),
            self.size.as_str(),
            self.expires,
            self.generation
        )
        .into_bytes()
    }
}

/// When photo links made at `now` (Unix seconds) with a lifetime of `ttl` seconds expire.
///
/// Time is cut into windows of half the lifetime, and a link expires at the end of the window
/// after the current one: every link made within one window is the same (same expiry, same
/// signature), so a browser showing a page twice finds the image in its cache, and each link
/// still works for more than half the lifetime and at most the lifetime. A lifetime under 2
/// seconds is read as 2.
pub fn link_expiry(now: i64, ttl: u64) -> i64 {
    let window = i64::try_from((ttl.max(2)) / 2).unwrap_or(i64::MAX / 4);
    (now.div_euclid(window) + 2).saturating_mul(window)
}

/// A `Range: bytes=` request of one range (RFC 9110 §14.1.2), before the file's length is
/// known. Several ranges are not offered: such a header is ignored and the whole file sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-` or `first-last` (inclusive).
    From {
        /// The first byte.
        first: u64,
        /// The last byte, if given.
        last: Option<u64>,
    },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a `Range` header's value; `None` for anything else than one well-formed byte
    /// range, which a server ignores (the whole file is sent).
    pub fn parse(header: &str) -> Option<Self> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (first, last) = spec.split_once('-')?;
        let number = |s: &str| -> Option<u64> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        if first.trim().is_empty() {
            return number(last).map(Self::Suffix);
        }
        let first = number(first)?;
        let last = if last.trim().is_empty() {
            None
        } else {
            Some(number(last)?)
        };
        if last.is_some_and(|l| l < first) {
            return None;
        }
        Some(Self::From { first, last })
    }

    /// The first and last byte (inclusive) of a file of `len` bytes, or `None` when the range
    /// cannot be satisfied (it starts past the end, or asks for the last 0 bytes): 416.
    pub fn resolve(self, len: u64) -> Option<(u64, u64)> {
        match self {
            Self::From { first, last } => {
                (first < len).then(|| (first, last.map_or(len - 1, |l| l.min(len - 1))))
            }
            Self::Suffix(n) => (n > 0 && len > 0).then(|| (len - n.min(len), len - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes_only() {
        assert_eq!(
            ImageFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageFormat::WebP)
        );
        assert_eq!(ImageFormat::sniff(b"<html><body>photo.jpg</body>"), None);
        assert_eq!(ImageFormat::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(ImageFormat::sniff(b"GIF89a"), None);
        assert_eq!(ImageFormat::sniff(&[]), None);
        assert_eq!(ImageFormat::sniff(&[0xFF, 0xD8]), None);
    }

    #[test]
    fn names_round_trip() {
        for f in ImageFormat::ALL {
            assert_eq!(ImageFormat::parse(f.as_str()), Some(f));
        }
        for s in PhotoSize::ALL {
            assert_eq!(PhotoSize::parse(s.as_str()), Some(s));
        }
        assert_eq!(PhotoSize::parse("huge"), None);
    }

    #[test]
    fn links_made_within_a_window_are_the_same_and_live_at_least_half_their_lifetime() {
        let ttl = 3600;
        let base = 1_800_000_000_i64; // a multiple of 1800
        assert_eq!(link_expiry(base, ttl), base + 3600);
        assert_eq!(
            link_expiry(base + 1799, ttl),
            base + 3600,
            "same window, same link"
        );
        assert_eq!(link_expiry(base + 1800, ttl), base + 5400, "next window");
        for now in (base..base + 4000).step_by(7) {
            let left = link_expiry(now, ttl) - now;
            assert!(left > 1800 && left <= 3600, "{now}: {left}");
        }
        for ttl in [0, 1, 2, 3, 5] {
            for now in 100..120 {
                let left = link_expiry(now, ttl) - now;
                assert!(
                    left >= 1 && left <= ttl.max(2) as i64,
                    "{ttl} {now}: {left}"
                );
            }
        }
    }

    #[test]
    fn a_link_message_covers_every_field() {
        let link = PhotoLink {
            memory: MemoryId(Uuid::from_u128(1)),
            photo: Uuid::from_u128(2),
            size: PhotoSize::Thumb,
            expires: 1_700_000_000,
            generation: 3,
        };
        let m = link.message();
        for other in [
            PhotoLink {
                memory: MemoryId(Uuid::from_u128(9)),
                ..link
            },
            PhotoLink {
                photo: Uuid::from_u128(9),
                ..link
            },
            PhotoLink {
                size: PhotoSize::Original,
                ..link
            },
            PhotoLink {
                expires: 1_700_000_001,
                ..link
            },
            PhotoLink {
                generation: 4,
                ..link
            },
        ] {
            assert_ne!(other.message(), m, "{other:?}");
        }
    }

    #[test]
    fn byte_ranges_parse_and_resolve_as_rfc_9110_says() {
        let r = |s| ByteRange::parse(s);
        assert_eq!(
            r("bytes=0-99"),
            Some(ByteRange::From {
                first: 0,
                last: Some(99)
            })
        );
        assert_eq!(
            r("bytes=10-"),
            Some(ByteRange::From {
                first: 10,
                last: None
            })
        );
        assert_eq!(r("bytes=-5"), Some(ByteRange::Suffix(5)));
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(r(ignored), None, "{ignored}");
        }
        let len = 100;
        assert_eq!(r("bytes=0-99").unwrap().resolve(len), Some((0, 99)));
        assert_eq!(r("bytes=90-500").unwrap().resolve(len), Some((90, 99)));
        assert_eq!(r("bytes=10-").unwrap().resolve(len), Some((10, 99)));
        assert_eq!(r("bytes=-5").unwrap().resolve(len), Some((95, 99)));
        assert_eq!(r("bytes=-500").unwrap().resolve(len), Some((0, 99)));
        assert_eq!(
            r("bytes=100-").unwrap().resolve(len),
            None,
            "past the end: 416"
        );
        assert_eq!(r("bytes=-0").unwrap().resolve(len), None);
        assert_eq!(r("bytes=0-").unwrap().resolve(0), None);
    }
}
