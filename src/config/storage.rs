//! How picture uploads are taken (`images`). Where pictures are kept is
//! `storage_url` and `[storage]`, which is `roster_storage::StorageOptions`
//! itself.

use serde::{Deserialize, Serialize};

/// Picture uploads.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesConfig {
    /// Pictures decoded at once (each may take ~4 bytes per pixel); defaults
    /// to the number of CPU cores. Further uploads wait their turn.
    pub workers: Option<usize>,
    /// Largest upload; past it, `413` while the body streams in.
    pub max_upload_bytes: usize,
    /// Largest width or height, read from the file's header before decoding (`422 image_too_large`).
    pub max_side: u32,
    /// Largest width × height (`422 image_too_large`).
    pub max_pixels: u64,
    /// Most memory the decoder may allocate for one picture (`422 invalid_image` past it).
    pub max_decode_bytes: u64,
    /// JPEG quality of the stored sizes, 1–100.
    pub jpeg_quality: u8,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            workers: None,
            max_upload_bytes: 10 * 1024 * 1024,
            max_side: 8192,
            max_pixels: 40_000_000,
            max_decode_bytes: 512 * 1024 * 1024,
            jpeg_quality: 85,
        }
    }
}

impl ImagesConfig {
    pub(super) fn validate(&self, problems: &mut Vec<String>) {
        if self.max_upload_bytes < 1024 {
            problems.push("images.max_upload_bytes must be at least 1024".into());
        }
        if !(64..=65_535).contains(&self.max_side) {
            problems.push("images.max_side must be between 64 and 65535".into());
        }
        if self.max_pixels < 4096 {
            problems.push("images.max_pixels must be at least 4096".into());
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            problems.push("images.jpeg_quality must be between 1 and 100".into());
        }
        if self.workers == Some(0) {
            problems.push("images.workers must be at least 1".into());
        }
    }
}
