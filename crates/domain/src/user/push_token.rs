//! Push tokens: the addresses of a user's devices at a push service (Expo,
//! Firebase Cloud Messaging, Apple Push Notification service, Web Push),
//! registered by the user's app and read by host services that notify them.
//! A token is no secret in the cryptographic sense, but it reaches the
//! user's device, so it is never logged: every `Debug` here leaves it out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    validation::ValidationErrors,
    values::{limits::SHORT_TEXT_MAX, BoundedText},
};

/// Most tokens a user keeps: registering one more drops the least recently seen.
pub const MAX_PUSH_TOKENS: usize = 20;
/// Most user ids or addresses one host lookup names.
pub const MAX_PUSH_LOOKUP: usize = 100;
/// Longest Expo token.
const EXPO_MAX: usize = 255;
/// Lengths of an FCM registration token.
const FCM_LEN: std::ops::RangeInclusive<usize> = 100..=4096;
/// Lengths (hex digits) of an APNs device token: 64 today, room to grow.
const APNS_LEN: std::ops::RangeInclusive<usize> = 64..=200;
/// Longest Web Push endpoint.
const WEBPUSH_MAX: usize = 2048;

/// The push service a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushProvider {
    /// Expo: `ExponentPushToken[…]` (or `ExpoPushToken[…]`), at most 255 characters.
    Expo,
    /// Firebase Cloud Messaging: a registration token, 100 to 4096
    /// characters of letters, digits, `_`, `:` and `-`.
    Fcm,
    /// Apple Push Notification service: the device token in hex (64 digits
    /// today, up to 200), kept in lower case.
    Apns,
    /// Web Push: the subscription's endpoint URL (`https://…`, at most 2048
    /// characters). Its encryption keys are not stored.
    Webpush,
}

impl PushProvider {
    pub const ALL: [PushProvider; 4] =
        [PushProvider::Expo, PushProvider::Fcm, PushProvider::Apns, PushProvider::Webpush];

    pub fn as_str(self) -> &'static str {
        match self {
            PushProvider::Expo => "expo",
            PushProvider::Fcm => "fcm",
            PushProvider::Apns => "apns",
            PushProvider::Webpush => "webpush",
        }
    }

    pub fn parse(s: &str) -> Option<PushProvider> {
        PushProvider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The token in the form it is stored and compared in, or why it is not one.
    fn check(self, raw: &str) -> Result<String, &'static str> {
        let s = raw.trim();
        match self {
            PushProvider::Expo => {
                let inner = ["ExponentPushToken[", "ExpoPushToken["]
                    .iter()
                    .find_map(|p| s.strip_prefix(p))
                    .and_then(|rest| rest.strip_suffix(']'));
                match inner {
                    Some(inner)
                        if !inner.is_empty()
                            && s.len() <= EXPO_MAX
                            && inner.bytes().all(|b| b.is_ascii_graphic() && b != b'[' && b != b']') =>
                    {
                        Ok(s.to_string())
                    }
                    _ => Err("must be an Expo push token, ExponentPushToken[…], at most 255 characters"),
                }
            }
            PushProvider::Fcm => {
                if FCM_LEN.contains(&s.len())
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-'))
                {
                    Ok(s.to_string())
                } else {
                    Err("must be an FCM registration token: 100 to 4096 letters, digits, _, : or -")
                }
            }
            PushProvider::Apns => {
                if APNS_LEN.contains(&s.len()) && s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    Ok(s.to_ascii_lowercase())
                } else {
                    Err("must be an APNs device token: an even number (64 to 200) of hex digits")
                }
            }
            PushProvider::Webpush => {
                let host = s.strip_prefix("https://").map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
                if s.len() <= WEBPUSH_MAX
                    && host.is_some_and(|h| !h.is_empty() && !h.contains('@'))
                    && s.bytes().all(|b| b.is_ascii_graphic())
                {
                    Ok(s.to_string())
                } else {
                    Err("must be the Web Push subscription's endpoint, an https:// URL of at most 2048 characters")
                }
            }
        }
    }
}

impl std::fmt::Display for PushProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device's token as its app registers it.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushTokenInput {
    /// The token in the provider's format (see `provider`).
    #[cfg_attr(feature = "openapi", schema(max_length = 4096))]
    pub token: String,
    #[cfg_attr(feature = "openapi", schema(value_type = PushProvider))]
    pub provider: String,
    /// A name for the device, e.g. `Ana's phone` (at most 100 characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub device_name: Option<String>,
}

