//! Organizations, their roles and their registered permissions. Every
//! decision goes through [`authorize`]; a caller who is not a member of an
//! organization is told it does not exist.

use uuid::Uuid;

use crate::{
    auth::Principal,
    error::Error,
    org::{
        authorize, Access, Membership, NewOrgInput, NewRoleInput, OrgPatch, OrgPermission, Organization,
        PermissionInput, Role, RolePatch, CATALOGUE,
    },
    ports::NewRole,
    user::Page,
    validation::ValidationErrors,
    DEFAULT_ORG_ID,
};

use super::Ports;

pub(super) const ROLES_MANAGE: &str = "roles:manage";
const ORG_MANAGE: &str = "org:manage";

/// Organization use cases.
#[derive(Clone)]
pub struct OrgService {
    ports: Ports,
}

/// Loads the caller's membership and asks the policy; returns the
/// membership (`None` for a superadmin who is not a member).
pub(super) async fn authorized(
    ports: &Ports,
    principal: &Principal,
    org: Uuid,
    access: Access,
) -> Result<Option<Membership>, Error> {
    let membership = match principal.user_id() {
        Some(me) => ports.orgs.membership(org, me).await?,
        None => None,
    };
    authorize(principal, org, membership.as_ref(), access)?;
    if principal.is_superadmin && ports.orgs.get_org(org).await?.is_none() {
        return Err(Error::NotFound("organization"));
    }
    Ok(membership)
}

/// Superadmins and owners may grant anything; others only what they hold.
pub(super) fn may_grant(
    principal: &Principal,
    membership: Option<&Membership>,
    permissions: &[String],
) -> Result<(), Error> {
    match membership {
        _ if principal.is_superadmin => Ok(()),
        Some(m) if m.role == "owner" => Ok(()),
        Some(m) if permissions.iter().all(|p| m.has(p)) => Ok(()),
        None if principal.user().is_none() && permissions.iter().all(|p| principal.has(p)) => Ok(()),
        _ => Err(Error::Forbidden("you can only grant permissions you hold")),
    }
}

