//! The same `BlobStore` contract against memory, local files and the S3
//! test server, each built by `from_url`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use roster_domain::image::{object_key, ImageSize};
use roster_domain::ports::{BlobError, BlobStore};
use roster_storage::{from_url, StorageOptions, DEFAULT_CONTENT_TYPE};
use roster_testkit::TestS3Server;
use uuid::Uuid;

/// A store and whatever must live as long as it (a directory, a server).
struct Fixture {
    blobs: Arc<dyn BlobStore>,
    /// Whether the store keeps the content type given to `put`.
    keeps_type: bool,
    _guard: Box<dyn Any>,
}

async fn memory() -> Fixture {
    let blobs = from_url("memory://", &StorageOptions::default()).unwrap();
    Fixture { blobs, keeps_type: true, _guard: Box::new(()) }
}

async fn local() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet: from_url creates it.
    let url = format!("file://{}/blobs", dir.path().display());
    let blobs = from_url(&url, &StorageOptions::default()).unwrap();
    Fixture { blobs, keeps_type: false, _guard: Box::new(dir) }
}

async fn s3() -> Fixture {
    let server = TestS3Server::start().await.unwrap();
    let options = StorageOptions {
        endpoint: Some(server.endpoint()),
        region: Some(server.region().into()),
        path_style: true,
        allow_http: true,
        access_key_id: Some(server.access_key().into()),
        secret_access_key: Some(server.secret_key().into()),
        ..StorageOptions::default()
    };
    let blobs = from_url(&server.storage_url(), &options).unwrap();
    Fixture { blobs, keeps_type: true, _guard: Box::new(server) }
}

/// The first bytes of a WebP file: recognised even where no type is kept.
fn webp(n: u8) -> Vec<u8> {
    let mut bytes = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
    bytes.extend(std::iter::repeat_n(n, 64));
    bytes
}

async fn round_trip_keeps_bytes_and_type(f: Fixture) {
    let key = object_key(Uuid::new_v4(), ImageSize::Mid);
    f.blobs.put(&key, webp(1), "image/webp").await.unwrap();
    let blob = f.blobs.get(&key).await.unwrap();
    assert_eq!(blob.bytes, webp(1));
    assert_eq!(blob.content_type, "image/webp");

    // Bytes that say nothing about their type.
    let key = object_key(Uuid::new_v4(), ImageSize::Thumbnail);
    f.blobs.put(&key, b"opaque bytes".to_vec(), "image/jpeg").await.unwrap();
    let blob = f.blobs.get(&key).await.unwrap();
    assert_eq!(blob.bytes, b"opaque bytes");
    let expected = if f.keeps_type { "image/jpeg" } else { DEFAULT_CONTENT_TYPE };
    assert_eq!(blob.content_type, expected);

    // Empty objects are objects.
    let key = object_key(Uuid::new_v4(), ImageSize::Low);
    f.blobs.put(&key, Vec::new(), "image/jpeg").await.unwrap();
    assert_eq!(f.blobs.get(&key).await.unwrap().bytes, Vec::<u8>::new());
}

async fn missing_key_is_not_found(f: Fixture) {
    let key = object_key(Uuid::new_v4(), ImageSize::High);
    assert_eq!(f.blobs.get(&key).await, Err(BlobError::NotFound));
    assert_eq!(f.blobs.get("never/written").await, Err(BlobError::NotFound));
}

async fn delete_is_idempotent(f: Fixture) {
    let key = object_key(Uuid::new_v4(), ImageSize::Mid);
    f.blobs.put(&key, webp(2), "image/webp").await.unwrap();
    f.blobs.delete(&key).await.unwrap();
    assert_eq!(f.blobs.get(&key).await, Err(BlobError::NotFound));
    f.blobs.delete(&key).await.unwrap();
    f.blobs.delete(&object_key(Uuid::new_v4(), ImageSize::Mid)).await.unwrap();
    // The other renditions of an image are left alone.
    let id = Uuid::new_v4();
    f.blobs.put(&object_key(id, ImageSize::Low), webp(3), "image/webp").await.unwrap();
    f.blobs.put(&object_key(id, ImageSize::High), webp(4), "image/webp").await.unwrap();
    f.blobs.delete(&object_key(id, ImageSize::Low)).await.unwrap();
    assert_eq!(f.blobs.get(&object_key(id, ImageSize::High)).await.unwrap().bytes, webp(4));
}

