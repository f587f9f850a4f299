//! Images: the sizes an uploaded picture is rendered at, the renditions an
//! image processor makes, and where their bytes live in the object store.
//!
//! An image is immutable: it is written once under a random, unguessable id
//! and never changed, so its renditions may be cached forever and served
//! without a bearer token. Replacing a picture makes a new image.

use serde::Serialize;
use uuid::Uuid;

/// The square sizes every image is rendered at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImageSize {
    /// 64 px
    Thumbnail,
    /// 128 px
    Low,
    /// 256 px, the default
    #[default]
    Mid,
    /// 512 px
    High,
}

impl ImageSize {
    /// Every size, smallest first.
    pub const ALL: [ImageSize; 4] = [ImageSize::Thumbnail, ImageSize::Low, ImageSize::Mid, ImageSize::High];

    /// The side of the square, in pixels. Smaller originals are not upscaled.
    pub const fn px(self) -> u32 {
        match self {
            ImageSize::Thumbnail => 64,
            ImageSize::Low => 128,
            ImageSize::Mid => 256,
            ImageSize::High => 512,
        }
    }

    /// Its name in URLs and answers.
    pub const fn as_str(self) -> &'static str {
        match self {
            ImageSize::Thumbnail => "thumbnail",
            ImageSize::Low => "low",
            ImageSize::Mid => "mid",
            ImageSize::High => "high",
        }
    }

    /// The size named `s` (`thumbnail`, `low`, `mid`, `high`).
    pub fn parse(s: &str) -> Option<ImageSize> {
        ImageSize::ALL.into_iter().find(|size| size.as_str() == s)
    }

    /// Its position in [`ImageSize::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// One encoded size of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    pub size: ImageSize,
    /// The encoded bytes, metadata stripped.
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/webp`.
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    /// A hash of `bytes` (hex), served as the strong `ETag`.
    pub etag: String,
}

/// What is kept about one rendition beside its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenditionMeta {
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub etag: String,
    pub bytes: u64,
}

impl From<&Rendition> for RenditionMeta {
    fn from(r: &Rendition) -> Self {
        RenditionMeta {
            content_type: r.content_type.clone(),
            width: r.width,
            height: r.height,
            etag: r.etag.clone(),
            bytes: r.bytes.len() as u64,
        }
    }
}

/// A stored image: its id and its four renditions, in [`ImageSize::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub id: Uuid,
    pub renditions: [RenditionMeta; 4],
}

impl StoredImage {
    pub fn rendition(&self, size: ImageSize) -> &RenditionMeta {
        &self.renditions[size.index()]
    }
}

/// The object-store key of one rendition of image `id`:
/// `images/{id}/{size}`. The prefix [`IMAGE_PREFIX`] holds nothing else, so
/// the orphan sweep may read any key under it as an image's.
pub fn object_key(id: Uuid, size: ImageSize) -> String {
    format!("{IMAGE_PREFIX}{id}/{}", size.as_str())
}

/// Where every image object lives in the store.
pub const IMAGE_PREFIX: &str = "images/";

/// The image id in an object key made by [`object_key`], if it is one.
pub fn image_id_of_key(key: &str) -> Option<Uuid> {
    let rest = key.strip_prefix(IMAGE_PREFIX)?;
    let (id, size) = rest.split_once('/')?;
    ImageSize::parse(size)?;
    Uuid::parse_str(id).ok()
}

/// A fresh image id: random (version 4), so it cannot be guessed from
/// another (unlike the time-ordered ids of other resources).
pub fn new_image_id() -> Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

/// Where an image is served: a path on Roster's API, to be resolved against
/// the base URL the client calls Roster at (so the answer is right behind any
/// host name or proxy). `None` is the default image.
pub fn image_path(id: Option<Uuid>, size: ImageSize) -> String {
    match id {
        Some(id) => format!("/api/v1/images/{id}?size={}", size.as_str()),
        None => format!("/api/v1/images/null?size={}", size.as_str()),
    }
}

/// A user's picture as every user answer shows it: its id and where each
/// size is served. The paths need no bearer token: the id is unguessable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Avatar {
    pub id: Uuid,
    pub urls: AvatarUrls,
}

/// The paths of an avatar's four sizes (see [`image_path`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AvatarUrls {
    /// 64×64
    pub thumbnail: String,
    /// 128×128
    pub low: String,
    /// 256×256
    pub mid: String,
    /// 512×512
    pub high: String,
}

impl Avatar {
    pub fn new(id: Uuid) -> Avatar {
        let at = |size| image_path(Some(id), size);
        Avatar {
            id,
            urls: AvatarUrls {
                thumbnail: at(ImageSize::Thumbnail),
                low: at(ImageSize::Low),
                mid: at(ImageSize::Mid),
                high: at(ImageSize::High),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_foreign_keys_are_not_images() {
        let id = new_image_id();
        for size in ImageSize::ALL {
            assert_eq!(image_id_of_key(&object_key(id, size)), Some(id));
        }
        assert_eq!(image_id_of_key("images/not-a-uuid/mid"), None);
        assert_eq!(image_id_of_key(&format!("images/{id}/huge")), None);
        assert_eq!(image_id_of_key(&format!("other/{id}/mid")), None);
    }

    #[test]
    fn ids_are_random_version_4() {
        let (a, b) = (new_image_id(), new_image_id());
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 4);
    }

    #[test]
    fn sizes_parse_by_name_and_mid_is_the_default() {
        for size in ImageSize::ALL {
            assert_eq!(ImageSize::parse(size.as_str()), Some(size));
        }
        assert_eq!(ImageSize::parse("MID"), None);
        assert_eq!(ImageSize::default(), ImageSize::Mid);
        assert_eq!(ImageSize::ALL.map(ImageSize::px), [64, 128, 256, 512]);
    }
}
