//! The SMTP relay adapter.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::io::{AsyncRead as _, AsyncWrite as _};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
#[allow(deprecated)] // "not meant to be public", but the only way to reuse lettre's TLS setup
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use roster_domain::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};
use tokio::io::ReadBuf;
use tokio::net::TcpStream;

use crate::config::{ConfigError, Endpoint, MailerConfig, TlsMode};
use crate::message;

/// Sends through an SMTP relay; one connection per message.
///
/// Does what lettre's `AsyncSmtpTransport` (no pool) does, on a socket of its own
/// with `TCP_NODELAY`: lettre writes the message and the final `.` separately, and
/// with Nagle's algorithm the `.` waits for the relay's delayed ACK (~40 ms a message).
pub struct SmtpMailer {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    /// The EHLO name (lettre's default: this machine's host name).
    hello: ClientId,
    /// Bounds the TCP connect (per address), as lettre's transport `timeout` does.
    timeout: Duration,
    from: Mailbox,
    endpoint: String,
    /// Bound on a whole exchange: lettre's async client does not time out commands,
    /// so a relay that accepts and stays silent would hang.
    deadline: Duration,
}

impl SmtpMailer {
    pub fn new(endpoint: &Endpoint, cfg: &MailerConfig) -> Result<SmtpMailer, ConfigError> {
        let from = message::parse_from(&cfg.from)?;
        let tls_params = || TlsParameters::new(endpoint.host.clone()).map_err(|e| ConfigError::Tls(e.to_string()));
        let tls = match endpoint.tls {
            TlsMode::Implicit => Tls::Wrapper(tls_params()?),
            TlsMode::Required => Tls::Required(tls_params()?),
            TlsMode::Opportunistic => Tls::Opportunistic(tls_params()?),
            TlsMode::None => Tls::None,
        };
        let credentials = match (&endpoint.user, &endpoint.password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.clone())),
            _ => None,
        };
        Ok(SmtpMailer {
            host: endpoint.host.clone(),
            port: endpoint.port,
            tls,
            credentials,
            hello: ClientId::default(),
            timeout: cfg.timeout,
            from,
            endpoint: endpoint.to_string(),
            deadline: cfg.timeout.saturating_mul(3),
        })
    }

    /// Parses the URL (see [`crate::from_url`]) and builds the mailer.
    pub fn from_url(url: &str, cfg: &MailerConfig) -> Result<SmtpMailer, ConfigError> {
        SmtpMailer::new(&Endpoint::parse(url)?, cfg)
    }

    /// One message, one connection; QUIT at the end (its reply ignored), as lettre does.
    async fn deliver(&self, msg: &Message) -> Result<(), MailError> {
        let mut conn = self.connect().await?;
        let sent = conn.send(msg.envelope(), &msg.formatted()).await;
        conn.abort().await;
        sent.map(drop).map_err(|e| map_error(&e))
    }

    /// Greeting, EHLO, TLS and AUTH, as `AsyncSmtpTransport::connection` does.
    async fn connect(&self) -> Result<AsyncSmtpConnection, MailError> {
        let tcp = self.connect_tcp().await?;
        let stream: Box<dyn AsyncTokioStream> = match &self.tls {
            Tls::Wrapper(params) => Box::new(ImplicitTls::handshake(tcp, params.clone()).await?),
            _ => Box::new(tcp),
        };
        let lettre = |e: lettre::transport::smtp::Error| map_error(&e);
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await.map_err(lettre)?;
        match &self.tls {
            // Fails (client error: `Internal`) when the relay does not offer STARTTLS.
            Tls::Required(params) => conn.starttls(params.clone(), &self.hello).await.map_err(lettre)?,
            Tls::Opportunistic(params) if conn.can_starttls() => {
                conn.starttls(params.clone(), &self.hello).await.map_err(lettre)?
            }
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await.map_err(lettre)?;
        }
        Ok(conn)
    }

    /// Tries each address of the relay in turn, `timeout` each, like lettre.
    async fn connect_tcp(&self) -> Result<TcpStream, MailError> {
        let failed = |e: io::Error| MailError::Unavailable(format!("Connection error: {e}"));
        let mut last = io::Error::new(io::ErrorKind::NotFound, "could not resolve to any address");
        for addr in tokio::net::lookup_host((self.host.as_str(), self.port)).await.map_err(failed)? {
            match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(tcp)) => {
                    tcp.set_nodelay(true).map_err(failed)?;
                    return Ok(tcp);
                }
                Ok(Err(e)) => last = e,
                Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, "connection timed out"),
            }
        }
        Err(failed(last))
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer").field("endpoint", &self.endpoint).field("from", &self.from).finish()
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let msg = message::build(&self.from, mail)?;
        let outcome = match tokio::time::timeout(self.deadline, self.deliver(&msg)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(MailError::Unavailable(format!("relay did not answer within {:?}", self.deadline))),
        };
        match outcome {
            Ok(()) => {
                tracing::info!(relay = %self.endpoint, message_id = %mail.message_id, "mail handed to relay");
                Ok(())
            }
            Err(err) => {
                tracing::warn!(relay = %self.endpoint, message_id = %mail.message_id, error = %err, "mail not sent");
                Err(err)
            }
        }
    }
}

