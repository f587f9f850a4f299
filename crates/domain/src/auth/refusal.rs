//! Why an authenticated caller is refused (a `403`): one typed reason per
//! rule, so the HTTP layer renders a stable `reason` (and, for a missing
//! permission, which one) without reading sentences.

use super::Permission;

/// The rule that refused an authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller does not hold this permission where it acts (its
    /// organization, or the default organization for the platform's users).
    MissingPermission(Permission),
    /// Only owners (and superadmins) grant the owner role and act on owners,
    /// their memberships and their accounts.
    OwnerOnly,
    /// Only superadmins: creating and deleting organizations, the outbox,
    /// superadmin accounts.
    SuperadminOnly,
    /// Nobody does this to their own account or membership (change their own
    /// role, grant themselves permissions, (de)activate, delete or ban
    /// themselves, mail themselves an administrator's password reset).
    NotYourself,
    /// The platform's user administration happens in a session acting in the
    /// default organization: another organization's permissions say nothing
    /// about the platform's users.
    DefaultOrgSessionRequired,
    /// Only a signed-in user can do this (their own profile, password,
    /// session); an API key acts for a service.
    SignedInUserOnly,
    /// A role or permission is granted only by one who holds every permission
    /// it carries (owners and superadmins grant any).
    GrantBeyondOwn,
    /// Adding an existing user by id hands the organization their profile, so
    /// it takes a platform user administrator.
    PlatformAdminOnly,
    /// The organization would be left without an active owner.
    LastOwner,
    /// The account is managed by another organization (or the platform):
    /// this organization manages only the user's membership here.
    NotManaged,
}
