//! Rate-limit counters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoError;

/// Fixed-window counters shared by every process.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    /// Counts one hit on `key` in the window starting at `window_start` and
    /// returns the count including it.
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, RepoError>;

    /// The count of `key` in the window starting at `window_start`, without
    /// counting.
    async fn count(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, RepoError>;

    /// Forgets windows that started before `before`.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}
