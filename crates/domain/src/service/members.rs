//! The members of an organization.
//!
//! Rules beyond the permission itself: only owners (and superadmins) make
//! or unmake owners and act on owners; nobody changes their own role; a
//! role that `requires_location` needs a location of the same organization;
//! the last owner can be neither demoted nor removed.
//!
//! Deactivating is the organization's own: the member stays listed but
//! cannot act there (to authorization they are no member), while their
//! account and their other organizations are untouched. Nobody
//! (de)activates themselves, and the last active owner stays active.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, Refusal},
    error::{Error, StateConflict},
    org::{
        Access, AddMemberInput, Member, MemberChange, MemberOutcome, MemberPatch, MemberPermissionsInput, Membership,
    },
    ports::{Clock, LocationRepository, MemberRepository, RoleRepository, UserRepository},
    user::{ListParams, Scope},
    validation::Patch,
};

use super::{
    grants::{is_owner, known_permissions, may_assign, may_grant, role_with_location},
    Directory, OrgGate, UserList,
};

const MEMBERS_MANAGE: Access = Access::Permission(Permission::MembersManage);

/// What [`MemberService`] calls.
#[derive(Clone)]
pub struct MemberPorts {
    pub gate: OrgGate,
    pub members: Arc<dyn MemberRepository>,
    /// The role a member is given, and the permissions the organization knows.
    pub roles: Arc<dyn RoleRepository>,
    /// The location a member is given.
    pub locations: Arc<dyn LocationRepository>,
    /// To check that a user added by id exists.
    pub users: Arc<dyn UserRepository>,
    /// The member list.
    pub directory: Directory,
    pub clock: Arc<dyn Clock>,
}

/// Member use cases.
#[derive(Clone)]
pub struct MemberService {
    ports: MemberPorts,
}

impl MemberService {
    pub fn new(ports: MemberPorts) -> MemberService {
        MemberService { ports }
    }

    /// The members of an organization, with every feature of `GET /users`
    /// (their `role` is their role here). Needs `users:read` there.
    pub async fn list(&self, principal: &Principal, org: Uuid, params: &ListParams) -> Result<UserList, Error> {
        self.ports.gate.authorized(principal, org, Access::Permission(Permission::UsersRead)).await?;
        self.ports.directory.list(Scope::Org(org), params).await
    }

    pub async fn get(&self, principal: &Principal, org: Uuid, user: Uuid) -> Result<Member, Error> {
        self.ports.gate.authorized(principal, org, Access::Read).await?;
        self.ports.members.get_member(org, user).await?.ok_or(Error::NotFound("member"))
    }

    /// Adds an existing user by id. Needs `members:manage` there, and —
    /// because it hands the organization the user's profile — platform
    /// authority over users: a superadmin, or a user administrator of the
    /// default organization acting from it. (An organization's own admins
    /// cannot pull in arbitrary users by id.) Errors: `NotFound` (user),
    /// `Validation` (role, location), `Forbidden`, `Conflict(AlreadyMember)`.
    pub async fn add(&self, principal: &Principal, org: Uuid, input: AddMemberInput) -> Result<Member, Error> {
        let membership = self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        let platform_admin =
            principal.is_superadmin || (principal.in_default_org() && principal.holds(Permission::UsersWrite));
        if !platform_admin {
            return Err(Error::Forbidden(Refusal::PlatformAdminOnly));
        }
        self.ports.users.get(input.user_id).await?.ok_or(Error::NotFound("user"))?;
        let role_name = input.role.as_deref().unwrap_or("member");
        let role =
            role_with_location(&*self.ports.roles, &*self.ports.locations, org, role_name, input.location_id).await?;
        may_assign(principal, membership.as_ref(), &role)?;
        let now = self.ports.clock.now();
        Ok(self.ports.members.add_member(org, input.user_id, role.id, input.location_id, now).await?)
    }

    async fn target(
        &self,
        principal: &Principal,
        membership: Option<&Membership>,
        org: Uuid,
        user: Uuid,
    ) -> Result<Member, Error> {
        let member = self.ports.members.get_member(org, user).await?.ok_or(Error::NotFound("member"))?;
        if member.role == "owner" && !is_owner(principal, membership) {
            return Err(Error::Forbidden(Refusal::OwnerOnly));
        }
        Ok(member)
    }

