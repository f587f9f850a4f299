//! Writes each message as an `.eml` file (development, debugging).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use lettre::message::Mailbox;
use roster_domain::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};

use crate::config::{ConfigError, MailerConfig};
use crate::message;

/// Writes `<dir>/<sanitized message id>.eml`, creating `dir` when needed.
/// Resending a message (same Message-ID) overwrites its file.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>, cfg: &MailerConfig) -> Result<FileMailer, ConfigError> {
        Ok(FileMailer { dir: dir.into(), from: message::parse_from(&cfg.from)? })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the message with this Message-ID is written.
    pub fn path_for(&self, message_id: &str) -> PathBuf {
        self.dir.join(format!("{}.eml", sanitize(message_id)))
    }
}

/// Keeps `[A-Za-z0-9._@+-]`, replaces the rest with `_`; no leading dot.
pub(crate) fn sanitize(message_id: &str) -> String {
    let s: String = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .chars()
        .take(200)
        .map(|c| if c.is_ascii_alphanumeric() || "._@+-".contains(c) { c } else { '_' })
        .collect();
    let s = s.trim_start_matches('.');
    if s.is_empty() {
        "message".to_owned()
    } else {
        s.to_owned()
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let bytes = message::build(&self.from, mail)?.formatted();
        let path = self.path_for(&mail.message_id);
        let tmp = path.with_extension("eml.tmp");
        let io = |what: &str, e: std::io::Error| MailError::Internal(format!("{what} {}: {e}", path.display()));
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| io("cannot create directory for", e))?;
        tokio::fs::write(&tmp, &bytes).await.map_err(|e| io("cannot write", e))?;
        tokio::fs::rename(&tmp, &path).await.map_err(|e| io("cannot write", e))?;
        tracing::info!(path = %path.display(), message_id = %mail.message_id, "mail written to file");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::values::Email;

    #[test]
    fn sanitizes_ids() {
        assert_eq!(sanitize("<0192-ab@roster.example>"), "0192-ab@roster.example");
        assert_eq!(sanitize("<../../etc/passwd>"), "_.._etc_passwd");
        assert_eq!(sanitize("<>"), "message");
    }

    #[tokio::test]
    async fn writes_a_complete_message() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out/mail");
        let m = FileMailer::new(&dir, &MailerConfig::default()).unwrap();
        let mail = OutgoingMail {
            message_id: "<abc-123@roster.test>".into(),
            to: Email::from_trusted("alice@example.com".into()),
            to_name: Some("Alice Ærø".into()),
            subject: "Ændr din adgangskode".into(),
            text: "Hej Alice".into(),
            html: "<p>Hej Alice</p>".into(),
        };
        m.send(&mail).await.unwrap();
        let path = dir.join("abc-123@roster.test.eml");
        assert_eq!(m.path_for(&mail.message_id), path);
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(raw.contains("Message-ID: <abc-123@roster.test>"), "{raw}");
        assert!(raw.contains("From: Roster <no-reply@localhost>"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("\r\n\r\n"), "headers and body separated");
        assert!(raw.contains("Date: "), "{raw}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
    }
}
