//! Members and locations of an organization.
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

use uuid::Uuid;

use crate::{
    auth::Principal,
    error::Error,
    org::{
        AddMemberInput, Location, LocationInput, LocationPatch, Member, MemberChange, MemberOutcome, MemberPatch,
        MemberPermissionsInput, Membership, Role,
    },
    user::{ListParams, Page, Scope},
    validation::{Patch, ValidationErrors},
};

use super::{
    orgs::{authorized, known_permissions, may_grant},
    Ports, UserList, UserService,
};
use crate::org::Access;

pub(super) const MEMBERS_MANAGE: &str = "members:manage";
const LOCATIONS_MANAGE: &str = "locations:manage";
const USERS_READ: &str = "users:read";
const USERS_WRITE: &str = "users:write";

/// Member and location use cases.
#[derive(Clone)]
pub struct MemberService {
    ports: Ports,
    users: UserService,
}

fn invalid(field: &str, message: &str) -> Error {
    let mut errors = ValidationErrors::new();
    errors.add(field, message);
    Error::Validation(errors)
}

fn is_owner(principal: &Principal, membership: Option<&Membership>) -> bool {
    principal.is_superadmin || membership.is_some_and(|m| m.role == "owner")
}

/// The role called `name` in `org`, checked against the location it
/// would be held with; `Validation` on `role` / `location_id`.
pub(super) async fn role_with_location(
    ports: &Ports,
    org: Uuid,
    name: &str,
    location: Option<Uuid>,
) -> Result<Role, Error> {
    let role = ports
        .orgs
        .role_by_name(org, name)
        .await?
        .ok_or_else(|| invalid("role", "is not a role of this organization"))?;
    match location {
        Some(id) if ports.orgs.get_location(org, id).await?.is_none() => {
            Err(invalid("location_id", "is not a location of this organization"))
        }
        None if role.requires_location => Err(invalid("location_id", "is required by this role")),
        _ => Ok(role),
    }
}

/// Who may hand out `role`: owners for `owner`, else whoever holds its permissions.
pub(super) fn may_assign(principal: &Principal, membership: Option<&Membership>, role: &Role) -> Result<(), Error> {
    if role.name == "owner" && !is_owner(principal, membership) {
        return Err(Error::Forbidden("only owners make owners"));
    }
    may_grant(principal, membership, &role.permissions)
}

impl MemberService {
    pub fn new(ports: Ports, users: UserService) -> MemberService {
        MemberService { ports, users }
    }

    /// The members of an organization, with every feature of `GET /users`
    /// (their `role` is their role here). Needs `users:read` there.
    pub async fn list(&self, principal: &Principal, org: Uuid, params: &ListParams) -> Result<UserList, Error> {
        authorized(&self.ports, principal, org, Access::Permission(USERS_READ)).await?;
        self.users.list_in(Scope::Org(org), params).await
    }

    pub async fn get(&self, principal: &Principal, org: Uuid, user: Uuid) -> Result<Member, Error> {
        authorized(&self.ports, principal, org, Access::Read).await?;
        self.ports.orgs.get_member(org, user).await?.ok_or(Error::NotFound("member"))
    }

    /// Adds an existing user by id. Needs `members:manage` there, and —
    /// because it hands the organization the user's profile — platform
    /// authority over users: a superadmin, or a user administrator of the
    /// default organization acting from it. (An organization's own admins
    /// cannot pull in arbitrary users by id.) Errors: `NotFound` (user),
    /// `Validation` (role, location), `Forbidden`, `Conflict(AlreadyMember)`.
    pub async fn add(&self, principal: &Principal, org: Uuid, input: AddMemberInput) -> Result<Member, Error> {
        let membership = authorized(&self.ports, principal, org, Access::Permission(MEMBERS_MANAGE)).await?;
        let platform_admin = principal.is_superadmin || (principal.in_default_org() && principal.has(USERS_WRITE));
        if !platform_admin {
            return Err(Error::Forbidden("adding an existing user takes a platform user administrator"));
        }
        self.ports.users.get(input.user_id).await?.ok_or(Error::NotFound("user"))?;
        let role_name = input.role.as_deref().unwrap_or("member");
        let role = role_with_location(&self.ports, org, role_name, input.location_id).await?;
        may_assign(principal, membership.as_ref(), &role)?;
        let now = self.ports.clock.now();
        Ok(self.ports.orgs.add_member(org, input.user_id, role.id, input.location_id, now).await?)
    }

    async fn target(
        &self,
        principal: &Principal,
        membership: Option<&Membership>,
        org: Uuid,
        user: Uuid,
    ) -> Result<Member, Error> {
        let member = self.ports.orgs.get_member(org, user).await?.ok_or(Error::NotFound("member"))?;
        if member.role == "owner" && !is_owner(principal, membership) {
            return Err(Error::Forbidden("owners are managed by owners"));
        }
        Ok(member)
    }