/// `smtps://`: lettre's TLS session on our socket, handed back to lettre as a plain
/// stream, since lettre can only start an SMTP session on a stream it has not wrapped.
#[allow(deprecated)]
#[derive(Debug)]
struct ImplicitTls(AsyncNetworkStream);

#[allow(deprecated)]
impl ImplicitTls {
    async fn handshake(tcp: TcpStream, params: TlsParameters) -> Result<ImplicitTls, MailError> {
        let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
        stream.upgrade_tls(params).await.map_err(|e| map_error(&e))?;
        Ok(ImplicitTls(stream))
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}

// Tokio's I/O traits over lettre's (futures') ones.
impl tokio::io::AsyncRead for ImplicitTls {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = ready!(Pin::new(&mut self.0).poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for ImplicitTls {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// What a failed SMTP exchange means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Retry later: connection refused/lost, timeout, 4xx, TLS trouble.
    Unavailable,
    /// 5xx: retrying will not help.
    Rejected,
    /// A bug on our side (e.g. a message lettre cannot send).
    Internal,
}

pub(crate) fn classify(permanent: bool, transient: bool, timeout: bool, client: bool) -> Class {
    if permanent {
        Class::Rejected
    } else if transient || timeout {
        Class::Unavailable
    } else if client {
        Class::Internal
    } else {
        // Network, connection, TLS, malformed response, shutdown.
        Class::Unavailable
    }
}

pub(crate) fn map_error(e: &lettre::transport::smtp::Error) -> MailError {
    let text = e.to_string();
    match classify(e.is_permanent(), e.is_transient(), e.is_timeout(), e.is_client()) {
        Class::Unavailable => MailError::Unavailable(text),
        Class::Rejected => MailError::Rejected(text),
        Class::Internal => MailError::Internal(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(true, false, false, false), Class::Rejected);
        assert_eq!(classify(false, true, false, false), Class::Unavailable);
        assert_eq!(classify(false, false, true, false), Class::Unavailable);
        assert_eq!(classify(false, false, false, true), Class::Internal);
        assert_eq!(classify(false, false, false, false), Class::Unavailable);
    }

    #[test]
    fn debug_hides_password() {
        let cfg = MailerConfig { from: "Roster <no-reply@localhost>".into(), timeout: Duration::from_secs(1) };
        let m = SmtpMailer::from_url("smtp://bob:hunter2@mail.example.com", &cfg).unwrap();
        let shown = format!("{m:?}");
        assert!(!shown.contains("hunter2") && shown.contains("bob@mail.example.com:587"), "{shown}");
    }

    #[test]
    fn bad_from_is_a_config_error() {
        let cfg = MailerConfig { from: "not an address".into(), timeout: Duration::from_secs(1) };
        assert!(matches!(SmtpMailer::from_url("smtp://h", &cfg), Err(ConfigError::From(_))));
    }
}
