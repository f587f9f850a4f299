//! What an upload is, by its magic bytes, and where the picture in it ends.
//!
//! The declared content type is never trusted: only JPEG, PNG and WebP are
//! recognised, by their first bytes. The container is then walked to find
//! where the picture itself ends. What follows it is dropped, unless it
//! makes the upload a polyglot (a file that is also a ZIP archive or a page
//! a browser would run), which is refused: such an upload is an attack, not
//! a photo. Phones append harmless data (motion photos, a second picture of
//! a multi-picture JPEG), which is why other trailing bytes are allowed.
//!
//! Markup hidden *inside* the picture (a PNG `tEXt` chunk, a JPEG comment)
//! is not looked for: nothing of it survives, since every rendition is
//! re-encoded from pixels and carries no metadata at all.

use roster_domain::ports::ImageError;

/// The three formats accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    pub(crate) fn as_image(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::WebP => image::ImageFormat::WebP,
        }
    }
}

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Byte strings that make trailing data a polyglot: ZIP's local file header
/// and end of central directory (a ZIP reader finds the archive from the end
/// of the file), and the start of markup or script (matched ASCII
/// case-insensitively).
const ZIP_SIGNATURES: [&[u8]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];
const MARKUP_SIGNATURES: [&[u8]; 4] = [b"<html", b"<script", b"<svg", b"<?php"];

/// The format of `bytes` and the part of them that is the picture, or
/// `Unsupported` (not one of the three formats, or a polyglot) or `Invalid`
/// (the container ends before the picture does: truncated).
pub(crate) fn sniff(bytes: &[u8]) -> Result<(Format, &[u8]), ImageError> {
    let format = format_of(bytes).ok_or(ImageError::Unsupported)?;
    let end = match format {
        Format::Jpeg => jpeg_end(bytes)?,
        Format::Png => png_end(bytes)?,
        Format::WebP => webp_end(bytes)?,
    };
    let (picture, trailing) = bytes.split_at(end);
    if is_polyglot_tail(trailing) {
        return Err(ImageError::Unsupported);
    }
    Ok((format, picture))
}

fn format_of(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(Format::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::WebP)
    } else {
        None
    }
}

/// Whether bytes after the picture hold a ZIP signature or markup.
pub(crate) fn is_polyglot_tail(trailing: &[u8]) -> bool {
    ZIP_SIGNATURES.iter().any(|sig| trailing.windows(sig.len()).any(|w| w == *sig))
        || MARKUP_SIGNATURES.iter().any(|sig| trailing.windows(sig.len()).any(|w| w.eq_ignore_ascii_case(sig)))
}

fn truncated(what: &str) -> ImageError {
    ImageError::Invalid(format!("truncated {what}"))
}

/// The offset just past the EOI marker that ends the picture.
///
/// Marker segments are skipped by their length, so an EOI inside one (the
/// JPEG thumbnail of an EXIF APP1 segment ends with its own `FF D9`) is never
/// taken for the end. After each SOS header the entropy-coded data is
/// scanned: `FF 00` is a stuffed byte, `FF D0`–`FF D7` restart markers and
/// `FF FF` fill; any other marker ends the scan (a progressive JPEG has
/// tables and further scans between them) and the walk goes on from it. The
/// first EOI reached this way ends the picture. None before the end of the
/// bytes means the file was cut short; the decoder would fill the missing
/// part with grey, so it is refused here.
fn jpeg_end(bytes: &[u8]) -> Result<usize, ImageError> {
    let mut i = 2; // past SOI
    loop {
        // At a marker: FF (fill FF...) then the marker code. Some writers
        // leave stray bytes between segments (libjpeg warns "extraneous
        // bytes before marker" and goes on): skip to the next FF likewise.
        i += memchr_ff(bytes.get(i..).unwrap_or_default()).ok_or_else(|| truncated("JPEG"))?;
        while bytes.get(i) == Some(&0xFF) {
            i += 1;
        }
        let marker = *bytes.get(i).ok_or_else(|| truncated("JPEG"))?;
        i += 1;
        match marker {
            0xD9 => return Ok(i),
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 | 0x00 => return Err(ImageError::Invalid("JPEG: unexpected marker".into())),
            _ => {}
        }
        let len = match bytes.get(i..i + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(truncated("JPEG")),
        };
        if len < 2 {
            return Err(ImageError::Invalid("JPEG: bad segment length".into()));
        }
        i += len;
        if i > bytes.len() {
            return Err(truncated("JPEG"));
        }
        if marker == 0xDA {
            i = entropy_coded_end(bytes, i).ok_or_else(|| truncated("JPEG"))?;
        }
    }
}

