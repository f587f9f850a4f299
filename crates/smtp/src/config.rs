//! Mailer configuration and SMTP URL parsing.

use std::fmt;
use std::time::Duration;

/// Settings shared by all mailers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailerConfig {
    /// The sender, e.g. `Roster <no-reply@localhost>`.
    pub from: String,
    /// Connect / command timeout for SMTP.
    pub timeout: Duration,
}

impl Default for MailerConfig {
    fn default() -> Self {
        MailerConfig { from: "Roster <no-reply@localhost>".into(), timeout: Duration::from_secs(10) }
    }
}

/// A mailer that cannot be built. The Display never contains a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid mailer URL: {0}")]
    InvalidUrl(String),
    #[error("unsupported mailer URL scheme {0:?} (expected smtp, smtps or file)")]
    Scheme(String),
    #[error("unsupported tls mode {0:?} (expected required, opportunistic or none)")]
    TlsMode(String),
    #[error("invalid sender address {0:?}")]
    From(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://` (default, or `?tls=required`): STARTTLS, refusing a relay without it.
    Required,
    /// `smtp://...?tls=opportunistic`: STARTTLS when offered.
    Opportunistic,
    /// `smtp://...?tls=none`: plain text (loopback test servers only).
    None,
}

/// A parsed SMTP URL. Debug and Display hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: Option<String>,
    pub(crate) password: Option<String>,
}

impl Endpoint {
    /// Parses `smtp://[user:pass@]host[:port][?tls=required|opportunistic|none]`
    /// or `smtps://[user:pass@]host[:port]`.
    pub fn parse(raw: &str) -> Result<Endpoint, ConfigError> {
        // url::ParseError's Display never echoes the input.
        let url = url::Url::parse(raw).map_err(|e| ConfigError::InvalidUrl(e.to_string()))?;
        let tls_param = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let tls = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", None | Some("required") | Some("wrapper")) => TlsMode::Implicit,
            ("smtp", None | Some("required")) => TlsMode::Required,
            ("smtp", Some("opportunistic")) => TlsMode::Opportunistic,
            ("smtp", Some("none")) => TlsMode::None,
            ("smtp" | "smtps", Some(other)) => return Err(ConfigError::TlsMode(other.to_owned())),
            (scheme, _) => return Err(ConfigError::Scheme(scheme.to_owned())),
        };
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
            _ => return Err(ConfigError::InvalidUrl("no host".into())),
        };
        let port = url.port().unwrap_or(match tls {
            TlsMode::Implicit => 465,
            TlsMode::Required | TlsMode::Opportunistic => 587,
            TlsMode::None => 25,
        });
        let decode = |s: &str, what: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .ok_or_else(|| ConfigError::InvalidUrl(format!("bad {what} encoding")))
        };
        let user = if url.username().is_empty() { None } else { Some(decode(url.username(), "user name")?) };
        let password = match url.password() {
            Some(p) => Some(decode(p, "password")?),
            None => None,
        };
        if password.is_some() && user.is_none() {
            return Err(ConfigError::InvalidUrl("password without a user name".into()));
        }
        Ok(Endpoint { host, port, tls, user, password })
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
}

impl fmt::Display for Endpoint {
    /// `smtp://user@host:port (STARTTLS required)`: never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls == TlsMode::Implicit { "smtps" } else { "smtp" };
        write!(f, "{scheme}://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        write!(f, "{}:{} ({:?})", self.host, self.port, self.tls)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_required_starttls() {
        let e = Endpoint::parse("smtp://mail.example.com").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("mail.example.com", 587, TlsMode::Required));
        assert_eq!(e.user, None);
        assert!(!e.has_password());
    }

    #[test]
    fn tls_modes_and_ports() {
        let e = Endpoint::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((e.port, e.tls), (2525, TlsMode::None));
        assert_eq!(Endpoint::parse("smtp://h?tls=none").unwrap().port, 25);
        assert_eq!(Endpoint::parse("smtp://h?tls=opportunistic").unwrap().tls, TlsMode::Opportunistic);
        let e = Endpoint::parse("smtps://h").unwrap();
        assert_eq!((e.port, e.tls), (465, TlsMode::Implicit));
        assert!(matches!(Endpoint::parse("smtp://h?tls=bogus"), Err(ConfigError::TlsMode(_))));
        assert!(matches!(Endpoint::parse("http://h"), Err(ConfigError::Scheme(_))));
        assert!(matches!(Endpoint::parse("not a url"), Err(ConfigError::InvalidUrl(_))));
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let e = Endpoint::parse("smtp://al%40ice:s3cr%2Bt%3Apw@mail.example.com:587").unwrap();
        assert_eq!(e.user.as_deref(), Some("al@ice"));
        assert_eq!(e.password.as_deref(), Some("s3cr+t:pw"));
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains("s3cr"), "{shown}");
            assert!(shown.contains("al@ice"), "{shown}");
        }
    }

    #[test]
    fn errors_never_contain_the_password() {
        for url in ["smtp://u:hunter2@h?tls=bogus", "smtp://u:hunter2@:99999", "ftp://u:hunter2@h", "smtp://:hunter2@h"]
        {
            let err = Endpoint::parse(url).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
        }
    }
}
