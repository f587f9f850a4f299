//! Mail leaving Roster: composing letters, sealing them for the outbox and
//! handing them to a relay.

use async_trait::async_trait;

use crate::mail::{Letter, OutgoingMail};

/// Renders letters: subject, plain text and HTML in the recipient's locale
/// (falling back to English), with links built from the configured URL
/// template of each flow. Pure and fast; no I/O.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait MailComposer: Send + Sync + 'static {
    /// `Err` only for a broken template (a bug), with its cause.
    fn compose(&self, letter: &Letter) -> Result<OutgoingMail, String>;
}

/// Authenticated encryption of queued messages at rest: they carry live
/// tokens, which the store otherwise keeps only hashed.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Sealer: Send + Sync + 'static {
    fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, String>;
    /// `Err` when the bytes were not sealed with this key or were altered.
    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String>;
}

/// Why a message was not handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The relay is down, refused us temporarily (4xx) or timed out: retry later.
    #[error("mail relay unavailable: {0}")]
    Unavailable(String),
    /// The relay refused this message for good (5xx, e.g. an unknown mailbox):
    /// retrying will not help.
    #[error("mail rejected: {0}")]
    Rejected(String),
    /// Anything else (a broken message, a local I/O failure).
    #[error("mail failure: {0}")]
    Internal(String),
}

/// Hands messages to a mail relay (SMTP), a directory of `.eml` files, or
/// memory. The sender address is the adapter's configuration.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}
