use std::str::FromStr;

use serde::Serialize;

use super::{limits::EMAIL_MAX, Invalid};

/// An email address: trimmed, syntactically valid, with a
/// domain that contains a dot, and the domain lower-cased. At most
/// [`EMAIL_MAX`] characters as sent, and bytes once trimmed. Uniqueness is
/// case-insensitive over the whole address (enforced by the store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::new("must not be blank"));
        }
        if raw.chars().count() > EMAIL_MAX || s.len() > EMAIL_MAX {
            return Err(Invalid::new(format!("must be at most {EMAIL_MAX} characters")));
        }
        let parsed =
            email_address::EmailAddress::from_str(s).map_err(|_| Invalid::new("is not a valid email address"))?;
        let local = parsed.local_part();
        let domain = parsed.domain();
        if local.starts_with('"') || domain.starts_with('[') {
            return Err(Invalid::new("is not a valid email address"));
        }
        if !domain.contains('.') || domain.ends_with('.') || domain.starts_with('.') {
            return Err(Invalid::new("is not a valid email address"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid::new("is not a valid email address"));
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Trusted constructor for values read back from the store.
    pub fn from_trusted(s: String) -> Email {
        Email(s)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes_domain_and_trims() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "Ada@example.com");
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "ada@@example.com",
            "ada@example.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = Email::parse(&s);
        }

        #[test]
        fn valid_addresses_round_trip(local in "[a-z0-9._%+-]{1,20}", domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}") {
            prop_assume!(!local.starts_with('.') && !local.ends_with('.') && !local.contains(".."));
            let e = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
        }
    }
}
