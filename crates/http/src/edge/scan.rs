//! Follows the requests on one connection byte by byte, as they are read,
//! so the edge knows where each head ends and how long its body runs: it
//! refuses a head past the limits (or one actix would refuse) before actix
//! sees it, and tells the stream when a body is outstanding.
//!
//! Framing mirrors actix-http's h1 decoder (`h1/decoder.rs`): the same
//! httparse call with 96 header slots, the same checks of `Content-Length`,
//! `Transfer-Encoding` and `Host`, and the same choice of body: chunked,
//! then WebSocket upgrade (to the end of the stream), then
//! `Content-Length`, then `CONNECT` (to the end of the stream), else none.

use actix_web::http::{Method, Uri};

use super::{HEADERS_MAX, HEAD_MAX, REQUEST_LINE_MAX};

/// The longest chunk-size or trailer line followed; a longer one leaves the
/// body unframed (actix refuses it and the body deadline ends the rest).
const CHUNK_LINE_MAX: usize = 4096;
/// The room a new head buffer starts with: a request with a bearer token
/// takes about a kilobyte.
const HEAD_RESERVE: usize = 2048;

/// Why a request head is answered at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The request line is longer than [`REQUEST_LINE_MAX`] (`414`).
    UriTooLong,
    /// The head is longer than [`HEAD_MAX`] or has more than
    /// [`HEADERS_MAX`] header fields (`431`).
    HeadTooLarge,
    /// actix would refuse the head with a bare `400`; why.
    Malformed(&'static str),
}

/// A refused head, with the caller's `X-Request-Id` if it came before the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub refusal: Refusal,
    pub request_id: Option<String>,
}

/// Where the connection is, after the bytes read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Between requests: nothing of the next one has arrived.
    Idle,
    /// Part of a head has arrived.
    Head,
    /// A head is complete and its body has not all arrived.
    Body,
    /// A body that runs to the end of the stream (upgrade, `CONNECT`, or
    /// chunking the scanner could not follow).
    Unframed,
}

/// What one read changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Heads completed by this read (pipelined requests can complete several).
    pub heads: usize,
    /// The caller's `X-Request-Id` of the last head completed, if acceptable.
    pub request_id: Option<String>,
}

#[derive(Debug)]
enum State {
    Idle,
    Head(Head),
    Length(u64),
    Chunk(Chunk),
    Unframed,
}

/// A complete head: how its body is framed, and the caller's request id.
type Complete = (Framing, Option<String>);

#[derive(Debug, Default)]
struct Head {
    buf: Vec<u8>,
    /// Bytes of the line being read, without its line break.
    line: usize,
    /// Whether the request line has begun (empty lines before it are skipped, as httparse does).
    started: bool,
    /// Whether the request line is complete.
    request_line_done: bool,
    headers: usize,
}

#[derive(Debug)]
enum Chunk {
    /// Reading a chunk-size line.
    Size(Vec<u8>),
    /// Inside a chunk's data.
    Data(u64),
    /// After a chunk's data, up to its line break.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one; bytes of the current line.
    Trailer(usize),
}

/// The body of a complete head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    Unframed,
}

/// The framing state of one connection.
#[derive(Debug)]
pub(crate) struct Scanner {
    state: State,
    /// The buffer of the last complete head, kept for the next one (a
    /// keep-alive connection reads many heads of about the same size).
    spare: Vec<u8>,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner { state: State::Idle, spare: Vec::new() }
    }
}