    fn outcome<T>(outcome: MemberOutcome<T>) -> Result<T, Error> {
        match outcome {
            MemberOutcome::Done(v) => Ok(v),
            MemberOutcome::NotFound => Err(Error::NotFound("member")),
            MemberOutcome::LastOwner => Err(Error::Forbidden(Refusal::LastOwner)),
        }
    }

    /// Changes a member's role or location. Needs `members:manage`; nobody
    /// changes their own role.
    pub async fn update(
        &self,
        principal: &Principal,
        org: Uuid,
        user: Uuid,
        patch: MemberPatch,
    ) -> Result<Member, Error> {
        let membership = self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        let current = self.target(principal, membership.as_ref(), org, user).await?;
        if patch.role.is_some() && principal.is_user(user) && !principal.is_superadmin {
            return Err(Error::Forbidden(Refusal::NotYourself));
        }
        let location = match patch.location_id {
            Patch::Keep => current.location_id,
            Patch::Clear => None,
            Patch::Set(id) => Some(id),
        };
        let role_name = patch.role.as_deref().unwrap_or(&current.role);
        let role = role_with_location(&*self.ports.roles, &*self.ports.locations, org, role_name, location).await?;
        if patch.role.is_some() {
            may_assign(principal, membership.as_ref(), &role)?;
        }
        let change = MemberChange {
            role_id: patch.role.is_some().then_some(role.id),
            location_id: (!patch.location_id.is_keep()).then_some(location),
            extra_permissions: None,
        };
        Self::outcome(self.ports.members.update_member(org, user, &change).await?)
    }

    /// Replaces the permissions granted to one member on top of their role.
    /// Needs `members:manage` and the permissions themselves (unless owner).
    pub async fn set_permissions(
        &self,
        principal: &Principal,
        org: Uuid,
        user: Uuid,
        input: MemberPermissionsInput,
    ) -> Result<Member, Error> {
        let membership = self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        self.target(principal, membership.as_ref(), org, user).await?;
        let permissions = input.validate()?;
        known_permissions(&*self.ports.roles, org, "permissions", &permissions).await?;
        may_grant(principal, membership.as_ref(), &permissions)?;
        if principal.is_user(user) && !is_owner(principal, membership.as_ref()) {
            return Err(Error::Forbidden(Refusal::NotYourself));
        }
        let change = MemberChange { extra_permissions: Some(permissions), ..MemberChange::default() };
        Self::outcome(self.ports.members.update_member(org, user, &change).await?)
    }

    /// Deactivates a member in this organization only and ends their
    /// sessions acting in it (idempotent). Needs `members:manage`; owners
    /// are deactivated by owners, nobody deactivates themselves, the last
    /// active owner stays. Errors: `NotFound` (organization, member),
    /// `Forbidden`, `InvalidState` (the default organization, whose members
    /// are deactivated as users).
    pub async fn deactivate(&self, principal: &Principal, org: Uuid, user: Uuid) -> Result<Member, Error> {
        self.set_active(principal, org, user, false).await
    }

    /// Lets a deactivated member act in this organization again
    /// (idempotent). The same rules as [`MemberService::deactivate`].
    pub async fn activate(&self, principal: &Principal, org: Uuid, user: Uuid) -> Result<Member, Error> {
        self.set_active(principal, org, user, true).await
    }

    async fn set_active(&self, principal: &Principal, org: Uuid, user: Uuid, active: bool) -> Result<Member, Error> {
        let membership = self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        self.target(principal, membership.as_ref(), org, user).await?;
        if principal.is_user(user) {
            return Err(Error::Forbidden(Refusal::NotYourself));
        }
        if org == crate::DEFAULT_ORG_ID {
            return Err(Error::InvalidState(StateConflict::DefaultOrgMembership));
        }
        let now = self.ports.clock.now();
        Self::outcome(self.ports.members.set_member_active(org, user, active, now).await?)
    }

    /// Removes a member (the user stays). Needs `members:manage`.
    pub async fn remove(&self, principal: &Principal, org: Uuid, user: Uuid) -> Result<(), Error> {
        let membership = self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        self.target(principal, membership.as_ref(), org, user).await?;
        Self::outcome(self.ports.members.remove_member(org, user).await?)
    }
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
