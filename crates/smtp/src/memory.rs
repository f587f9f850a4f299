//! An in-memory mailer for tests and development.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use roster_domain::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};

/// Keeps every sent message; can be told to fail (for retry tests).
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
    failure: Mutex<Option<MailError>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemoryMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages sent so far, oldest first.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        lock(&self.sent).clone()
    }

    /// While `Some`, every send fails with (a clone of) this error and records nothing.
    pub fn set_failure(&self, failure: Option<MailError>) {
        *lock(&self.failure) = failure;
    }

    /// Forgets the messages sent so far.
    pub fn clear(&self) {
        lock(&self.sent).clear();
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        if let Some(err) = lock(&self.failure).clone() {
            return Err(err);
        }
        lock(&self.sent).push(mail.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::values::Email;

    fn mail(id: &str) -> OutgoingMail {
        OutgoingMail {
            message_id: id.into(),
            to: Email::from_trusted("a@example.com".into()),
            to_name: None,
            subject: "s".into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
        }
    }

    #[tokio::test]
    async fn records_and_fails_on_demand() {
        let m = MemoryMailer::new();
        m.send(&mail("<1@x>")).await.unwrap();
        m.set_failure(Some(MailError::Unavailable("down".into())));
        assert_eq!(m.send(&mail("<2@x>")).await, Err(MailError::Unavailable("down".into())));
        m.set_failure(None);
        m.send(&mail("<3@x>")).await.unwrap();
        let ids: Vec<_> = m.sent().into_iter().map(|m| m.message_id).collect();
        assert_eq!(ids, ["<1@x>", "<3@x>"]);
    }
}
