//! The pipeline on real encoded pictures: made here with `image`'s encoders
//! or written byte by byte, never mocked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use image::{
    codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder},
    ExtendedColorType, ImageEncoder, RgbImage, RgbaImage,
};
use roster_domain::{
    image::{ImageSize, Rendition},
    ports::{ImageError, ImageProcessor},
};
use roster_images::{ImageLimits, ImagePipeline};
use sha2::{Digest, Sha256};

fn pipeline() -> ImagePipeline {
    ImagePipeline::new(ImageLimits::default(), 2)
}

fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn png_rgba(img: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgba8).unwrap();
    out
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128]))
}

fn decode(r: &Rendition) -> RgbImage {
    image::load_from_memory_with_format(&r.bytes, image::ImageFormat::Jpeg).unwrap().into_rgb8()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The markers of a JPEG's segments up to SOS.
fn segment_markers(j: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut i = 2;
    while i + 4 <= j.len() && j[i] == 0xFF {
        let marker = j[i + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        i += 2 + usize::from(u16::from_be_bytes([j[i + 2], j[i + 3]]));
    }
    markers
}

fn assert_clean_jpeg(r: &Rendition) {
    assert_eq!(r.content_type, "image/jpeg");
    assert!(r.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    let markers = segment_markers(&r.bytes);
    assert!(markers.contains(&0xDA), "no SOS in {markers:x?}");
    assert!(!markers.contains(&0xE1) && !markers.contains(&0xE2), "APP1/APP2 in {markers:x?}");
    assert!(!contains(&r.bytes, b"Exif\0\0"));
    assert_eq!(r.etag, hex::encode(Sha256::digest(&r.bytes)));
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(f)
}

fn render(bytes: Vec<u8>) -> Result<Vec<Rendition>, ImageError> {
    block_on(pipeline().render(bytes))
}

// ---- type by magic bytes ----

#[test]
fn svg_gif_html_text_bmp_tiff_and_empty_are_unsupported() {
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#.to_vec();
    let html = b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>".to_vec();
    let bmp = b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00".to_vec();
    let tiff = b"II*\x00\x08\x00\x00\x00".to_vec();
    for bytes in [gif, svg, html, bmp, tiff, b"hello".to_vec(), Vec::new()] {
        assert_eq!(render(bytes.clone()), Err(ImageError::Unsupported), "{:?}", String::from_utf8_lossy(&bytes));
    }
}

/// A minimal ZIP archive: one stored file, its central directory entry and
/// the end of central directory.
fn zip_archive() -> Vec<u8> {
    let mut z = Vec::new();
    z.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    z.extend_from_slice(&[0; 4]); // crc (not checked here)
    z.extend_from_slice(&2u32.to_le_bytes());
    z.extend_from_slice(&2u32.to_le_bytes());
    z.extend_from_slice(&5u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(b"a.php<?");
    let cd = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    z.extend_from_slice(&[0; 4]);
    z.extend_from_slice(&2u32.to_le_bytes());
    z.extend_from_slice(&2u32.to_le_bytes());
    z.extend_from_slice(&5u16.to_le_bytes());
    z.extend_from_slice(&[0; 12]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(b"a.php");
    let cd_len = z.len() as u32 - cd;
    z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd.to_le_bytes());
    z.extend_from_slice(&[0, 0]);
    z
}

#[test]
fn a_jpeg_zip_polyglot_is_unsupported() {
    let mut bytes = jpeg(&gradient(64, 48), 90);
    bytes.extend_from_slice(&zip_archive());
    assert_eq!(render(bytes), Err(ImageError::Unsupported));
}

#[test]
fn a_png_or_jpeg_followed_by_markup_is_unsupported() {
    let mut bytes = png_rgba(&RgbaImage::from_pixel(8, 8, image::Rgba([1, 2, 3, 255])));
    bytes.extend_from_slice(b"\n<SCRIPT>alert(1)</SCRIPT>");
    assert_eq!(render(bytes), Err(ImageError::Unsupported));
    let mut bytes = jpeg(&gradient(8, 8), 90);
    bytes.extend_from_slice(b"<svg onload=alert(1)>");
    assert_eq!(render(bytes), Err(ImageError::Unsupported));
}

#[test]
fn a_jpeg_followed_by_harmless_bytes_is_accepted_and_they_are_dropped() {
    let mut bytes = jpeg(&gradient(64, 48), 90);
    // Like a phone's motion photo: another stream after the EOI.
    bytes.extend_from_slice(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom");
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x7F));
    let out = render(bytes).unwrap();
    assert_eq!(out.len(), 4);
    for r in &out {
        assert_eq!((r.width, r.height), (48, 48));
        assert_clean_jpeg(r);
        assert!(!contains(&r.bytes, b"ftypmp42"));
    }
}

#[test]
fn an_exif_thumbnail_does_not_end_the_jpeg_early() {
    // An APP1 with a real JPEG thumbnail inside it (so an FF D9 before the
    // picture's own): what follows the picture decides, not what follows
    // the thumbnail.
    let mut app1 = exif_orientation_6_with_gps();
    app1.extend(jpeg(&gradient(16, 16), 80));
    let with_thumbnail = splice_app1(&jpeg(&gradient(64, 48), 90), &app1);
    let mut polyglot = with_thumbnail.clone();
    polyglot.extend_from_slice(&zip_archive());
    assert_eq!(render(polyglot), Err(ImageError::Unsupported));
    let mut harmless = with_thumbnail;
    harmless.extend_from_slice(b"trailing data from a phone");
    assert_eq!(render(harmless).unwrap().len(), 4);
}

// ---- size before decoding ----

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
    c
}

/// A zlib stream of `n` zero bytes in stored (uncompressed) deflate blocks.
fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut z = vec![0x78, 0x01];
    let mut left = n;
    loop {
        let len = left.min(65_535);
        left -= len;
        z.push(u8::from(left == 0));
        z.extend_from_slice(&(len as u16).to_le_bytes());
        z.extend_from_slice(&(!(len as u16)).to_le_bytes());
        z.extend(std::iter::repeat_n(0, len));
        if left == 0 {
            break;
        }
    }
    z.extend_from_slice(&1u32.to_be_bytes()); // adler32 of zeros
    z
}

/// A greyscale 8-bit PNG whose header says `w`×`h`, with an IDAT of a few
/// KB of zeros: a decompression bomb's header on a tiny file.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    p.extend(chunk(b"IHDR", &ihdr));
    p.extend(chunk(b"IDAT", &zlib_zeros(4096)));
    p.extend(chunk(b"IEND", &[]));
    p
}

