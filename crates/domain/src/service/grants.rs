//! Who may hand out what: roles and permissions are granted only by those
//! who hold them (owners and superadmins grant any), the owner role only by
//! owners, and only names the organization knows.

use uuid::Uuid;

use crate::{
    auth::{PermissionName, Principal, Refusal},
    error::Error,
    org::{Membership, Role},
    ports::{LocationRepository, RoleRepository},
    user::BuiltinRole,
    validation::ValidationErrors,
    DEFAULT_ORG_ID,
};

/// Whether the caller is an owner of the organization of `membership`, or a superadmin.
pub(super) fn is_owner(principal: &Principal, membership: Option<&Membership>) -> bool {
    principal.is_superadmin || membership.is_some_and(|m| m.role == "owner")
}

/// Superadmins and owners may grant anything; others only what they hold
/// (a member in the organization, an API key itself).
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
        _ => Err(Error::Forbidden(Refusal::GrantBeyondOwn)),
    }
}

/// Who may hand out `role` in an organization: owners for `owner`, else
/// whoever holds its permissions.
pub(super) fn may_assign(principal: &Principal, membership: Option<&Membership>, role: &Role) -> Result<(), Error> {
    if role.name == "owner" && !is_owner(principal, membership) {
        return Err(Error::Forbidden(Refusal::OwnerOnly));
    }
    may_grant(principal, membership, &role.permissions)
}

/// Who may give a user `role` of the organization the caller acts in (a
/// new user, or a member of the user administration's own): owners (and
/// superadmins) any; others only a role whose permissions they hold
/// themselves, never `owner` — so an API key or a custom role with
/// `users:write` cannot mint a member stronger than itself.
pub(super) fn may_give_role(principal: &Principal, role: &Role) -> Result<(), Error> {
    if principal.is_superadmin || (principal.org_id == role.org_id && principal.is_owner()) {
        return Ok(());
    }
    if role.name == "owner" {
        return Err(Error::Forbidden(Refusal::OwnerOnly));
    }
    if role.permissions.iter().all(|p| principal.has(p)) {
        Ok(())
    } else {
        Err(Error::Forbidden(Refusal::GrantBeyondOwn))
    }
}

/// [`may_give_role`] for a built-in role of the default organization (the
/// platform's invitations).
pub(super) async fn may_grant_platform_role(
    roles: &dyn RoleRepository,
    principal: &Principal,
    role: BuiltinRole,
) -> Result<(), Error> {
    if principal.is_superadmin || (principal.in_default_org() && principal.is_owner()) {
        return Ok(());
    }
    if role == BuiltinRole::Owner {
        return Err(Error::Forbidden(Refusal::OwnerOnly));
    }
    let granted = roles
        .role_by_name(DEFAULT_ORG_ID, role.as_str())
        .await?
        .ok_or_else(|| Error::Internal(format!("the default organization has no {} role", role.as_str())))?;
    may_give_role(principal, &granted)
}

/// Every permission must be built in or registered for the organization.
pub(super) async fn known_permissions(
    roles: &dyn RoleRepository,
    org: Uuid,
    field: &str,
    permissions: &[String],
) -> Result<(), Error> {
    let mut errors = ValidationErrors::new();
    unknown_permissions(roles, org, field, permissions, &mut errors).await?;
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
    roles: &dyn RoleRepository,
    org: Uuid,
    field: &str,
    raw: &[String],
    errors: &mut ValidationErrors,
) -> Result<(), Error> {
    let registered = roles.list_permissions(org).await?;
    for (i, p) in raw.iter().enumerate() {
        let Ok(p) = PermissionName::parse(p) else { continue };
        let known = p.is_builtin() || registered.iter().any(|r| r.name == p.as_str());
        if !known {
            errors.add(format!("{field}[{i}]"), "is not a permission of this organization (register it first)");
        }
    }
    Ok(())
}

/// The role called `name` in `org`, checked against the location it
/// would be held with; `Validation` on `role` / `location_id`.
pub(super) async fn role_with_location(
    roles: &dyn RoleRepository,
    locations: &dyn LocationRepository,
    org: Uuid,
    name: &str,
    location: Option<Uuid>,
) -> Result<Role, Error> {
    let role =
        roles.role_by_name(org, name).await?.ok_or_else(|| invalid("role", "is not a role of this organization"))?;
    match location {
        Some(id) if locations.get_location(org, id).await?.is_none() => {
            Err(invalid("location_id", "is not a location of this organization"))
        }
        None if role.requires_location => Err(invalid("location_id", "is required by this role")),
        _ => Ok(role),
    }
}

fn invalid(field: &str, message: &str) -> Error {
    let mut errors = ValidationErrors::new();
    errors.add(field, message);
    Error::Validation(errors)
}
