//! Second factors: authenticators, recovery codes and login challenges.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{auth::TokenHash, error::RepoError, mail::Effects};

/// A user's authenticator as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredTotp {
    /// The secret, sealed under the MFA key (see `SecondFactor`).
    pub sealed_secret: Vec<u8>,
    /// `false` while the enrolment waits for its first code.
    pub enabled: bool,
    /// The last 30-second step spent.
    pub last_step: i64,
}

impl std::fmt::Debug for StoredTotp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTotp")
            .field("enabled", &self.enabled)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// A login's second step, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChallenge {
    pub hash: TokenHash,
    pub user_id: Uuid,
    /// The organization asked for at login, if any.
    pub org_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A live challenge an attempt was counted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRecord {
    pub user_id: Uuid,
    pub org_id: Option<Uuid>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// Authenticators, recovery codes (keyed hashes) and MFA challenges.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait MfaRepository: Send + Sync + 'static {
    /// The user's authenticator, enabled or pending.
    async fn totp(&self, user_id: Uuid) -> Result<Option<StoredTotp>, RepoError>;

    /// Stores a pending enrolment, replacing an earlier pending one.
    /// `false` (nothing written) when MFA is on already.
    async fn begin_enrolment(&self, user_id: Uuid, sealed_secret: &[u8], now: DateTime<Utc>)
        -> Result<bool, RepoError>;

    /// Turns the pending enrolment on, spending `step`, storing `codes` and
    /// writing `effects`, in one transaction. `false` (nothing written)
    /// unless an enrolment is pending with every spent step before `step`.
    async fn enable(
        &self,
        user_id: Uuid,
        step: i64,
        codes: &[TokenHash],
        now: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<bool, RepoError>;

    /// Spends `step` on the enabled authenticator if it is later than the
    /// last step spent; `false` when another request spent it (or a later
    /// one) first, or MFA is off. One atomic update.
    async fn spend_step(&self, user_id: Uuid, step: i64) -> Result<bool, RepoError>;

    /// Turns MFA off (the authenticator, pending or not, and the recovery
    /// codes) and writes `effects`, in one transaction; `false` (nothing
    /// written, not even `effects`) when it was not on.
    async fn disable(&self, user_id: Uuid, effects: &Effects) -> Result<bool, RepoError>;

    /// Replaces the recovery codes of an enabled authenticator; `false`
    /// when MFA is off.
    async fn replace_recovery_codes(&self, user_id: Uuid, codes: &[TokenHash]) -> Result<bool, RepoError>;

    /// Spends an unused recovery code of the user: the number still unused
    /// after it, or `None` when it is not one.
    async fn use_recovery_code(
        &self,
        user_id: Uuid,
        code: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, RepoError>;

    /// Unused recovery codes.
    async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32, RepoError>;

    /// Stores a login challenge.
    async fn create_challenge(&self, challenge: &NewChallenge) -> Result<(), RepoError>;

    /// Counts an attempt on a live challenge (unused, unexpired, fewer than
    /// `max_attempts` attempts so far) and returns it; `None` otherwise.
    async fn attempt_challenge(
        &self,
        hash: &TokenHash,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<ChallengeRecord>, RepoError>;

    /// Uses a challenge up; `false` when it already was.
    async fn close_challenge(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<bool, RepoError>;

    /// Deletes challenges that expired before `before`.
    async fn prune_challenges(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}
