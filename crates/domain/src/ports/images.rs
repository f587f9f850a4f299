//! Turning an uploaded picture into the renditions Roster serves.

use async_trait::async_trait;

use crate::{
    error::{Error, ImageRefusal},
    image::{ImageSize, Rendition},
};

/// Why an upload was not turned into renditions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The bytes are not a JPEG, PNG or WebP by their magic bytes (GIF, SVG,
    /// HTML, a polyglot, anything else): `415 unsupported_image`.
    #[error("unsupported image type")]
    Unsupported,
    /// The header declares more pixels than allowed (per side or in all),
    /// found before decoding: `422 image_too_large`.
    #[error("image too large: {width}x{height}")]
    TooLarge { width: u32, height: u32 },
    /// Truncated, corrupt, or past the decoder's allocation limits:
    /// `422 invalid_image`.
    #[error("invalid image: {0}")]
    Invalid(String),
    /// A bug (an encoder failing on a decoded picture, a worker lost).
    #[error("image processing failure: {0}")]
    Internal(String),
}

/// Decodes, checks and renders images, off the async executor on a bounded
/// pool of workers.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ImageProcessor: Send + Sync + 'static {
    /// Identifies `upload` by its magic bytes, checks its declared size
    /// against the limits before decoding, decodes it under allocation
    /// limits, applies its EXIF orientation, centre-crops it square and
    /// renders every [`ImageSize`] (never upscaled), re-encoded so no
    /// metadata survives. The renditions come in [`ImageSize::ALL`] order.
    async fn render(&self, upload: Vec<u8>) -> Result<Vec<Rendition>, ImageError>;

    /// The image served for users without one, at `size`.
    fn default_image(&self, size: ImageSize) -> Rendition;
}

impl From<ImageError> for Error {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::Unsupported => Error::ImageRefused(ImageRefusal::Unsupported),
            ImageError::TooLarge { width, height } => Error::ImageRefused(ImageRefusal::TooLarge { width, height }),
            ImageError::Invalid(why) => {
                tracing::debug!(%why, "image refused as invalid");
                Error::ImageRefused(ImageRefusal::Invalid)
            }
            ImageError::Internal(m) => Error::Internal(m),
        }
    }
}