async fn overwrite_replaces_bytes_and_type(f: Fixture) {
    let key = object_key(Uuid::new_v4(), ImageSize::Mid);
    f.blobs.put(&key, b"first version, longer".to_vec(), "image/jpeg").await.unwrap();
    f.blobs.put(&key, webp(5), "image/webp").await.unwrap();
    let blob = f.blobs.get(&key).await.unwrap();
    assert_eq!(blob.bytes, webp(5));
    assert_eq!(blob.content_type, "image/webp");
}

async fn list_older_filters_by_prefix_time_and_limit(f: Fixture) {
    let started = Utc::now();
    let id = Uuid::new_v4();
    let mut written = BTreeSet::new();
    for size in ImageSize::ALL {
        let key = object_key(id, size);
        f.blobs.put(&key, webp(size.index() as u8), "image/webp").await.unwrap();
        written.insert(key);
    }
    f.blobs.put("other/thing", b"x".to_vec(), "text/plain").await.unwrap();
    f.blobs.put("imagesque/thing", b"y".to_vec(), "text/plain").await.unwrap();
    let future = Utc::now() + Duration::minutes(5);
    let past = started - Duration::hours(1);

    let listed = f.blobs.list_older("images/", future, 100).await.unwrap();
    let keys: BTreeSet<String> = listed.iter().map(|m| m.key.clone()).collect();
    assert_eq!(keys, written);
    for meta in &listed {
        assert_eq!(meta.size, webp(0).len() as u64, "{meta:?}");
        assert!(meta.last_modified > past && meta.last_modified < future, "{meta:?}");
    }

    assert_eq!(f.blobs.list_older("images/", past, 100).await.unwrap(), vec![]);
    assert_eq!(f.blobs.list_older("images/", future, 2).await.unwrap().len(), 2);
    assert_eq!(f.blobs.list_older("images/", future, 0).await.unwrap(), vec![]);

    let other = f.blobs.list_older("other/", future, 100).await.unwrap();
    assert_eq!(other.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["other/thing"]);
    assert_eq!(other[0].size, 1);

    // A prefix is a string prefix, not only a directory.
    let partial = format!("images/{}", &id.to_string()[..8]);
    assert_eq!(f.blobs.list_older(&partial, future, 100).await.unwrap().len(), 4);
    let image = format!("images/{id}/");
    assert_eq!(f.blobs.list_older(&image, future, 100).await.unwrap().len(), 4);
    let mid = object_key(id, ImageSize::Mid);
    assert_eq!(f.blobs.list_older(&mid, future, 100).await.unwrap().len(), 1);
    assert_eq!(f.blobs.list_older("nothing/here/", future, 100).await.unwrap(), vec![]);

    // The empty prefix is everything.
    assert_eq!(f.blobs.list_older("", future, 100).await.unwrap().len(), 6);
}

async fn malformed_keys_are_internal_and_write_nothing(f: Fixture) {
    for key in ["", "/images/a/mid", "images/a/", "images//mid", "images/../escape", "./x"] {
        let put = f.blobs.put(key, b"x".to_vec(), "text/plain").await;
        assert!(matches!(put, Err(BlobError::Internal(_))), "put {key:?}: {put:?}");
        let get = f.blobs.get(key).await;
        assert!(matches!(get, Err(BlobError::Internal(_))), "get {key:?}: {get:?}");
    }
    let future = Utc::now() + Duration::minutes(5);
    assert_eq!(f.blobs.list_older("", future, 100).await.unwrap(), vec![]);
}

macro_rules! contract {
    ($backend:ident) => {
        mod $backend {
            #[tokio::test]
            async fn round_trip_keeps_bytes_and_type() {
                super::round_trip_keeps_bytes_and_type(super::$backend().await).await;
            }

            #[tokio::test]
            async fn missing_key_is_not_found() {
                super::missing_key_is_not_found(super::$backend().await).await;
            }

            #[tokio::test]
            async fn delete_is_idempotent() {
                super::delete_is_idempotent(super::$backend().await).await;
            }

            #[tokio::test]
            async fn overwrite_replaces_bytes_and_type() {
                super::overwrite_replaces_bytes_and_type(super::$backend().await).await;
            }

            #[tokio::test]
            async fn malformed_keys_are_internal_and_write_nothing() {
                super::malformed_keys_are_internal_and_write_nothing(super::$backend().await).await;
            }

            #[tokio::test]
            async fn list_older_filters_by_prefix_time_and_limit() {
                super::list_older_filters_by_prefix_time_and_limit(super::$backend().await).await;
            }
        }
    };
}

contract!(memory);
contract!(local);
contract!(s3);
