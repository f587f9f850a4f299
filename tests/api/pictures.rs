//! Pictures for the avatar tests, made here byte by byte where a library
//! would not make them: an EXIF block with an orientation and a GPS
//! position, a PNG whose header claims 20,000 × 20,000 pixels, polyglots.

use std::io::Cursor;

use image::{codecs::jpeg::JpegEncoder, ImageEncoder, Rgb, RgbImage};

pub const RED: Rgb<u8> = Rgb([220, 20, 20]);
pub const BLUE: Rgb<u8> = Rgb([20, 20, 220]);

/// A `w`×`h` JPEG, its top half red and its bottom half blue.
pub fn two_tone_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |_, y| if y < h / 2 { RED } else { BLUE });
    jpeg(&img)
}

pub fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

pub fn png(img: &image::DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The GPS latitude the EXIF block carries (55° 40′ 12.34″ N), as its
/// rational bytes: found in the output, it would mean the position leaked.
pub const GPS_LATITUDE: [u8; 24] = [55, 0, 0, 0, 1, 0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 0xd2, 4, 0, 0, 100, 0, 0, 0];

/// An APP1 EXIF segment: orientation `orientation` (6: the stored picture
/// is shown turned 90° clockwise) and a GPS IFD with a latitude.
fn exif_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
    // IFD0 at 8: two entries, then no next IFD (ends at 38).
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    // GPS IFD at 38: latitude ref and latitude (three rationals at 68).
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[2, 0, 5, 0, 3, 0, 0, 0, 68, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(&GPS_LATITUDE);
    let mut body = b"Exif\0\0".to_vec();
    body.extend_from_slice(&tiff);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    seg.extend_from_slice(&body);
    seg
}

/// `jpeg` with an EXIF segment spliced in after its SOI marker.
pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&exif_segment(orientation));
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
    out
}

/// A PNG of a few hundred bytes whose header says `w`×`h` grey pixels, with
/// a stored (uncompressed) zlib stream of a few rows: decoding it whole
/// would take `w`×`h` bytes.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    // zlib: header, one final stored block of 64 zero bytes, adler32 of zeros (1).
    let mut idat = vec![0x78, 0x01, 1, 64, 0, !64u8, 0xFF];
    idat.extend_from_slice(&[0; 64]);
    idat.extend_from_slice(&[0x00, 0x40, 0x00, 0x01]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&chunk(b"IHDR", &ihdr));
    out.extend_from_slice(&chunk(b"IDAT", &idat));
    out.extend_from_slice(&chunk(b"IEND", &[]));
    out
}

/// A JPEG followed by a ZIP archive holding one stored file: a valid
/// picture to image readers and a valid archive to ZIP readers.
pub fn jpeg_zip_polyglot() -> Vec<u8> {
    let mut out = two_tone_jpeg(64, 64);
    let start = u32::try_from(out.len()).unwrap();
    let name = b"x.html";
    let data = b"<html><script>alert(1)</script></html>";
    let crc = crc32(data).to_le_bytes();
    let size = u32::try_from(data.len()).unwrap().to_le_bytes();
    let mut local = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0".to_vec();
    local.extend_from_slice(&crc);
    local.extend_from_slice(&size);
    local.extend_from_slice(&size);
    local.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    local.extend_from_slice(&[0, 0]);
    local.extend_from_slice(name);
    local.extend_from_slice(data);
    let central_at = start + u32::try_from(local.len()).unwrap();
    let mut central = b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0".to_vec();
    central.extend_from_slice(&crc);
    central.extend_from_slice(&size);
    central.extend_from_slice(&size);
    central.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    central.extend_from_slice(&[0; 12]);
    central.extend_from_slice(&start.to_le_bytes());
    central.extend_from_slice(name);
    let mut end = b"PK\x05\x06\0\0\0\0\x01\0\x01\0".to_vec();
    end.extend_from_slice(&u32::try_from(central.len()).unwrap().to_le_bytes());
    end.extend_from_slice(&central_at.to_le_bytes());
    end.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&local);
    out.extend_from_slice(&central);
    out.extend_from_slice(&end);
    out
}

/// Whether `hay` contains `needle`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
