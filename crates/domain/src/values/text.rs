use serde::Serialize;

use super::{
    limits::{PHONE_DIGITS, PHONE_MAX},
    Invalid,
};

/// Trimmed, non-blank text with no control characters, of at most `MAX`
/// characters as sent (so JSON Schema's `maxLength` says it exactly): names,
/// positions, departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BoundedText<const MAX: usize>(String);

impl<const MAX: usize> BoundedText<MAX> {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::new("must not be blank"));
        }
        if raw.chars().count() > MAX {
            return Err(Invalid::new(format!("must be at most {MAX} characters")));
        }
        if s.chars().any(char::is_control) {
            return Err(Invalid::new("must not contain control characters"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A telephone number: digits with the usual separators, an optional leading
/// `+`, and between 3 and 20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, Invalid> {
        let s = raw.trim();
        let body = s.strip_prefix('+').unwrap_or(s);
        let allowed = body.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !allowed || !PHONE_DIGITS.contains(&digits) || raw.chars().count() > PHONE_MAX {
            return Err(Invalid::new(
                "must be a phone number: digits, spaces, '-', '.', '(', ')' and an optional leading '+'",
            ));
        }
        Ok(Phone(s.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_rules() {
        assert_eq!(BoundedText::<5>::parse("  ab ").unwrap().into_inner(), "ab");
        assert!(BoundedText::<5>::parse("   ").is_err());
        assert!(BoundedText::<5>::parse("abcdef").is_err());
        assert!(BoundedText::<5>::parse("a\u{7}b").is_err());
        assert!(BoundedText::<5>::parse("ÆØÅéü").is_ok());
    }

    #[test]
    fn phones() {
        for ok in ["+45 12 34 56 78", "(555) 123-4567", "112"] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "abc", "12", "+1 555 CALL NOW", "++4512345678"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,64}") {
            let _ = Phone::parse(&s);
            let _ = BoundedText::<10>::parse(&s);
        }
    }
}
