//! The `ImageProcessor` port (`roster_domain::ports`) for avatars: JPEG, PNG
//! and WebP uploads, identified by their magic bytes, checked against
//! [`ImageLimits`] before a pixel is decoded, decoded under an allocation
//! limit, turned upright, flattened onto white, centre-cropped square and
//! rendered at every `ImageSize` as a metadata-free JPEG.
//!
//! Decoding is CPU- and memory-heavy, so it never runs on the async
//! executor: [`ImagePipeline::render`] takes one of `workers` permits and
//! runs on tokio's blocking pool, so at most `workers` pictures are held
//! decoded at once however many uploads arrive together (a 40 MP picture is
//! 120 MB as RGB).

mod avatar;
mod decode;
mod render;
mod sniff;

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use async_trait::async_trait;
use roster_domain::{
    image::{ImageSize, Rendition},
    ports::{ImageError, ImageProcessor},
};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// What an upload may be, and how renditions are encoded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageLimits {
    /// The longest side accepted, in pixels (by the header, before decoding).
    pub max_side: u32,
    /// The most pixels accepted (width × height, by the header).
    pub max_pixels: u64,
    /// The most the decoder may allocate for one picture, in bytes; past it
    /// the upload is `Invalid`.
    pub max_alloc_bytes: u64,
    /// JPEG quality of the renditions (1–100).
    pub jpeg_quality: u8,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits { max_side: 8192, max_pixels: 40_000_000, max_alloc_bytes: 512 * 1024 * 1024, jpeg_quality: 85 }
    }
}

/// Renders uploads on a bounded pool; holds the default avatar.
pub struct ImagePipeline {
    limits: ImageLimits,
    permits: Arc<Semaphore>,
    defaults: Vec<Rendition>,
    load: Arc<Load>,
}

/// How many renders run now, and the most that ever ran at once.
#[derive(Debug, Default)]
struct Load {
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl ImagePipeline {
    /// A pipeline running at most `workers` (at least one) renders at once.
    /// Draws and encodes the default avatar at every size (once, here).
    pub fn new(limits: ImageLimits, workers: usize) -> ImagePipeline {
        let defaults = avatar::default_renditions(limits.jpeg_quality);
        ImagePipeline { limits, permits: Arc::new(Semaphore::new(workers.max(1))), defaults, load: Arc::default() }
    }

    /// The limits this pipeline applies.
    pub fn limits(&self) -> &ImageLimits {
        &self.limits
    }
}

/// Everything between the upload and its renditions, on the caller's thread.
fn render_now(upload: &[u8], limits: &ImageLimits) -> Result<Vec<Rendition>, ImageError> {
    let (format, picture) = sniff::sniff(upload)?;
    let decoded = decode::decode(format, picture, limits)?;
    render::renditions(&decoded.rgb, decoded.orientation, limits.jpeg_quality)
}

#[async_trait]
impl ImageProcessor for ImagePipeline {
    async fn render(&self, upload: Vec<u8>) -> Result<Vec<Rendition>, ImageError> {
        // The permit moves into the blocking task: if this future is dropped
        // (the client went away), the permit is still held until the work
        // it started is done, so `workers` really bounds the decodes.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ImageError::Internal("image pipeline is shut down".into()))?;
        let limits = self.limits.clone();
        let load = Arc::clone(&self.load);
        tokio::task::spawn_blocking(move || {
            let running = load.running.fetch_add(1, Ordering::SeqCst) + 1;
            load.peak.fetch_max(running, Ordering::SeqCst);
            // A decoder bug must not take the worker down: a panic on some
            // upload is that upload's fault as far as the caller can tell.
            let result = catch_unwind(AssertUnwindSafe(|| render_now(&upload, &limits)))
                .unwrap_or_else(|_| Err(ImageError::Invalid("the decoder failed on this image".into())));
            load.running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            result
        })
        .await
        .map_err(|e| ImageError::Internal(format!("image worker lost: {e}")))?
    }

    fn default_image(&self, size: ImageSize) -> Rendition {
        self.defaults[size.index()].clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
