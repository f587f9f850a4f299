//! Access-token signing.

use crate::{auth::AccessClaims, error::TokenRejection};

/// Signs and verifies access tokens.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait TokenSigner: Send + Sync + 'static {
    /// Signs `claims` with the current key. Fails only on a broken key (`Err`
    /// carries the cause, logged by the caller).
    fn sign(&self, claims: &AccessClaims) -> Result<String, String>;
    /// Checks signature, algorithm, key id, issuer, audience and expiry.
    fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejection>;
}
