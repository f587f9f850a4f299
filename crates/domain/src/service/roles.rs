//! The roles of an organization and the permissions it registers for its
//! host application. Reading takes membership; changing takes
//! `roles:manage` and, for what a role grants, the permissions themselves.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal},
    error::{Error, StateConflict},
    org::{Access, NewRoleInput, OrgPermission, PermissionInput, Role, RolePatch},
    ports::{Clock, NewRole, RoleRepository},
};

use super::{
    grants::{known_permissions, may_grant},
    OrgGate,
};

/// What [`RoleService`] calls.
#[derive(Clone)]
pub struct RolePorts {
    pub gate: OrgGate,
    pub roles: Arc<dyn RoleRepository>,
    pub clock: Arc<dyn Clock>,
}

/// Role and permission use cases.
#[derive(Clone)]
pub struct RoleService {
    ports: RolePorts,
}

const ROLES_MANAGE: Access = Access::Permission(Permission::RolesManage);

impl RoleService {
    pub fn new(ports: RolePorts) -> RoleService {
        RoleService { ports }
    }

    pub async fn list(&self, principal: &Principal, org: Uuid) -> Result<Vec<Role>, Error> {
        self.ports.gate.authorized(principal, org, Access::Read).await?;
        Ok(self.ports.roles.list_roles(org).await?)
    }

    pub async fn get(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<Role, Error> {
        self.ports.gate.authorized(principal, org, Access::Read).await?;
        self.ports.roles.get_role(org, id).await?.ok_or(Error::NotFound("role"))
    }

    /// Creates a custom role. Needs `roles:manage`, and the permissions it
    /// grants (unless owner). Errors: `Validation` (unknown permissions),
    /// `Forbidden`, `Conflict(RoleNameTaken)`.
    pub async fn create(&self, principal: &Principal, org: Uuid, input: NewRoleInput) -> Result<Role, Error> {
        let membership = self.ports.gate.authorized(principal, org, ROLES_MANAGE).await?;
        let input = input.validate()?;
        known_permissions(&*self.ports.roles, org, "permissions", &input.permissions).await?;
        may_grant(principal, membership.as_ref(), &input.permissions)?;
        let role = NewRole {
            id: Uuid::now_v7(),
            org_id: org,
            name: input.name,
            title: input.title,
            description: input.description,
            permissions: input.permissions,
            requires_location: input.requires_location,
            now: self.ports.clock.now(),
        };
        Ok(self.ports.roles.create_role(&role).await?)
    }

    /// Changes a role. Built-in roles keep their names, and `owner` keeps
    /// every permission. Needs `roles:manage`.
    pub async fn update(&self, principal: &Principal, org: Uuid, id: Uuid, patch: RolePatch) -> Result<Role, Error> {
        let membership = self.ports.gate.authorized(principal, org, ROLES_MANAGE).await?;
        let patch = patch.validate()?;
        let role = self.ports.roles.get_role(org, id).await?.ok_or(Error::NotFound("role"))?;
        if role.builtin && patch.name.as_ref().is_some_and(|n| *n != role.name) {
            return Err(Error::InvalidState(StateConflict::BuiltinRole));
        }
        if role.builtin && role.name == "owner" && patch.permissions.is_some() {
            return Err(Error::InvalidState(StateConflict::OwnerRoleFixed));
        }
        if let Some(permissions) = &patch.permissions {
            known_permissions(&*self.ports.roles, org, "permissions", permissions).await?;
            may_grant(principal, membership.as_ref(), permissions)?;
        }
        self.ports.roles.update_role(org, id, &patch).await?.ok_or(Error::NotFound("role"))
    }

    /// Deletes a custom role nobody holds. Needs `roles:manage`.
    pub async fn delete(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<(), Error> {
        self.ports.gate.authorized(principal, org, ROLES_MANAGE).await?;
        let role = self.ports.roles.get_role(org, id).await?.ok_or(Error::NotFound("role"))?;
        if role.builtin {
            return Err(Error::InvalidState(StateConflict::BuiltinRole));
        }
        if self.ports.roles.delete_role(org, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("role"))
        }
    }

    /// The built-in catalogue, plus what `org` registered when given (for a member of it).
    pub async fn permissions(&self, principal: &Principal, org: Option<Uuid>) -> Result<Vec<OrgPermission>, Error> {
        let mut all: Vec<OrgPermission> = Permission::ALL
            .iter()
            .map(|p| OrgPermission { name: p.as_str().into(), description: Some(p.description().into()), org_id: None })
            .collect();
        if let Some(org) = org {
            self.ports.gate.authorized(principal, org, Access::Read).await?;
            all.extend(self.ports.roles.list_permissions(org).await?);
        }
        Ok(all)
    }

    /// Registers a permission of the host application. Needs `roles:manage`.
    pub async fn register_permission(
        &self,
        principal: &Principal,
        org: Uuid,
        input: PermissionInput,
    ) -> Result<OrgPermission, Error> {
        self.ports.gate.authorized(principal, org, ROLES_MANAGE).await?;
        let input = input.validate()?;
        let now = self.ports.clock.now();
        Ok(self.ports.roles.register_permission(org, &input.name, input.description, now).await?)
    }

    /// Forgets a registered permission no role or member holds. Needs `roles:manage`.
    pub async fn delete_permission(&self, principal: &Principal, org: Uuid, name: &str) -> Result<(), Error> {
        self.ports.gate.authorized(principal, org, ROLES_MANAGE).await?;
        if self.ports.roles.delete_permission(org, name).await? {
            Ok(())
        } else {
            Err(Error::NotFound("permission"))
        }
    }
}
