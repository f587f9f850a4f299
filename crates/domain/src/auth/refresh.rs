use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::opaque::{self, TokenHash};

/// The server secret from which successors of refresh tokens are derived.
#[derive(Clone)]
pub struct RefreshSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for RefreshSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshSecret(<redacted>)")
    }
}

impl RefreshSecret {
    pub fn new(bytes: [u8; 32]) -> RefreshSecret {
        RefreshSecret(Zeroizing::new(bytes))
    }

    /// A key for another purpose, derived with HMAC-SHA-256 under `label`.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.0.as_ref()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any size"),
        };
        mac.update(b"roster derived key v1\0");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// An opaque refresh token: 32 random bytes, base64url without padding.
///
/// The successor of a token is derived from it with HMAC-SHA-256 under the
/// server's [`RefreshSecret`]. Rotation therefore needs no plaintext in the
/// store: when a rotated token is presented again within the grace window,
/// the same successor is derived again and handed back, so two tabs
/// refreshing at once both end up holding the one live token.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(Zeroizing<String>);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

impl RefreshToken {
    /// A fresh random token, starting a session's chain.
    pub fn generate() -> RefreshToken {
        RefreshToken(opaque::generate())
    }

    /// Accepts what a client sends back: exactly the shape `generate` makes.
    pub fn parse(raw: &str) -> Option<RefreshToken> {
        opaque::parse(raw).map(RefreshToken)
    }

    pub fn hash(&self) -> TokenHash {
        opaque::hash(&self.0)
    }

    /// The token that replaces this one when it is rotated.
    pub fn successor(&self, secret: &RefreshSecret) -> RefreshToken {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(secret.0.as_ref()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any size"),
        };
        mac.update(b"roster refresh successor v1\0");
        mac.update(self.0.as_bytes());
        RefreshToken(Zeroizing::new(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_shape() {
        let t = RefreshToken::generate();
        assert_eq!(t.expose().len(), 43);
        assert_eq!(RefreshToken::parse(t.expose()).unwrap(), t);
        assert!(RefreshToken::parse("not a token").is_none());
        assert!(RefreshToken::parse("").is_none());
    }

    #[test]
    fn successor_is_deterministic_and_secret_bound() {
        let t = RefreshToken::generate();
        let a = RefreshSecret::new([1; 32]);
        let b = RefreshSecret::new([2; 32]);
        assert_eq!(t.successor(&a), t.successor(&a));
        assert_ne!(t.successor(&a), t.successor(&b));
        assert_ne!(t.successor(&a), t);
        assert!(RefreshToken::parse(t.successor(&a).expose()).is_some());
    }

    #[test]
    fn debug_redacts() {
        let t = RefreshToken::generate();
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
