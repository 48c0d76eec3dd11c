//! Lossless metadata removal: an upload's own bytes, container surgery only, no re-encoding.
//!
//! A photo's metadata tells where and when it was taken and with what: GPS coordinates, dates,
//! the camera's make and serial number, the editing software, free-text comments. None of it
//! belongs on a site where the photo is shared. Re-encoding would remove it too, but it would
//! also lose quality every time; walking the container and copying only the pieces that draw
//! the picture keeps every pixel as uploaded.
//!
//! What is kept is decided by a list of what is known to be needed, not by a list of what is
//! known to be private: a maker's private segment, a reserved code or a kind of metadata
//! invented after this was written could hold anything, so whatever is not on the list is
//! dropped. The lists:
//!
//! - JPEG: the frame headers (SOF0–3, 5–7, 9–11, 13–15), the tables (DHT, DAC, DQT), the
//!   restart interval and markers (DRI, RSTn), DNL, the scans (SOS and their entropy-coded
//!   data), and three application segments that change the colours: a JFIF header (without
//!   its thumbnail), ICC profiles (APP2 `ICC_PROFILE`) and Adobe's colour transform (APP14
//!   `Adobe`).
//! - PNG: the critical chunks `IHDR`, `PLTE`, `IDAT` and `IEND`, the animation's `acTL`,
//!   `fcTL` and `fdAT`, and the ancillary chunks that change how the picture looks
//!   (`PNG_KEPT`). A critical chunk of another name is dropped too: no decoder knows it.
//! - WebP: `VP8X` (its EXIF and XMP flags cleared), `VP8 `, `VP8L`, `ALPH`, `ANIM`, `ICCP`, and
//!   `ANMF` frames with only their `ALPH`, `VP8 ` and `VP8L` sub-chunks.
//!
//! The one piece of metadata that survives is the orientation, rewritten as a minimal EXIF
//! block with that single tag, because without it a photo taken with the phone held upright
//! displays on its side.
//!
//! Anything after the image's end (a JPEG's `EOI`, a PNG's `IEND`, the RIFF size of a WebP) is
//! dropped: phones append depth maps and second pictures there, each with its own metadata.

use accueil_domain::memories::ImageFormat;

/// The upload's structure is broken (truncated, lengths pointing past its end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) &'static str);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// `bytes` in `format` without their metadata, with an EXIF orientation tag of `orientation`
/// (1 to 8) when it is not 1.
pub(crate) fn strip(
    format: ImageFormat,
    bytes: &[u8],
    orientation: u8,
) -> Result<Vec<u8>, Malformed> {
    match format {
        ImageFormat::Jpeg => jpeg(bytes, orientation),
        ImageFormat::Png => png(bytes, orientation),
        ImageFormat::WebP => webp(bytes, orientation),
    }
}

/// A TIFF block (the body of an EXIF segment or chunk) with one IFD holding one entry: the
/// orientation. Big-endian, as most cameras write it.
pub(crate) fn orientation_exif(orientation: u8) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2a");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&u16::from(orientation).to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // a SHORT value is left-aligned in its 4 bytes
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

// ---------------------------------------------------------------------------------------------
// JPEG: a sequence of marker segments, then entropy-coded scans, then EOI.

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const DHT: u8 = 0xC4;
const DAC: u8 = 0xCC;
const DQT: u8 = 0xDB;
const DNL: u8 = 0xDC;
const DRI: u8 = 0xDD;
/// "JFIF\0", version, units, densities, thumbnail width and height.
const JFIF_HEADER: usize = 14;

