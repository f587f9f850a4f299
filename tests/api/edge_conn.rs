//! The edge of the server (`roster_http::edge`), over loopback against the
//! real `serve`: what actix-http would answer bare is answered as a problem
//! with a request id, slow heads and bodies are cut, and one address holds
//! at most `http.max_connections_per_ip` connections.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::*;

/// How long any answer may take before the test gives up (liveness, not speed).
const PATIENCE: Duration = Duration::from_secs(15);

/// A response read off a raw connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts a problem with `status` and `code` whose id is the header's; returns the body.
    fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{self:?}");
        assert!(self.header("content-type").is_some_and(|ct| ct.starts_with("application/problem+json")), "{self:?}");
        let id = self.header("x-request-id").expect("x-request-id");
        let body: Value = serde_json::from_slice(&self.body).expect("a JSON body");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status, "{body}");
        assert_eq!(body["request_id"], id, "{body}");
        assert_eq!(self.header("x-content-type-options"), Some("nosniff"), "the headers of every answer");
        assert_eq!(self.header("cache-control"), Some("no-store"));
        body
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://")).await.expect("connect")
}

/// Reads one response (its head, then `Content-Length` bytes of body).
async fn read_answer(stream: &mut TcpStream) -> Answer {
    tokio::time::timeout(PATIENCE, async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before an answer; got {:?}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize =
            headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().expect("a length"));
        let mut body = buf[head_end..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed inside the body");
            body.extend_from_slice(&chunk[..n]);
        }
        Answer { status, headers, body }
    })
    .await
    .expect("an answer in time")
}

/// Waits until the server closes the connection (end of stream or reset),
/// discarding what else arrives.
async fn closed(stream: &mut TcpStream) {
    tokio::time::timeout(PATIENCE, async {
        let mut chunk = [0u8; 1024];
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
        }
    })
    .await
    .expect("the server closes the connection");
}

/// Sends `head`, then one byte of body every 100 ms until the connection
/// fails; returns the task.
fn trickle(
    stream: TcpStream,
    head: String,
    body: &'static [u8],
) -> (tokio::task::JoinHandle<()>, tokio::net::tcp::OwnedReadHalf) {
    let (read, mut write) = stream.into_split();
    let task = tokio::spawn(async move {
        if write.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for byte in body.iter().cycle() {
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (task, read)
}

/// Everything read until the server closes, within [`PATIENCE`]; prints
/// when the first byte came and when the close did, after `started`.
async fn until_closed(read: &mut tokio::net::tcp::OwnedReadHalf, started: Instant, what: &str) -> Vec<u8> {
    let all = tokio::time::timeout(PATIENCE, async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = read.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            if buf.is_empty() {
                eprintln!("{what} answered after {:?}", started.elapsed());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf
    })
    .await
    .expect("an answer and a close in time");
    eprintln!("{what} closed after {:?}", started.elapsed());
    all
}

async fn quick_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.http.head_timeout_secs = 1;
        c.http.body_timeout_secs = 1;
    })
    .await
}