/// Every permission must be built in or registered for the organization.
pub(super) async fn known_permissions(
    ports: &Ports,
    org: Uuid,
    field: &str,
    permissions: &[String],
) -> Result<(), Error> {
    let mut errors = ValidationErrors::new();
    unknown_permissions(ports, org, field, permissions, &mut errors).await?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// Records under `field[i]` each well-formed permission of `raw` (as sent)
/// that is neither built in nor registered for the organization; malformed
/// ones are the input validation's to report.
pub(super) async fn unknown_permissions(
    ports: &Ports,
    org: Uuid,
    field: &str,
    raw: &[String],
    errors: &mut ValidationErrors,
) -> Result<(), Error> {
    let registered = ports.orgs.list_permissions(org).await?;
    for (i, p) in raw.iter().enumerate() {
        let Ok(p) = crate::org::Permission::parse(p) else { continue };
        let known = CATALOGUE.iter().any(|(n, _)| *n == p.as_str()) || registered.iter().any(|r| r.name == p.as_str());
        if !known {
            errors.add(format!("{field}[{i}]"), "is not a permission of this organization (register it first)");
        }
    }
    Ok(())
}

impl OrgService {
    pub fn new(ports: Ports) -> OrgService {
        OrgService { ports }
    }

    /// Creates an organization with its built-in roles and, if given, its
    /// first owner. Superadmins only. Errors: `Validation` (also an unknown
    /// `owner_id`), `Conflict(SlugTaken)`.
    pub async fn create(&self, principal: &Principal, input: NewOrgInput) -> Result<Organization, Error> {
        if !principal.is_superadmin {
            return Err(Error::Forbidden("only superadmins create organizations"));
        }
        let input = input.validate()?;
        if let Some(owner) = input.owner_id {
            if self.ports.users.get(owner).await?.is_none() {
                let mut errors = ValidationErrors::new();
                errors.add("owner_id", "is not a user");
                return Err(Error::Validation(errors));
            }
        }
        let now = self.ports.clock.now();
        Ok(self.ports.orgs.create_org(Uuid::now_v7(), &input.name, &input.slug, input.owner_id, now).await?)
    }

    /// The organizations the caller belongs to (all of them for a superadmin).
    pub async fn list(&self, principal: &Principal, page: u32, per_page: u32) -> Result<Page<Organization>, Error> {
        let Some(me) = principal.user_id() else {
            // An API key belongs to one organization.
            let org: Vec<_> = self.ports.orgs.get_org(principal.org_id).await?.into_iter().collect();
            let total = org.len() as u64;
            let items = org.into_iter().filter(|_| page == 1).collect();
            return Ok(Page { items, total: Some(total), page: Some(page), per_page, has_more: false });
        };
        let member = (!principal.is_superadmin).then_some(me);
        Ok(self.ports.orgs.list_orgs(member, page, per_page).await?)
    }

    pub async fn get(&self, principal: &Principal, id: Uuid) -> Result<Organization, Error> {
        authorized(&self.ports, principal, id, Access::Read).await?;
        self.ports.orgs.get_org(id).await?.ok_or(Error::NotFound("organization"))
    }

    /// Renames an organization or changes its slug. Needs `org:manage`.
    pub async fn update(&self, principal: &Principal, id: Uuid, patch: OrgPatch) -> Result<Organization, Error> {
        authorized(&self.ports, principal, id, Access::Permission(ORG_MANAGE)).await?;
        let patch = patch.validate()?;
        let now = self.ports.clock.now();
        self.ports.orgs.update_org(id, &patch, now).await?.ok_or(Error::NotFound("organization"))
    }

    /// Deletes an organization with its roles, locations and memberships
    /// (its users stay). Superadmins only; never the default organization.
    pub async fn delete(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        authorized(&self.ports, principal, id, Access::Superadmin).await?;
        if id == DEFAULT_ORG_ID {
            return Err(Error::InvalidState("the default organization cannot be deleted"));
        }
        if self.ports.orgs.delete_org(id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("organization"))
        }
    }

    pub async fn roles(&self, principal: &Principal, org: Uuid) -> Result<Vec<Role>, Error> {
        authorized(&self.ports, principal, org, Access::Read).await?;
        Ok(self.ports.orgs.list_roles(org).await?)
    }

    pub async fn role(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<Role, Error> {
        authorized(&self.ports, principal, org, Access::Read).await?;
        self.ports.orgs.get_role(org, id).await?.ok_or(Error::NotFound("role"))
    }

    /// Creates a custom role. Needs `roles:manage`, and the permissions it
    /// grants (unless owner). Errors: `Validation` (unknown permissions),
    /// `Forbidden`, `Conflict(RoleNameTaken)`.
    pub async fn create_role(&self, principal: &Principal, org: Uuid, input: NewRoleInput) -> Result<Role, Error> {
        let membership = authorized(&self.ports, principal, org, Access::Permission(ROLES_MANAGE)).await?;
        let input = input.validate()?;
        known_permissions(&self.ports, org, "permissions", &input.permissions).await?;
        may_grant(principal, membership.as_ref(), &input.permissions)?;
        let role = NewRole {
            id: Uuid::now_v7(),
            org_id: org,
            name: input.name,
            description: input.description,
            permissions: input.permissions,
            requires_location: input.requires_location,
            now: self.ports.clock.now(),
        };
        Ok(self.ports.orgs.create_role(&role).await?)
    }

    /// Changes a role. Built-in roles keep their names, and `owner` keeps
    /// every permission. Needs `roles:manage`.
    pub async fn update_role(
        &self,
        principal: &Principal,
        org: Uuid,
        id: Uuid,
        patch: RolePatch,
    ) -> Result<Role, Error> {
        let membership = authorized(&self.ports, principal, org, Access::Permission(ROLES_MANAGE)).await?;
        let patch = patch.validate()?;
        let role = self.ports.orgs.get_role(org, id).await?.ok_or(Error::NotFound("role"))?;
        if role.builtin && patch.name.as_ref().is_some_and(|n| *n != role.name) {
            return Err(Error::InvalidState("built-in roles cannot be renamed"));
        }
        if role.builtin && role.name == "owner" && patch.permissions.is_some() {
            return Err(Error::InvalidState("the owner role always holds every permission"));
        }
        if let Some(permissions) = &patch.permissions {
            known_permissions(&self.ports, org, "permissions", permissions).await?;
            may_grant(principal, membership.as_ref(), permissions)?;
        }
        self.ports.orgs.update_role(org, id, &patch).await?.ok_or(Error::NotFound("role"))
    }

    /// Deletes a custom role nobody holds. Needs `roles:manage`.
    pub async fn delete_role(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<(), Error> {
        authorized(&self.ports, principal, org, Access::Permission(ROLES_MANAGE)).await?;
        let role = self.ports.orgs.get_role(org, id).await?.ok_or(Error::NotFound("role"))?;
        if role.builtin {
            return Err(Error::InvalidState("built-in roles cannot be deleted"));
        }
        if self.ports.orgs.delete_role(org, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("role"))
        }
    }

    /// The built-in catalogue, plus what `org` registered when given (for a member of it).
    pub async fn permissions(&self, principal: &Principal, org: Option<Uuid>) -> Result<Vec<OrgPermission>, Error> {
        let mut all: Vec<OrgPermission> = CATALOGUE
            .iter()
            .map(|(name, description)| OrgPermission {
                name: (*name).into(),
                description: Some((*description).into()),
                org_id: None,
            })
            .collect();
        if let Some(org) = org {
            authorized(&self.ports, principal, org, Access::Read).await?;
            all.extend(self.ports.orgs.list_permissions(org).await?);
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
        authorized(&self.ports, principal, org, Access::Permission(ROLES_MANAGE)).await?;
        let input = input.validate()?;
        let now = self.ports.clock.now();
        Ok(self.ports.orgs.register_permission(org, &input.name, input.description, now).await?)
    }

    /// Forgets a registered permission no role or member holds. Needs `roles:manage`.
    pub async fn delete_permission(&self, principal: &Principal, org: Uuid, name: &str) -> Result<(), Error> {
        authorized(&self.ports, principal, org, Access::Permission(ROLES_MANAGE)).await?;
        if self.ports.orgs.delete_permission(org, name).await? {
            Ok(())
        } else {
            Err(Error::NotFound("permission"))
        }
    }
}

#[cfg(test)]
#[path = "orgs_tests.rs"]
mod tests;
