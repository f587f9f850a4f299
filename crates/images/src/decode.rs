//! From the picture's bytes to upright-able RGB pixels, within the limits.

use std::io::Cursor;

use image::{metadata::Orientation, DynamicImage, ImageDecoder, ImageReader, RgbImage};
use roster_domain::ports::ImageError;

use crate::{sniff::Format, ImageLimits};

/// A decoded picture as stored (not yet turned upright) and how to turn it.
pub(crate) struct Decoded {
    pub(crate) rgb: RgbImage,
    pub(crate) orientation: Orientation,
}

/// Reads the dimensions from the header and refuses `TooLarge` before any
/// pixel is decoded; then decodes under `image::Limits` (the same sides and
/// `max_alloc_bytes`), so a picture whose header lies cannot make the
/// decoder allocate past the limit.
pub(crate) fn decode(format: Format, picture: &[u8], limits: &ImageLimits) -> Result<Decoded, ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(picture), format.as_image());
    // No size limits yet: they would turn a too-large header into a decoder
    // error, and we want to answer `TooLarge` with its dimensions.
    let mut header_limits = image::Limits::default();
    header_limits.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(header_limits);
    let mut decoder = reader.into_decoder().map_err(invalid)?;

    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ImageError::Invalid("image has no pixels".into()));
    }
    if width > limits.max_side || height > limits.max_side || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImageError::TooLarge { width, height });
    }
    if decoder.total_bytes() > limits.max_alloc_bytes {
        return Err(ImageError::Invalid("image needs more memory than allowed".into()));
    }
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    decode_limits.max_alloc = Some(limits.max_alloc_bytes);
    decoder.set_limits(decode_limits).map_err(invalid)?;

    // A missing or unreadable EXIF orientation is no reason to refuse.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    Ok(Decoded { rgb: flatten(image), orientation })
}

fn invalid(e: image::ImageError) -> ImageError {
    ImageError::Invalid(e.to_string())
}

/// RGB, with any transparency composited onto white (a JPEG has no alpha,
/// and a transparent avatar on a white page is what its author saw).
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let mut rgb = RgbImage::new(width, height);
    for (out, px) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = px.0;
        let a = u32::from(a);
        let over_white = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        out.0 = [over_white(r), over_white(g), over_white(b)];
    }
    rgb
}