#[test]
fn a_1_by_100000_png_is_too_large() {
    assert_eq!(render(png_header_only(1, 100_000)), Err(ImageError::TooLarge { width: 1, height: 100_000 }));
}

#[test]
fn a_20000_square_png_bomb_is_refused_by_its_header_quickly() {
    let bomb = png_header_only(20_000, 20_000);
    assert!(bomb.len() < 8 * 1024, "{} bytes", bomb.len());
    let p = pipeline();
    block_on(async {
        let started = Instant::now();
        assert_eq!(p.render(bomb).await, Err(ImageError::TooLarge { width: 20_000, height: 20_000 }));
        // Decoding 400 MP would take seconds even optimised; a header, microseconds.
        assert!(started.elapsed() < Duration::from_millis(200), "{:?}", started.elapsed());
    });
}

#[test]
fn too_many_pixels_within_the_side_limit_is_too_large() {
    // 8000 × 6000 = 48 MP: both sides under 8192, over 40 MP.
    assert_eq!(render(png_header_only(8000, 6000)), Err(ImageError::TooLarge { width: 8000, height: 6000 }));
    let small = ImagePipeline::new(ImageLimits { max_side: 100, ..ImageLimits::default() }, 1);
    let bytes = jpeg(&gradient(120, 50), 80);
    assert_eq!(block_on(small.render(bytes)), Err(ImageError::TooLarge { width: 120, height: 50 }));
}

#[test]
fn the_allocation_limit_refuses_a_picture_that_needs_more() {
    // 1000×1000 RGBA8 needs 4 MB decoded; allow 1 MB.
    let tight = ImagePipeline::new(ImageLimits { max_alloc_bytes: 1 << 20, ..ImageLimits::default() }, 1);
    let bytes = png_rgba(&RgbaImage::from_pixel(1000, 1000, image::Rgba([9, 9, 9, 255])));
    assert!(matches!(block_on(tight.render(bytes)), Err(ImageError::Invalid(_))));
}

// ---- corrupt ----

#[test]
fn a_jpeg_truncated_halfway_is_invalid() {
    let bytes = jpeg(&gradient(300, 200), 90);
    let half = bytes[..bytes.len() / 2].to_vec();
    assert!(matches!(render(half), Err(ImageError::Invalid(_))));
}