/// The offset of the first marker (its `FF`) after entropy-coded data that
/// starts at `from`, other than stuffing and restart markers.
fn entropy_coded_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let at = i + memchr_ff(&bytes[i..])?;
        let mut next = at + 1;
        while bytes.get(next) == Some(&0xFF) {
            next += 1;
        }
        match *bytes.get(next)? {
            0x00 | 0xD0..=0xD7 => i = next + 1,
            _ => return Some(at),
        }
    }
}

fn memchr_ff(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0xFF)
}

/// The offset just past the IEND chunk, walking the chunks by their lengths.
fn png_end(bytes: &[u8]) -> Result<usize, ImageError> {
    let mut i = PNG_SIGNATURE.len();
    loop {
        let header = bytes.get(i..i + 8).ok_or_else(|| truncated("PNG"))?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = &header[4..8];
        if len > 0x7FFF_FFFF || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(ImageError::Invalid("PNG: bad chunk".into()));
        }
        // length, type, data, CRC
        let end = (i + 12).checked_add(len as usize).ok_or_else(|| truncated("PNG"))?;
        if end > bytes.len() {
            return Err(truncated("PNG"));
        }
        i = end;
        if kind == b"IEND" {
            return Ok(i);
        }
    }
}

/// The offset past the RIFF chunk: 8 bytes of header plus its declared
/// length (padded to even).
fn webp_end(bytes: &[u8]) -> Result<usize, ImageError> {
    let len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let end = 8usize.checked_add(len).and_then(|n| n.checked_add(len & 1)).ok_or_else(|| truncated("WebP"))?;
    if len < 4 || end > bytes.len() + (len & 1) {
        return Err(truncated("WebP"));
    }
    Ok(end.min(bytes.len()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// SOI, an APP1 holding a whole JPEG thumbnail (with its own EOI), a
    /// DQT, SOS and entropy-coded data with stuffing and a restart marker,
    /// a DHT whose table bytes hold `FF D9`, a second scan, then EOI: the
    /// structure, not a decodable picture.
    fn skeleton() -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        let thumb = [0xFF, 0xD8, 0xFF, 0xD9, b'P', b'K', 3, 4];
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&thumb);
        j.extend_from_slice(&[0xFF, 0xE1]);
        j.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        j.extend_from_slice(&app1);
        j.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x00]);
        j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x00]);
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0x00, 0x78]);
        // A progressive JPEG's next tables and scan, after a stray byte.
        j.extend_from_slice(&[0x00, 0xFF, 0xC4, 0x00, 0x04, 0xFF, 0xD9]);
        j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x00, 0x9A, 0xFF, 0x00]);
        j.extend_from_slice(&[0xFF, 0xD9]);
        j
    }

    #[test]
    fn the_jpeg_ends_at_its_own_eoi_not_the_thumbnails() {
        let j = skeleton();
        assert_eq!(jpeg_end(&j).unwrap(), j.len());
        let mut with_tail = j.clone();
        with_tail.extend_from_slice(b"motion photo data \xFF\xD9");
        let (format, picture) = sniff(&with_tail).unwrap();
        assert_eq!(format, Format::Jpeg);
        assert_eq!(picture, &j[..]);
    }

    #[test]
    fn a_cut_jpeg_is_invalid() {
        let j = skeleton();
        for cut in 3..j.len() - 1 {
            assert!(matches!(jpeg_end(&j[..cut]), Err(ImageError::Invalid(_))), "cut at {cut}");
        }
    }

    #[test]
    fn polyglot_tails_are_found_in_any_case() {
        assert!(is_polyglot_tail(b"xxPK\x05\x06"));
        assert!(is_polyglot_tail(b"\n<ScRiPt>alert(1)"));
        assert!(is_polyglot_tail(b"<?PHP"));
        assert!(is_polyglot_tail(b"  <SVG xmlns"));
        assert!(!is_polyglot_tail(b"MotionPhoto_Data\x00\x01PK"));
        assert!(!is_polyglot_tail(b""));
    }

    #[test]
    fn other_formats_are_unsupported() {
        for bytes in [&b""[..], b"GIF89a\x01\x00", b"BM\x00\x00", b"II*\x00", b"<svg/>", b"RIFF\x04\x00\x00\x00WAVE"] {
            assert_eq!(sniff(bytes), Err(ImageError::Unsupported));
        }
    }

    #[test]
    fn webp_ends_at_its_riff_length() {
        let mut w = b"RIFF\x06\x00\x00\x00WEBPxx".to_vec();
        assert_eq!(webp_end(&w).unwrap(), 14);
        w.extend_from_slice(b"<html>");
        assert_eq!(sniff(&w), Err(ImageError::Unsupported));
        assert!(matches!(sniff(b"RIFF\x60\x00\x00\x00WEBPxx"), Err(ImageError::Invalid(_))));
    }
}
