//! [`EdgeStream`]: the TCP stream actix-http reads requests from, guarded.
//!
//! Every byte actix reads passes the [`Scanner`] first. A head past the
//! limits never reaches actix: the stream writes the problem itself. Two
//! deadlines follow the scanner: a head must arrive within the head
//! timeout (for every request on the connection, not only the first), and
//! a body within the body timeout of its head, plus a grace in which the
//! app answers its own `408` (`extract::read_body`). At a deadline the
//! stream answers `408` unless a response to the request has begun, then
//! closes: it half-closes its side, discards what still arrives for a
//! moment (so the answer is not lost to a reset), and reports the end of
//! the stream to actix. What actix writes after an edge answer is dropped.
//!
//! Timers fire only while actix polls the read side, which it does while
//! it waits for a head or a body; when it stops (the app does not consume a
//! body that arrives quickly), the app, not the client, holds the connection.

use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    task::{ready, Context, Poll},
};

use actix_web::rt::net::TcpStream;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{sleep_until, Instant, Sleep},
};

use super::{
    render,
    scan::{Phase, Scanner},
    slots::Slot,
    Edge, LINGER,
};
use crate::{conn::EdgeConn, error::ApiError};

/// What the stream is doing.
enum Mode {
    /// Passing bytes between the socket and actix.
    Pass,
    /// Writing an answer of its own.
    Answer { out: Vec<u8>, written: usize },
    /// Discarding input for a moment before reporting the end of the stream.
    Linger { until: Instant, shut_down: bool },
    /// The end of the stream, as actix sees it.
    Closed,
}

/// Which deadline is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Head(Instant),
    Body(Instant),
}

impl Due {
    fn at(self) -> Instant {
        match self {
            Due::Head(at) | Due::Body(at) => at,
        }
    }
}

/// A guarded connection (see the module documentation).
pub struct EdgeStream {
    io: TcpStream,
    peer: Option<SocketAddr>,
    edge: Edge,
    scan: Scanner,
    conn: EdgeConn,
    /// The per-IP count this connection holds; released on drop.
    _slot: Option<Slot>,
    mode: Mode,
    /// Whether the connection is past the per-IP cap: its first head is read
    /// (clients such as hyper refuse an answer that comes before their
    /// request), kept from actix, and answered `503`.
    over_cap: bool,
    /// Whether what actix writes is dropped (after an answer of the edge's own).
    swallow: bool,
    /// Whether actix began a response since the last head.
    answered: bool,
    /// When the current head began (the connection's start for the first).
    head_since: Option<Instant>,
    /// When the current body is due; `None` when no body is outstanding.
    body_due: Option<Instant>,
    timer: Pin<Box<Sleep>>,
}

impl EdgeStream {
    /// A connection within the per-IP cap (`slot`), or, without a slot, one
    /// past it, whose first request is answered `503`.
    pub(super) fn new(io: TcpStream, peer: Option<SocketAddr>, edge: Edge, slot: Option<Slot>, over_cap: bool) -> Self {
        let now = Instant::now();
        let mut stream = EdgeStream {
            io,
            peer,
            scan: Scanner::default(),
            conn: EdgeConn::default(),
            _slot: slot,
            mode: Mode::Pass,
            over_cap: false,
            swallow: false,
            answered: false,
            head_since: Some(now),
            body_due: None,
            timer: Box::pin(sleep_until(now + edge.head_timeout)),
            edge,
        };
        stream.over_cap = over_cap;
        stream
    }

    /// What the app may read of this connection (`conn_data`).
    pub(super) fn conn(&self) -> EdgeConn {
        self.conn.clone()
    }

    fn due(&self) -> Option<Due> {
        match self.scan.phase() {
            Phase::Idle | Phase::Head => self.head_since.map(|t| Due::Head(t + self.edge.head_timeout)),
            Phase::Body | Phase::Unframed => self.body_due.map(|t| Due::Body(t + super::GRACE)),
        }
    }

    /// Starts writing `error` as the answer to the current request, then closing.
    fn answer(&mut self, error: ApiError, request_id: Option<String>) {
        let id = request_id.unwrap_or_else(|| crate::request_id::RequestId::generate().as_str().to_string());
        let peer = self.peer.map(|p| p.ip().to_string()).unwrap_or_default();
        let status = actix_web::ResponseError::status_code(&error);
        tracing::info!(status = status.as_u16(), request_id = %id, peer, code = error.code(), "answered at the edge");
        self.mode = Mode::Answer { out: render(&error, &id), written: 0 };
        self.swallow = true;
    }

