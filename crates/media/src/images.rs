//! The image processor: checks an upload, strips its metadata and makes its smaller sizes.
//!
//! Decoding an image takes as much memory as its pixels (four bytes each, twice that for
//! 16-bit PNGs) and seconds of a core for a large photo, so processing runs on tokio's
//! blocking pool behind a semaphore with one permit per core: a burst of uploads queues for a
//! permit instead of starting more decodes than there are cores, and memory stays bounded at
//! `concurrency` images. An upload's header is read first and one that announces more pixels
//! than allowed is refused before anything is decoded, so a small file that would expand to
//! gigabytes (a decompression bomb) costs nothing.
//!
//! The original is kept in its own format and bytes, only its metadata removed (see the
//! `strip` module): re-encoding would lose quality. The medium and thumbnail sizes are
//! re-encoded, upright, as JPEG or, for images with transparency, PNG.

use std::io::Cursor;
use std::num::NonZeroUsize;
use std::sync::Arc;

use accueil_domain::memories::{ImageFormat, Rendition};
use accueil_ports::media::{EncodedImage, ImageError, ImageProcessor, ProcessedImage};
use async_trait::async_trait;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageEncoder, ImageReader, Limits};
use tokio::sync::Semaphore;

use crate::strip;

/// Room for the decoders' own buffers on top of the decoded pixels.
const DECODER_SLACK: u64 = 64 * 1024 * 1024;

/// How the processor works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSettings {
    /// The most pixels (width × height) an upload may have. 40 million by default: more than
    /// any phone camera takes, and about 320 MB decoded at worst.
    pub max_pixels: u64,
    /// The longer side of a thumbnail, in pixels (320 by default).
    pub thumb_edge: u32,
    /// The longer side of the medium size, in pixels (1280 by default).
    pub medium_edge: u32,
    /// The JPEG quality of the medium size and thumbnail, 1 to 100 (82 by default).
    pub jpeg_quality: u8,
    /// How many images are processed at once (one per core by default).
    pub concurrency: usize,
}

impl Default for ImageSettings {
    fn default() -> Self {
        Self {
            max_pixels: 40_000_000,
            thumb_edge: 320,
            medium_edge: 1280,
            jpeg_quality: 82,
            concurrency: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        }
    }
}

/// The image processor, on the `image` crate.
#[derive(Debug, Clone)]
pub struct ImageCodec {
    settings: ImageSettings,
    permits: Arc<Semaphore>,
}

impl ImageCodec {
    /// A processor with `settings`.
    pub fn new(settings: ImageSettings) -> Self {
        Self {
            settings,
            permits: Arc::new(Semaphore::new(settings.concurrency.max(1))),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &ImageSettings {
        &self.settings
    }
}

#[async_trait]
impl ImageProcessor for ImageCodec {
    async fn process(
        &self,
        format: ImageFormat,
        bytes: Vec<u8>,
    ) -> Result<ProcessedImage, ImageError> {
        // The permit moves into the blocking task: if the caller goes away (a client hangs
        // up), the decode still holds its permit until it finishes, so abandoned uploads
        // cannot pile up more decodes, and their memory, than there are permits.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ImageError::Internal("image processor closed".into()))?;
        let settings = self.settings;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            process(&settings, format, &bytes)
        })
        .await
        .map_err(|e| ImageError::Internal(e.to_string()))?
    }
}

