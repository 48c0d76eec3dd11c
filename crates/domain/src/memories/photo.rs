//! Photo formats and sizes. The format of an upload is decided by its first bytes (its "magic
//! number"), never by the client's file name or Content-Type: an HTML page named `photo.jpg` is
//! not a JPEG.

use uuid::Uuid;

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
}
