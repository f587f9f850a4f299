//! Roles and the permissions organizations register.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    org::{OrgPermission, Role, RolePatch},
};

/// A role to write (its id chosen by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRole {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    pub requires_location: bool,
    pub now: DateTime<Utc>,
}

/// The roles of organizations and the permissions they registered. Every method that takes an
/// `org` only reads or writes rows of that organization: an id from another
/// organization is "not found".
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait RoleRepository: Send + Sync + 'static {
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
}
