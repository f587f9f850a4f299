//! Opaque bearer secrets: 32 random bytes, base64url without padding, kept by
//! the store only as their SHA-256. Refresh tokens and the one-time tokens
//! mailed for verification, password resets and invitations share this shape.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// SHA-256 of an opaque token: the only form in which the store keeps it.
pub type TokenHash = [u8; 32];

/// 32 fresh random bytes, encoded.
pub(crate) fn generate() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// What a client sends back, if it has exactly the shape [`generate`] makes.
pub(crate) fn parse(raw: &str) -> Option<Zeroizing<String>> {
    let raw = raw.trim();
    let decoded = URL_SAFE_NO_PAD.decode(raw).ok()?;
    (decoded.len() == 32).then(|| Zeroizing::new(raw.to_string()))
}

pub(crate) fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// A single-use token mailed to a user (email verification, password reset,
/// invitation, email change). The store keeps its hash, its purpose, its
/// expiry and whether it was used or superseded by a newer one.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeToken(Zeroizing<String>);

impl std::fmt::Debug for OneTimeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeToken(<redacted>)")
    }
}

impl OneTimeToken {
    pub fn generate() -> OneTimeToken {
        OneTimeToken(generate())
    }

    /// `None` unless `raw` has the shape of a token this server makes.
    pub fn parse(raw: &str) -> Option<OneTimeToken> {
        parse(raw).map(OneTimeToken)
    }

    pub fn hash(&self) -> TokenHash {
        hash(&self.0)
    }

    /// The token itself, for the link in a message. Never logged.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_round_trip() {
        let t = OneTimeToken::generate();
        assert_eq!(t.expose().len(), 43);
        assert_eq!(OneTimeToken::parse(t.expose()).unwrap(), t);
        assert_eq!(OneTimeToken::parse(&format!(" {} ", t.expose())).unwrap().hash(), t.hash());
        assert!(OneTimeToken::parse("short").is_none());
        assert!(OneTimeToken::parse(&"A".repeat(44)).is_none());
        assert_ne!(OneTimeToken::generate().hash(), t.hash());
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
