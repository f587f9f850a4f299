use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an account stands. Only `active` accounts can sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invited, has not set a password yet.
    Pending,
    Active,
    /// Switched off by an administrator; may be activated again.
    Inactive,
    /// Banned by an administrator.
    Banned,
}

impl UserStatus {
    /// Every status.
    pub const ALL: [UserStatus; 4] =
        [UserStatus::Pending, UserStatus::Active, UserStatus::Inactive, UserStatus::Banned];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Pending => "pending",
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
            UserStatus::Banned => "banned",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "pending" => Some(UserStatus::Pending),
            "active" => Some(UserStatus::Active),
            "inactive" => Some(UserStatus::Inactive),
            "banned" => Some(UserStatus::Banned),
            _ => None,
        }
    }

    pub fn can_sign_in(self) -> bool {
        self == UserStatus::Active
    }
}

impl std::fmt::Display for UserStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The built-in roles every organization has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRole {
    Owner,
    Admin,
    Member,
}

impl BuiltinRole {
    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "owner",
            BuiltinRole::Admin => "admin",
            BuiltinRole::Member => "member",
        }
    }
}

/// Work and personal details of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub birthdate: Option<NaiveDate>,
    pub gender: Option<String>,
    pub pronouns: Option<String>,
    pub employee_id: Option<String>,
    pub position: Option<String>,
    pub department: Option<String>,
}

/// A user as the directory knows it. The password hash is not part of it and
/// never leaves the store except to be verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub status: UserStatus,
    pub profile: Profile,
    /// Free JSON object for the host application (at most 16 KiB).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// The user's picture, `null` without one (`GET /users/{id}/avatar`
    /// then redirects to the default image).
    pub avatar: Option<crate::image::Avatar>,
    /// The user's role (by name) in the organization the answer is about:
    /// the caller's organization, or the default organization in the
    /// platform's answers; `null` if not a member there.
    pub role: Option<String>,
    /// Platform superadministrator.
    pub is_superadmin: bool,
    /// Whether sign-in asks for a second factor (an authenticator app).
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The organization that manages the account (the default organization:
    /// the platform). In the platform's answers and the user's own; an
    /// organization's answers say `managed` instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<Uuid>,
    /// In an answer scoped to one organization: the user's membership there.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = MembershipView))]
    pub membership: Option<MembershipView>,
}

/// A user's membership in the organization an answer is scoped to, as that
/// organization's administrators see it: present in such answers only (so
/// none of its members is required by the schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipView {
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub org_id: Uuid,
    /// The organization's name (seed 002's `tenant_name`).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub org_name: String,
    /// The role's display name (its title, else its name), e.g. `Front Desk`.
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub role_name: String,
    pub location_id: Option<Uuid>,
    pub location_name: Option<String>,
    /// `false` once the organization deactivated the membership.
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub membership_active: bool,
    /// Whether this organization manages the account (and so may edit its
    /// profile, status and password, and delete it).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub managed: bool,
}
