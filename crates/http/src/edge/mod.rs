//! The edge: the HTTP/1 server under the app, where a connection is
//! accepted and its bytes are read before actix-http parses them.
//!
//! actix-http answers some requests itself, before any middleware runs and
//! without a body, a content type or a request id: a head too large (`431`),
//! a head it cannot parse or a URI past ~64 KiB (`400`), a head that is too
//! slow (`408`). Its limits cannot be configured. So [`server`] builds the
//! server that `HttpServer` would build — the same actix-server, HTTP/1
//! service, keep-alive, timeouts, graceful shutdown and `AppConfig` — on an
//! [`EdgeStream`] instead of the bare `TcpStream`. The stream follows the
//! requests (`scan`) and answers with problems of its own first:
//!
//! - a request line over [`REQUEST_LINE_MAX`] bytes: `414 uri_too_long`;
//! - a head over [`HEAD_MAX`] bytes or [`HEADERS_MAX`] fields:
//!   `431 headers_too_large`; one actix would refuse: `400 bad_request`;
//! - a head not complete within `head_timeout` (every request on the
//!   connection, where actix times only the first): `408 request_timeout`;
//! - a body not complete within `body_timeout` of its head (plus [`GRACE`],
//!   in which the app answers its own `408` when it reads the body):
//!   `408 request_timeout` if no response has begun, and the connection
//!   closes either way;
//! - more than `max_connections_per_ip` open connections from one peer
//!   address (trusted proxies excepted): the first request head is read
//!   (never passed to actix) and answered `503 too_many_connections` with
//!   `Retry-After`, and the connection closes. Answering before the request
//!   would be cheaper, but clients such as hyper fail on an answer that
//!   precedes their request instead of reading it.
//!
//! Each answer carries the security headers of every answer
//! (`browser::secure`), `Connection: close` and `X-Request-Id`: the
//! caller's id when its head had an acceptable one, else the id the request
//! middleware gave the request ([`crate::conn::EdgeConn`]), else a fresh one.

mod scan;
mod slots;
mod stream;

use std::{net::SocketAddr, time::Duration};

use actix_http::{HttpService, KeepAlive, Request, Response};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactory, ServiceFactoryExt};
use actix_web::{
    body::MessageBody,
    dev::{AppConfig, Server},
    http::header,
};

pub use stream::EdgeStream;

use crate::{browser, error::ApiError, request_id::X_REQUEST_ID, HttpConfig};

/// The longest request line (method, target and version) accepted, in bytes.
pub const REQUEST_LINE_MAX: usize = 8 * 1024;
/// The largest request head (request line and header fields) accepted, in bytes.
pub const HEAD_MAX: usize = 32 * 1024;
/// The most header fields accepted; actix-http's own limit, which it answers with a bare `431`.
pub const HEADERS_MAX: usize = 96;
/// How long the app has, past the body deadline, to answer its own `408`
/// before the stream does.
pub const GRACE: Duration = Duration::from_secs(1);
/// How long input is discarded after an edge answer before the connection
/// closes, so that a client still sending does not get a reset instead of
/// the answer.
pub const LINGER: Duration = Duration::from_secs(1);
/// `Retry-After` of a connection past the per-IP cap, in seconds.
const RETRY_AFTER_SECS: u64 = 5;
/// actix's own time for a connection's first head; the edge's comes first.
const ACTIX_HEAD_TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// The edge's settings, shared by every connection.
#[derive(Debug, Clone)]
struct Edge {
    head_timeout: Duration,
    body_timeout: Duration,
    retry_after_secs: u64,
}

/// Serializes `error`'s problem as a complete HTTP/1.1 response that closes
/// the connection.
fn render(error: &ApiError, request_id: &str) -> Vec<u8> {
    let (mut head, body) = error.response_with_id(request_id).into_parts();
    // A problem, never the documentation's page: the API's headers.
    browser::secure("", head.headers_mut());
    let body = body.try_into_bytes().unwrap_or_default();
    let status = head.status();
    let mut out = format!("HTTP/1.1 {} {}\r\n", status.as_str(), status.canonical_reason().unwrap_or("")).into_bytes();
    let mut field = |name: &[u8], value: &[u8]| {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    for (name, value) in head.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONNECTION && name != X_REQUEST_ID {
            field(name.as_str().as_bytes(), value.as_bytes());
        }
    }
    field(X_REQUEST_ID.as_str().as_bytes(), request_id.as_bytes());
    field(b"content-length", body.len().to_string().as_bytes());
    field(b"connection", b"close");
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

/// The HTTP server `HttpServer::new(factory).listen(listener)` would build,
/// with its defaults (keep-alive 5 s, client disconnect 1 s, OS signal
/// handling), on guarded streams; `config` gives the workers, the shutdown
/// timeout and the edge's limits.
pub fn server<F, I, S, B>(listener: std::net::TcpListener, config: &HttpConfig, factory: F) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as actix_service::Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let edge = Edge {
        head_timeout: config.head_timeout,
        body_timeout: config.body_timeout,
        retry_after_secs: RETRY_AFTER_SECS,
    };
    let slots = slots::Slots::new(config.max_connections_per_ip);
    let trusted = config.trusted_proxies.clone();
    let mut builder = Server::build().shutdown_timeout(config.shutdown_timeout_secs);
    if config.workers > 0 {
        builder = builder.workers(config.workers);
    }
    let graceful = builder.graceful_shutdown_signal();
    let builder = builder.listen(format!("roster-{addr}"), listener, move || {
        let graceful = graceful.clone();
        let app = factory().into_factory().map_err(|err| err.into().error_response());
        let http = HttpService::<EdgeStream, _, B>::build()
            .graceful_shutdown_signal(move || {
                let signal = graceful.clone();
                async move { signal.notified().await }
            })
            .keep_alive(KeepAlive::default())
            .client_request_timeout(edge.head_timeout + ACTIX_HEAD_TIMEOUT_MARGIN)
            .client_disconnect_timeout(Duration::from_secs(1))
            .h1_allow_half_closed(true)
            .local_addr(addr)
            .on_connect_ext(|io: &EdgeStream, ext| {
                ext.insert(io.conn());
            })
            // `HttpServer` builds the same `AppConfig` (not secure, the bound
            // address as host) through the constructor it keeps to itself.
            .h1(map_config(app, move |()| AppConfig::__priv_test_new(false, addr.to_string(), addr)));
        let (edge, slots, trusted) = (edge.clone(), slots.clone(), trusted.clone());
        fn_service(move |io: actix_web::rt::net::TcpStream| {
            let peer: Option<SocketAddr> = io.peer_addr().ok();
            let exempt = peer.is_none_or(|p| trusted.iter().any(|net| net.contains(&p.ip().to_canonical())));
            let slot = if exempt { None } else { peer.and_then(|p| slots.take(p.ip())) };
            let over_cap = !exempt && slot.is_none();
            let stream = EdgeStream::new(io, peer, edge.clone(), slot, over_cap);
            std::future::ready(Ok::<_, actix_http::error::DispatchError>((stream, peer)))
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}
