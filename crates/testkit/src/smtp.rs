//! An in-process SMTP server on loopback that records what it receives.
//!
//! A minimal but correct RFC 5321 subset: greeting, EHLO/HELO (advertises
//! `8BITMIME` and `SIZE`, no STARTTLS, no AUTH), MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT; `502` for anything else.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let server = roster_testkit::TestSmtpServer::start().await?;
//! // ... point a mailer at server.url() and send ...
//! let mails = server.wait_for(1, std::time::Duration::from_secs(5)).await;
//! let parsed = roster_testkit::smtp::parse(&mails[0].data);
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// Largest message accepted (advertised with `SIZE`).
pub const MAX_SIZE: usize = 10 * 1024 * 1024;
const MAX_LINE: usize = 4096;

/// One message as received: the envelope and the raw data (CRLF line ends,
/// dot-unstuffed, without the final `.` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    down: AtomicBool,
    rcpt_reply: Mutex<Option<String>>,
    arrived: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The server; stops (with all its sessions) when dropped.
pub struct TestSmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl TestSmtpServer {
    /// Listens on `127.0.0.1:0`; one task per connection.
    pub async fn start() -> anyhow::Result<TestSmtpServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(TestSmtpServer { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `smtp://127.0.0.1:PORT?tls=none`.
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    /// Everything received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.shared.messages).clone()
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.messages();
            }
        }
    }

    /// While down, new connections get `421 service not available` and are closed.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Answer every `RCPT TO` with this reply instead of `250`, e.g.
    /// `"550 5.1.1 no such user"` or `"451 4.3.0 try again later"`.
    pub fn set_rcpt_reply(&self, reply: Option<&str>) {
        *lock(&self.shared.rcpt_reply) = reply.map(str::to_owned);
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every session.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(serve(stream, shared.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "test SMTP server: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    if let Err(e) = session(BufReader::new(read), write, &shared).await {
        tracing::debug!(error = %e, "test SMTP session ended");
    }
}

/// Reads one line (up to `limit` bytes, including the line end). `None` at EOF.
async fn read_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = (&mut *r).take(limit as u64).read_until(b'\n', &mut line).await?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") && n >= limit {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "line too long"));
    }
    Ok(Some(line))
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The path in `FROM:<path> [params]` / `TO:<path> [params]`, if well-formed.
fn path_arg(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_owned())
}

async fn reply<W: AsyncWrite + Unpin>(w: &mut W, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes()).await?;
    w.write_all(b"\r\n").await?;
    w.flush().await
}

