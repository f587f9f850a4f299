//! The permission vocabulary: the built-in permissions Roster itself checks,
//! and the names (`resource:action`) of any permission, built in or
//! registered by a host application (`beacons:toggle`, `metrics:view`).

use std::fmt;

use crate::values::{limits::PERMISSION_MAX, Invalid};

/// A permission Roster checks before a use case. Roles, members and API keys
/// hold permissions by name ([`PermissionName`]); these are the names with a
/// meaning to Roster itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    UsersRead,
    UsersWrite,
    UsersDelete,
    UsersManageStatus,
    SessionsRevoke,
    MembersManage,
    RolesManage,
    LocationsManage,
    ApiKeysManage,
    OrgManage,
    PushTokensRead,
}

impl Permission {
    /// The built-in catalogue, in the order `GET /permissions` lists it.
    pub const ALL: [Permission; 11] = [
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::UsersDelete,
        Permission::UsersManageStatus,
        Permission::SessionsRevoke,
        Permission::MembersManage,
        Permission::RolesManage,
        Permission::LocationsManage,
        Permission::ApiKeysManage,
        Permission::OrgManage,
        Permission::PushTokensRead,
    ];

    /// Its name, as roles, members, keys and access tokens carry it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::UsersRead => "users:read",
            Permission::UsersWrite => "users:write",
            Permission::UsersDelete => "users:delete",
            Permission::UsersManageStatus => "users:manage_status",
            Permission::SessionsRevoke => "sessions:revoke",
            Permission::MembersManage => "members:manage",
            Permission::RolesManage => "roles:manage",
            Permission::LocationsManage => "locations:manage",
            Permission::ApiKeysManage => "api_keys:manage",
            Permission::OrgManage => "org:manage",
            Permission::PushTokensRead => "push_tokens:read",
        }
    }

    /// What it allows, for the catalogue.
    pub const fn description(self) -> &'static str {
        match self {
            Permission::UsersRead => "Read the users of the organization",
            Permission::UsersWrite => "Create users and change their details",
            Permission::UsersDelete => "Delete users",
            Permission::UsersManageStatus => "Activate, deactivate and ban users",
            Permission::SessionsRevoke => "End other users' sessions",
            Permission::MembersManage => "Add and remove members, change their roles and locations",
            Permission::RolesManage => "Create, change and delete roles, and register permissions",
            Permission::LocationsManage => "Create, change and delete locations",
            Permission::ApiKeysManage => "Create and revoke API keys",
            Permission::OrgManage => "Change the organization's name and slug",
            Permission::PushTokensRead => {
                "Read the push tokens of the organization's members (for host services that notify them)"
            }
        }
    }

    /// The built-in permission with this name, if it is one.
    pub fn from_name(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name of a permission, built in or registered, `resource:action`:
/// lower-case letters, digits and `_` on each side of one colon, at most
/// [`PERMISSION_MAX`] characters as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermissionName(String);

impl PermissionName {
    pub fn parse(raw: &str) -> Result<PermissionName, Invalid> {
        let s = raw.trim();
        let part_ok = |p: &str| {
            p.starts_with(|c: char| c.is_ascii_lowercase())
                && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        match s.split_once(':') {
            Some((resource, action))
                if raw.chars().count() <= PERMISSION_MAX && part_ok(resource) && part_ok(action) =>
            {
                Ok(PermissionName(s.to_string()))
            }
            _ => Err(Invalid::new(format!(
                "must look like resource:action (lower-case letters, digits, _), at most {PERMISSION_MAX} characters"
            ))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// Whether the built-in catalogue has it.
    pub fn is_builtin(&self) -> bool {
        Permission::from_name(&self.0).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for ok in ["users:read", "beacons:toggle", "metrics2:view_all"] {
            assert!(PermissionName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "users", "users:", ":read", "Users:read", "users:read:all", "users :read", "1x:read"] {
            assert!(PermissionName::parse(bad).is_err(), "{bad}");
        }
        assert!(PermissionName::parse(&format!("a:{}", "b".repeat(63))).is_err());
        assert!(PermissionName::parse("roles:manage").unwrap().is_builtin());
        assert!(!PermissionName::parse("beacons:toggle").unwrap().is_builtin());
    }

    #[test]
    fn every_builtin_name_is_well_formed_and_found_again() {
        for p in Permission::ALL {
            assert_eq!(PermissionName::parse(p.as_str()).unwrap().as_str(), p.as_str());
            assert_eq!(Permission::from_name(p.as_str()), Some(p));
        }
        assert_eq!(Permission::from_name("beacons:toggle"), None);
    }
}
