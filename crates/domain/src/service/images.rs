//! Pictures: turning an upload into stored renditions, serving them, and
//! deleting the objects of pictures nobody points at any more.
//!
//! Consistency rests on one order. An upload writes its objects first, under
//! a fresh random id, and only then commits the record that points a user at
//! them; replacing or removing a picture (or deleting its user) deletes the
//! record in a transaction that queues its objects for deletion
//! (`image_deletions`, filled by a trigger), and a worker deletes them after
//! the commit. So a user never points at a missing object, whatever crashes
//! when; what a crash can leave behind is objects without a record, which
//! [`ImageService::sweep_orphans`] removes once they are a day old.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use uuid::Uuid;

use crate::{
    error::Error,
    image::{image_id_of_key, new_image_id, object_key, ImageSize, RenditionMeta, StoredImage, IMAGE_PREFIX},
    ports::{BlobError, BlobStore, Clock, ImageProcessor, ImageRepository},
};

/// What [`ImageService`] calls.
#[derive(Clone)]
pub struct ImagePorts {
    pub images: Arc<dyn ImageRepository>,
    pub blobs: Arc<dyn BlobStore>,
    pub processor: Arc<dyn ImageProcessor>,
    pub clock: Arc<dyn Clock>,
}

/// One size of a picture, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBytes {
    pub bytes: Vec<u8>,
    pub content_type: String,
    /// The content hash, served as the strong `ETag`.
    pub etag: String,
    /// `false` for the default image, which a new version of Roster may change.
    pub immutable: bool,
}

/// What `GET /images/{id}` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// The client's copy (`If-None-Match`) is current.
    NotModified {
        etag: String,
        immutable: bool,
    },
    Image(ImageBytes),
}

/// What one round of deletions did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletionReport {
    pub claimed: usize,
    pub deleted: usize,
    /// The store failed: tried again when the claim's lease ends.
    pub failed: usize,
}

/// How long a claimed deletion is hidden from other workers, and so how
/// long a failed one waits before it is tried again.
const DELETION_LEASE_SECS: i64 = 60;
/// Objects without a record are left alone this long: an upload writes its
/// objects a moment before its record.
const ORPHAN_AGE_HOURS: i64 = 24;

#[derive(Clone)]
pub struct ImageService {
    ports: ImagePorts,
}

/// Whether `if_none_match` (a request's `If-None-Match`) names `etag`:
/// `*`, or a comma-separated list of entity tags compared weakly (RFC 9110
/// §13.1.2), quoted or not.
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag.trim_matches('"') == etag
    })
}

impl ImageService {
    pub fn new(ports: ImagePorts) -> ImageService {
        ImageService { ports }
    }

