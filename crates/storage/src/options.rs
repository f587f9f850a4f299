//! What `from_url` is told besides the URL, and what it refuses.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Settings for the object store. Only the `s3://` store reads the
/// connection fields; every field has a default, so an empty table is valid.
/// It is also the binary's `[storage]` configuration table (hence
/// `Serialize`, for the defaults).
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageOptions {
    /// An S3-compatible endpoint (`https://minio.example:9000`) instead of
    /// AWS's regional one (`AWS_ENDPOINT` otherwise).
    pub endpoint: Option<String>,
    /// `AWS_REGION`/`AWS_DEFAULT_REGION` otherwise, else `us-east-1`.
    pub region: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`, what MinIO and most
    /// self-hosted stores want) instead of virtual-hosted-style
    /// (`bucket.endpoint/key`, AWS's).
    pub path_style: bool,
    /// Allow a plain `http://` endpoint.
    pub allow_http: bool,
    /// `AWS_ACCESS_KEY_ID` otherwise (or the usual AWS credential sources).
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY` otherwise. Never printed.
    pub secret_access_key: Option<String>,
    /// Bound on one HTTP request, from connecting to the end of the body.
    pub timeout_secs: u64,
    /// Bound on opening a connection.
    pub connect_timeout_secs: u64,
    /// Retries of a failed request (connection errors, 5xx, timeouts of
    /// idempotent requests), within a few seconds of the first attempt.
    pub max_retries: usize,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            endpoint: None,
            region: None,
            path_style: false,
            allow_http: false,
            access_key_id: None,
            secret_access_key: None,
            timeout_secs: 10,
            connect_timeout_secs: 2,
            max_retries: 2,
        }
    }
}

impl fmt::Debug for StorageOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageOptions")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("allow_http", &self.allow_http)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

/// Why `from_url` could not build a store. Never holds a credential.
#[derive(Debug, thiserror::Error)]
pub enum StorageConfigError {
    #[error("invalid storage URL: {0}")]
    InvalidUrl(String),
    #[error("unsupported storage URL scheme `{0}` (expected file, s3 or memory)")]
    UnsupportedScheme(String),
    #[error("cannot use directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("invalid storage settings: {0}")]
    Invalid(String),
}
