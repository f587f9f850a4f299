//! The organization store: organizations, their roles, registered
//! permissions, locations and members.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    org::{
        Location, LocationPatch, Member, MemberChange, MemberOutcome, Membership, OrgPatch, OrgPermission,
        Organization, Role, RolePatch,
    },
    user::Page,
};

/// A role to write (its id chosen by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRole {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    pub requires_location: bool,
    pub now: DateTime<Utc>,
}

/// Organizations and everything that belongs to one. Every method that
/// takes an `org` only ever reads or writes rows of that organization: an
/// id from another organization is "not found".
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OrgRepository: Send + Sync + 'static {
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

    /// The user's role and effective permissions (role ∪ extra) in the
    /// organization. `None` for a deactivated membership too: a deactivated
    /// member is no member to authorization, login and session switching.
    async fn membership(&self, org: Uuid, user: Uuid) -> Result<Option<Membership>, RepoError>;

    async fn list_roles(&self, org: Uuid) -> Result<Vec<Role>, RepoError>;
    async fn get_role(&self, org: Uuid, id: Uuid) -> Result<Option<Role>, RepoError>;
    async fn role_by_name(&self, org: Uuid, name: &str) -> Result<Option<Role>, RepoError>;
    /// `Conflict(RoleNameTaken)`.
    async fn create_role(&self, role: &NewRole) -> Result<Role, RepoError>;
    /// `Conflict(RoleNameTaken)`; `None` if there is no such role.
    async fn update_role(&self, org: Uuid, id: Uuid, patch: &RolePatch) -> Result<Option<Role>, RepoError>;
    /// `Conflict(InUse)` while members hold it; `false` if there is no such role.
    async fn delete_role(&self, org: Uuid, id: Uuid) -> Result<bool, RepoError>;

    /// The permissions the organization registered (not the built-in catalogue).
    async fn list_permissions(&self, org: Uuid) -> Result<Vec<OrgPermission>, RepoError>;
    /// `Conflict(PermissionTaken)`.
    async fn register_permission(
        &self,
        org: Uuid,
        name: &str,
        description: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<OrgPermission, RepoError>;
    /// `Conflict(InUse)` while a role or a member holds it; `false` if not registered.
    async fn delete_permission(&self, org: Uuid, name: &str) -> Result<bool, RepoError>;

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

    async fn get_member(&self, org: Uuid, user: Uuid) -> Result<Option<Member>, RepoError>;
    /// `Conflict(AlreadyMember)`. The user exists (the caller checked).
    async fn add_member(
        &self,
        org: Uuid,
        user: Uuid,
        role_id: Uuid,
        location_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Member, RepoError>;
    /// Applies the change unless it would leave the organization without an
    /// active owner (checked under lock, so two concurrent demotions cannot
    /// both pass).
    async fn update_member(
        &self,
        org: Uuid,
        user: Uuid,
        change: &MemberChange,
    ) -> Result<MemberOutcome<Member>, RepoError>;
    /// Removes the membership unless it is the last active owner's.
    async fn remove_member(&self, org: Uuid, user: Uuid) -> Result<MemberOutcome<()>, RepoError>;
    /// Activates or deactivates the membership (idempotent; a non-default
    /// organization only). Deactivating refuses the last active owner
    /// (checked under the same lock as demotions) and revokes the user's
    /// sessions acting in `org` in the same transaction; their sessions
    /// elsewhere stay.
    async fn set_member_active(
        &self,
        org: Uuid,
        user: Uuid,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<MemberOutcome<Member>, RepoError>;
}
