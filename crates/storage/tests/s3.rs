//! The S3 store against the S3 test server: an outage and its end, refused
//! credentials, a key prefix, a missing bucket; and configuration errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use roster_domain::image::{object_key, ImageSize};
use roster_domain::ports::{BlobError, BlobStore};
use roster_storage::{from_url, StorageConfigError, StorageOptions};
use roster_testkit::TestS3Server;
use uuid::Uuid;

/// Far more than a down store may take to answer; only guards against a hang.
const GUARD: Duration = Duration::from_secs(30);

fn options(server: &TestS3Server) -> StorageOptions {
    StorageOptions {
        endpoint: Some(server.endpoint()),
        region: Some(server.region().into()),
        path_style: true,
        allow_http: true,
        access_key_id: Some(server.access_key().into()),
        secret_access_key: Some(server.secret_key().into()),
        ..StorageOptions::default()
    }
}

async fn store(server: &TestS3Server) -> Arc<dyn BlobStore> {
    from_url(&server.storage_url(), &options(server)).unwrap()
}

async fn answer<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, call).await.expect("the store hung instead of answering")
}

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, BlobError>, what: &str, server: &TestS3Server) {
    match result {
        Err(BlobError::Unavailable(message)) => {
            assert!(!message.contains(server.secret_key()), "{what}: {message}");
        }
        other => panic!("{what}: expected Unavailable, got {other:?}"),
    }
}

