//! Rendering a phone photo: `cargo bench -p roster-images --bench render`.
//!
//! Builds photo-like JPEGs (a smooth gradient with noise, quality 90) of
//! 12 MP (4000×3000) and 40 MP (8000×5000), then prints the median and p90
//! time of one `render` with one worker, the throughput with one worker per
//! core and four concurrent callers, what the resize step alone costs with
//! each strategy and filter, and the process's peak RSS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use fast_image_resize::{images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{codecs::jpeg::JpegEncoder, ExtendedColorType, RgbImage};
use roster_domain::ports::ImageProcessor;
use roster_images::{ImageLimits, ImagePipeline};

fn photo_like(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let img = RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed & 0x1F) as i32 - 16;
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let c = |v: f32| (v * 255.0 + n as f32).clamp(0.0, 255.0) as u8;
        image::Rgb([c(0.2 + 0.6 * fx), c(0.3 + 0.5 * fy * (1.0 - fx)), c(0.8 - 0.6 * fy)])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90).encode(img.as_raw(), w, h, ExtendedColorType::Rgb8).unwrap();
    out
}

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Resets VmHWM to the current RSS (Linux: 5 to clear_refs).
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn sequential(rt: &tokio::runtime::Runtime, bytes: &[u8], runs: usize) {
    let p = ImagePipeline::new(ImageLimits::default(), 1);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let out = rt.block_on(p.render(bytes.to_vec())).unwrap();
            assert_eq!(out.len(), 4);
            started.elapsed()
        })
        .collect();
    times.sort();
    let p90 = times[(runs * 9).div_ceil(10) - 1];
    println!("  1 worker, {runs} runs: median {}, p90 {}", ms(times[runs / 2]), ms(p90));
}

fn concurrent(rt: &tokio::runtime::Runtime, bytes: &[u8], workers: usize, callers: usize, each: usize) {
    let p = Arc::new(ImagePipeline::new(ImageLimits::default(), workers));
    let bytes = Arc::new(bytes.to_vec());
    let started = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let (p, bytes) = (Arc::clone(&p), Arc::clone(&bytes));
                tokio::spawn(async move {
                    for _ in 0..each {
                        p.render(bytes.to_vec()).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let n = callers * each;
    let secs = started.elapsed().as_secs_f64();
    println!("  {workers} workers, {callers} callers, {n} images: {:.2} images/s ({:.2} s)", n as f64 / secs, secs);
}

/// The resize step alone on a decoded picture: the largest rendition from
/// the crop and the others from it (what the pipeline does), against every
/// size from the crop, for two filters.
fn resize_strategies(bytes: &[u8]) {
    let rgb = image::load_from_memory(bytes).unwrap().into_rgb8();
    let (w, h) = rgb.dimensions();
    let side = w.min(h);
    let crop = (f64::from(w - side) / 2.0, f64::from(h - side) / 2.0, f64::from(side), f64::from(side));
    let resize = |src: &RgbImage, crop: Option<(f64, f64, f64, f64)>, to: u32, filter: FilterType| {
        let view = ImageRef::new(src.width(), src.height(), src.as_raw(), PixelType::U8x3).unwrap();
        let mut dst = fast_image_resize::images::Image::new(to, to, PixelType::U8x3);
        let mut o = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
        if let Some((l, t, cw, ch)) = crop {
            o = o.crop(l, t, cw, ch);
        }
        Resizer::new().resize(&view, &mut dst, &o).unwrap();
        RgbImage::from_raw(to, to, dst.into_vec()).unwrap()
    };
    for filter in [FilterType::Lanczos3, FilterType::CatmullRom] {
        let time = |f: &dyn Fn()| {
            let mut t: Vec<Duration> = (0..5)
                .map(|_| {
                    let s = Instant::now();
                    f();
                    s.elapsed()
                })
                .collect();
            t.sort();
            t[2]
        };
        let cascade = time(&|| {
            let top = resize(&rgb, Some(crop), 512, filter);
            for to in [256, 128, 64] {
                resize(&top, None, to, filter);
            }
        });
        let direct = time(&|| {
            for to in [512, 256, 128, 64] {
                resize(&rgb, Some(crop), to, filter);
            }
        });
        println!(
            "  resize only, {filter:?}: 512 from the crop then the rest from 512: {}; each from the crop: {}",
            ms(cascade),
            ms(direct)
        );
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    let started = Instant::now();
    let twelve = photo_like(4000, 3000);
    println!(
        "12 MP (4000x3000) JPEG, quality 90: {:.1} MB (made in {:.1} s)",
        twelve.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    resize_strategies(&twelve);
    sequential(&rt, &twelve, 20);
    concurrent(&rt, &twelve, cores, 4, 5);
    println!("  peak RSS so far: {}", vm_hwm());

    let started = Instant::now();
    let forty = photo_like(8000, 5000);
    println!(
        "40 MP (8000x5000) JPEG, quality 90: {:.1} MB (made in {:.1} s)",
        forty.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    reset_hwm();
    println!("  RSS before the 40 MP runs (VmHWM reset): {}", vm_hwm());
    sequential(&rt, &forty, 5);
    concurrent(&rt, &forty, cores, 4, 2);
    println!("  peak RSS (VmHWM) during the 40 MP runs: {}", vm_hwm());
    println!("cores: {cores}");
}
