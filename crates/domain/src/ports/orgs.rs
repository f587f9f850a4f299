//! The organizations themselves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    org::{OrgPatch, Organization},
    user::Page,
};

/// Organizations (tenants). What belongs to one lives behind its own port:
/// [`RoleRepository`](super::RoleRepository),
/// [`LocationRepository`](super::LocationRepository),
/// [`MemberRepository`](super::MemberRepository).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OrganizationRepository: Send + Sync + 'static {
    /// Creates the organization with its built-in roles (`owner` with every
    /// built-in permission, `admin`, `member`) and, if given, `owner` as its
    /// first owner — in one transaction. `Conflict(SlugTaken)`.
    async fn create_org(
        &self,
        id: Uuid,
        name: &str,
        slug: &str,
        owner: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Organization, RepoError>;

    async fn get_org(&self, id: Uuid) -> Result<Option<Organization>, RepoError>;

    /// Organizations by name, all of them or those `member` belongs to (and
    /// is not deactivated in).
    async fn list_orgs(&self, member: Option<Uuid>, page: u32, per_page: u32) -> Result<Page<Organization>, RepoError>;

    /// `Conflict(SlugTaken)`; `None` if there is no such organization.
    async fn update_org(
        &self,
        id: Uuid,
        patch: &OrgPatch,
        now: DateTime<Utc>,
    ) -> Result<Option<Organization>, RepoError>;

    /// Deletes a non-default organization with its roles, locations,
    /// permissions and memberships (the users stay). `false` if none.
    async fn delete_org(&self, id: Uuid) -> Result<bool, RepoError>;
}
