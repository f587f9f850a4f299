//! Roster's mail: the [`Composer`] that renders letters from the embedded
//! templates (a [`MailComposer`](roster_domain::ports::MailComposer)), and
//! the [`Mailer`] adapters: an SMTP relay ([`SmtpMailer`], on lettre), a
//! directory of `.eml` files ([`FileMailer`]) and memory ([`MemoryMailer`]).
//!
//! ```no_run
//! # fn example() -> Result<(), roster_smtp::ConfigError> {
//! let cfg = roster_smtp::MailerConfig::default();
//! let mailer = roster_smtp::from_url("smtp://user:secret@mail.example.com:587", &cfg)?;
//! # Ok(()) }
//! ```

mod compose;
mod config;
mod file;
mod memory;
mod message;
mod smtp;

use std::sync::Arc;

use roster_domain::ports::Mailer;

pub use compose::{Composer, ComposerConfig, LinkTemplates, LOCALES};
pub use config::{ConfigError, Endpoint, MailerConfig, TlsMode};
pub use file::FileMailer;
pub use memory::MemoryMailer;
pub use smtp::SmtpMailer;

/// Builds a mailer from a URL:
///
/// - `smtp://[user:pass@]host[:port]`: STARTTLS required (port 587);
///   `?tls=opportunistic` or `?tls=none` (plain, port 25; for loopback test servers);
/// - `smtps://[user:pass@]host[:port]`: implicit TLS (port 465);
/// - `file:///some/dir`: one `.eml` file per message in that directory.
///
/// Errors never contain the password.
pub fn from_url(url: &str, cfg: &MailerConfig) -> Result<Arc<dyn Mailer>, ConfigError> {
    if let Some(path) = url.strip_prefix("file://") {
        if path.is_empty() {
            return Err(ConfigError::InvalidUrl("file:// URL without a directory".into()));
        }
        return Ok(Arc::new(FileMailer::new(path, cfg)?));
    }
    Ok(Arc::new(SmtpMailer::new(&Endpoint::parse(url)?, cfg)?))
}
