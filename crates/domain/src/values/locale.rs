use serde::Serialize;

use super::Invalid;

/// A BCP 47 language tag of the common shape `language[-Script][-REGION]`
/// (`en`, `fr-CA`, `zh-Hant-TW`, `es-419`), stored in canonical case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Locale(String);

impl Locale {
    pub fn parse(raw: &str) -> Result<Locale, Invalid> {
        let err = || Invalid::new("must be a BCP 47 language tag such as 'en', 'fr-CA' or 'zh-Hant-TW'");
        let s = raw.trim().replace('_', "-");
        let mut parts = s.split('-');
        let language = parts
            .next()
            .filter(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()))
            .ok_or_else(err)?;
        let mut out = language.to_ascii_lowercase();
        let mut seen_script = false;
        let mut seen_region = false;
        for part in parts {
            let alpha = part.chars().all(|c| c.is_ascii_alphabetic());
            let digits = part.chars().all(|c| c.is_ascii_digit());
            if part.len() == 4 && alpha && !seen_script && !seen_region {
                seen_script = true;
                let mut chars = part.chars();
                out.push('-');
                if let Some(first) = chars.next() {
                    out.push(first.to_ascii_uppercase());
                }
                out.push_str(&chars.as_str().to_ascii_lowercase());
            } else if ((part.len() == 2 && alpha) || (part.len() == 3 && digits)) && !seen_region {
                seen_region = true;
                out.push('-');
                out.push_str(&part.to_ascii_uppercase());
            } else {
                return Err(err());
            }
        }
        Ok(Locale(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
    fn canonical_case() {
        assert_eq!(Locale::parse("EN").unwrap().as_str(), "en");
        assert_eq!(Locale::parse("fr_ca").unwrap().as_str(), "fr-CA");
        assert_eq!(Locale::parse("zh-hant-tw").unwrap().as_str(), "zh-Hant-TW");
        assert_eq!(Locale::parse("es-419").unwrap().as_str(), "es-419");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "e", "english", "en-", "en-US-US", "12", "en-Latn-Latn"] {
            assert!(Locale::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_is_idempotent(s in "[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-[a-zA-Z]{2})?") {
            let l = Locale::parse(&s).unwrap();
            prop_assert_eq!(Locale::parse(l.as_str()).unwrap(), l);
        }
    }
}