    /// Renders `upload`, writes its renditions under a fresh id, and makes
    /// it user `user_id`'s picture. `NotFound` if the user is gone by then.
    /// The objects of a picture whose record was not written are deleted at
    /// once when the store answers, else queued, else left to the sweep.
    pub(crate) async fn attach(&self, user_id: Uuid, upload: Vec<u8>) -> Result<(), Error> {
        let renditions = self.ports.processor.render(upload).await?;
        let id = new_image_id();
        if !renditions.iter().map(|r| r.size).eq(ImageSize::ALL) {
            return Err(Error::Internal("the image processor did not render the four sizes in order".into()));
        }
        let metas = ImageSize::ALL.map(|size| RenditionMeta::from(&renditions[size.index()]));
        let puts = renditions.into_iter().map(|r| {
            let blobs = self.ports.blobs.clone();
            async move { blobs.put(&object_key(id, r.size), r.bytes, &r.content_type).await }
        });
        let written: Vec<Result<(), BlobError>> = join_all(puts).await;
        if let Some(e) = written.into_iter().find_map(Result::err) {
            self.forget(id).await;
            return Err(e.into());
        }
        let image = StoredImage { id, renditions: metas };
        let now = self.ports.clock.now();
        match self.ports.images.attach(user_id, &image, now).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.forget(id).await;
                Err(Error::NotFound("user"))
            }
            Err(e) => {
                self.forget(id).await;
                Err(e.into())
            }
        }
    }

    /// Deletes the objects of image `id`, which has no record: at once if
    /// the store answers, else through the queue; failing both, the orphan
    /// sweep finds them.
    async fn forget(&self, id: Uuid) {
        if self.delete_objects(id).await.is_ok() {
            return;
        }
        if let Err(e) = self.ports.images.queue_deletion(id, self.ports.clock.now()).await {
            tracing::warn!(image = %id, error = %e, "objects of an unrecorded image left to the orphan sweep");
        }
    }

    async fn delete_objects(&self, id: Uuid) -> Result<(), BlobError> {
        let deletes = ImageSize::ALL.map(|size| {
            let blobs = self.ports.blobs.clone();
            async move { blobs.delete(&object_key(id, size)).await }
        });
        join_all(deletes).await.into_iter().collect()
    }

    /// Removes user `user_id`'s picture; `false` if there was none.
    pub(crate) async fn detach(&self, user_id: Uuid) -> Result<bool, Error> {
        Ok(self.ports.images.detach(user_id, self.ports.clock.now()).await?)
    }

    /// Image `id` at `size` (the default image for `None`), or
    /// `NotModified` when `if_none_match` names its current tag. `NotFound`
    /// for an id that is nobody's picture (any more).
    pub async fn serve(&self, id: Option<Uuid>, size: ImageSize, if_none_match: Option<&str>) -> Result<Served, Error> {
        let Some(id) = id else {
            let r = self.ports.processor.default_image(size);
            if if_none_match.is_some_and(|tags| etag_matches(tags, &r.etag)) {
                return Ok(Served::NotModified { etag: r.etag, immutable: false });
            }
            return Ok(Served::Image(ImageBytes {
                bytes: r.bytes,
                content_type: r.content_type,
                etag: r.etag,
                immutable: false,
            }));
        };
        let image = self.ports.images.get(id).await?.ok_or(Error::NotFound("image"))?;
        let meta = image.rendition(size);
        if if_none_match.is_some_and(|tags| etag_matches(tags, &meta.etag)) {
            return Ok(Served::NotModified { etag: meta.etag.clone(), immutable: true });
        }
        let blob = match self.ports.blobs.get(&object_key(id, size)).await {
            Ok(blob) => blob,
            // Deleted between the read of its record and now: replaced or removed.
            Err(BlobError::NotFound) if self.ports.images.get(id).await?.is_none() => {
                return Err(Error::NotFound("image"))
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Served::Image(ImageBytes {
            bytes: blob.bytes,
            content_type: meta.content_type.clone(),
            etag: meta.etag.clone(),
            immutable: true,
        }))
    }

    /// One round of the deletion queue: claims up to `limit` due deletions
    /// and deletes their objects. A store that fails leaves the claim to run
    /// out, and the deletion is tried again then.
    pub async fn process_deletions(&self, limit: u32) -> Result<DeletionReport, Error> {
        let now = self.ports.clock.now();
        let claimed = self.ports.images.claim_deletions(now, limit, Duration::seconds(DELETION_LEASE_SECS)).await?;
        let mut report = DeletionReport { claimed: claimed.len(), ..DeletionReport::default() };
        for claim in claimed {
            match self.delete_objects(claim.image_id).await {
                Ok(()) => {
                    self.ports.images.finish_deletion(claim.image_id).await?;
                    report.deleted += 1;
                }
                Err(e) => {
                    tracing::warn!(image = %claim.image_id, attempts = claim.attempts, error = %e, "deleting an image's objects failed; retried later");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Deletes objects under `images/` that are over a day old and belong to
    /// no recorded image (left by a crash between an upload's objects and
    /// its record), looking at up to `limit` objects. Returns how many
    /// objects it deleted.
    pub async fn sweep_orphans(&self, limit: usize) -> Result<usize, Error> {
        let before: DateTime<Utc> = self.ports.clock.now() - Duration::hours(ORPHAN_AGE_HOURS);
        let old = self.ports.blobs.list_older(IMAGE_PREFIX, before, limit).await?;
        let mut ids: Vec<Uuid> = old.iter().filter_map(|b| image_id_of_key(&b.key)).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(0);
        }
        let kept = self.ports.images.existing(&ids).await?;
        let mut deleted = 0;
        for blob in old {
            let Some(id) = image_id_of_key(&blob.key) else { continue };
            if kept.contains(&id) {
                continue;
            }
            self.ports.blobs.delete(&blob.key).await?;
            deleted += 1;
        }
        if deleted > 0 {
            tracing::info!(deleted, "orphaned image objects swept");
        }
        Ok(deleted)
    }
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
