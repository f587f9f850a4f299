//! How HTTP answers and silences become `BlobError`s: the S3 store against
//! a loopback server that answers every request with one fixed response
//! (or never answers).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use roster_domain::ports::{BlobError, BlobStore};
use roster_storage::{from_url, StorageOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const GUARD: Duration = Duration::from_secs(30);
const SECRET: &str = "fixed-server-secret-key";

/// Answers every request with `status` and `body`; `None`: reads the
/// request and never answers.
struct FixedServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FixedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FixedServer {
    async fn start(answer: Option<(&'static str, &'static str)>) -> FixedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut open = Vec::new();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                open.push(tokio::spawn(respond(stream, answer)));
            }
        });
        FixedServer { addr, task }
    }

    fn store(&self, timeout_secs: u64) -> Arc<dyn BlobStore> {
        let options = StorageOptions {
            endpoint: Some(format!("http://{}", self.addr)),
            region: Some("us-east-1".into()),
            path_style: true,
            allow_http: true,
            access_key_id: Some("FIXEDKEY".into()),
            secret_access_key: Some(SECRET.into()),
            timeout_secs,
            ..StorageOptions::default()
        };
        from_url("s3://bucket", &options).unwrap()
    }
}

async fn respond(mut stream: TcpStream, answer: Option<(&'static str, &'static str)>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    // The head, then as many body bytes as Content-Length says.
    let (head_end, length) = loop {
        let n = stream.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            break (end + 4, length);
        }
    };
    while request.len() < head_end + length {
        let n = stream.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let Some((status, body)) = answer else {
        std::future::pending::<()>().await;
        return;
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn s3_error(code: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>m</Message><SignatureProvided>sig</SignatureProvided></Error>"
    )
}

/// get, put, delete and list (at once) each answered with `answer`.
async fn every_operation(
    answer: Option<(&'static str, &'static str)>,
    timeout_secs: u64,
) -> Vec<Result<(), BlobError>> {
    let server = FixedServer::start(answer).await;
    let blobs = server.store(timeout_secs);
    let future = Utc::now() + chrono::Duration::minutes(5);
    let (get, put, delete, list) = tokio::join!(
        guarded(async { blobs.get("images/a/mid").await.map(drop) }),
        guarded(blobs.put("images/a/mid", b"x".to_vec(), "image/jpeg")),
        guarded(blobs.delete("images/a/mid")),
        guarded(async { blobs.list_older("images/", future, 10).await.map(drop) }),
    );
    vec![get, put, delete, list]
}

async fn guarded<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, call).await.expect("the store hung instead of answering")
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[tokio::test]
async fn server_errors_and_throttling_are_unavailable() {
    for (status, code) in [
        ("503 Service Unavailable", "SlowDown"),
        ("500 Internal Server Error", "InternalError"),
        ("502 Bad Gateway", "BadGateway"),
        ("429 Too Many Requests", "TooManyRequests"),
    ] {
        for (op, result) in every_operation(Some((status, leak(s3_error(code)))), 10).await.into_iter().enumerate() {
            match result {
                Err(BlobError::Unavailable(message)) => {
                    assert!(!message.contains("SignatureProvided") && !message.contains("sig<"), "{message}");
                    assert!(message.contains(code), "{status} op {op}: {message}");
                }
                other => panic!("{status}, operation {op}: expected Unavailable, got {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn refusals_and_bad_requests_are_internal() {
    for (status, code) in [
        ("400 Bad Request", "InvalidRequest"),
        ("403 Forbidden", "AccessDenied"),
        ("401 Unauthorized", "Unauthorized"),
        ("405 Method Not Allowed", "MethodNotAllowed"),
    ] {
        for (op, result) in every_operation(Some((status, leak(s3_error(code)))), 10).await.into_iter().enumerate() {
            match result {
                Err(BlobError::Internal(message)) => assert!(!message.contains(SECRET), "{message}"),
                other => panic!("{status}, operation {op}: expected Internal, got {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_missing_object_is_not_found_and_its_deletion_is_ok() {
    let results = every_operation(Some(("404 Not Found", leak(s3_error("NoSuchKey")))), 10).await;
    assert_eq!(results[0], Err(BlobError::NotFound), "get");
    assert_eq!(results[2], Ok(()), "delete");
}

#[tokio::test]
async fn a_missing_bucket_is_internal() {
    for (op, result) in
        every_operation(Some(("404 Not Found", leak(s3_error("NoSuchBucket")))), 10).await.into_iter().enumerate()
    {
        assert!(matches!(result, Err(BlobError::Internal(_))), "operation {op}: {result:?}");
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_after_the_timeout() {
    for (op, result) in every_operation(None, 1).await.into_iter().enumerate() {
        assert!(matches!(result, Err(BlobError::Unavailable(_))), "operation {op}: {result:?}");
    }
}

#[tokio::test]
async fn nothing_listening_is_unavailable() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let server = FixedServer { addr, task: tokio::spawn(async {}) };
    let blobs = server.store(10);
    let result = tokio::time::timeout(GUARD, blobs.get("images/a/mid")).await.unwrap();
    assert!(matches!(result, Err(BlobError::Unavailable(_))), "{result:?}");
}