async fn session<R, W>(mut r: BufReader<R>, mut w: W, shared: &Shared) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if shared.down.load(Ordering::SeqCst) {
        reply(&mut w, "421 localhost service not available").await?;
        return w.shutdown().await;
    }
    reply(&mut w, "220 localhost roster test SMTP ready").await?;
    let mut greeted = false;
    let mut from: Option<String> = None;
    let mut recipients: Vec<String> = Vec::new();
    while let Some(line) = read_line(&mut r, MAX_LINE).await? {
        let line = String::from_utf8_lossy(trim_eol(&line)).into_owned();
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_owned()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        match verb.as_str() {
            "EHLO" | "HELO" if arg.is_empty() => reply(&mut w, "501 5.5.4 domain required").await?,
            "EHLO" => {
                greeted = true;
                (from, recipients) = (None, Vec::new());
                let text = format!("250-localhost greets {arg}\r\n250-8BITMIME\r\n250-SIZE {MAX_SIZE}\r\n250 OK");
                reply(&mut w, &text).await?;
            }
            "HELO" => {
                greeted = true;
                (from, recipients) = (None, Vec::new());
                reply(&mut w, "250 localhost").await?;
            }
            "MAIL" if !greeted => reply(&mut w, "503 5.5.1 EHLO first").await?,
            "MAIL" if from.is_some() => reply(&mut w, "503 5.5.1 nested MAIL").await?,
            "MAIL" => match path_arg(&arg, "FROM:") {
                Some(path) => {
                    from = Some(path);
                    reply(&mut w, "250 2.1.0 OK").await?;
                }
                None => reply(&mut w, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" if from.is_none() => reply(&mut w, "503 5.5.1 MAIL first").await?,
            "RCPT" => match path_arg(&arg, "TO:") {
                Some(path) if !path.is_empty() => {
                    let forced = lock(&shared.rcpt_reply).clone();
                    match forced {
                        Some(text) => reply(&mut w, &text).await?,
                        None => {
                            recipients.push(path);
                            reply(&mut w, "250 2.1.5 OK").await?;
                        }
                    }
                }
                _ => reply(&mut w, "501 5.5.4 syntax: RCPT TO:<address>").await?,
            },
            "DATA" if recipients.is_empty() => reply(&mut w, "503 5.5.1 RCPT first").await?,
            "DATA" => {
                reply(&mut w, "354 end data with <CR><LF>.<CR><LF>").await?;
                let Some(data) = read_data(&mut r).await? else {
                    return Ok(());
                };
                let envelope_from = from.take().unwrap_or_default();
                let rcpts = std::mem::take(&mut recipients);
                match data {
                    Some(data) => {
                        lock(&shared.messages).push(ReceivedMail { from: envelope_from, recipients: rcpts, data });
                        shared.arrived.notify_waiters();
                        reply(&mut w, "250 2.0.0 OK queued").await?;
                    }
                    None => reply(&mut w, "552 5.3.4 message too big").await?,
                }
            }
            "RSET" => {
                (from, recipients) = (None, Vec::new());
                reply(&mut w, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut w, "250 2.0.0 OK").await?,
            "QUIT" => {
                reply(&mut w, "221 2.0.0 bye").await?;
                return w.shutdown().await;
            }
            _ => reply(&mut w, "502 5.5.2 command not implemented").await?,
        }
    }
    Ok(())
}

/// Reads DATA up to the lone `.` line. `None`: the client went away;
/// `Some(None)`: the message exceeded [`MAX_SIZE`] (read and discarded).
async fn read_data<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> std::io::Result<Option<Option<Vec<u8>>>> {
    let mut data = Vec::new();
    let mut too_big = false;
    loop {
        let Some(line) = read_line(r, 1000 * 1000).await? else {
            return Ok(None);
        };
        let content = trim_eol(&line);
        if content == b"." {
            return Ok(Some(if too_big { None } else { Some(data) }));
        }
        let content = content.strip_prefix(b".").unwrap_or(content);
        if data.len() + content.len() + 2 > MAX_SIZE {
            too_big = true;
            data.clear();
        }
        if !too_big {
            data.extend_from_slice(content);
            data.extend_from_slice(b"\r\n");
        }
    }
}

/// A mailbox from a parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAddress {
    pub name: Option<String>,
    pub address: String,
}

/// The parts of a received message tests usually look at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedMail {
    pub subject: Option<String>,
    pub to: Vec<ParsedAddress>,
    /// Without the angle brackets.
    pub message_id: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// Parses raw RFC 5322 data (MIME decoded, UTF-8). Unparseable data gives an empty [`ParsedMail`].
pub fn parse(raw: &[u8]) -> ParsedMail {
    let Some(msg) = mail_parser::MessageParser::default().parse(raw) else {
        return ParsedMail::default();
    };
    let to = msg
        .to()
        .map(|a| {
            a.iter()
                .map(|addr| ParsedAddress {
                    name: addr.name().map(str::to_owned),
                    address: addr.address().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    ParsedMail {
        subject: msg.subject().map(str::to_owned),
        to,
        message_id: msg.message_id().map(str::to_owned),
        text: msg.body_text(0).map(|s| s.into_owned()),
        html: msg.body_html(0).map(|s| s.into_owned()),
    }
}
