//! The SMTP relay adapter.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use roster_domain::ports::{MailError, Mailer, OutgoingMail};

use crate::config::{ConfigError, Endpoint, MailerConfig, TlsMode};
use crate::message;

/// Sends through an SMTP relay; one connection per message.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    endpoint: String,
    /// Bound on a whole exchange: lettre's per-command timeout does not cover
    /// waiting for the greeting, so a relay that accepts and stays silent would hang.
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
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(endpoint.host.clone())
            .port(endpoint.port)
            .tls(tls)
            .timeout(Some(cfg.timeout));
        if let (Some(user), Some(password)) = (&endpoint.user, &endpoint.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let deadline = cfg.timeout.saturating_mul(3);
        Ok(SmtpMailer { transport: builder.build(), from, endpoint: endpoint.to_string(), deadline })
    }

    /// Parses the URL (see [`crate::from_url`]) and builds the mailer.
    pub fn from_url(url: &str, cfg: &MailerConfig) -> Result<SmtpMailer, ConfigError> {
        SmtpMailer::new(&Endpoint::parse(url)?, cfg)
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
        let outcome = match tokio::time::timeout(self.deadline, self.transport.send(msg)).await {
            Ok(outcome) => outcome.map_err(|e| map_error(&e)),
            Err(_) => Err(MailError::Unavailable(format!("relay did not answer within {:?}", self.deadline))),
        };
        match outcome {
            Ok(_) => {
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
