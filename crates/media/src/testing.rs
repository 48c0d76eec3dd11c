//! Test images and metadata probes (feature `testing`), for this crate's tests and the
//! end-to-end tests of the crates that upload photos.
//!
//! The "private" metadata of the fixtures is recognisable by two marker strings, so a test can
//! check that none of it reached a served file: the camera make `SecretCam` (EXIF tag Make in
//! IFD0) and a GPS IFD (tag `GPSInfo`, 0x8825, pointing to `GPSLatitudeRef` "N" and a
//! `GPSLatitude`); PNG fixtures also carry a `tEXt` chunk with the keyword `GPS`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{
    ExtendedColorType, GenericImageView, ImageDecoder, ImageEncoder, ImageReader, RgbImage,
};

/// The camera make written in the fixtures' EXIF.
pub const SECRET_MAKE: &str = "SecretCam";

/// A picture with detail everywhere, so encoders cannot shrink it to nothing and a rotation or
/// a crop shows.
fn pattern(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let r = (x * 255 / width.max(1)) as u8;
        let g = (y * 255 / height.max(1)) as u8;
        let b = ((x / 8 + y / 8) % 2 * 200) as u8 ^ ((x * 7 + y * 13) % 32) as u8;
        image::Rgb([r, g, b])
    })
}

/// A plain JPEG of `width`×`height` pixels, without metadata.
///
/// # Panics
/// When encoding fails (a size of 0 or above 65535).
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&pattern(width, height))
        .unwrap();
    out
}

/// A JPEG with an EXIF block holding the make [`SECRET_MAKE`], orientation 1 and a GPS IFD.
///
/// # Panics
/// As [`jpeg`].
pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    jpeg_with_exif(width, height, 1)
}

/// A JPEG whose stored pixels are `width`×`height`, with an EXIF APP1 segment right after SOI
/// holding the make [`SECRET_MAKE`], the EXIF `orientation` (1 to 8) and a GPS IFD.
///
/// # Panics
/// As [`jpeg`].
pub fn jpeg_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff_with_gps(orientation));
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A plain opaque PNG of `width`×`height` pixels, without metadata.
///
/// # Panics
/// When encoding fails (a size of 0).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            pattern(width, height).as_raw(),
            width,
            height,
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A PNG with, after its IHDR chunk, a `tEXt` chunk `GPS` = "48.8584 N 2.2945 E" and an
/// `eXIf` chunk like the EXIF of [`jpeg_with_exif`].
///
/// # Panics
/// As [`png`].
pub fn png_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let plain = png(width, height);
    // Signature (8) and IHDR (4 + 4 + 13 + 4).
    let after_ihdr = 33;
    let mut out = plain[..after_ihdr].to_vec();
    out.extend_from_slice(&png_chunk(b"tEXt", b"GPS\x0048.8584 N 2.2945 E"));
    out.extend_from_slice(&png_chunk(b"eXIf", &tiff_with_gps(orientation)));
    out.extend_from_slice(&plain[after_ihdr..]);
    out
}

/// A lossless WebP in the extended format: a VP8X chunk announcing EXIF, the image, and an
/// `EXIF` chunk like the EXIF of [`jpeg_with_exif`].
///
/// # Panics
/// When encoding fails (a size of 0 or above 16384).
pub fn webp_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let mut simple = Vec::new();
    WebPEncoder::new_lossless(&mut simple)
        .encode(
            pattern(width, height).as_raw(),
            width,
            height,
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    assert_eq!(
        &simple[12..16],
        b"VP8L",
        "the encoder writes the simple lossless format"
    );
    let image_chunk = &simple[12..];
    let mut vp8x = vec![0x08, 0, 0, 0]; // flags: EXIF
    vp8x.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(&riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(image_chunk);
    body.extend_from_slice(&riff_chunk(b"EXIF", &tiff_with_gps(orientation)));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// The raw EXIF (TIFF) block of a JPEG, PNG or WebP file, as the `image` crate finds it; `None`
/// when it has none or is not such a file.
pub fn exif_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let format = image::guess_format(bytes).ok()?;
    ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .ok()?
        .exif_metadata()
        .ok()?
}

/// Whether `bytes` carry the fixtures' private metadata: an EXIF block whose IFD0 has a
/// `GPSInfo` (0x8825) entry, or the make [`SECRET_MAKE`] anywhere.
pub fn has_gps(bytes: &[u8]) -> bool {
    bytes
        .windows(SECRET_MAKE.len())
        .any(|w| w == SECRET_MAKE.as_bytes())
        || exif_of(bytes).is_some_and(|tiff| ifd0_tags(&tiff).contains(&0x8825))
}

/// The width and height of an image file, decoded.
///
/// # Panics
/// When `bytes` are not an image the `image` crate decodes.
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    image::load_from_memory(bytes).unwrap().dimensions()
}

/// A little-endian TIFF block: IFD0 with Make, Orientation and GPSInfo, then the GPS IFD with
/// GPSLatitudeRef and GPSLatitude.
fn tiff_with_gps(orientation: u16) -> Vec<u8> {
    fn entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    }
    const ASCII: u16 = 2;
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    let make = b"SecretCam\0";
    // Layout: header (8), IFD0 (2 + 3 * 12 + 4), make, GPS IFD (2 + 2 * 12 + 4), latitude.
    let make_at: u32 = 8 + 42;
    let gps_at = make_at + 10;
    let latitude_at = gps_at + 30;
    let mut t = b"II\x2a\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010F, ASCII, 10, make_at.to_le_bytes());
    let [lo, hi] = orientation.to_le_bytes();
    entry(&mut t, 0x0112, SHORT, 1, [lo, hi, 0, 0]);
    entry(&mut t, 0x8825, LONG, 1, gps_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(make);
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, RATIONAL, 3, latitude_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    for (num, den) in [(48u32, 1u32), (51, 1), (2940, 100)] {
        t.extend_from_slice(&num.to_le_bytes());
        t.extend_from_slice(&den.to_le_bytes());
    }
    t
}

/// The tags of a TIFF block's first IFD (empty when it is malformed).
fn ifd0_tags(tiff: &[u8]) -> Vec<u16> {
    let big = match tiff.get(0..2) {
        Some(b"MM") => true,
        Some(b"II") => false,
        _ => return Vec::new(),
    };
    let u16_at = |at: usize| {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let Some(ifd) = u32_at(4).map(|o| o as usize) else {
        return Vec::new();
    };
    let count = u16_at(ifd).unwrap_or(0);
    (0..usize::from(count))
        .map_while(|i| u16_at(ifd + 2 + 12 * i))
        .collect()
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    chunk
}

fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = kind.to_vec();
    chunk.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    chunk.extend_from_slice(data);
    if data.len() % 2 == 1 {
        chunk.push(0);
    }
    chunk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_carry_what_they_say() {
        for (bytes, size) in [
            (jpeg_with_gps(30, 20), (30, 20)),
            (png_with_exif(30, 20, 1), (30, 20)),
            (webp_with_exif(30, 20, 1), (30, 20)),
        ] {
            assert!(has_gps(&bytes));
            let tiff = exif_of(&bytes).unwrap();
            assert_eq!(ifd0_tags(&tiff), [0x010F, 0x0112, 0x8825]);
            assert_eq!(dimensions(&bytes), size);
        }
        for plain in [jpeg(30, 20), png(30, 20)] {
            assert!(!has_gps(&plain));
            assert_eq!(exif_of(&plain), None);
        }
        assert_eq!(exif_of(b"<html>"), None);
    }
}
