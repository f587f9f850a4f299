//! Users' settings documents.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::RepoError;

/// Where a user's settings document is kept (with the user: deleting the
/// user deletes it).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SettingsRepository: Send + Sync + 'static {
    /// The stored document (only the keys that were set), or `None` if
    /// there is no such user.
    async fn settings(&self, user: Uuid) -> Result<Option<Map<String, Value>>, RepoError>;

    /// Compare-and-set: replaces the document with `new` (and bumps the
    /// user's `updated_at`) only if it still equals `old`, in one
    /// statement. `false` if it did not (changed since it was read, or the
    /// user is gone): nothing was written.
    async fn replace_settings(
        &self,
        user: Uuid,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Whether `location` belongs to an organization `user` is a member of
    /// (an active membership).
    async fn is_member_location(&self, user: Uuid, location: Uuid) -> Result<bool, RepoError>;
}
