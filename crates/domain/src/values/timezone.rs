use std::str::FromStr;

use serde::Serialize;

use super::Invalid;

/// An IANA time zone name known to the tz database (`Europe/Copenhagen`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<TimeZone, Invalid> {
        let tz = chrono_tz::Tz::from_str(raw.trim())
            .map_err(|_| Invalid::new("must be an IANA time zone such as 'Europe/Copenhagen'"))?;
        Ok(TimeZone(tz.name().to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_zones_only() {
        assert_eq!(TimeZone::parse("Europe/Copenhagen").unwrap().into_inner(), "Europe/Copenhagen");
        assert!(TimeZone::parse("UTC").is_ok());
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TimeZone::parse("").is_err());
    }
}
