//! What PostgreSQL keeps about images: which user's picture each is, its
//! renditions' hashes and sizes, and the queue of objects to delete.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{error::RepoError, image::StoredImage};

/// An image whose objects are due for deletion, claimed by one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedDeletion {
    pub image_id: Uuid,
    /// How many times a worker has claimed it (this claim included).
    pub attempts: u32,
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ImageRepository: Send + Sync + 'static {
    /// Makes `image` user `user_id`'s picture, in one transaction: records
    /// it, points the user at it, and deletes the record of the picture it
    /// replaces, which queues that one's objects for deletion. `false` (and
    /// nothing written) if there is no such user.
    async fn attach(&self, user_id: Uuid, image: &StoredImage, now: DateTime<Utc>) -> Result<bool, RepoError>;

    /// Removes user `user_id`'s picture, queueing its objects for deletion.
    /// `false` if the user had none (or does not exist).
    async fn detach(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError>;

    /// The record of image `id`, if it is still some user's picture.
    async fn get(&self, id: Uuid) -> Result<Option<StoredImage>, RepoError>;

    /// Which of `ids` still have a record (the orphan sweep's question).
    async fn existing(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, RepoError>;

    /// Queues the objects of image `id`, which has no record, for deletion
    /// (an upload whose record was never written).
    async fn queue_deletion(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError>;

    /// Claims up to `limit` due deletions (`FOR UPDATE SKIP LOCKED`), each
    /// hidden from other workers until `now + lease`, which is also when it
    /// is tried again if this worker does not finish it.
    async fn claim_deletions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedDeletion>, RepoError>;

    /// The objects of `image_id` are gone: drops it from the queue.
    async fn finish_deletion(&self, image_id: Uuid) -> Result<(), RepoError>;
}