#[test]
fn random_bytes_after_a_png_signature_are_invalid() {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    assert!(matches!(render(bytes), Err(ImageError::Invalid(_))));
}

#[test]
fn a_png_with_a_corrupt_idat_is_invalid() {
    let mut p = png_header_only(16, 16);
    let idat = p.windows(4).position(|w| w == b"IDAT").unwrap();
    p[idat + 4] ^= 0x55; // breaks the zlib header (and the CRC)
    assert!(matches!(render(p), Err(ImageError::Invalid(_))));
}

// ---- EXIF orientation and metadata ----

/// A big-endian TIFF for an EXIF APP1: IFD0 with Orientation = 6 and a
/// GPS IFD pointer; the GPS IFD with latitude 48° 51' 29.04" N.
fn exif_orientation_6_with_gps() -> Vec<u8> {
    let mut t = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    // IFD0 at 8: 2 entries (2 + 2*12 + 4 = 30 bytes) → GPS IFD at 38.
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0]); // Orientation SHORT 6
    t.extend_from_slice(&[0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1]); // GPSInfo LONG
    t.extend_from_slice(&38u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD at 38: 2 entries (30 bytes) → rationals at 68.
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    t.extend_from_slice(&[0x00, 0x02, 0x00, 0x05, 0, 0, 0, 3]); // GPSLatitude RATIONAL×3
    t.extend_from_slice(&68u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&gps_latitude());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(t);
    app1
}

fn gps_latitude() -> Vec<u8> {
    [(48u32, 1u32), (51, 1), (2904, 100)]
        .iter()
        .flat_map(|(n, d)| [n.to_be_bytes(), d.to_be_bytes()].concat())
        .collect()
}

fn splice_app1(jpeg: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn is_red(p: image::Rgb<u8>) -> bool {
    p[0] > 180 && p[1] < 70 && p[2] < 70
}

fn is_blue(p: image::Rgb<u8>) -> bool {
    p[2] > 180 && p[0] < 70 && p[1] < 70
}

#[test]
fn exif_orientation_is_applied_and_no_metadata_survives() {
    // Stored 1200×800: top half red, bottom half blue. Orientation 6 says
    // "rotate 90° clockwise to display": the top goes to the right, so the
    // upright picture is 800×1200 with red on the right, blue on the left.
    let stored =
        RgbImage::from_fn(
            1200,
            800,
            |_, y| if y < 400 { image::Rgb([230, 20, 20]) } else { image::Rgb([20, 20, 230]) },
        );
    let exif = exif_orientation_6_with_gps();
    let bytes = splice_app1(&jpeg(&stored, 90), &exif);
    assert!(contains(&bytes, &gps_latitude()));

    let out = render(bytes).unwrap();
    assert_eq!(out.iter().map(|r| r.size).collect::<Vec<_>>(), ImageSize::ALL);
    for r in &out {
        let px = r.size.px();
        assert_eq!((r.width, r.height), (px, px));
        assert_clean_jpeg(r);
        assert!(!contains(&r.bytes, &gps_latitude()), "GPS data in the {px} rendition");
        let img = decode(r);
        assert_eq!(img.dimensions(), (px, px));
        let (q, mid) = (px / 4, px / 2);
        assert!(is_blue(*img.get_pixel(q, mid)), "left of {px}: {:?}", img.get_pixel(q, mid));
        assert!(is_red(*img.get_pixel(px - 1 - q, mid)), "right of {px}: {:?}", img.get_pixel(px - 1 - q, mid));
        assert!(is_blue(*img.get_pixel(q, q)) && is_blue(*img.get_pixel(q, px - 1 - q)));
        assert!(is_red(*img.get_pixel(px - 1 - q, q)) && is_red(*img.get_pixel(px - 1 - q, px - 1 - q)));
    }
}

#[test]
fn a_landscape_picture_is_cropped_to_its_centre() {
    // 300×100: red | green | blue thirds; the square crop is the green one.
    let img = RgbImage::from_fn(300, 100, |x, _| match x / 100 {
        0 => image::Rgb([255, 0, 0]),
        1 => image::Rgb([0, 255, 0]),
        _ => image::Rgb([0, 0, 255]),
    });
    for r in render(jpeg(&img, 95)).unwrap() {
        let side = r.size.px().min(100);
        assert_eq!((r.width, r.height), (side, side));
        let out = decode(&r);
        for (x, y) in [(2, 2), (side - 3, side - 3), (side / 2, side / 2)] {
            let p = out.get_pixel(x, y);
            assert!(p[1] > 200 && p[0] < 60 && p[2] < 60, "{p:?} at {x},{y}");
        }
    }
}

// ---- no upscaling, alpha onto white ----

#[test]
fn a_small_png_with_alpha_is_not_upscaled_and_transparency_is_white() {
    // 40×30: left half fully transparent (its colour black), right half opaque black.
    let img =
        RgbaImage::from_fn(40, 30, |x, _| if x < 20 { image::Rgba([0, 0, 0, 0]) } else { image::Rgba([0, 0, 0, 255]) });
    let out = render(png_rgba(&img)).unwrap();
    assert_eq!(out.len(), 4);
    for r in &out {
        assert_eq!((r.width, r.height), (30, 30));
        assert_clean_jpeg(r);
        let px = decode(r);
        // The crop is x 5..35: 15 columns white, then 15 black.
        assert!(px.get_pixel(3, 15).0.iter().all(|&c| c > 240), "{:?}", px.get_pixel(3, 15));
        assert!(px.get_pixel(26, 15).0.iter().all(|&c| c < 20), "{:?}", px.get_pixel(26, 15));
    }
}

#[test]
fn a_webp_is_rendered() {
    let img = RgbaImage::from_fn(300, 300, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 200, 255]));
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp).encode(img.as_raw(), 300, 300, ExtendedColorType::Rgba8).unwrap();
    assert!(webp.starts_with(b"RIFF") && &webp[8..12] == b"WEBP");
    let out = render(webp).unwrap();
    let sides: Vec<_> = out.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(sides, [(64, 64), (128, 128), (256, 256), (300, 300)]);
    for r in &out {
        assert_clean_jpeg(r);
    }
}