/// The blocking part of [`ImageCodec::process`].
fn process(
    settings: &ImageSettings,
    format: ImageFormat,
    bytes: &[u8],
) -> Result<ProcessedImage, ImageError> {
    if ImageFormat::sniff(bytes) != Some(format) {
        return Err(ImageError::Unsupported);
    }
    // Making the decoder reads the headers only (the image's default limits bound what it
    // allocates for metadata); no pixel is decoded before the size check.
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), codec_format(format))
        .into_decoder()
        .map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    let too_many = ImageError::TooManyPixels {
        width,
        height,
        max_pixels: settings.max_pixels,
    };
    if u64::from(width) * u64::from(height) > settings.max_pixels {
        return Err(too_many);
    }
    if width == 0 || height == 0 {
        return Err(ImageError::Unreadable("the image has no pixels".into()));
    }
    let orientation = decoder.orientation().map_err(unreadable)?;
    let original = strip::strip(format, bytes, orientation.to_exif())
        .map_err(|e| ImageError::Unreadable(e.to_string()))?;

    // A second guard, in the decoders themselves, should the header check above ever miss.
    let mut limits = decode_limits(settings.max_pixels);
    limits
        .reserve(decoder.total_bytes())
        .map_err(|_| too_many.clone())?;
    decoder.set_limits(limits).map_err(|_| too_many.clone())?;
    let image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_many,
        e => unreadable(e),
    })?;

    // 8 bits per channel is what browsers show anyway; converting first also makes resizing
    // cheaper, and it is free for the common case (an RGB JPEG) since no copy is made.
    let image = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.into_rgb8())
    };
    // Resizing before rotating does the same work on fewer pixels; the longer side is the
    // same either way.
    let mut medium = fit(&image, settings.medium_edge);
    let thumb_source = if settings.thumb_edge <= settings.medium_edge {
        &medium
    } else {
        &image
    };
    let mut thumb = fit(thumb_source, settings.thumb_edge);
    drop(image);
    medium.apply_orientation(orientation);
    thumb.apply_orientation(orientation);

    let (upright_width, upright_height) = if swaps_sides(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(ProcessedImage {
        original: EncodedImage {
            rendition: Rendition {
                format,
                width: upright_width,
                height: upright_height,
                bytes: original.len() as u64,
            },
            bytes: original,
        },
        medium: encode(&medium, settings.jpeg_quality)?,
        thumb: encode(&thumb, settings.jpeg_quality)?,
    })
}

fn codec_format(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::WebP => image::ImageFormat::WebP,
    }
}

fn unreadable(e: image::ImageError) -> ImageError {
    ImageError::Unreadable(e.to_string())
}

/// The decoders' limits for images of at most `max_pixels`: no side longer than that, and
/// memory for that many pixels at 8 bytes each (16-bit RGBA) plus the decoders' own buffers.
fn decode_limits(max_pixels: u64) -> Limits {
    let side = u32::try_from(max_pixels).unwrap_or(u32::MAX);
    let mut limits = Limits::default();
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(DECODER_SLACK));
    limits
}

/// Whether displaying with `orientation` turns the image a quarter, swapping width and height.
fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// The size of a `width`×`height` image scaled to fit `edge` on its longer side, keeping its
/// aspect ratio; never larger than it is.
fn fit_within(width: u32, height: u32, edge: u32) -> (u32, u32) {
    let edge = edge.max(1);
    let long = width.max(height);
    if long <= edge {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled = (u64::from(side) * u64::from(edge) + u64::from(long) / 2) / u64::from(long);
        // Never more than `edge`, since `side <= long`.
        u32::try_from(scaled).unwrap_or(edge).max(1)
    };
    (scale(width), scale(height))
}

/// `image` scaled down to fit `edge` on its longer side.
fn fit(image: &DynamicImage, edge: u32) -> DynamicImage {
    let (width, height) = image.dimensions();
    let (w, h) = fit_within(width, height, edge);
    if (w, h) == (width, height) {
        return image.clone();
    }
    // A large reduction goes in two steps: a fast box filter (each source pixel counted once)
    // down to twice the target, then Lanczos for the last step, which is the one that decides
    // sharpness. Lanczos all the way from 40 megapixels would cost seconds for no visible gain.
    if u64::from(width) >= 3 * u64::from(w) && u64::from(height) >= 3 * u64::from(h) {
        image
            .thumbnail_exact(2 * w, 2 * h)
            .resize_exact(w, h, FilterType::Lanczos3)
    } else {
        image.resize_exact(w, h, FilterType::Lanczos3)
    }
}

