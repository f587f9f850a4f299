//! API keys: how a host service acts in one organization without a user.
//!
//! A key is `rsk_` followed by 32 random bytes (base64url). The store keeps
//! its SHA-256 and its first [`PREFIX_LEN`] characters, which identify it in
//! listings; the whole key is shown once, when it is created. A key carries
//! the permissions it was given, in its own organization only.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{
    auth::{Principal, TokenHash},
    validation::ValidationErrors,
    values::limits::SHORT_TEXT_MAX,
};

use super::input::{permissions, text};

/// What every key starts with, so a bearer token is recognised as a key
/// (access tokens are JWTs, which start with `eyJ`) and secret scanners can
/// spot leaked keys.
pub const KEY_PREFIX: &str = "rsk_";

/// How many leading characters of a key are stored and listed to tell keys
/// apart: `rsk_` and 8 random characters.
pub const PREFIX_LEN: usize = KEY_PREFIX.len() + 8;

/// An organization's API key, as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// The key's first characters, e.g. `rsk_Xq3v9LmA`.
    pub prefix: String,
    pub permissions: Vec<String>,
    /// The user who created it; `null` once that user is deleted.
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When the key was last used, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this the key is refused; `null` for a key that does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// The caller a request with this key is: a host service acting in the
    /// key's organization with exactly its permissions.
    pub fn principal(&self) -> Principal {
        Principal::api_key(self.id, self.name.clone(), self.org_id, &self.permissions)
    }
}

/// A new key's secret. Shown to its creator once, then only its hash is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(Zeroizing<String>);

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.prefix())
    }
}

impl ApiKeySecret {
    pub fn generate() -> ApiKeySecret {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        ApiKeySecret(Zeroizing::new(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes.as_ref()))))
    }

    /// Whether a bearer token is meant as an API key (rather than a JWT).
    pub fn looks_like(raw: &str) -> bool {
        raw.starts_with(KEY_PREFIX)
    }

    /// `None` unless `raw` has the shape of a key this server makes.
    pub fn parse(raw: &str) -> Option<ApiKeySecret> {
        let body = raw.strip_prefix(KEY_PREFIX)?;
        let decoded = Zeroizing::new(URL_SAFE_NO_PAD.decode(body).ok()?);
        (decoded.len() == 32).then(|| ApiKeySecret(Zeroizing::new(raw.to_string())))
    }

    pub fn hash(&self) -> TokenHash {
        Sha256::digest(self.0.as_bytes()).into()
    }

    pub fn prefix(&self) -> &str {
        &self.0[..PREFIX_LEN]
    }

    /// The key itself, for the one answer that shows it. Never logged.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `POST /orgs/{id}/api-keys`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyInput {
    /// What the key is for, e.g. `booking-service`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text))]
    pub name: String,
    /// Built-in or registered permissions; the creator must hold each of them.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::permissions))]
    pub permissions: Vec<String>,
    /// When the key stops working; it never does if left out.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewApiKeyInput {
    /// Validated and normalized; `expires_at` must be after `now`.
    pub fn validate(self, now: DateTime<Utc>) -> Result<NewApiKeyInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = text::<SHORT_TEXT_MAX>(&mut errors, "name", &self.name);
        let permissions = permissions(&mut errors, "permissions", &self.permissions);
        if self.expires_at.is_some_and(|t| t <= now) {
            errors.add("expires_at", "must be in the future");
        }
        errors.finish(|| NewApiKeyInput { name, permissions, expires_at: self.expires_at })
    }
}

/// A key to store (the caller chose the id and made the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub hash: TokenHash,
    pub permissions: Vec<String>,
    pub created_by: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_a_recognisable_shape_and_are_never_printed() {
        let key = ApiKeySecret::generate();
        assert!(key.expose().starts_with("rsk_"));
        assert_eq!(key.expose().len(), 4 + 43);
        assert_eq!(key.prefix().len(), PREFIX_LEN);
        assert!(ApiKeySecret::looks_like(key.expose()));
        assert_eq!(ApiKeySecret::parse(key.expose()).unwrap().hash(), key.hash());
        assert!(ApiKeySecret::parse("rsk_short").is_none());
        assert!(ApiKeySecret::parse(&key.expose()[4..]).is_none());
        assert_ne!(ApiKeySecret::generate().hash(), key.hash());
        let shown = format!("{key:?}");
        assert!(shown.contains(key.prefix()) && !shown.contains(key.expose()));
    }

    #[test]
    fn input_lists_every_bad_field() {
        let now = Utc::now();
        let bad = NewApiKeyInput { name: " ".into(), permissions: vec!["nope".into()], expires_at: Some(now) };
        let errors = bad.validate(now).unwrap_err();
        for field in ["name", "permissions[0]", "expires_at"] {
            assert!(errors.get(field).is_some(), "{field} not reported");
        }
        let good = NewApiKeyInput {
            name: " svc ".into(),
            permissions: vec!["users:write".into(), "users:write".into()],
            expires_at: None,
        };
        let good = good.validate(now).unwrap();
        assert_eq!((good.name.as_str(), good.permissions.len()), ("svc", 1));
    }
}
