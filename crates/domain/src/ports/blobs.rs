//! Object storage: where image bytes live (local files, S3-compatible
//! buckets, or memory in unit tests).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Error;

/// Why the store did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// No object under this key.
    #[error("object not found")]
    NotFound,
    /// The store cannot be reached right now (down, refusing, timing out):
    /// retry later. Answered as `503` with `Retry-After`.
    #[error("object store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (refused credentials, a bug). Logged, answered as `500`.
    #[error("object store failure: {0}")]
    Internal(String),
}

/// An object read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// The type given when it was written (a store that keeps no attributes,
    /// such as local files, infers it from the key's extension or answers
    /// `application/octet-stream`).
    pub content_type: String,
}

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub key: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

/// Keys are `/`-separated relative paths of ASCII letters, digits and `-_.`
/// (what [`crate::image::object_key`] makes).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Writes (or overwrites) the object at `key`; once `Ok`, a `get` from
    /// any process sees it.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;

    /// Reads the object at `key`: `NotFound` if there is none.
    async fn get(&self, key: &str) -> Result<Blob, BlobError>;

    /// Deletes the object at `key`. Deleting what is not there is `Ok`, so a
    /// retried deletion converges.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// Up to `limit` objects under `prefix` last modified before `before`
    /// (the orphan sweep's question), in no particular order.
    async fn list_older(&self, prefix: &str, before: DateTime<Utc>, limit: usize) -> Result<Vec<BlobMeta>, BlobError>;
}

/// A store error where the object must exist: a missing one is a broken
/// invariant (records are written after their objects, and objects deleted
/// after their records).
impl From<BlobError> for Error {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound => Error::Internal("an image object is missing from the store".into()),
            BlobError::Unavailable(m) => Error::Unavailable(m),
            BlobError::Internal(m) => Error::Internal(m),
        }
    }
}
