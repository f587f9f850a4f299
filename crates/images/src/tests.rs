//! What only the inside shows: how many renders ran at once, and how close
//! the cascaded resize is to resizing each size from the crop.

use std::time::Duration;

use image::{codecs::jpeg::JpegEncoder, ExtendedColorType, RgbImage};

use super::*;

fn photo_like(w: u32, h: u32) -> RgbImage {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed % 24) as u32;
        let ring = ((x as f32 / 9.0).sin() * (y as f32 / 13.0).cos() * 60.0 + 60.0) as u32;
        image::Rgb([((x * 200 / w) + noise) as u8, (ring + noise) as u8, ((y * 200 / h) + noise) as u8])
    })
}

#[test]
fn no_more_renders_run_at_once_than_workers() {
    let img = photo_like(800, 600);
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 85).encode(img.as_raw(), 800, 600, ExtendedColorType::Rgb8).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let pipeline = Arc::new(ImagePipeline::new(ImageLimits::default(), 2));
    runtime.block_on(async {
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (p, bytes) = (Arc::clone(&pipeline), bytes.clone());
                tokio::spawn(async move { p.render(bytes).await })
            })
            .collect();
        for t in tasks {
            let out = tokio::time::timeout(Duration::from_secs(120), t).await.unwrap().unwrap().unwrap();
            assert_eq!(out.len(), 4);
        }
    });
    assert_eq!(pipeline.load.running.load(Ordering::SeqCst), 0);
    let peak = pipeline.load.peak.load(Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "peak {peak}");
}

#[test]
fn a_dropped_render_keeps_its_permit_until_its_work_is_done() {
    let img = photo_like(1600, 1200);
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 85).encode(img.as_raw(), 1600, 1200, ExtendedColorType::Rgb8).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let pipeline = Arc::new(ImagePipeline::new(ImageLimits::default(), 1));
    runtime.block_on(async {
        // Start a render and abandon it once it is running.
        let p = Arc::clone(&pipeline);
        let abandoned = tokio::spawn({
            let bytes = bytes.clone();
            async move { p.render(bytes).await }
        });
        while pipeline.load.running.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        abandoned.abort();
        assert_eq!(pipeline.permits.available_permits(), 0, "the abandoned work still holds the permit");
        pipeline.render(bytes).await.unwrap();
    });
    assert_eq!(pipeline.load.peak.load(Ordering::SeqCst), 1);
}

#[test]
fn resizing_from_the_largest_rendition_matches_resizing_from_the_crop() {
    let img = photo_like(1500, 1000);
    let crop = Some((250.0, 0.0, 1000.0, 1000.0));
    let top = render::resize(&img, crop, 512).unwrap();
    for side in [256, 128, 64] {
        let cascaded = render::resize(&top, None, side).unwrap();
        let direct = render::resize(&img, crop, side).unwrap();
        let diff: u64 = cascaded.as_raw().iter().zip(direct.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        let mean = diff as f64 / cascaded.as_raw().len() as f64;
        assert!(mean < 2.0, "{side}: mean difference {mean}");
    }
}

/// zune-jpeg (0.5, through image 0.25) decodes a JPEG cut halfway without
/// an error and paints the missing rows grey: the sniffer's search for the
/// EOI is what refuses it.
#[test]
fn a_truncated_jpeg_is_refused_by_the_sniffer_not_left_to_the_decoder() {
    let img = photo_like(300, 200);
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 85).encode(img.as_raw(), 300, 200, ExtendedColorType::Rgb8).unwrap();
    let half = &bytes[..bytes.len() / 2];
    assert!(matches!(sniff::sniff(half), Err(ImageError::Invalid(_))));
    if let Ok(decoded) = decode::decode(sniff::Format::Jpeg, half, &ImageLimits::default()) {
        assert_eq!(decoded.rgb.get_pixel(150, 190).0, [128, 128, 128], "the missing half comes out grey");
    }
}