impl Scanner {
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Idle => Phase::Idle,
            State::Head(_) => Phase::Head,
            State::Length(_) | State::Chunk(_) => Phase::Body,
            State::Unframed => Phase::Unframed,
        }
    }

    /// The caller's `X-Request-Id` in the head read so far, if acceptable.
    pub fn partial_request_id(&self) -> Option<String> {
        match &self.state {
            State::Head(h) => request_id_in(&h.buf),
            _ => None,
        }
    }

    /// Follows `data`, the next bytes of the stream. On `Err` the bytes must
    /// not reach actix: the head is answered at the edge instead.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<Progress, Refused> {
        let mut progress = Progress::default();
        while !data.is_empty() {
            let used = match &mut self.state {
                State::Idle => {
                    let mut buf = std::mem::take(&mut self.spare);
                    buf.clear();
                    buf.reserve(HEAD_RESERVE);
                    self.state = State::Head(Head { buf, ..Head::default() });
                    0
                }
                State::Head(head) => {
                    let (used, done) = head.feed(data)?;
                    if let Some((framing, request_id)) = done {
                        progress.heads += 1;
                        progress.request_id = request_id;
                        self.spare = std::mem::take(&mut head.buf);
                        self.state = match framing {
                            Framing::None => State::Idle,
                            Framing::Length(n) => State::Length(n),
                            Framing::Chunked => State::Chunk(Chunk::Size(Vec::new())),
                            Framing::Unframed => State::Unframed,
                        };
                    }
                    used
                }
                State::Length(left) => {
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(data.len());
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::Idle;
                    }
                    n
                }
                State::Chunk(chunk) => {
                    let (used, next) = chunk.feed(data);
                    match next {
                        ChunkNext::Stay => {}
                        ChunkNext::Done => self.state = State::Idle,
                        ChunkNext::Lost => self.state = State::Unframed,
                    }
                    used
                }
                State::Unframed => data.len(),
            };
            data = &data[used..];
        }
        // actix parses whatever it has after each read: what it would refuse
        // is refused here first.
        if let State::Head(head) = &self.state {
            head.check_partial()?;
        }
        Ok(progress)
    }
}

impl Head {
    fn refused(&self, refusal: Refusal) -> Refused {
        Refused { refusal, request_id: request_id_in(&self.buf) }
    }

    /// Takes bytes up to the end of the head; returns how many, and the
    /// framing once the head is complete. Works a line (or the part of one
    /// that has arrived) at a time: a request carries a bearer token of
    /// several hundred bytes, and this runs for every request.
    fn feed(&mut self, data: &[u8]) -> Result<(usize, Option<Complete>), Refused> {
        let mut used = 0;
        while used < data.len() {
            let rest = &data[used..];
            let newline = memchr::memchr(b'\n', rest);
            let piece = newline.map_or(rest, |i| &rest[..=i]);
            // The line's bytes, without its line break: a CR before the LF,
            // or at the end of a part of a line (its LF may be in the next
            // read). A CR elsewhere counts as text; httparse refuses it.
            let mut text = piece.len();
            if newline.is_some() {
                text -= 1;
            }
            if piece[..text].last() == Some(&b'\r') {
                text -= 1;
            }
            if text > 0 {
                if !self.started {
                    self.started = true;
                } else if self.line == 0 && self.request_line_done {
                    self.headers += 1;
                    if self.headers > HEADERS_MAX {
                        return Err(self.refused(Refusal::HeadTooLarge));
                    }
                }
                self.line += text;
                if !self.request_line_done && self.line > REQUEST_LINE_MAX {
                    return Err(self.refused(Refusal::UriTooLong));
                }
            }
            if self.buf.len() + piece.len() > HEAD_MAX {
                return Err(self.refused(Refusal::HeadTooLarge));
            }
            self.buf.extend_from_slice(piece);
            used += piece.len();
            if newline.is_some() {
                let empty = self.line == 0;
                self.line = 0;
                // Empty lines before the request line are skipped, as httparse does.
                if self.started {
                    if !self.request_line_done {
                        self.request_line_done = true;
                    } else if empty {
                        return self.complete().map(|f| (used, Some(f)));
                    }
                }
            }
        }
        Ok((data.len(), None))
    }

    /// What httparse (and so actix) says of an incomplete head.
    fn check_partial(&self) -> Result<(), Refused> {
        let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
        match httparse::Request::new(&mut headers).parse(&self.buf) {
            Ok(_) => Ok(()),
            Err(httparse::Error::TooManyHeaders) => Err(self.refused(Refusal::HeadTooLarge)),
            Err(e) => Err(self.refused(Refusal::Malformed(parse_error(e)))),
        }
    }