// ---- the default image ----

#[test]
fn the_default_image_has_every_size_and_a_true_etag() {
    let p = pipeline();
    for size in ImageSize::ALL {
        let r = p.default_image(size);
        assert_eq!(r.size, size);
        assert_eq!((r.width, r.height), (size.px(), size.px()));
        assert_clean_jpeg(&r);
        let img = decode(&r);
        assert_eq!(img.dimensions(), (size.px(), size.px()));
        // Light grey corner, mid grey head and shoulders.
        let s = size.px();
        let corner = img.get_pixel(2, 2)[0];
        let head = img.get_pixel(s / 2, s * 39 / 100)[0];
        let shoulders = img.get_pixel(s / 2, s - 3)[0];
        assert!(
            corner > 215 && (140..175).contains(&head) && (140..175).contains(&shoulders),
            "{corner} {head} {shoulders}"
        );
        assert_eq!(p.default_image(size), r, "the same bytes every time");
    }
}

// ---- bounded concurrency ----

#[test]
fn more_concurrent_renders_than_workers_all_complete() {
    let p = std::sync::Arc::new(ImagePipeline::new(ImageLimits::default(), 2));
    let bytes = jpeg(&gradient(600, 400), 85);
    let results = block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (p, bytes) = (p.clone(), bytes.clone());
                tokio::spawn(async move { p.render(bytes).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(tokio::time::timeout(Duration::from_secs(120), t).await.unwrap().unwrap());
        }
        out
    });
    assert_eq!(results.len(), 8);
    let first = results[0].as_ref().unwrap();
    for r in &results {
        assert_eq!(r.as_ref().unwrap(), first, "same input, same renditions");
    }
}

// ---- robustness ----

#[test]
fn damaged_pictures_are_refused_or_rendered_never_a_panic_or_an_internal_error() {
    let mut webp = Vec::new();
    let small = RgbaImage::from_fn(40, 40, |x, y| image::Rgba([(x * 6) as u8, (y * 6) as u8, 90, 255]));
    WebPEncoder::new_lossless(&mut webp).encode(small.as_raw(), 40, 40, ExtendedColorType::Rgba8).unwrap();
    let originals = [jpeg(&gradient(64, 48), 85), png_rgba(&small), webp];
    let p = pipeline();
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    block_on(async {
        for original in &originals {
            for _ in 0..150 {
                let mut bytes = original.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() % bytes.len() as u64) as usize;
                    bytes[at] = next() as u8;
                }
                match p.render(bytes).await {
                    Ok(out) => assert_eq!(out.len(), 4),
                    Err(ImageError::Invalid(_) | ImageError::Unsupported | ImageError::TooLarge { .. }) => {}
                    Err(e) => panic!("{e:?}"),
                }
            }
        }
    });
}
