//! The locations (venues, offices) of organizations.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    org::{Location, LocationPatch},
    user::Page,
};

/// The locations of organizations. Every method that takes an
/// `org` only reads or writes rows of that organization: an id from another
/// organization is "not found".
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LocationRepository: Send + Sync + 'static {
    /// Locations by name; `q` is a case-insensitive substring of the name or a keyword.
    async fn list_locations(
        &self,
        org: Uuid,
        q: Option<String>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Location>, RepoError>;
    async fn get_location(&self, org: Uuid, id: Uuid) -> Result<Option<Location>, RepoError>;
    async fn create_location(&self, location: &Location) -> Result<Location, RepoError>;
    async fn update_location(
        &self,
        org: Uuid,
        id: Uuid,
        patch: &LocationPatch,
        now: DateTime<Utc>,
    ) -> Result<Option<Location>, RepoError>;
    /// `Conflict(InUse)` while members have it; `false` if there is no such location.
    async fn delete_location(&self, org: Uuid, id: Uuid) -> Result<bool, RepoError>;
}