    /// The complete head: refused as actix would refuse it, else its framing.
    fn complete(&self) -> Result<Complete, Refused> {
        let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&self.buf) {
            Ok(httparse::Status::Complete(_)) => {}
            // The scanner's line rules and httparse's agree on where a head
            // ends; were they ever to differ, actix decides.
            Ok(httparse::Status::Partial) => return Ok((Framing::Unframed, request_id_in(&self.buf))),
            Err(httparse::Error::TooManyHeaders) => return Err(self.refused(Refusal::HeadTooLarge)),
            Err(e) => return Err(self.refused(Refusal::Malformed(parse_error(e)))),
        }
        let framing = framing(&req).map_err(|why| self.refused(Refusal::Malformed(why)))?;
        // The caller's id, from the fields just parsed (`request_id_in`
        // reads a head that did not parse).
        let id = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("x-request-id"))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .and_then(|v| crate::request_id::RequestId::parse(v.trim()))
            .map(|id| id.as_str().to_string());
        Ok((framing, id))
    }
}

enum ChunkNext {
    Stay,
    Done,
    /// Chunking the scanner cannot follow: actix refuses it too.
    Lost,
}

impl Chunk {
    fn feed(&mut self, data: &[u8]) -> (usize, ChunkNext) {
        match self {
            Chunk::Size(line) => {
                let Some(end) = data.iter().position(|&b| b == b'\n') else {
                    line.extend_from_slice(data);
                    let next = if line.len() > CHUNK_LINE_MAX { ChunkNext::Lost } else { ChunkNext::Stay };
                    return (data.len(), next);
                };
                line.extend_from_slice(&data[..=end]);
                match httparse::parse_chunk_size(line) {
                    Ok(httparse::Status::Complete((_, 0))) => *self = Chunk::Trailer(0),
                    Ok(httparse::Status::Complete((_, size))) => *self = Chunk::Data(size),
                    _ => return (end + 1, ChunkNext::Lost),
                }
                (end + 1, ChunkNext::Stay)
            }
            Chunk::Data(left) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(data.len());
                *left -= n as u64;
                if *left == 0 {
                    *self = Chunk::DataEnd;
                }
                (n, ChunkNext::Stay)
            }
            Chunk::DataEnd => match data.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    *self = Chunk::Size(Vec::new());
                    (end + 1, ChunkNext::Stay)
                }
                None if data.len() > 2 => (data.len(), ChunkNext::Lost),
                None => (data.len(), ChunkNext::Stay),
            },
            Chunk::Trailer(line) => {
                for (i, &b) in data.iter().enumerate() {
                    match b {
                        b'\n' if *line == 0 => return (i + 1, ChunkNext::Done),
                        b'\n' => *line = 0,
                        b'\r' => {}
                        _ => {
                            *line += 1;
                            if *line > CHUNK_LINE_MAX {
                                return (i + 1, ChunkNext::Lost);
                            }
                        }
                    }
                }
                (data.len(), ChunkNext::Stay)
            }
        }
    }
}

fn parse_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "A header field name is invalid.",
        httparse::Error::HeaderValue => "A header field value is invalid.",
        httparse::Error::NewLine => "A line break is invalid.",
        httparse::Error::Status => "The request line is invalid.",
        httparse::Error::Token => "The method or a token is invalid.",
        httparse::Error::TooManyHeaders => "There are too many header fields.",
        httparse::Error::Version => "The HTTP version is invalid.",
    }
}

