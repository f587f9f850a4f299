//! Password hashing.

use async_trait::async_trait;

use crate::values::Password;

/// Why hashing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The hashing pool is shut down or saturated beyond its queue.
    #[error("password hashing unavailable: {0}")]
    Unavailable(String),
    /// The stored hash is malformed, or the hasher failed.
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Slow password hashing. Implementations run the work off the async
/// executor (bcrypt on a bounded blocking pool).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a policy-checked password.
    async fn hash(&self, password: &Password) -> Result<String, HashError>;
    /// Whether `password` matches `hash`. A malformed hash is `Internal`.
    async fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError>;
    /// A valid hash of a random password at the configured cost, verified
    /// against when the email is unknown so both answers take the same time.
    fn dummy_hash(&self) -> String;
}
