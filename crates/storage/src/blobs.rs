//! The `BlobStore` port over any object_store store.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{Attribute, GetOptions, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use roster_domain::ports::{Blob, BlobError, BlobMeta, BlobStore};

use crate::error::translate;

/// What `get` answers when the store kept no type and none can be inferred.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// [`BlobStore`] over an object_store store, optionally under a key prefix
/// (`s3://bucket/some/prefix` keeps every key under `some/prefix/`).
#[derive(Debug, Clone)]
pub struct ObjectStoreBlobs {
    store: Arc<dyn ObjectStore>,
    /// Without leading or trailing `/`; never empty.
    prefix: Option<String>,
    /// Whether the store keeps attributes (S3, memory): the content type is
    /// sent with `put` and read back with `get`. Local files keep none
    /// (`LocalFileSystem` refuses a `put` with attributes).
    keeps_attributes: bool,
}

impl ObjectStoreBlobs {
    /// A store that keeps attributes (S3, memory), keys used as they are.
    pub fn new(store: Arc<dyn ObjectStore>) -> ObjectStoreBlobs {
        ObjectStoreBlobs { store, prefix: None, keeps_attributes: true }
    }

    /// Every key lives under `prefix/` (leading and trailing `/` ignored;
    /// an empty prefix is none).
    pub fn with_prefix(mut self, prefix: &str) -> ObjectStoreBlobs {
        let prefix = prefix.trim_matches('/');
        self.prefix = (!prefix.is_empty()).then(|| prefix.to_owned());
        self
    }

    /// For stores that keep no attributes (local files): `put` sends no
    /// content type and `get` infers it from the key's extension or the
    /// first bytes (JPEG, PNG, WebP, GIF), else answers
    /// [`DEFAULT_CONTENT_TYPE`].
    pub fn without_attributes(mut self) -> ObjectStoreBlobs {
        self.keeps_attributes = false;
        self
    }

    /// The store's path for `key`.
    fn location(&self, key: &str) -> Result<Path, BlobError> {
        // object_store would quietly drop a leading or trailing `/`.
        if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
            return Err(BlobError::Internal(format!("invalid object key {key:?}")));
        }
        let full = match &self.prefix {
            Some(prefix) => format!("{prefix}/{key}"),
            None => key.to_owned(),
        };
        Path::parse(&full).map_err(|e| BlobError::Internal(format!("invalid object key {key:?}: {e}")))
    }

    /// `key` as the caller named it: the store's path without the prefix.
    fn key_of<'a>(&self, location: &'a Path) -> Option<&'a str> {
        let path = location.as_ref();
        match &self.prefix {
            Some(prefix) => path.strip_prefix(prefix.as_str())?.strip_prefix('/'),
            None => Some(path),
        }
    }
}

#[async_trait]
impl BlobStore for ObjectStoreBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        let location = self.location(key)?;
        let mut options = PutOptions::default();
        if self.keeps_attributes {
            options.attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        }
        self.store.put_opts(&location, PutPayload::from(bytes), options).await.map_err(translate)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Blob, BlobError> {
        let location = self.location(key)?;
        let result = self.store.get_opts(&location, GetOptions::default()).await.map_err(translate)?;
        let kept = result.attributes.get(&Attribute::ContentType).map(|v| v.to_string());
        let bytes = result.bytes().await.map_err(translate)?.to_vec();
        let content_type = kept.unwrap_or_else(|| infer_content_type(key, &bytes).to_owned());
        Ok(Blob { bytes, content_type })
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let location = self.location(key)?;
        match self.store.delete(&location).await.map_err(translate) {
            Ok(()) | Err(BlobError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `prefix` is a string prefix, as in S3's listing: `images/` lists
    /// every image object, `images/01` those whose id starts with `01`.
    async fn list_older(&self, prefix: &str, before: DateTime<Utc>, limit: usize) -> Result<Vec<BlobMeta>, BlobError> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        // object_store lists whole path segments: list the directory the
        // prefix ends in and keep the keys that start with it.
        let directory = match prefix.rfind('/') {
            Some(slash) => &prefix[..slash],
            None => "",
        };
        let listed = match (&self.prefix, directory.trim_matches('/')) {
            (None, "") => None,
            (Some(own), "") => {
                Some(Path::parse(own).map_err(|e| BlobError::Internal(format!("invalid key prefix: {e}")))?)
            }
            (_, directory) => Some(self.location(directory)?),
        };
        let mut stream = self.store.list(listed.as_ref());
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(translate)?;
            let Some(key) = self.key_of(&meta.location) else { continue };
            if !key.starts_with(prefix) || meta.last_modified >= before {
                continue;
            }
            found.push(BlobMeta { key: key.to_owned(), size: meta.size, last_modified: meta.last_modified });
            if found.len() >= limit {
                break;
            }
        }
        Ok(found)
    }
}

/// The type of an object whose store kept none: from the key's extension,
/// else from its first bytes, else [`DEFAULT_CONTENT_TYPE`].
pub fn infer_content_type(key: &str, bytes: &[u8]) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key);
    if let Some((_, ext)) = name.rsplit_once('.') {
        match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => return "image/jpeg",
            "png" => return "image/png",
            "webp" => return "image/webp",
            "gif" => return "image/gif",
            "json" => return "application/json",
            "txt" => return "text/plain; charset=utf-8",
            _ => {}
        }
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else {
        DEFAULT_CONTENT_TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_from_extension_then_magic_bytes() {
        assert_eq!(infer_content_type("a/b.JPG", b""), "image/jpeg");
        assert_eq!(infer_content_type("images/x/mid", &[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(infer_content_type("images/x/mid", b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(infer_content_type("images/x/mid", b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(infer_content_type("images/x/mid", b"hello"), DEFAULT_CONTENT_TYPE);
    }
}