/// actix's checks of a complete head (`MessageType::set_headers` and
/// `Request::decode`), and the body they choose.
fn framing(req: &httparse::Request<'_, '_>) -> Result<Framing, &'static str> {
    let method = req.method.and_then(|m| Method::from_bytes(m.as_bytes()).ok()).ok_or("The method is invalid.")?;
    req.path.and_then(|p| Uri::try_from(p).ok()).ok_or("The request target is invalid.")?;
    let http11 = req.version == Some(1);
    let (mut length, mut chunked, mut websocket) = (None::<u64>, false, false);
    let (mut seen_te, mut any_te, mut seen_host) = (false, false, false);
    for h in req.headers.iter() {
        let name = h.name;
        let value = std::str::from_utf8(h.value).ok();
        if name.eq_ignore_ascii_case("content-length") {
            if length.is_some() {
                return Err("`Content-Length` is repeated.");
            }
            let v = value.map(str::trim).filter(|v| !v.starts_with('+'));
            length = Some(v.and_then(|v| v.parse().ok()).ok_or("`Content-Length` is not a number.")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            any_te = true;
            if seen_te {
                return Err("`Transfer-Encoding` is repeated.");
            }
            if http11 {
                seen_te = true;
                match value.map(str::trim) {
                    Some(v) if v.eq_ignore_ascii_case("chunked") => chunked = true,
                    Some(v) if v.eq_ignore_ascii_case("identity") => {}
                    _ => return Err("`Transfer-Encoding` must be `chunked`."),
                }
            }
        } else if name.eq_ignore_ascii_case("host") {
            if seen_host {
                return Err("`Host` is repeated.");
            }
            seen_host = true;
        } else if name.eq_ignore_ascii_case("upgrade") {
            websocket |= value.is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket"));
        }
    }
    if http11 && !seen_host {
        return Err("An HTTP/1.1 request needs `Host`.");
    }
    if any_te {
        if !http11 {
            return Err("`Transfer-Encoding` is not allowed in HTTP/1.0.");
        }
        if !chunked {
            return Err("`Transfer-Encoding` must be `chunked`.");
        }
        if length.is_some() {
            return Err("`Content-Length` and `Transfer-Encoding` exclude each other.");
        }
    }
    if !http11 && method == Method::POST && length.is_none() {
        return Err("An HTTP/1.0 POST needs `Content-Length`.");
    }
    Ok(if chunked {
        Framing::Chunked
    } else if websocket {
        Framing::Unframed
    } else if let Some(n) = length.filter(|&n| n > 0) {
        Framing::Length(n)
    } else if method == Method::CONNECT {
        Framing::Unframed
    } else {
        Framing::None
    })
}