#[tokio::test]
async fn edge_a_long_query_string_is_414_and_a_large_head_431_as_problems() {
    let app = TestApp::spawn().await;
    // Over 64 KiB, as reqwest would not send it.
    let mut s = connect(&app).await;
    let line = format!("GET /health/live?q={} HTTP/1.1\r\nHost: roster\r\n\r\n", "a".repeat(100 * 1024));
    s.write_all(line.as_bytes()).await.unwrap();
    let answer = read_answer(&mut s).await;
    answer.problem(414, "uri_too_long");
    assert_eq!(answer.header("connection"), Some("close"));
    closed(&mut s).await;
    // Past 8 KiB, through an ordinary client.
    let r = app.client.get(app.url(&format!("/health/live?q={}", "a".repeat(9 * 1024)))).send().await.unwrap();
    problem(r, StatusCode::URI_TOO_LONG, "uri_too_long").await;

    let r = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "edge-431")
        .header("x-big", "b".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large").await;
    assert_eq!(body["request_id"], "edge-431", "the caller's id is kept");

    let mut req = app.client.get(app.url("/health/live"));
    for i in 0..100 {
        req = req.header(format!("x-h{i}"), "1");
    }
    problem(req.send().await.unwrap(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large").await;

    // Within the limits, all is as before.
    let r = app.client.get(app.url(&format!("/health/live?q={}", "a".repeat(4 * 1024)))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn edge_a_malformed_head_is_400_as_a_problem() {
    let app = TestApp::spawn().await;
    let mut s = connect(&app).await;
    s.write_all(b"GET /health/live HTTP/1.1\r\nX-Request-Id: no-host\r\n\r\n").await.unwrap();
    let answer = read_answer(&mut s).await;
    let body = answer.problem(400, "bad_request");
    assert_eq!(body["request_id"], "no-host");
    assert_eq!(answer.header("connection"), Some("close"));
    closed(&mut s).await;

    let mut s = connect(&app).await;
    s.write_all(b"GET /health/live HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n").await.unwrap();
    read_answer(&mut s).await.problem(400, "bad_request");
}

#[tokio::test]
async fn edge_a_trickling_body_is_cut_with_408() {
    let app = quick_app().await;
    let stream = connect(&app).await;
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: roster\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\nX-Request-Id: slow-post-1\r\n\r\n"
        .to_string();
    let started = Instant::now();
    let (task, mut read) = trickle(stream, head, b"{ ");
    let answer = until_closed(&mut read, started, "slow POST").await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/problem+json"), "{text}");
    assert!(lower.contains("x-request-id: slow-post-1"), "{text}");
    assert!(lower.contains("connection: close"), "{text}");
    let body: Value = serde_json::from_str(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["code"], "request_timeout", "{body}");
    assert_eq!(body["request_id"], "slow-post-1", "{body}");
    task.abort();
}

#[tokio::test]
async fn edge_a_trickling_body_nobody_reads_does_not_hold_the_connection() {
    let app = quick_app().await;
    let stream = connect(&app).await;
    // `/health/live` answers a POST at once (405) without reading the body;
    // actix keeps reading a chunked body to drain it, for as long as it comes.
    let head = "POST /health/live HTTP/1.1\r\nHost: roster\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n".to_string();
    let started = Instant::now();
    let (task, mut read) = trickle(stream, head, b"2\r\nbb\r\n");
    let answer = until_closed(&mut read, started, "unread trickling body").await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 405"), "the route's answer first: {text}");
    task.abort();
}

#[tokio::test]
async fn edge_a_trickling_head_is_408_on_every_request_of_a_connection() {
    let app = quick_app().await;
    // The first request on a connection.
    let mut s = connect(&app).await;
    s.write_all(b"GET /health/live HTTP/1.1\r\nX-Request-Id: slow-head-1\r\nHo").await.unwrap();
    let answer = read_answer(&mut s).await;
    let body = answer.problem(408, "request_timeout");
    assert_eq!(body["request_id"], "slow-head-1");
    closed(&mut s).await;

    // A later one, after a request answered on the same connection.
    let mut s = connect(&app).await;
    s.write_all(b"GET /health/live HTTP/1.1\r\nHost: roster\r\n\r\n").await.unwrap();
    assert_eq!(read_answer(&mut s).await.status, 200);
    s.write_all(b"GET /health/live HTTP/1.1\r\nHo").await.unwrap();
    let started = Instant::now();
    read_answer(&mut s).await.problem(408, "request_timeout");
    eprintln!("second head cut after {:?}", started.elapsed());
    closed(&mut s).await;
}

/// `n` connections, each kept open after one request served.
async fn served_connections(app: &TestApp, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        let mut s = connect(app).await;
        s.write_all(b"GET /health/live HTTP/1.1\r\nHost: roster\r\n\r\n").await.unwrap();
        assert_eq!(read_answer(&mut s).await.status, 200);
        held.push(s);
    }
    held
}

#[tokio::test]
async fn edge_connections_past_the_per_ip_cap_get_503_until_one_closes() {
    let app = TestApp::spawn_with(|c| c.http.max_connections_per_ip = 3).await;
    let mut held = served_connections(&app, 3).await;
    let mut s = connect(&app).await;
    s.write_all(b"GET /health/live HTTP/1.1\r\nHost: roster\r\nX-Request-Id: over-cap\r\n\r\n").await.unwrap();
    let answer = read_answer(&mut s).await;
    assert_eq!(answer.problem(503, "too_many_connections")["request_id"], "over-cap");
    assert_eq!(answer.header("retry-after"), Some("5"));
    closed(&mut s).await;
    // An ordinary client reads the same answer.
    let r = app.client.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()), Some("5".into()));
    problem(r, StatusCode::SERVICE_UNAVAILABLE, "too_many_connections").await;

    // Closing one gives its slot back.
    drop(held.pop());
    let mut status = 0;
    for _ in 0..50 {
        let mut s = connect(&app).await;
        s.write_all(b"GET /health/live HTTP/1.1\r\nHost: roster\r\n\r\n").await.unwrap();
        status = read_answer(&mut s).await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "a slot is free again");
}

#[tokio::test]
async fn edge_a_body_still_arriving_when_a_slow_handler_has_not_answered_is_408_from_the_edge() {
    use actix_web::{middleware::from_fn, web, App};
    // A handler that takes its time and never reads the body: the app has
    // no deadline of its own here, so the edge answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = roster_http::HttpConfig {
        workers: 1,
        shutdown_timeout_secs: 1,
        head_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..roster_http::HttpConfig::default()
    };
    let server = roster_http::edge::server(listener, &config, || {
        App::new().wrap(from_fn(roster_http::middleware::request)).route(
            "/slow",
            web::post().to(|| async {
                tokio::time::sleep(Duration::from_secs(4)).await;
                "late"
            }),
        )
    })
    .unwrap();
    let handle = server.handle();
    tokio::spawn(server);

    let stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /slow HTTP/1.1\r\nHost: roster\r\nContent-Length: 100\r\nX-Request-Id: io-408\r\n\r\n".to_string();
    let started = Instant::now();
    let (task, read) = trickle(stream, head, b"x");
    let mut stream = read;
    let mut buf = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut buf)).await.expect("closed in time").ok();
    eprintln!("edge 408 to a slow handler: closed after {:?}", started.elapsed());
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.to_ascii_lowercase().contains("x-request-id: io-408"), "{text}");
    assert!(!text.contains("late"), "the handler's late answer is dropped: {text}");
    let body: Value = serde_json::from_str(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["code"], "request_timeout", "{body}");
    assert_eq!(body["request_id"], "io-408", "{body}");
    task.abort();
    handle.stop(false).await;
}

#[tokio::test]
async fn edge_connections_from_a_trusted_proxy_are_not_capped() {
    let app = TestApp::spawn_with(|c| {
        c.http.max_connections_per_ip = 1;
        c.http.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let _held = served_connections(&app, 3).await;
}