impl std::fmt::Debug for PushTokenInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTokenInput")
            .field("provider", &self.provider)
            .field("token", &"<redacted>")
            .field("device_name", &self.device_name)
            .finish()
    }
}

/// A validated token to register.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPushToken {
    pub provider: PushProvider,
    pub token: String,
    pub device_name: Option<String>,
}

impl std::fmt::Debug for NewPushToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPushToken")
            .field("provider", &self.provider)
            .field("token", &"<redacted>")
            .field("device_name", &self.device_name)
            .finish()
    }
}

impl PushTokenInput {
    /// Checks the provider and the token's format for it, and the device
    /// name; every problem named under `prefix` + the field.
    pub fn validate(self, prefix: &str) -> Result<NewPushToken, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let provider = PushProvider::parse(self.provider.trim());
        if provider.is_none() {
            errors.add(format!("{prefix}provider"), "must be one of expo, fcm, apns, webpush");
        }
        let token = match provider.map(|p| p.check(&self.token)) {
            Some(Ok(token)) => Some(token),
            Some(Err(message)) => {
                errors.add(format!("{prefix}token"), message);
                None
            }
            None => {
                errors.add(format!("{prefix}token"), "cannot be checked without a known provider");
                None
            }
        };
        let device_name = match self.device_name.as_deref().map(BoundedText::<SHORT_TEXT_MAX>::parse) {
            None => None,
            Some(Ok(name)) => Some(name.into_inner()),
            Some(Err(e)) => {
                errors.add(format!("{prefix}device_name"), e.to_string());
                None
            }
        };
        match (provider, token, errors.is_empty()) {
            (Some(provider), Some(token), true) => Ok(NewPushToken { provider, token, device_name }),
            _ => Err(errors),
        }
    }
}

/// A registered token, as its user sees it.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushToken {
    pub id: Uuid,
    pub provider: PushProvider,
    pub token: String,
    pub device_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the device last registered it.
    pub last_seen_at: DateTime<Utc>,
}

impl std::fmt::Debug for PushToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushToken")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("token", &"<redacted>")
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}

/// A token as a host service reads it.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceToken {
    pub provider: PushProvider,
    pub token: String,
    pub device_name: Option<String>,
    pub last_seen_at: DateTime<Utc>,
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceToken").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// One user's tokens, most recently seen first, for a host service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPushTokens {
    pub user_id: Uuid,
    pub email: String,
    pub tokens: Vec<DeviceToken>,
}

/// The schema of `user_id=` in a lookup (OpenAPI).
#[cfg(feature = "openapi")]
pub fn lookup_ids_schema() -> utoipa::openapi::schema::Schema {
    crate::values::schema::uuids_at_most(MAX_PUSH_LOOKUP)
}

/// The schema of `email=` in a lookup (OpenAPI).
#[cfg(feature = "openapi")]
pub fn lookup_emails_schema() -> utoipa::openapi::schema::Schema {
    crate::values::schema::values_at_most(MAX_PUSH_LOOKUP)
}

/// Whose tokens a host service asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushTokenLookup {
    UserIds(Vec<Uuid>),
    /// Compared case-insensitively.
    Emails(Vec<String>),
}