/// The value of `X-Request-Id` among the complete header lines of `head`,
/// if it is an acceptable id.
fn request_id_in(head: &[u8]) -> Option<String> {
    const NAME: &[u8] = b"x-request-id:";
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        // Names first, as bytes: most lines are not this one.
        if line.len() < NAME.len() || !line[..NAME.len()].eq_ignore_ascii_case(NAME) {
            return None;
        }
        let value = std::str::from_utf8(&line[NAME.len()..]).ok()?;
        crate::request_id::RequestId::parse(value.trim()).map(|id| id.as_str().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(parts: &[&[u8]]) -> (Scanner, Result<Progress, Refused>) {
        let mut s = Scanner::default();
        let mut total = Progress::default();
        for p in parts {
            match s.feed(p) {
                Ok(p) => {
                    total.heads += p.heads;
                    total.request_id = p.request_id.or(total.request_id);
                }
                Err(e) => return (s, Err(e)),
            }
        }
        (s, Ok(total))
    }

    fn refusal(parts: &[&[u8]]) -> Refusal {
        scan(parts).1.unwrap_err().refusal
    }

    #[test]
    fn follows_heads_and_bodies_across_reads() {
        let (s, p) = scan(&[
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nContent-Len",
            b"gth: 5\r\n\r\n12",
        ]);
        assert_eq!(p.unwrap().heads, 2);
        assert_eq!(s.phase(), Phase::Body);
        let (s, _) = scan(&[b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n12345GET / HTTP/1.1\r\n"]);
        assert_eq!(s.phase(), Phase::Head);
        let (s, _) = scan(&[b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"]);
        assert_eq!(s.phase(), Phase::Idle);
        let (s, _) = scan(&[b"\r\nGET / HTTP/1.0\r\n\r\n"]);
        assert_eq!(s.phase(), Phase::Idle);
    }

    #[test]
    fn follows_chunked_bodies() {
        let head: &[u8] = b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        let (s, _) = scan(&[head, b"5;ext=1\r\nhel", b"lo\r\n0\r\n"]);
        assert_eq!(s.phase(), Phase::Body);
        let (s, _) = scan(&[head, b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"]);
        assert_eq!(s.phase(), Phase::Idle);
        let (s, _) = scan(&[head, b"zz\r\n"]);
        assert_eq!(s.phase(), Phase::Unframed);
    }

    #[test]
    fn refuses_long_request_lines_large_heads_and_many_fields() {
        let long = format!("GET /?q={} HTTP/1.1\r\n", "a".repeat(REQUEST_LINE_MAX));
        assert_eq!(refusal(&[long.as_bytes()]), Refusal::UriTooLong);
        let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n", "a".repeat(HEAD_MAX));
        assert_eq!(refusal(&[big.as_bytes()]), Refusal::HeadTooLarge);
        let many: String = (0..=HEADERS_MAX).map(|i| format!("X-{i}: 1\r\n")).collect();
        let head = format!("GET / HTTP/1.1\r\n{many}");
        assert_eq!(refusal(&[head.as_bytes()]), Refusal::HeadTooLarge);
        let fields: String = (1..HEADERS_MAX).map(|i| format!("X-{i}: 1\r\n")).collect();
        let (_, ok) = scan(&[format!("GET / HTTP/1.1\r\nHost: a\r\n{fields}\r\n").as_bytes()]);
        assert!(ok.is_ok(), "{HEADERS_MAX} fields in all pass");
    }

    #[test]
    fn refuses_what_actix_refuses() {
        assert!(matches!(refusal(&[b"GET / HTTP/1.1\r\nBad Name: x\r\n"]), Refusal::Malformed(_)));
        assert!(matches!(refusal(&[b"GET / HTTP/1.1\r\n\r\n"]), Refusal::Malformed(_)), "no Host");
        let both = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(refusal(&[both]), Refusal::Malformed(_)));
        assert!(matches!(
            refusal(&[b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n"]),
            Refusal::Malformed(_)
        ));
        assert!(matches!(refusal(&[b"POST / HTTP/1.0\r\n\r\n"]), Refusal::Malformed(_)));
        assert!(matches!(refusal(&[b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"]), Refusal::Malformed(_)));
    }

    /// The outcome (heads, request ids, phase, or the refusal) of `bytes`
    /// read in pieces of the given sizes.
    fn outcome(bytes: &[u8], cuts: &[usize]) -> String {
        let mut parts = Vec::new();
        let mut rest = bytes;
        for &cut in cuts {
            let (part, tail) = rest.split_at(cut.min(rest.len()));
            parts.push(part);
            rest = tail;
        }
        parts.push(rest);
        let (s, result) = scan(&parts);
        match result {
            Ok(p) => format!("{} heads, {:?}", p.heads, s.phase()),
            Err(e) => match e.refusal {
                // Where httparse stops on a partial head may name another cause.
                Refusal::Malformed(_) => "malformed".to_owned(),
                other => format!("{other:?}"),
            },
        }
    }

    proptest::proptest! {
        /// However the network splits the bytes, the scanner sees the same
        /// requests (it works a line or a part of one at a time).
        #[test]
        fn any_split_reads_the_same(
            lines in proptest::collection::vec(proptest::sample::select(vec![
                "GET /me HTTP/1.1\r\n", "POST /x HTTP/1.1\r\n", "Host: a\r\n", "X-Request-Id: t-1\r\n",
                "Authorization: Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln\r\n", "Content-Length: 3\r\n",
                "Transfer-Encoding: chunked\r\n", "\r\n", "abc", "3\r\nabc\r\n0\r\n\r\n", "Bad Name: x\r\n", "\n",
            ]), 0..24),
            cuts in proptest::collection::vec(0usize..64, 0..12),
        ) {
            let bytes = lines.concat();
            let whole = outcome(bytes.as_bytes(), &[]);
            proptest::prop_assert_eq!(&outcome(bytes.as_bytes(), &cuts), &whole);
            proptest::prop_assert_eq!(&outcome(bytes.as_bytes(), &vec![1; bytes.len()]), &whole, "a byte at a time");
        }
    }

    #[test]
    fn keeps_the_callers_request_id() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: trace-1\r\n\r\n";
        assert_eq!(scan(&[head]).1.unwrap().request_id.as_deref(), Some("trace-1"));
        let big = format!("GET / HTTP/1.1\r\nx-request-id: trace-2\r\nX-Big: {}\r\n", "a".repeat(HEAD_MAX));
        assert_eq!(scan(&[big.as_bytes()]).1.unwrap_err().request_id.as_deref(), Some("trace-2"));
    }
}