/// Encodes a resized image: JPEG when it is opaque, PNG when it has transparency.
fn encode(image: &DynamicImage, quality: u8) -> Result<EncodedImage, ImageError> {
    let internal = |e: image::ImageError| ImageError::Internal(e.to_string());
    let (width, height) = image.dimensions();
    let mut bytes = Vec::new();
    let format = match image {
        DynamicImage::ImageRgb8(rgb) => {
            JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100))
                .encode_image(rgb)
                .map_err(internal)?;
            ImageFormat::Jpeg
        }
        other => {
            PngEncoder::new(&mut bytes)
                .write_image(other.as_bytes(), width, height, other.color().into())
                .map_err(internal)?;
            ImageFormat::Png
        }
    };
    Ok(EncodedImage {
        rendition: Rendition {
            format,
            width,
            height,
            bytes: bytes.len() as u64,
        },
        bytes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testing;

    fn codec() -> ImageCodec {
        ImageCodec::new(ImageSettings {
            concurrency: 2,
            ..ImageSettings::default()
        })
    }

    async fn process(format: ImageFormat, bytes: Vec<u8>) -> Result<ProcessedImage, ImageError> {
        codec().process(format, bytes).await
    }

    /// Where a JPEG's first scan starts (its SOS marker), walking the segments before it.
    fn sos_offset(jpeg: &[u8]) -> usize {
        let mut pos = 2;
        while jpeg[pos + 1] != 0xDA {
            pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        }
        pos
    }

    /// The entries (tag, value) of a TIFF block's first IFD, for SHORT entries.
    fn ifd0(tiff: &[u8]) -> Vec<(u16, u16)> {
        let big = tiff.starts_with(b"MM");
        let u16_at = |at: usize| {
            let b = [tiff[at], tiff[at + 1]];
            if big {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let offset = if big {
            u32::from_be_bytes(tiff[4..8].try_into().unwrap())
        } else {
            u32::from_le_bytes(tiff[4..8].try_into().unwrap())
        } as usize;
        (0..usize::from(u16_at(offset)))
            .map(|i| {
                let entry = offset + 2 + 12 * i;
                (u16_at(entry), u16_at(entry + 8))
            })
            .collect()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[tokio::test]
    async fn jpeg_metadata_is_removed_and_the_scan_kept() {
        let upload = testing::jpeg_with_gps(120, 80);
        assert!(testing::has_gps(&upload), "the fixture has GPS data");
        assert!(testing::exif_of(&upload).is_some());
        let out = process(ImageFormat::Jpeg, upload.clone()).await.unwrap();
        let original = &out.original.bytes;
        assert_eq!(
            original[sos_offset(original)..],
            upload[sos_offset(&upload)..]
        );
        assert!(!contains(original, b"SecretCam"));
        assert!(!contains(original, b"Exif"));
        assert!(!testing::has_gps(original));
        assert_eq!(testing::exif_of(original), None);
        assert_eq!(testing::dimensions(original), (120, 80));
        let r = out.original.rendition;
        assert_eq!((r.format, r.width, r.height), (ImageFormat::Jpeg, 120, 80));
        assert_eq!(r.bytes, original.len() as u64);
        assert!(original.len() < upload.len());
    }

    #[tokio::test]
    async fn jpeg_orientation_survives_alone_and_sizes_are_upright() {
        let upload = testing::jpeg_with_exif(300, 200, 6);
        let out = process(ImageFormat::Jpeg, upload.clone()).await.unwrap();
        let original = &out.original.bytes;
        let exif = testing::exif_of(original).expect("an orientation block");
        assert_eq!(ifd0(&exif), [(0x0112, 6)]);
        assert_eq!(exif, strip::orientation_exif(6));
        assert!(!testing::has_gps(original));
        assert_eq!(
            original[sos_offset(original)..],
            upload[sos_offset(&upload)..]
        );
        // Stored 300x200, displayed turned a quarter.
        assert_eq!(testing::dimensions(original), (300, 200));
        let r = out.original.rendition;
        assert_eq!((r.width, r.height), (200, 300));
        assert_eq!(
            (out.medium.rendition.width, out.medium.rendition.height),
            (200, 300)
        );
        assert_eq!(testing::dimensions(&out.medium.bytes), (200, 300));
        assert_eq!(
            (out.thumb.rendition.width, out.thumb.rendition.height),
            (200, 300)
        );
        assert_eq!(testing::exif_of(&out.medium.bytes), None);
    }

    #[tokio::test]
    async fn png_text_and_exif_are_removed() {
        let upload = testing::png_with_exif(64, 48, 1);
        assert!(contains(&upload, b"tEXt"));
        assert!(testing::has_gps(&upload));
        let out = process(ImageFormat::Png, upload).await.unwrap();
        let original = &out.original.bytes;
        assert!(!contains(original, b"tEXt"));
        assert!(!contains(original, b"GPS"));
        assert!(!testing::has_gps(original));
        assert_eq!(testing::exif_of(original), None);
        assert_eq!(testing::dimensions(original), (64, 48));
        assert_eq!(out.original.rendition.format, ImageFormat::Png);
        // Opaque: the smaller sizes are JPEGs.
        assert_eq!(out.medium.rendition.format, ImageFormat::Jpeg);
    }

    #[tokio::test]
    async fn png_orientation_is_rewritten_alone() {
        let out = process(ImageFormat::Png, testing::png_with_exif(64, 48, 8))
            .await
            .unwrap();
        let exif = testing::exif_of(&out.original.bytes).expect("an orientation block");
        assert_eq!(ifd0(&exif), [(0x0112, 8)]);
        assert!(!testing::has_gps(&out.original.bytes));
        let r = out.original.rendition;
        assert_eq!((r.width, r.height), (48, 64));
        assert_eq!(testing::dimensions(&out.thumb.bytes), (48, 64));
    }

    #[tokio::test]
    async fn webp_exif_is_removed() {
        let upload = testing::webp_with_exif(40, 30, 1);
        assert!(contains(&upload, b"EXIF"));
        assert!(testing::has_gps(&upload));
        let out = process(ImageFormat::WebP, upload).await.unwrap();
        let original = &out.original.bytes;
        assert!(!contains(original, b"EXIF"));
        assert!(!testing::has_gps(original));
        assert_eq!(testing::dimensions(original), (40, 30));
        assert_eq!(out.original.rendition.format, ImageFormat::WebP);
    }

    #[tokio::test]
    async fn webp_orientation_is_rewritten_alone() {
        let out = process(ImageFormat::WebP, testing::webp_with_exif(40, 30, 6))
            .await
            .unwrap();
        let original = &out.original.bytes;
        let exif = testing::exif_of(original).expect("an orientation block");
        assert_eq!(ifd0(&exif), [(0x0112, 6)]);
        assert!(!testing::has_gps(original));
        assert_eq!(testing::dimensions(original), (40, 30));
        assert_eq!(testing::dimensions(&out.medium.bytes), (30, 40));
    }

    #[tokio::test]
    async fn bombs_are_refused_before_decoding() {
        let mut bomb = testing::png(8, 8);
        // IHDR's data (width, height) starts at byte 16; its CRC follows its 13 bytes.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32fast::hash(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let started = std::time::Instant::now();
        let result = process(ImageFormat::Png, bomb).await;
        assert_eq!(
            result,
            Err(ImageError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                max_pixels: 40_000_000
            })
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[tokio::test]
    async fn the_pixel_limit_is_configurable() {
        let small = ImageCodec::new(ImageSettings {
            max_pixels: 99,
            ..ImageSettings::default()
        });
        let result = small
            .process(ImageFormat::Jpeg, testing::jpeg(10, 10))
            .await;
        assert!(result.is_err_and(|e| matches!(e, ImageError::TooManyPixels { .. })));
        let exact = ImageCodec::new(ImageSettings {
            max_pixels: 100,
            ..ImageSettings::default()
        });
        assert!(
            exact
                .process(ImageFormat::Jpeg, testing::jpeg(10, 10))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn broken_uploads_are_unreadable() {
        let jpeg = testing::jpeg(64, 64);
        for cut in [jpeg.len() / 2, jpeg.len() - 2, 40, 4] {
            let result = process(ImageFormat::Jpeg, jpeg[..cut].to_vec()).await;
            assert!(
                matches!(result, Err(ImageError::Unreadable(_))),
                "{cut}: {result:?}"
            );
        }
        let png = testing::png(16, 16);
        let result = process(ImageFormat::Png, png[..png.len() - 20].to_vec()).await;
        assert!(
            matches!(result, Err(ImageError::Unreadable(_))),
            "{result:?}"
        );
        let result = process(ImageFormat::WebP, b"RIFF\x04\0\0\0WEBP".to_vec()).await;
        assert!(
            matches!(result, Err(ImageError::Unreadable(_))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn bytes_of_another_format_are_unsupported() {
        let html = b"<html><body>photo.jpg</body></html>".to_vec();
        assert_eq!(
            process(ImageFormat::Jpeg, html).await,
            Err(ImageError::Unsupported)
        );
        assert_eq!(
            process(ImageFormat::Png, testing::jpeg(8, 8)).await,
            Err(ImageError::Unsupported)
        );
    }

    #[tokio::test]
    async fn large_images_are_scaled_down_and_small_ones_kept() {
        let out = process(ImageFormat::Jpeg, testing::jpeg(3000, 2000))
            .await
            .unwrap();
        let sizes = |e: &EncodedImage| (e.rendition.width, e.rendition.height);
        assert_eq!(sizes(&out.original), (3000, 2000));
        assert_eq!(sizes(&out.medium), (1280, 853));
        assert_eq!(sizes(&out.thumb), (320, 213));
        assert_eq!(testing::dimensions(&out.medium.bytes), (1280, 853));
        assert_eq!(testing::dimensions(&out.thumb.bytes), (320, 213));
        for e in [&out.medium, &out.thumb] {
            assert_eq!(e.rendition.format, ImageFormat::Jpeg);
            assert_eq!(e.rendition.bytes, e.bytes.len() as u64);
            assert_eq!(ImageFormat::sniff(&e.bytes), Some(ImageFormat::Jpeg));
        }

        let out = process(ImageFormat::Jpeg, testing::jpeg(100, 50))
            .await
            .unwrap();
        assert_eq!(sizes(&out.medium), (100, 50));
        assert_eq!(sizes(&out.thumb), (100, 50));
        assert_eq!(testing::dimensions(&out.thumb.bytes), (100, 50));
    }

    #[tokio::test]
    async fn transparent_images_stay_png() {
        let rgba =
            image::RgbaImage::from_fn(50, 40, |x, _| image::Rgba([200, 10, 10, (x * 5) as u8]));
        let mut upload = Vec::new();
        PngEncoder::new(&mut upload)
            .write_image(rgba.as_raw(), 50, 40, image::ExtendedColorType::Rgba8)
            .unwrap();
        let out = process(ImageFormat::Png, upload).await.unwrap();
        assert_eq!(out.medium.rendition.format, ImageFormat::Png);
        assert_eq!(out.thumb.rendition.format, ImageFormat::Png);
        let decoded = image::load_from_memory(&out.medium.bytes).unwrap();
        assert!(decoded.color().has_alpha());
    }

    #[test]
    fn sizes_fit_the_longer_side() {
        assert_eq!(fit_within(3000, 2000, 1280), (1280, 853));
        assert_eq!(fit_within(2000, 3000, 320), (213, 320));
        assert_eq!(fit_within(100, 50, 320), (100, 50));
        assert_eq!(fit_within(10_000, 1, 320), (320, 1));
        assert_eq!(fit_within(1280, 1280, 1280), (1280, 1280));
    }

    #[tokio::test]
    async fn concurrent_uploads_share_the_permits() {
        let codec = ImageCodec::new(ImageSettings {
            concurrency: 1,
            ..ImageSettings::default()
        });
        let (a, b) = tokio::join!(
            codec.process(ImageFormat::Jpeg, testing::jpeg(64, 64)),
            codec.process(ImageFormat::Png, testing::png(64, 64)),
        );
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(codec.permits.available_permits(), 1);
    }
}