fn assert_internal<T: std::fmt::Debug>(result: Result<T, BlobError>, what: &str, secret: &str) {
    match result {
        Err(BlobError::Internal(message)) => {
            assert!(!message.contains(secret), "{what}: {message}");
        }
        other => panic!("{what}: expected Internal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_goes_down_is_unavailable_until_it_comes_back() {
    let server = TestS3Server::start().await.unwrap();
    let blobs = store(&server).await;
    let key = object_key(Uuid::new_v4(), ImageSize::Mid);
    blobs.put(&key, b"before".to_vec(), "image/jpeg").await.unwrap();
    assert_eq!(blobs.get(&key).await.unwrap().bytes, b"before");

    server.set_down(true).await.unwrap();
    assert_unavailable(answer(blobs.get(&key)).await, "get", &server);
    let other = object_key(Uuid::new_v4(), ImageSize::Low);
    assert_unavailable(answer(blobs.put(&other, b"during".to_vec(), "image/jpeg")).await, "put", &server);
    assert_unavailable(answer(blobs.delete(&key)).await, "delete", &server);
    let future = Utc::now() + chrono::Duration::minutes(5);
    assert_unavailable(answer(blobs.list_older("images/", future, 10)).await, "list", &server);

    server.set_down(false).await.unwrap();
    let blob = answer(blobs.get(&key)).await.unwrap();
    assert_eq!((blob.bytes.as_slice(), blob.content_type.as_str()), (&b"before"[..], "image/jpeg"));
    answer(blobs.put(&other, b"after".to_vec(), "image/jpeg")).await.unwrap();
    assert_eq!(answer(blobs.get(&other)).await.unwrap().bytes, b"after");
    answer(blobs.delete(&key)).await.unwrap();
    assert_eq!(answer(blobs.get(&key)).await, Err(BlobError::NotFound));
}

#[tokio::test]
async fn a_server_down_from_the_start_is_unavailable() {
    let server = TestS3Server::start().await.unwrap();
    server.set_down(true).await.unwrap();
    let blobs = store(&server).await;
    assert_unavailable(answer(blobs.get("images/x/mid")).await, "get", &server);
}

#[tokio::test]
async fn refused_credentials_are_internal() {
    let server = TestS3Server::start().await.unwrap();
    let key = object_key(Uuid::new_v4(), ImageSize::Mid);
    store(&server).await.put(&key, b"x".to_vec(), "image/jpeg").await.unwrap();

    let wrong_secret = "wrong-secret-0123456789abcdef";
    let cases = [
        ("wrong secret", StorageOptions { secret_access_key: Some(wrong_secret.into()), ..options(&server) }),
        ("unknown key", StorageOptions { access_key_id: Some("UNKNOWNKEY".into()), ..options(&server) }),
    ];
    for (case, options) in cases {
        let blobs = from_url(&server.storage_url(), &options).unwrap();
        let secret = options.secret_access_key.clone().unwrap();
        assert_internal(answer(blobs.get(&key)).await, &format!("{case}: get"), &secret);
        assert_internal(answer(blobs.put(&key, b"y".to_vec(), "image/jpeg")).await, &format!("{case}: put"), &secret);
        assert_internal(answer(blobs.delete(&key)).await, &format!("{case}: delete"), &secret);
        let future = Utc::now() + chrono::Duration::minutes(5);
        assert_internal(answer(blobs.list_older("images/", future, 10)).await, &format!("{case}: list"), &secret);
    }
    // Nothing was changed by the refused requests.
    assert_eq!(store(&server).await.get(&key).await.unwrap().bytes, b"x");
}

#[tokio::test]
async fn a_missing_bucket_is_internal_not_not_found() {
    let server = TestS3Server::start().await.unwrap();
    let blobs = from_url("s3://no-such-bucket", &options(&server)).unwrap();
    // (s3s-fs answers a GET in a missing bucket with NoSuchKey, unlike S3;
    // tests/status.rs checks that a NoSuchBucket GET is Internal.)
    assert_internal(answer(blobs.delete("images/x/mid")).await, "delete", server.secret_key());
    let future = Utc::now() + chrono::Duration::minutes(5);
    assert_internal(answer(blobs.list_older("images/", future, 10)).await, "list", server.secret_key());
}

#[tokio::test]
async fn a_url_prefix_keeps_every_key_under_it() {
    let server = TestS3Server::start().await.unwrap();
    let url = format!("{}/tenant-a/blobs/", server.storage_url());
    let prefixed = from_url(&url, &options(&server)).unwrap();
    let plain = store(&server).await;
    let key = object_key(Uuid::new_v4(), ImageSize::Mid);

    prefixed.put(&key, b"inside".to_vec(), "image/jpeg").await.unwrap();
    assert_eq!(prefixed.get(&key).await.unwrap().bytes, b"inside");
    assert_eq!(plain.get(&key).await, Err(BlobError::NotFound));
    assert_eq!(plain.get(&format!("tenant-a/blobs/{key}")).await.unwrap().bytes, b"inside");
    assert!(server.dir().join(server.bucket()).join("tenant-a/blobs").join(&key).is_file());

    plain.put("images/outside", b"outside".to_vec(), "image/jpeg").await.unwrap();
    let future = Utc::now() + chrono::Duration::minutes(5);
    let listed = prefixed.list_older("images/", future, 10).await.unwrap();
    assert_eq!(listed.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), [key.as_str()]);
    assert_eq!(prefixed.list_older("", future, 10).await.unwrap().len(), 1);

    prefixed.delete(&key).await.unwrap();
    assert_eq!(plain.get(&format!("tenant-a/blobs/{key}")).await, Err(BlobError::NotFound));
}

#[tokio::test]
async fn servers_are_independent() {
    let (a, b) = (TestS3Server::start().await.unwrap(), TestS3Server::start().await.unwrap());
    assert_ne!(a.endpoint(), b.endpoint());
    assert_ne!(a.dir(), b.dir());
    store(&a).await.put("k", b"a".to_vec(), "text/plain").await.unwrap();
    assert_eq!(store(&b).await.get("k").await, Err(BlobError::NotFound));
    let dir = a.dir().to_owned();
    drop(a);
    assert!(!dir.exists());
}

#[test]
fn a_directory_that_cannot_be_created_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let url = format!("file://{}/blobs", file.display());
    match from_url(&url, &StorageOptions::default()) {
        Err(StorageConfigError::Directory { .. }) => {}
        Err(other) => panic!("expected a directory error, got {other}"),
        Ok(_) => panic!("expected a directory error, got a store"),
    }
}

#[test]
fn config_errors_do_not_echo_secrets() {
    let options = StorageOptions {
        endpoint: Some("not a url".into()),
        secret_access_key: Some("hunter2-secret".into()),
        ..StorageOptions::default()
    };
    let Err(e) = from_url("s3://bucket", &options) else { panic!("an invalid endpoint was accepted") };
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
}
