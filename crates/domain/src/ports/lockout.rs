//! Lockout counters.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::{
    auth::{Claim, LockoutKey, LockoutPolicy, LockoutState},
    error::RepoError,
};

/// Failed sign-ins per address, shared by every process. Each method runs
/// the [`LockoutPolicy`] step of the same name on the counter's row, locked,
/// in one transaction, so concurrent attempts are counted exactly.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LockoutStore: Send + Sync + 'static {
    /// [`LockoutPolicy::claim`]: whether an attempt may check credentials.
    async fn claim(&self, key: &LockoutKey, policy: &LockoutPolicy, now: DateTime<Utc>) -> Result<Claim, RepoError>;

    /// [`LockoutPolicy::fail`]: a granted attempt failed; the length of a
    /// lock that began with it.
    async fn fail(
        &self,
        key: &LockoutKey,
        policy: &LockoutPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, RepoError>;

    /// [`LockoutPolicy::release`]: a granted attempt gives its slot back.
    async fn release(&self, key: &LockoutKey, policy: &LockoutPolicy) -> Result<(), RepoError>;

    /// Forgets the counter (a sign-in, or an administrator's unlock);
    /// whether there was one.
    async fn clear(&self, key: &LockoutKey) -> Result<bool, RepoError>;

    /// The counter as stored, if any.
    async fn state(&self, key: &LockoutKey) -> Result<Option<LockoutState>, RepoError>;

    /// Forgets counters with no failure and no lock since `before`.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}
