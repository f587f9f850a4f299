//! The default avatar: a neutral silhouette drawn here, not shipped as a file.

use image::RgbImage;
use roster_domain::image::{ImageSize, Rendition};

use crate::render;

const BACKGROUND: f32 = 229.0; // light grey
const FIGURE: f32 = 158.0; // mid grey

/// The silhouette at every size: a mid-grey head (a circle) over rounded
/// shoulders (the top of an ellipse cut by the bottom edge) on light grey,
/// anti-aliased by coverage at 512 px and resized like an upload.
pub(crate) fn default_renditions(quality: u8) -> Vec<Rendition> {
    let large = draw(ImageSize::High.px());
    ImageSize::ALL
        .into_iter()
        .map(|size| {
            let pixels =
                if size.px() == large.width() { Ok(large.clone()) } else { render::resize(&large, None, size.px()) };
            pixels.and_then(|p| render::rendition(size, &p, quality))
        })
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| unreachable!("a fixed RGB picture always resizes and encodes into memory: {e}"))
}

fn draw(side: u32) -> RgbImage {
    let s = side as f32;
    RgbImage::from_fn(side, side, |x, y| {
        // The pixel's centre, in units of the side.
        let (u, v) = ((x as f32 + 0.5) / s, (y as f32 + 0.5) / s);
        let head = coverage(ellipse_distance(u, v, (0.5, 0.39), (0.18, 0.18)) * s);
        let shoulders = coverage(ellipse_distance(u, v, (0.5, 1.0), (0.34, 0.30)) * s);
        let cover = head.max(shoulders);
        let level = (BACKGROUND + (FIGURE - BACKGROUND) * cover).round() as u8;
        image::Rgb([level, level, level])
    })
}

/// About how far (in units of the side) `(u, v)` is outside the ellipse:
/// negative inside. Exact for a circle, close enough for edge smoothing.
fn ellipse_distance(u: f32, v: f32, centre: (f32, f32), radii: (f32, f32)) -> f32 {
    let (dx, dy) = ((u - centre.0) / radii.0, (v - centre.1) / radii.1);
    ((dx * dx + dy * dy).sqrt() - 1.0) * radii.0.min(radii.1)
}

/// The part of a pixel covered by a shape whose edge is `d` pixels away.
fn coverage(d: f32) -> f32 {
    (0.5 - d).clamp(0.0, 1.0)
}
