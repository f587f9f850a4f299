//! From upright-able RGB pixels to the four JPEG renditions.

use fast_image_resize::{images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{codecs::jpeg::JpegEncoder, metadata::Orientation, DynamicImage, ExtendedColorType, RgbImage};
use roster_domain::{
    image::{ImageSize, Rendition},
    ports::ImageError,
};
use sha2::{Digest, Sha256};

/// Lanczos3: the sharpest of fast_image_resize's convolution filters without
/// visible ringing on photos, and what avatars (faces, downscaled 5–100×)
/// want; with its SIMD kernels it costs little more than CatmullRom (see
/// the bench) and a fraction of the decode.
const FILTER: FilterType = FilterType::Lanczos3;

/// Every [`ImageSize`] of `rgb`, centre-cropped square, turned upright by
/// `orientation`, never upscaled (a side of `min(px, shorter side)`), each
/// a JPEG at `quality`, in [`ImageSize::ALL`] order.
///
/// The largest rendition is resized from the crop, each smaller one from
/// the largest: resizing a 12 MP crop costs in proportion to the crop, so
/// doing it once instead of four times is ~3× faster, and a 512 px source
/// still holds 2× to 8× the detail of the smaller sizes (no visible
/// difference; a test bounds it).
///
/// The orientation is applied to each rendition instead of the original:
/// the crop is centred (at a fractional offset when the sides differ by an
/// odd number) and square, so rotating or flipping commutes with cropping
/// and resizing, and turning 512×512 pixels is far cheaper than 40 million.
pub(crate) fn renditions(rgb: &RgbImage, orientation: Orientation, quality: u8) -> Result<Vec<Rendition>, ImageError> {
    let (width, height) = rgb.dimensions();
    let side = width.min(height);
    let largest = ImageSize::High.px().min(side);
    let crop = (f64::from(width - side) / 2.0, f64::from(height - side) / 2.0, f64::from(side), f64::from(side));
    let top = resize(rgb, Some(crop), largest)?;
    let mut out = Vec::with_capacity(ImageSize::ALL.len());
    for size in ImageSize::ALL {
        let px = size.px().min(side);
        let pixels = if px == largest { top.clone() } else { resize(&top, None, px)? };
        let upright = upright(pixels, orientation);
        out.push(rendition(size, &upright, quality)?);
    }
    Ok(out)
}

/// `src` (or its `crop`: left, top, width, height) resized to `side`².
pub(crate) fn resize(src: &RgbImage, crop: Option<(f64, f64, f64, f64)>, side: u32) -> Result<RgbImage, ImageError> {
    let (width, height) = src.dimensions();
    let view = ImageRef::new(width, height, src.as_raw(), PixelType::U8x3).map_err(internal)?;
    let mut dst = fast_image_resize::images::Image::new(side, side, PixelType::U8x3);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FILTER));
    if let Some((left, top, w, h)) = crop {
        options = options.crop(left, top, w, h);
    }
    Resizer::new().resize(&view, &mut dst, &options).map_err(internal)?;
    RgbImage::from_raw(side, side, dst.into_vec()).ok_or_else(|| ImageError::Internal("resized buffer size".into()))
}

fn upright(pixels: RgbImage, orientation: Orientation) -> RgbImage {
    if orientation == Orientation::NoTransforms {
        return pixels;
    }
    let mut image = DynamicImage::ImageRgb8(pixels);
    image.apply_orientation(orientation);
    image.into_rgb8()
}

/// One rendition: `pixels` as a baseline JPEG. The encoder writes a JFIF
/// header and nothing else: no EXIF, XMP, GPS or ICC profile survives.
pub(crate) fn rendition(size: ImageSize, pixels: &RgbImage, quality: u8) -> Result<Rendition, ImageError> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100))
        .encode(pixels.as_raw(), pixels.width(), pixels.height(), ExtendedColorType::Rgb8)
        .map_err(|e| ImageError::Internal(format!("JPEG encoding: {e}")))?;
    let etag = hex::encode(Sha256::digest(&bytes));
    Ok(Rendition {
        size,
        bytes,
        content_type: "image/jpeg".into(),
        width: pixels.width(),
        height: pixels.height(),
        etag,
    })
}

fn internal(e: impl std::fmt::Display) -> ImageError {
    ImageError::Internal(format!("resizing: {e}"))
}
