//! Roster's object storage: the [`BlobStore`] port on
//! [object_store](https://docs.rs/object_store): S3-compatible buckets
//! (SigV4), a directory of local files, or memory.
//!
//! ```no_run
//! # fn example() -> Result<(), roster_storage::StorageConfigError> {
//! let options = roster_storage::StorageOptions {
//!     endpoint: Some("http://127.0.0.1:9000".into()),
//!     path_style: true,
//!     allow_http: true,
//!     ..Default::default()
//! };
//! let blobs = roster_storage::from_url("s3://roster-images", &options)?;
//! # Ok(()) }
//! ```

mod blobs;
mod error;
mod options;

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{BackoffConfig, ClientConfigKey, RetryConfig};
use roster_domain::ports::BlobStore;
use url::Url;

pub use blobs::{infer_content_type, ObjectStoreBlobs, DEFAULT_CONTENT_TYPE};
pub use options::{StorageConfigError, StorageOptions};

/// No retry is started later than this after a request's first attempt, so
/// a store that is down answers `Unavailable` within seconds (object_store's
/// default keeps retrying for three minutes).
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(3);

/// Builds the blob store a URL names:
///
/// - `s3://bucket[/prefix]`: an S3-compatible bucket, configured from the
///   usual `AWS_*` variables, then from `options` (endpoint, region,
///   path-style, plain HTTP, keys, timeouts, retries);
/// - `file:///absolute/dir`: one file per object under that directory
///   (created if missing); no content types are kept (see
///   [`ObjectStoreBlobs::without_attributes`]);
/// - `memory://`: in memory, for tests and trials.
///
/// Errors never contain a credential.
pub fn from_url(url: &str, options: &StorageOptions) -> Result<Arc<dyn BlobStore>, StorageConfigError> {
    let parsed = Url::parse(url).map_err(|e| StorageConfigError::InvalidUrl(e.to_string()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(StorageConfigError::InvalidUrl("credentials belong in the storage options, not in the URL".into()));
    }
    match parsed.scheme() {
        "memory" => Ok(Arc::new(ObjectStoreBlobs::new(Arc::new(InMemory::new())))),
        "file" => Ok(Arc::new(local(&parsed)?)),
        "s3" => Ok(Arc::new(s3(&parsed, options)?)),
        other => Err(StorageConfigError::UnsupportedScheme(other.to_owned())),
    }
}

fn local(url: &Url) -> Result<ObjectStoreBlobs, StorageConfigError> {
    let dir = url
        .to_file_path()
        .map_err(|()| StorageConfigError::InvalidUrl("file:// URL without an absolute local path".into()))?;
    let shown = dir.display().to_string();
    std::fs::create_dir_all(&dir).map_err(|source| StorageConfigError::Directory { path: shown.clone(), source })?;
    let store = LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| StorageConfigError::Directory { path: shown, source: std::io::Error::other(e.to_string()) })?
        // Deleting the last rendition of an image removes its directory.
        .with_automatic_cleanup(true);
    Ok(ObjectStoreBlobs::new(Arc::new(store)).without_attributes())
}

fn s3(url: &Url, options: &StorageOptions) -> Result<ObjectStoreBlobs, StorageConfigError> {
    let bucket = match url.host_str() {
        Some(bucket) if !bucket.is_empty() => bucket,
        _ => return Err(StorageConfigError::InvalidUrl("s3:// URL without a bucket".into())),
    };
    if url.port().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(StorageConfigError::InvalidUrl("an s3:// URL is s3://bucket[/prefix]".into()));
    }
    let prefix = url.path().trim_matches('/');
    if !prefix.is_empty() {
        Path::parse(prefix).map_err(|e| StorageConfigError::InvalidUrl(format!("invalid key prefix: {e}")))?;
    }

    if options.timeout_secs == 0 || options.connect_timeout_secs == 0 {
        return Err(StorageConfigError::Invalid("timeout_secs and connect_timeout_secs must be at least 1".into()));
    }

    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(!options.path_style)
        .with_allow_http(options.allow_http)
        // One `DELETE /key` per deletion (the core API every S3-compatible
        // store has) rather than a one-key `POST /?delete` batch.
        .with_disable_bulk_delete(true)
        .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), format!("{}s", options.timeout_secs))
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
            format!("{}s", options.connect_timeout_secs),
        )
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: options.max_retries,
            retry_timeout: RETRY_TIMEOUT,
        });
    if let Some(endpoint) = &options.endpoint {
        builder = builder.with_endpoint(endpoint_for(endpoint, bucket, options.path_style)?);
    }
    if let Some(region) = &options.region {
        builder = builder.with_region(region);
    }
    if let Some(key) = &options.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &options.secret_access_key {
        builder = builder.with_secret_access_key(secret);
    }
    let store = builder.build().map_err(|e| StorageConfigError::Invalid(e.to_string()))?;
    Ok(ObjectStoreBlobs::new(Arc::new(store)).with_prefix(prefix))
}

/// object_store takes a virtual-hosted endpoint as the bucket's own URL:
/// given `https://s3.example`, that is `https://bucket.s3.example`.
fn endpoint_for(endpoint: &str, bucket: &str, path_style: bool) -> Result<String, StorageConfigError> {
    let mut url = Url::parse(endpoint).map_err(|e| StorageConfigError::Invalid(format!("endpoint: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(StorageConfigError::Invalid("endpoint: expected http(s)://host[:port]".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(StorageConfigError::Invalid("endpoint: credentials belong in the storage options".into()));
    }
    if !path_style {
        let host = format!("{bucket}.{}", url.host_str().unwrap_or_default());
        url.set_host(Some(&host)).map_err(|e| StorageConfigError::Invalid(format!("endpoint: {e}")))?;
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosted_endpoints_name_the_bucket() {
        assert_eq!(
            endpoint_for("https://s3.example:9000/", "b", false).ok().as_deref(),
            Some("https://b.s3.example:9000")
        );
        assert_eq!(endpoint_for("http://127.0.0.1:9000", "b", true).ok().as_deref(), Some("http://127.0.0.1:9000"));
        assert!(endpoint_for("ftp://x", "b", true).is_err());
    }

    #[test]
    fn options_deserialize_with_defaults_and_refuse_unknown_fields() {
        let o: StorageOptions = serde_json::from_str(r#"{"path_style": true}"#).unwrap();
        assert!(o.path_style);
        assert_eq!((o.timeout_secs, o.connect_timeout_secs, o.max_retries), (10, 2, 2));
        assert!(serde_json::from_str::<StorageOptions>(r#"{"nope": 1}"#).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let o = StorageOptions { secret_access_key: Some("hunter2".into()), ..Default::default() };
        assert!(!format!("{o:?}").contains("hunter2"));
    }

    #[test]
    fn bad_urls_are_config_errors() {
        let o = StorageOptions::default();
        assert!(matches!(from_url("ftp://x", &o), Err(StorageConfigError::UnsupportedScheme(_))));
        assert!(matches!(from_url("s3://", &o), Err(StorageConfigError::InvalidUrl(_))));
        assert!(matches!(from_url("s3://key:secret@bucket", &o), Err(StorageConfigError::InvalidUrl(_))));
        assert!(matches!(from_url("not a url", &o), Err(StorageConfigError::InvalidUrl(_))));
        assert!(matches!(from_url("file://relative/dir", &o), Err(StorageConfigError::InvalidUrl(_))));
        let no_timeout = StorageOptions { timeout_secs: 0, ..StorageOptions::default() };
        assert!(matches!(from_url("s3://bucket", &no_timeout), Err(StorageConfigError::Invalid(_))));
    }
}