impl PushTokenLookup {
    /// From `user_id=` or `email=` (exactly one), each a comma list of at
    /// most [`MAX_PUSH_LOOKUP`] values read as the directory reads its
    /// "any of" parameters.
    pub fn from_params(user_id: Option<&str>, email: Option<&str>) -> Result<PushTokenLookup, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let lookup = match (user_id, email) {
            (Some(_), Some(_)) => {
                errors.add("user_id", "give user_id or email, not both");
                errors.add("email", "give user_id or email, not both");
                None
            }
            (None, None) => {
                errors.add("user_id", "give user_id or email: a comma list of the users whose tokens to read");
                None
            }
            (Some(raw), None) => {
                let mut ids = Vec::new();
                for s in super::query::any_of_at_most(Some(raw), "user_id", MAX_PUSH_LOOKUP, &mut errors) {
                    match Uuid::parse_str(&s) {
                        Ok(id) if !ids.contains(&id) => ids.push(id),
                        Ok(_) => {}
                        Err(_) => errors.add("user_id", format!("'{s}' is not a UUID")),
                    }
                }
                Some(PushTokenLookup::UserIds(ids))
            }
            (None, Some(raw)) => {
                let mut emails: Vec<String> =
                    super::query::any_of_at_most(Some(raw), "email", MAX_PUSH_LOOKUP, &mut errors)
                        .into_iter()
                        .map(|e| e.to_lowercase())
                        .collect();
                emails.sort();
                emails.dedup();
                Some(PushTokenLookup::Emails(emails))
            }
        };
        match lookup {
            Some(lookup) if errors.is_empty() => Ok(lookup),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(provider: &str, token: &str) -> PushTokenInput {
        PushTokenInput { token: token.into(), provider: provider.into(), device_name: None }
    }

    #[test]
    fn each_provider_has_its_format() {
        let fcm = format!("cXyZ:{}", "A1_-".repeat(30));
        let apns = "AB".repeat(32);
        let good = [
            ("expo", "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]".to_string()),
            ("expo", "ExpoPushToken[abc-123]".to_string()),
            ("fcm", fcm.clone()),
            ("apns", apns.clone()),
            ("apns", "0f".repeat(100)),
            ("webpush", "https://fcm.googleapis.com/fcm/send/abc:def".to_string()),
        ];
        for (p, t) in good {
            assert!(input(p, &t).validate("").is_ok(), "{p} {t}");
        }
        assert_eq!(input("apns", &apns).validate("").unwrap().token, apns.to_lowercase());
        let bad = [
            ("expo", "ExponentPushToken[]".to_string()),
            ("expo", "ExponentPushToken[a b]".to_string()),
            ("expo", "PushToken[abc]".to_string()),
            ("expo", format!("ExponentPushToken[{}]", "a".repeat(240))),
            ("fcm", "short".to_string()),
            ("fcm", format!("{fcm}!")),
            ("fcm", "a".repeat(4097)),
            ("apns", "ab".repeat(31)),
            ("apns", format!("{apns}a")),
            ("apns", "zz".repeat(32)),
            ("apns", "ab".repeat(101)),
            ("webpush", "http://push.example.com/x".to_string()),
            ("webpush", "https:///x".to_string()),
            ("webpush", format!("https://push.example.com/{}", "a".repeat(2048))),
            ("webpush", "https://push.example.com/a b".to_string()),
        ];
        for (p, t) in bad {
            let errors = input(p, &t).validate("").unwrap_err();
            assert_eq!(errors.fields().collect::<Vec<_>>(), ["token"], "{p} {t}");
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = PushTokenInput { token: "x".into(), provider: "pigeon".into(), device_name: Some("  ".into()) };
        let errors = bad.validate("push_token.").unwrap_err();
        assert_eq!(
            errors.fields().collect::<Vec<_>>(),
            ["push_token.device_name", "push_token.provider", "push_token.token"]
        );
    }

    #[test]
    fn tokens_never_reach_debug_output() {
        let t = input("expo", "ExponentPushToken[secretish]");
        assert!(!format!("{t:?}").contains("secretish"));
        let v = t.validate("").unwrap();
        assert!(!format!("{v:?}").contains("secretish"));
    }

    #[test]
    fn lookups_take_exactly_one_list() {
        let a = Uuid::now_v7();
        assert_eq!(
            PushTokenLookup::from_params(Some(&format!("{a}, {a},")), None),
            Ok(PushTokenLookup::UserIds(vec![a]))
        );
        assert_eq!(
            PushTokenLookup::from_params(None, Some("B@example.com,a@example.com,b@EXAMPLE.com")),
            Ok(PushTokenLookup::Emails(vec!["a@example.com".into(), "b@example.com".into()]))
        );
        assert!(PushTokenLookup::from_params(None, None).is_err());
        assert!(PushTokenLookup::from_params(Some("x"), None).unwrap_err().get("user_id").is_some());
        let both = PushTokenLookup::from_params(Some(&a.to_string()), Some("a@example.com")).unwrap_err();
        assert_eq!(both.fields().collect::<Vec<_>>(), ["email", "user_id"]);
        let many = (0..=MAX_PUSH_LOOKUP).map(|i| format!("u{i}@example.com")).collect::<Vec<_>>().join(",");
        assert!(PushTokenLookup::from_params(None, Some(&many)).is_err());
        let enough = (0..MAX_PUSH_LOOKUP).map(|i| format!("u{i}@example.com")).collect::<Vec<_>>().join(",");
        assert!(PushTokenLookup::from_params(None, Some(&enough)).is_ok());
        assert!(PushTokenLookup::from_params(None, Some(",")).is_err());
    }
}
