//! The outbox, as its worker and the superadmins see it.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    mail::{ClaimedMail, OutboxEntry, OutboxStats, OutboxStatus},
    user::Page,
};

/// The worker's side of the outbox.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OutboxRepository: Send + Sync + 'static {
    /// Claims up to `limit` due pending messages (`FOR UPDATE SKIP LOCKED`,
    /// so concurrent workers never claim the same one), counts the attempt,
    /// and hides them from other workers until `now + lease`.
    async fn claim(&self, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<ClaimedMail>, RepoError>;

    /// Records a delivery and erases the content. Ignored (`false`) if the
    /// claim of `attempt` was lost to another worker after its lease ran out.
    async fn mark_sent(&self, id: Uuid, attempt: u32, now: DateTime<Utc>) -> Result<bool, RepoError>;

    /// Records a failed attempt: due again at `retry_at`, or dead if `None`.
    async fn mark_failed(
        &self,
        id: Uuid,
        attempt: u32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Messages, newest first, optionally of one status.
    async fn list(
        &self,
        status: Option<OutboxStatus>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<OutboxEntry>, RepoError>;

    /// Queues a dead message again with a fresh attempt count. `false` if
    /// there is no dead message with this id.
    async fn requeue(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError>;

    async fn stats(&self, now: DateTime<Utc>) -> Result<OutboxStats, RepoError>;

    /// Deletes sent messages older than `before`; returns how many.
    async fn prune_sent(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}
