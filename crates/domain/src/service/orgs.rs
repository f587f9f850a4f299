//! Organizations themselves. Every decision goes through the [`OrgGate`]; a
//! caller who is not a member of an organization is told it does not exist.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, Refusal},
    error::{Error, StateConflict},
    org::{Access, NewOrgInput, OrgPatch, Organization},
    ports::{Clock, OrganizationRepository, UserRepository},
    user::Page,
    validation::ValidationErrors,
    DEFAULT_ORG_ID,
};

use super::{OrgGate, PasswordRules};

/// What [`OrgService`] calls.
#[derive(Clone)]
pub struct OrgPorts {
    pub gate: OrgGate,
    pub orgs: Arc<dyn OrganizationRepository>,
    /// To check that a new organization's first owner exists.
    pub users: Arc<dyn UserRepository>,
    /// The platform's password policy, the floor of an organization's.
    pub passwords: PasswordRules,
    pub clock: Arc<dyn Clock>,
}

/// Organization use cases.
#[derive(Clone)]
pub struct OrgService {
    ports: OrgPorts,
}

impl OrgService {
    pub fn new(ports: OrgPorts) -> OrgService {
        OrgService { ports }
    }

    /// Creates an organization with its built-in roles and, if given, its
    /// first owner. Superadmins only. Errors: `Validation` (also an unknown
    /// `owner_id`), `Conflict(SlugTaken)`.
    pub async fn create(&self, principal: &Principal, input: NewOrgInput) -> Result<Organization, Error> {
        if !principal.is_superadmin {
            return Err(Error::Forbidden(Refusal::SuperadminOnly));
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
        self.ports.gate.authorized(principal, id, Access::Read).await?;
        self.ports.orgs.get_org(id).await?.ok_or(Error::NotFound("organization"))
    }

    /// Renames an organization, changes its slug or the password policy of
    /// the accounts it manages (at least as strict as the platform's).
    /// Needs `org:manage`.
    pub async fn update(&self, principal: &Principal, id: Uuid, patch: OrgPatch) -> Result<Organization, Error> {
        self.ports.gate.authorized(principal, id, Access::Permission(Permission::OrgManage)).await?;
        let patch = patch.validate(self.ports.passwords.platform())?;
        let now = self.ports.clock.now();
        self.ports.orgs.update_org(id, &patch, now).await?.ok_or(Error::NotFound("organization"))
    }

    /// Deletes an organization with its roles, locations and memberships.
    /// Its users stay: the accounts it managed go back to the platform and
    /// join the default organization. Superadmins only; never the default
    /// organization.
    pub async fn delete(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        self.ports.gate.authorized(principal, id, Access::Superadmin).await?;
        if id == DEFAULT_ORG_ID {
            return Err(Error::InvalidState(StateConflict::DefaultOrgPermanent));
        }
        if self.ports.orgs.delete_org(id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("organization"))
        }
    }
}

#[cfg(test)]
#[path = "orgs_tests.rs"]
mod tests;
