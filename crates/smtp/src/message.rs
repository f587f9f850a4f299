//! Renders an [`OutgoingMail`] as an RFC 5322 message.

use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};
use roster_domain::{mail::OutgoingMail, ports::MailError};

use crate::ConfigError;

pub(crate) fn parse_from(from: &str) -> Result<Mailbox, ConfigError> {
    from.parse::<Mailbox>().map_err(|_| ConfigError::From(from.to_owned()))
}

/// A multipart/alternative (text + HTML, UTF-8) message with the mail's own Message-ID.
pub(crate) fn build(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, MailError> {
    let address: Address =
        mail.to.as_str().parse().map_err(|e| MailError::Internal(format!("bad recipient address: {e}")))?;
    let to = Mailbox::new(mail.to_name.clone().filter(|n| !n.trim().is_empty()), address);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()))
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| MailError::Internal(format!("cannot build message: {e}")))
}