fn jpeg(bytes: &[u8], orientation: u8) -> Result<Vec<u8>, Malformed> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return Err(Malformed("JPEG without a start marker"));
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut exif = (orientation != 1).then(|| {
        let tiff = orientation_exif(orientation);
        let mut app1 = vec![0xFF, 0xE1];
        // 2 for the length itself, 6 for "Exif\0\0": a few dozen bytes, far below 64 KiB.
        let len = u16::try_from(2 + 6 + tiff.len()).unwrap_or(u16::MAX);
        app1.extend_from_slice(&len.to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(&tiff);
        app1
    });
    let mut scanned = false;
    let mut pos = 2;
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            return Err(Malformed("JPEG marker expected"));
        }
        // Any number of 0xFF fill bytes may precede a marker's code.
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let code = *bytes
            .get(pos + 1)
            .ok_or(Malformed("JPEG truncated at a marker"))?;
        pos += 2;
        match code {
            EOI if scanned => {
                out.extend_from_slice(&[0xFF, EOI]);
                return Ok(out);
            }
            EOI => return Err(Malformed("JPEG ends before its image data")),
            0x00 | SOI => return Err(Malformed("JPEG marker invalid here")),
            // Restart markers have no length; between segments they are stray but harmless.
            0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, code]);
                continue;
            }
            // TEM has no length either, and no use outside arithmetic-coding test rigs.
            0x01 => continue,
            _ => {}
        }
        let len = bytes
            .get(pos..pos + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
            .ok_or(Malformed("JPEG truncated at a segment length"))?;
        if len < 2 {
            return Err(Malformed("JPEG segment length too small"));
        }
        let body = bytes
            .get(pos..pos + len)
            .ok_or(Malformed("JPEG segment runs past the end"))?;
        let payload = &body[2..];
        pos += len;
        let keep = match code {
            // JFIF only: other APP0 segments (JFXX) carry a thumbnail of the photo.
            APP0 => payload.starts_with(b"JFIF\0"),
            // ICC profiles only: APP2 also holds MPF, the index of appended pictures. A profile
            // is kept whole, its description and copyright text included: without it a
            // wide-gamut photo shows washed out, and that text names a device or a colour
            // space, never the person who took the photo.
            APP2 => payload.starts_with(b"ICC_PROFILE\0"),
            // Adobe: says whether the data is RGB or YCbCr, so the colours depend on it. Other
            // APP14 segments are someone else's data under the same code.
            APP14 => payload.starts_with(b"Adobe"),
            // Frame headers (SOFn: baseline, extended, progressive and lossless, Huffman or
            // arithmetic coded; 0xC4, 0xC8 and 0xCC are not frames), tables, scans, restart
            // intervals, line counts: the picture itself.
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => true,
            DHT | DAC | DQT | DNL | DRI | SOS => true,
            // Everything else: EXIF and XMP (APP1), IPTC (APP13), maker data and C2PA
            // manifests in the other APPn, comments, the JPGn extensions, hierarchical-mode
            // segments (DHP, EXP) and reserved codes, any of which a writer may fill freely.
            _ => false,
        };
        if keep {
            if code != APP0
                && let Some(app1) = exif.take()
            {
                out.extend_from_slice(&app1);
            }
            out.extend_from_slice(&[0xFF, code]);
            if code == APP0 && payload.len() > JFIF_HEADER {
                // JFIF may embed a thumbnail after its 14-byte header: a copy of the photo as
                // it was before any crop. Keep the header, with a 0x0 thumbnail.
                let len = u16::try_from(2 + JFIF_HEADER).unwrap_or(u16::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&payload[..JFIF_HEADER - 2]);
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(body);
            }
        }
        if code == SOS {
            scanned = true;
            let end = entropy_coded_end(bytes, pos)?;
            out.extend_from_slice(&bytes[pos..end]);
            pos = end;
        }
    }
}