    /// The deadline `due` has passed.
    fn expire(&mut self, due: Due) {
        match due {
            Due::Head(_) => {
                let id = self.scan.partial_request_id();
                self.answer(ApiError::RequestTimeout, id);
            }
            Due::Body(_) if self.answered => {
                tracing::info!(request_id = ?self.conn.request_id(), "request body not received in time; closing");
                self.mode = Mode::Linger { until: Instant::now() + LINGER, shut_down: true };
            }
            Due::Body(_) => {
                let id = self.conn.request_id().or_else(|| self.conn.caller_id());
                self.answer(ApiError::RequestTimeout, id);
            }
        }
    }

    /// Follows the bytes just read; `false` if they must not reach actix
    /// because the edge answers instead.
    fn follow(&mut self, data: &[u8]) -> bool {
        match self.scan.feed(data) {
            Ok(progress) => {
                let now = Instant::now();
                if progress.heads > 0 && self.over_cap {
                    let retry_after = self.edge.retry_after_secs;
                    self.answer(ApiError::TooManyConnections { retry_after }, progress.request_id);
                    return false;
                }
                if progress.heads > 0 {
                    self.answered = false;
                    self.conn.new_request(progress.request_id);
                    self.head_since = None;
                    self.body_due = None;
                }
                match self.scan.phase() {
                    Phase::Body | Phase::Unframed if progress.heads > 0 => {
                        self.body_due = Some(now + self.edge.body_timeout);
                    }
                    Phase::Body | Phase::Unframed => {}
                    Phase::Idle => {
                        self.head_since = None;
                        self.body_due = None;
                    }
                    Phase::Head => {
                        // The connection's first head counts from its start.
                        self.head_since.get_or_insert(now);
                        self.body_due = None;
                    }
                }
                self.conn.set_body_due(self.body_due);
                true
            }
            Err(refused) => {
                let error = match refused.refusal {
                    super::scan::Refusal::UriTooLong => ApiError::UriTooLong { limit: super::REQUEST_LINE_MAX },
                    super::scan::Refusal::HeadTooLarge => {
                        ApiError::HeadTooLarge { bytes: super::HEAD_MAX, fields: super::HEADERS_MAX }
                    }
                    super::scan::Refusal::Malformed(why) => ApiError::MalformedRequest(why),
                };
                self.answer(error, refused.request_id);
                false
            }
        }
    }

    /// Polls the running deadline; `Ready` once it has passed.
    fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<Due> {
        let Some(due) = self.due() else { return Poll::Pending };
        if self.timer.deadline() != due.at() {
            self.timer.as_mut().reset(due.at());
        }
        self.timer.as_mut().poll(cx).map(|()| due)
    }
}

impl AsyncRead for EdgeStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.mode {
                Mode::Closed => return Poll::Ready(Ok(())),
                Mode::Answer { out, written } => {
                    while *written < out.len() {
                        match ready!(Pin::new(&mut this.io).poll_write(cx, &out[*written..])) {
                            Ok(0) | Err(_) => {
                                this.mode = Mode::Closed;
                                break;
                            }
                            Ok(n) => *written += n,
                        }
                    }
                    if let Mode::Answer { .. } = this.mode {
                        // A failed flush ends the connection like a finished one.
                        let _ = ready!(Pin::new(&mut this.io).poll_flush(cx));
                        this.mode = Mode::Linger { until: Instant::now() + LINGER, shut_down: false };
                    }
                }
                Mode::Linger { until, shut_down } => {
                    if !*shut_down {
                        let _ = ready!(Pin::new(&mut this.io).poll_shutdown(cx));
                        *shut_down = true;
                    }
                    let until = *until;
                    let mut scratch = [0u8; 4096];
                    let mut sink = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut this.io).poll_read(cx, &mut sink) {
                        Poll::Ready(Ok(())) if !sink.filled().is_empty() => continue,
                        Poll::Ready(_) => this.mode = Mode::Closed,
                        Poll::Pending => {
                            if this.timer.deadline() != until {
                                this.timer.as_mut().reset(until);
                            }
                            ready!(this.timer.as_mut().poll(cx));
                            this.mode = Mode::Closed;
                        }
                    }
                }
                Mode::Pass => {
                    if let Poll::Ready(due) = this.poll_due(cx) {
                        this.expire(due);
                        continue;
                    }
                    let before = buf.filled().len();
                    ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
                    let filled = buf.filled().len();
                    if filled == before || (this.follow(&buf.filled()[before..filled]) && !this.over_cap) {
                        return Poll::Ready(Ok(()));
                    }
                    // Refused, or past the cap: actix must not see these bytes.
                    buf.set_filled(before);
                }
            }
        }
    }
}

impl AsyncWrite for EdgeStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if self.swallow {
            return Poll::Ready(Ok(data.len()));
        }
        let n = ready!(Pin::new(&mut self.io).poll_write(cx, data))?;
        if n > 0 {
            self.answered = true;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.swallow {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.swallow {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
