//! `PasswordHasher` on bcrypt. Hashing runs on tokio's blocking pool, never on
//! the executor, and at most `workers` hashes run at once (by default one per
//! core) so a burst of logins queues instead of starving every other request.

use std::sync::Arc;

use async_trait::async_trait;
use roster_domain::{
    ports::{HashError, PasswordHasher},
    values::Password,
};
use tokio::sync::Semaphore;

pub struct BcryptHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    dummy: String,
}

impl BcryptHasher {
    /// Computes the dummy hash at the same cost (one hash at start-up).
    pub async fn new(cost: u32, workers: usize) -> Result<BcryptHasher, HashError> {
        let dummy = tokio::task::spawn_blocking(move || {
            let random = uuid::Uuid::now_v7().to_string();
            bcrypt::hash(random, cost)
        })
        .await
        .map_err(|e| HashError::Internal(e.to_string()))?
        .map_err(|e| HashError::Internal(e.to_string()))?;
        Ok(BcryptHasher { cost, permits: Arc::new(Semaphore::new(workers.max(1))), dummy })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, bcrypt::BcryptError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit =
            self.permits.acquire().await.map_err(|_| HashError::Unavailable("hasher is shutting down".into()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| HashError::Unavailable(format!("hashing task failed: {e}")))?
            .map_err(|e| HashError::Internal(e.to_string()))
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let pw = zeroize::Zeroizing::new(password.expose().to_string());
        let cost = self.cost;
        self.run(move || bcrypt::hash(pw.as_bytes(), cost)).await
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError> {
        // bcrypt reads at most 72 bytes; a longer candidate can never be a
        // password we accepted, so refuse it rather than compare a prefix.
        if password.len() > roster_domain::values::BCRYPT_MAX_BYTES {
            let dummy = self.dummy.clone();
            let _ = self.run(move || bcrypt::verify("x", &dummy)).await;
            return Ok(false);
        }
        let pw = zeroize::Zeroizing::new(password.to_string());
        let hash = hash.to_string();
        self.run(move || bcrypt::verify(pw.as_bytes(), &hash)).await
    }

    fn dummy_hash(&self) -> String {
        self.dummy.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::values::PasswordPolicy;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = BcryptHasher::new(4, 2).await.unwrap();
        let pw = Password::new(&PasswordPolicy::default(), "correct horse", None).unwrap();
        let hash = h.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(h.verify("correct horse", &hash).await.unwrap());
        assert!(!h.verify("wrong horse", &hash).await.unwrap());
        assert!(!h.verify(&"a".repeat(80), &hash).await.unwrap());
        assert!(h.verify("x", "not a hash").await.is_err());
        assert!(!h.verify("x", &h.dummy_hash()).await.unwrap());
    }
}