/// Where the entropy-coded data starting at `pos` ends: at the first 0xFF that starts a marker,
/// that is one followed by neither a stuffed zero nor a restart code nor another 0xFF.
fn entropy_coded_end(bytes: &[u8], mut pos: usize) -> Result<usize, Malformed> {
    loop {
        let ff = bytes
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == 0xFF))
            .map(|i| pos + i)
            .ok_or(Malformed("JPEG scan not terminated"))?;
        match bytes.get(ff + 1) {
            None => return Err(Malformed("JPEG scan not terminated")),
            Some(0x00 | 0xD0..=0xD7) => pos = ff + 2,
            Some(0xFF) => pos = ff + 1,
            Some(_) => return Ok(ff),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PNG: a signature, then chunks (length, type, data, CRC) from IHDR to IEND.

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The critical chunks of the PNG specification, the only ones a decoder can draw from. A
/// chunk named as critical but unknown is dropped like any other: its contents could be
/// anything. (The `png` crate refuses a file with one, so such an upload fails to decode later
/// anyway; dropping it here does not depend on that.)
const PNG_CRITICAL: [&[u8; 4]; 4] = [b"IHDR", b"PLTE", b"IDAT", b"IEND"];

/// Ancillary chunks that change how the picture looks (transparency, colour, gamma, pixel
/// size) or animate it. Every other ancillary chunk is dropped: text (`tEXt`, `zTXt`, `iTXt`),
/// `eXIf`, `tIME`, and the private chunks of makers and editors. `iCCP` is kept whole, its
/// profile name included: colours depend on the profile, and its name and text describe a
/// device or a colour space, not a person.
const PNG_KEPT: [&[u8; 4]; 13] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs", b"cICP", b"mDCV",
    b"cLLI", b"acTL", b"fcTL",
];

fn png(bytes: &[u8], orientation: u8) -> Result<Vec<u8>, Malformed> {
    if !bytes.starts_with(PNG_SIGNATURE) {
        return Err(Malformed("PNG without its signature"));
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut exif = (orientation != 1).then(|| png_chunk(b"eXIf", &orientation_exif(orientation)));
    let mut pos = PNG_SIGNATURE.len();
    loop {
        let header = bytes
            .get(pos..pos + 8)
            .ok_or(Malformed("PNG ends before IEND"))?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > 0x7FFF_FFFF {
            return Err(Malformed("PNG chunk length out of range"));
        }
        let kind = [header[4], header[5], header[6], header[7]];
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| (pos + 12).checked_add(len))
            .ok_or(Malformed("PNG chunk length out of range"))?;
        let chunk = bytes
            .get(pos..end)
            .ok_or(Malformed("PNG chunk runs past the end"))?;
        pos = end;
        // Frame data of an animation: ancillary by its name, but the animation needs it.
        let keep = PNG_CRITICAL.contains(&&kind) || &kind == b"fdAT" || PNG_KEPT.contains(&&kind);
        if &kind == b"IDAT"
            && let Some(exif) = exif.take()
        {
            // Readers look for the orientation before the image data only.
            out.extend_from_slice(&exif);
        }
        if keep {
            out.extend_from_slice(chunk);
        }
        if &kind == b"IEND" {
            return Ok(out);
        }
    }
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = Vec::with_capacity(data.len() + 12);
    // Only ever called with a 26-byte EXIF block.
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    chunk.extend_from_slice(&len.to_be_bytes());
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk
}

// ---------------------------------------------------------------------------------------------
// WebP: a RIFF container of chunks (four-character code, little-endian size, data padded to
// an even length). The simple formats are one VP8 or VP8L chunk; the extended one starts with
// a VP8X chunk whose flags announce the optional chunks.

/// Chunks that draw the picture, animate it or give its colours. Every other one is dropped:
/// `EXIF`, `XMP `, and unknown chunks. `ICCP` is kept whole: colours depend on the profile, and
/// its text describes a device or a colour space, not a person.
const WEBP_KEPT: [&[u8; 4]; 7] = [
    b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP",
];
/// The sub-chunks of an animation frame (`ANMF`) that draw it. The format allows unknown ones
/// after them, which are dropped like unknown top-level chunks.
const ANMF_KEPT: [&[u8; 4]; 3] = [b"ALPH", b"VP8 ", b"VP8L"];
/// An `ANMF` payload's header before its sub-chunks: X and Y offsets, width and height minus
/// one, and duration, 24 bits each, then one byte of flags.
const ANMF_HEADER: usize = 16;
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