    fn outcome<T>(outcome: MemberOutcome<T>) -> Result<T, Error> {
        match outcome {
            MemberOutcome::Done(v) => Ok(v),
            MemberOutcome::NotFound => Err(Error::NotFound("member")),
            MemberOutcome::LastOwner => Err(Error::Forbidden("an organization keeps at least one owner")),
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
        let membership = authorized(&self.ports, principal, org, Access::Permission(MEMBERS_MANAGE)).await?;
        let current = self.target(principal, membership.as_ref(), org, user).await?;
        if patch.role.is_some() && principal.is_user(user) && !principal.is_superadmin {
            return Err(Error::Forbidden("nobody changes their own role"));
        }
        let location = match patch.location_id {
            Patch::Keep => current.location_id,
            Patch::Clear => None,
            Patch::Set(id) => Some(id),
        };
        let role_name = patch.role.as_deref().unwrap_or(&current.role);
        let role = role_with_location(&self.ports, org, role_name, location).await?;
        if patch.role.is_some() {
            may_assign(principal, membership.as_ref(), &role)?;
        }
        let change = MemberChange {
            role_id: patch.role.is_some().then_some(role.id),
            location_id: (!patch.location_id.is_keep()).then_some(location),
            extra_permissions: None,
        };
        Self::outcome(self.ports.orgs.update_member(org, user, &change).await?)
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
        let membership = authorized(&self.ports, principal, org, Access::Permission(MEMBERS_MANAGE)).await?;
        self.target(principal, membership.as_ref(), org, user).await?;
        let permissions = input.validate()?;
        known_permissions(&self.ports, org, "permissions", &permissions).await?;
        may_grant(principal, membership.as_ref(), &permissions)?;
        if principal.is_user(user) && !is_owner(principal, membership.as_ref()) {
            return Err(Error::Forbidden("nobody grants themselves permissions"));
        }
        let change = MemberChange { extra_permissions: Some(permissions), ..MemberChange::default() };
        Self::outcome(self.ports.orgs.update_member(org, user, &change).await?)
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
        let membership = authorized(&self.ports, principal, org, Access::Permission(MEMBERS_MANAGE)).await?;
        self.target(principal, membership.as_ref(), org, user).await?;
        if principal.is_user(user) {
            return Err(Error::Forbidden("nobody activates or deactivates themselves"));
        }
        if org == crate::DEFAULT_ORG_ID {
            return Err(Error::InvalidState(
                "members of the default organization are the platform's users: (de)activate the user instead",
            ));
        }
        let now = self.ports.clock.now();
        Self::outcome(self.ports.orgs.set_member_active(org, user, active, now).await?)
    }

    /// Removes a member (the user stays). Needs `members:manage`.
    pub async fn remove(&self, principal: &Principal, org: Uuid, user: Uuid) -> Result<(), Error> {
        let membership = authorized(&self.ports, principal, org, Access::Permission(MEMBERS_MANAGE)).await?;
        self.target(principal, membership.as_ref(), org, user).await?;
        Self::outcome(self.ports.orgs.remove_member(org, user).await?)
    }

    /// Locations by name; `q` searches names and keywords. Any member.
    pub async fn locations(
        &self,
        principal: &Principal,
        org: Uuid,
        q: Option<String>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Location>, Error> {
        authorized(&self.ports, principal, org, Access::Read).await?;
        Ok(self.ports.orgs.list_locations(org, q.filter(|q| !q.trim().is_empty()), page, per_page).await?)
    }

    pub async fn location(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<Location, Error> {
        authorized(&self.ports, principal, org, Access::Read).await?;
        self.ports.orgs.get_location(org, id).await?.ok_or(Error::NotFound("location"))
    }

    /// Needs `locations:manage`.
    pub async fn create_location(
        &self,
        principal: &Principal,
        org: Uuid,
        input: LocationInput,
    ) -> Result<Location, Error> {
        authorized(&self.ports, principal, org, Access::Permission(LOCATIONS_MANAGE)).await?;
        let input = input.validate()?;
        let now = self.ports.clock.now();
        let location = Location {
            id: Uuid::now_v7(),
            org_id: org,
            name: input.name,
            timezone: input.timezone,
            keywords: input.keywords,
            created_at: now,
            updated_at: now,
        };
        Ok(self.ports.orgs.create_location(&location).await?)
    }

    /// Needs `locations:manage`.
    pub async fn update_location(
        &self,
        principal: &Principal,
        org: Uuid,
        id: Uuid,
        patch: LocationPatch,
    ) -> Result<Location, Error> {
        authorized(&self.ports, principal, org, Access::Permission(LOCATIONS_MANAGE)).await?;
        let patch = patch.validate()?;
        let now = self.ports.clock.now();
        self.ports.orgs.update_location(org, id, &patch, now).await?.ok_or(Error::NotFound("location"))
    }

    /// Needs `locations:manage`; refused while members have it.
    pub async fn delete_location(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<(), Error> {
        authorized(&self.ports, principal, org, Access::Permission(LOCATIONS_MANAGE)).await?;
        if self.ports.orgs.delete_location(org, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("location"))
        }
    }
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
