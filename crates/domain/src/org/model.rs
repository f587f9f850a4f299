use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::values::PasswordPolicy;

/// A tenant. Single-tenant deployments live in the default organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    pub id: Uuid,
    /// Unique, URL-safe: lower-case letters, digits and `-`.
    pub slug: String,
    pub name: String,
    /// The organization every deployment has; it cannot be deleted.
    pub is_default: bool,
    /// The password policy of the accounts it manages; `null`: the platform's.
    pub password_policy: Option<PasswordPolicy>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A role in one organization: a named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// How people read it (`role_name` in user answers); `null`: the name.
    pub title: Option<String>,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    /// `owner`, `admin` and `member` are built in: they cannot be deleted or renamed.
    pub builtin: bool,
    /// Members with this role must have a location (a venue role, say).
    pub requires_location: bool,
    pub created_at: DateTime<Utc>,
}

/// A place that belongs to an organization (a venue, an office).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// IANA time zone, e.g. `Europe/Copenhagen`.
    pub timezone: String,
    /// Searched by `?q=` with the name.
    pub keywords: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A permission a host application registered for one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgPermission {
    /// `resource:action`.
    pub name: String,
    pub description: Option<String>,
    /// `null` for the built-in catalogue, else the organization that registered it.
    pub org_id: Option<Uuid>,
}

/// What a user may do in one organization: their role's permissions plus
/// those granted to them alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub permissions: Vec<String>,
}

impl Membership {
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// A user's membership as administrators manage it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    /// Required when the role `requires_location`.
    pub location_id: Option<Uuid>,
    /// Granted to this member on top of their role's.
    pub extra_permissions: Vec<String>,
    /// `false` once deactivated in this organization; a deactivated member
    /// cannot act in it (their account and other organizations are untouched).
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A change of a member: `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChange {
    pub role_id: Option<Uuid>,
    /// `Some(None)` clears the location.
    pub location_id: Option<Option<Uuid>>,
    pub extra_permissions: Option<Vec<String>>,
}

/// What became of a change that could leave the organization without an owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOutcome<T> {
    Done(T),
    NotFound,
    /// It would remove the last owner; nothing was written.
    LastOwner,
}