fn webp(bytes: &[u8], orientation: u8) -> Result<Vec<u8>, Malformed> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Err(Malformed("WebP without its RIFF header"));
    }
    let riff_size = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let riff_end = usize::try_from(riff_size)
        .ok()
        .and_then(|size| size.checked_add(8))
        .filter(|&end| end <= bytes.len())
        .ok_or(Malformed("WebP shorter than its RIFF size"))?;
    let mut chunks: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    for (kind, data) in riff_chunks(bytes.get(12..riff_end).unwrap_or_default())? {
        if &kind == b"ANMF" {
            chunks.push((kind, anmf(data)?));
        } else if WEBP_KEPT.contains(&&kind) {
            chunks.push((kind, data.to_vec()));
        }
    }
    let Some((first, vp8x)) = chunks.first_mut() else {
        return Err(Malformed("WebP without image data"));
    };
    if first == b"VP8X" {
        let flags = vp8x
            .first_mut()
            .ok_or(Malformed("WebP VP8X chunk too short"))?;
        *flags &= !(VP8X_EXIF | VP8X_XMP);
        if orientation != 1 {
            *flags |= VP8X_EXIF;
            // EXIF goes after the image data.
            chunks.push((*b"EXIF", orientation_exif(orientation)));
        }
    }
    // The simple formats hold no metadata, so their orientation is always 1: nothing to add.
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    for (kind, data) in &chunks {
        riff_chunk(&mut out, kind, data)?;
    }
    let size = u32::try_from(out.len() - 8).map_err(|_| Malformed("WebP too large"))?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(out)
}

/// A RIFF chunk's four-character code and its data, without padding.
type RiffChunk<'a> = ([u8; 4], &'a [u8]);

/// The chunks of a RIFF chunk list (`bytes`, the list's data without its own header): each
/// one's code and data.
fn riff_chunks(bytes: &[u8]) -> Result<Vec<RiffChunk<'_>>, Malformed> {
    let mut chunks = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let header = bytes
            .get(pos..pos + 8)
            .ok_or(Malformed("WebP chunk header truncated"))?;
        let kind = [header[0], header[1], header[2], header[3]];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let end = usize::try_from(size)
            .ok()
            .and_then(|size| (pos + 8).checked_add(size))
            .filter(|&end| end <= bytes.len())
            .ok_or(Malformed("WebP chunk runs past the end"))?;
        chunks.push((kind, &bytes[pos + 8..end]));
        // The padding byte of an odd-sized last chunk is sometimes missing: tolerate that.
        pos = (end + (end - pos) % 2).min(bytes.len());
    }
    Ok(chunks)
}

/// An animation frame's payload with only the sub-chunks that draw it; its header unchanged.
fn anmf(data: &[u8]) -> Result<Vec<u8>, Malformed> {
    let header = data
        .get(..ANMF_HEADER)
        .ok_or(Malformed("WebP ANMF chunk too short"))?;
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(header);
    for (kind, sub) in riff_chunks(&data[ANMF_HEADER..])? {
        if ANMF_KEPT.contains(&&kind) {
            riff_chunk(&mut out, &kind, sub)?;
        }
    }
    Ok(out)
}

/// Appends a chunk to `out`: its code, size, data and, after odd-sized data, a padding byte.
fn riff_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) -> Result<(), Malformed> {
    let size = u32::try_from(data.len()).map_err(|_| Malformed("WebP chunk too large"))?;
    out.extend_from_slice(kind);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn segment(code: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, code];
        s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// A JPEG-shaped byte string (its structure only, not a decodable picture).
    fn jpeg_shape(segments: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let mut j = vec![0xFF, SOI];
        for s in segments {
            j.extend_from_slice(s);
        }
        j.extend_from_slice(&segment(SOS, &[1, 1, 0, 0, 63, 0]));
        // Scan data with a stuffed 0xFF, a restart marker and fill bytes before EOI.
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD9]);
        j.extend_from_slice(trailer);
        j
    }

    #[test]
    fn jpeg_keeps_the_picture_and_drops_the_rest() {
        let kept = [
            segment(APP0, b"JFIF\0\x01\x02"),
            segment(APP2, b"ICC_PROFILE\0\x01\x01icc"),
            segment(APP14, b"Adobe\0"),
            segment(0xDB, &[0; 65]),
            segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]),
        ];
        let dropped = [
            segment(0xE1, b"Exif\0\0secret"),
            segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0secret"),
            segment(APP0, b"JFXX\0\x10thumb"),
            segment(APP2, b"MPF\0secret"),
            segment(0xED, b"Photoshop 3.0\0secret"),
            segment(0xEB, b"JP secret"),
            segment(0xFE, b"secret comment"),
        ];
        let mut all = vec![kept[0].clone(), dropped[0].clone(), dropped[1].clone()];
        all.extend(kept[1..].iter().cloned());
        all.extend(dropped[2..].iter().cloned());
        let input = jpeg_shape(&all, b"appended picture with secret metadata");
        let output = strip(ImageFormat::Jpeg, &input, 1).unwrap();
        assert_eq!(output, jpeg_shape(&kept, b""));
        assert!(!output.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn jpeg_keeps_only_the_segments_that_decode() {
        let mut kept = vec![
            segment(APP0, b"JFIF\0\x01\x02"),
            segment(APP14, b"Adobe\0\x64\0\0\0\0\x01"),
            segment(DQT, &[0; 65]),
            segment(DHT, &[0; 20]),
            segment(DAC, &[0x10, 0x22]),
            segment(DRI, &[0, 4]),
            segment(DNL, &[0, 1]),
            vec![0xFF, 0xD3], // a stray restart marker
        ];
        for sof in (0xC0..=0xCF).filter(|c| ![DHT, 0xC8, DAC].contains(c)) {
            kept.push(segment(sof, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        }
        let mut dropped = vec![
            segment(APP14, b"secret, not Adobe"),
            segment(0xC8, b"JPG secret"),
            segment(0xDE, b"DHP secret"),
            segment(0xDF, b"EXP secret"),
            segment(0x02, b"reserved secret"),
            segment(0xBF, b"reserved secret"),
            vec![0xFF, 0x01], // TEM, without a length
        ];
        for jpg in 0xF0..=0xFD {
            dropped.push(segment(jpg, b"JPGn secret"));
        }
        let mut all = vec![kept[0].clone()];
        for (i, d) in dropped.iter().enumerate() {
            all.push(d.clone());
            all.extend(kept.get(i + 1).cloned());
        }
        all.extend(kept.iter().skip(dropped.len() + 1).cloned());
        assert_eq!(all.len(), kept.len() + dropped.len());
        let output = strip(ImageFormat::Jpeg, &jpeg_shape(&all, b""), 1).unwrap();
        assert_eq!(output, jpeg_shape(&kept, b""));
        assert!(!output.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn a_real_jpeg_decodes_the_same_without_its_extra_segments() {
        let plain = crate::testing::jpeg(40, 30);
        let junk = [
            segment(APP14, b"secret"),
            segment(0xF3, b"secret"),
            segment(0xFE, b"secret"),
        ]
        .concat();
        let upload = [&plain[..2], &junk, &plain[2..]].concat();
        let output = strip(ImageFormat::Jpeg, &upload, 1).unwrap();
        assert_eq!(output, strip(ImageFormat::Jpeg, &plain, 1).unwrap());
        assert_eq!(
            image::load_from_memory(&output).unwrap().to_rgb8(),
            image::load_from_memory(&plain).unwrap().to_rgb8()
        );
    }

    #[test]
    fn jfif_thumbnails_are_dropped() {
        let mut jfif = b"JFIF\0\x01\x02\0\0\x01\0\x01".to_vec();
        let header = [jfif.clone(), vec![0, 0]].concat();
        jfif.extend_from_slice(&[1, 1, 0xAA, 0xBB, 0xCC]);
        let input = jpeg_shape(&[segment(APP0, &jfif), segment(0xDB, &[0; 65])], b"");
        assert_eq!(
            strip(ImageFormat::Jpeg, &input, 1).unwrap(),
            jpeg_shape(&[segment(APP0, &header), segment(0xDB, &[0; 65])], b"")
        );
    }

    #[test]
    fn jpeg_segments_between_scans_are_filtered_too() {
        let scan = |data: &[u8]| [segment(SOS, &[1, 1, 0, 0, 63, 0]), data.to_vec()].concat();
        let input = [
            vec![0xFF, SOI],
            segment(0xDB, &[0; 65]),
            scan(&[1, 2, 0xFF, 0]),
            segment(0xC4, &[0; 20]),
            segment(0xFE, b"secret"),
            scan(&[3, 4]),
            vec![0xFF, EOI],
        ]
        .concat();
        let expected = [
            vec![0xFF, SOI],
            segment(0xDB, &[0; 65]),
            scan(&[1, 2, 0xFF, 0]),
            segment(0xC4, &[0; 20]),
            scan(&[3, 4]),
            vec![0xFF, EOI],
        ]
        .concat();
        assert_eq!(strip(ImageFormat::Jpeg, &input, 1).unwrap(), expected);
    }

    #[test]
    fn jpeg_orientation_goes_right_after_jfif() {
        let input = jpeg_shape(&[segment(APP0, b"JFIF\0"), segment(0xDB, &[0; 65])], b"");
        let output = strip(ImageFormat::Jpeg, &input, 6).unwrap();
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend_from_slice(&orientation_exif(6));
        let expected = jpeg_shape(
            &[
                segment(APP0, b"JFIF\0"),
                segment(0xE1, &exif),
                segment(0xDB, &[0; 65]),
            ],
            b"",
        );
        assert_eq!(output, expected);
    }

    #[test]
    fn broken_jpegs_are_malformed() {
        let good = jpeg_shape(&[segment(0xDB, &[0; 65])], b"");
        assert!(strip(ImageFormat::Jpeg, &good, 1).is_ok());
        for cut in [3, 5, 40, good.len() - 1] {
            assert!(strip(ImageFormat::Jpeg, &good[..cut], 1).is_err(), "{cut}");
        }
        let mut bad_len = good.clone();
        bad_len[4..6].copy_from_slice(&[0xFF, 0xFF]);
        assert!(strip(ImageFormat::Jpeg, &bad_len, 1).is_err());
        assert!(strip(ImageFormat::Jpeg, &[0xFF, SOI, 0xFF, EOI], 1).is_err());
    }

    #[test]
    fn png_chunks_are_filtered_and_orientation_added() {
        let ihdr = png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        let gama = png_chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]);
        let text = png_chunk(b"tEXt", b"GPS\x0048.85 N");
        let time = png_chunk(b"tIME", &[7, 0xE8, 1, 1, 0, 0, 0]);
        let private = png_chunk(b"prVt", b"secret");
        let idat = png_chunk(b"IDAT", b"pixels");
        let iend = png_chunk(b"IEND", b"");
        let input = [
            PNG_SIGNATURE,
            &ihdr,
            &text,
            &gama,
            &time,
            &private,
            &idat,
            &idat,
            &text,
            &iend,
            b"trailer",
        ]
        .concat();
        let exif = png_chunk(b"eXIf", &orientation_exif(8));
        let expected = [PNG_SIGNATURE, &ihdr, &gama, &exif, &idat, &idat, &iend].concat();
        assert_eq!(strip(ImageFormat::Png, &input, 8).unwrap(), expected);
        assert!(strip(ImageFormat::Png, &input[..input.len() - 20], 1).is_err());
    }

    #[test]
    fn png_critical_chunks_of_unknown_names_are_dropped() {
        let plain = crate::testing::png(20, 10);
        // Signature (8) and IHDR (4 + 4 + 13 + 4).
        let after_ihdr = 33;
        let input = [
            &plain[..after_ihdr],
            &png_chunk(b"SCRT", b"secret"),
            &plain[after_ihdr..plain.len() - 12],
            &png_chunk(b"XYZW", b"secret"),
            &plain[plain.len() - 12..],
        ]
        .concat();
        let output = strip(ImageFormat::Png, &input, 1).unwrap();
        assert_eq!(output, plain);
        assert_eq!(crate::testing::dimensions(&output), (20, 10));
        // The palette is critical and known: kept.
        let ihdr = png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 3, 0, 0, 0]);
        let plte = png_chunk(b"PLTE", &[0, 0, 0]);
        let idat = png_chunk(b"IDAT", b"pixels");
        let iend = png_chunk(b"IEND", b"");
        let indexed = [PNG_SIGNATURE, &ihdr, &plte, &idat, &iend].concat();
        assert_eq!(strip(ImageFormat::Png, &indexed, 1).unwrap(), indexed);
    }

    #[test]
    fn the_png_crc_is_the_standard_one() {
        // The IEND chunk every PNG ends with.
        assert_eq!(
            png_chunk(b"IEND", b""),
            [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]
        );
    }

    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        for (kind, data) in chunks {
            body.extend_from_slice(*kind);
            body.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn webp_metadata_chunks_and_flags_are_removed() {
        let vp8x = [VP8X_EXIF | VP8X_XMP | 0x10, 0, 0, 0, 9, 0, 0, 9, 0, 0];
        let input = riff(&[
            (b"VP8X", &vp8x),
            (b"VP8L", b"lossless"),
            (b"EXIF", b"II*\0secret"),
            (b"XMP ", b"<x:xmpmeta>secret</x:xmpmeta>"),
            (b"UNKN", b"odd"),
        ]);
        let mut cleared = vp8x;
        cleared[0] = 0x10;
        assert_eq!(
            strip(ImageFormat::WebP, &input, 1).unwrap(),
            riff(&[(b"VP8X", &cleared), (b"VP8L", b"lossless")])
        );
        let mut with_exif = cleared;
        with_exif[0] |= VP8X_EXIF;
        assert_eq!(
            strip(ImageFormat::WebP, &input, 3).unwrap(),
            riff(&[
                (b"VP8X", &with_exif),
                (b"VP8L", b"lossless"),
                (b"EXIF", &orientation_exif(3)),
            ])
        );
        let simple = riff(&[(b"VP8L", b"odd")]);
        assert_eq!(strip(ImageFormat::WebP, &simple, 1).unwrap(), simple);
        // The last chunk's padding byte missing is tolerated; a chunk past the end is not.
        let mut unpadded = simple[..simple.len() - 1].to_vec();
        unpadded[4] -= 1;
        assert_eq!(strip(ImageFormat::WebP, &unpadded, 1).unwrap(), simple);
        assert!(strip(ImageFormat::WebP, &simple[..simple.len() - 3], 1).is_err());
        let mut long_chunk = simple.clone();
        long_chunk[16] = 40;
        assert!(strip(ImageFormat::WebP, &long_chunk, 1).is_err());
    }

    fn sub_chunks(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, data) in chunks {
            riff_chunk(&mut out, kind, data).unwrap();
        }
        out
    }

    /// An `ANMF` header: an 8×8 frame at (2, 4), shown for 100 ms, blended and disposed.
    const FRAME_HEADER: [u8; ANMF_HEADER] = [2, 0, 0, 4, 0, 0, 7, 0, 0, 7, 0, 0, 100, 0, 0, 3];

    #[test]
    fn webp_animation_frames_keep_only_their_image_sub_chunks() {
        let vp8x = [0x02 | VP8X_EXIF | 0x10, 0, 0, 0, 9, 0, 0, 9, 0, 0];
        let anim = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0];
        let first = [
            FRAME_HEADER.to_vec(),
            sub_chunks(&[
                (b"ALPH", b"a"),
                (b"VP8L", b"lossless"),
                (b"UNKN", b"secret!"),
                (b"EXIF", b"II*\0secret"),
            ]),
        ]
        .concat();
        let second = [
            FRAME_HEADER.to_vec(),
            sub_chunks(&[(b"XMP ", b"secret"), (b"VP8 ", b"lossy!!")]),
        ]
        .concat();
        let input = riff(&[
            (b"VP8X", &vp8x),
            (b"ANIM", &anim),
            (b"ANMF", &first),
            (b"ANMF", &second),
            (b"EXIF", b"II*\0secret"),
        ]);
        let mut cleared = vp8x;
        cleared[0] &= !VP8X_EXIF;
        let first_kept = [
            FRAME_HEADER.to_vec(),
            sub_chunks(&[(b"ALPH", b"a"), (b"VP8L", b"lossless")]),
        ]
        .concat();
        let second_kept = [FRAME_HEADER.to_vec(), sub_chunks(&[(b"VP8 ", b"lossy!!")])].concat();
        let expected = riff(&[
            (b"VP8X", &cleared),
            (b"ANIM", &anim),
            (b"ANMF", &first_kept),
            (b"ANMF", &second_kept),
        ]);
        let output = strip(ImageFormat::WebP, &input, 1).unwrap();
        assert_eq!(output, expected);
        assert!(!output.windows(6).any(|w| w == b"secret"));
        // The frames' sizes follow their new contents.
        let frames: Vec<_> = riff_chunks(&output[12..]).unwrap();
        assert_eq!(frames[2].1.len(), ANMF_HEADER + 10 + 16);
        assert_eq!(frames[3].1.len(), ANMF_HEADER + 8 + 7 + 1);
    }

    #[test]
    fn broken_webp_animation_frames_are_malformed() {
        let vp8x = [0x02, 0, 0, 0, 9, 0, 0, 9, 0, 0];
        let with_frame = |frame: &[u8]| riff(&[(b"VP8X", &vp8x), (b"ANMF", frame)]);
        let short = with_frame(&FRAME_HEADER[..15]);
        assert!(strip(ImageFormat::WebP, &short, 1).is_err());
        let mut overlong = [FRAME_HEADER.to_vec(), sub_chunks(&[(b"VP8L", b"pixels")])].concat();
        overlong[ANMF_HEADER + 4] = 7;
        assert!(strip(ImageFormat::WebP, &with_frame(&overlong), 1).is_err());
        // As at the top level, the last sub-chunk's missing padding byte is tolerated.
        let padded = [FRAME_HEADER.to_vec(), sub_chunks(&[(b"VP8L", b"odd")])].concat();
        let unpadded = &padded[..padded.len() - 1];
        assert_eq!(
            strip(ImageFormat::WebP, &with_frame(unpadded), 1).unwrap(),
            with_frame(&padded)
        );
    }

    #[test]
    fn a_real_animated_webp_decodes_the_same_without_its_extra_sub_chunks() {
        let still = crate::testing::webp_with_exif(8, 8, 1);
        let chunks = riff_chunks(&still[12..]).unwrap();
        let (_, vp8l) = chunks.iter().find(|(kind, _)| kind == b"VP8L").unwrap();
        let vp8x = [0x02, 0, 0, 0, 7, 0, 0, 7, 0, 0];
        let anim = [0, 0, 0, 0, 0, 0];
        // Flags: no blending, so the frame's pixels are copied as decoded.
        let header = [0, 0, 0, 0, 0, 0, 7, 0, 0, 7, 0, 0, 100, 0, 0, 0x02];
        let frame = |extra: &[(&[u8; 4], &[u8])]| {
            let mut subs = vec![(b"VP8L", *vp8l)];
            subs.extend_from_slice(extra);
            [header.to_vec(), sub_chunks(&subs)].concat()
        };
        let clean = riff(&[(b"VP8X", &vp8x), (b"ANIM", &anim), (b"ANMF", &frame(&[]))]);
        let secret: &[u8] = b"secret";
        let upload = riff(&[
            (b"VP8X", &vp8x),
            (b"ANIM", &anim),
            (b"ANMF", &frame(&[(b"UNKN", secret)])),
        ]);
        let output = strip(ImageFormat::WebP, &upload, 1).unwrap();
        assert_eq!(output, clean);
        assert_eq!(
            image::load_from_memory(&output).unwrap().to_rgba8(),
            image::load_from_memory(&still).unwrap().to_rgba8()
        );
    }
}
