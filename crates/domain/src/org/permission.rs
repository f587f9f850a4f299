use crate::values::Invalid;

/// The built-in permissions, with what they allow. Host applications add
/// their own per organization (`beacons:toggle`, `metrics:view`).
pub const CATALOGUE: &[(&str, &str)] = &[
    ("users:read", "Read the users of the organization"),
    ("users:write", "Create users and change their details"),
    ("users:delete", "Delete users"),
    ("users:manage_status", "Activate, deactivate and ban users"),
    ("sessions:revoke", "End other users' sessions"),
    ("members:manage", "Add and remove members, change their roles and locations"),
    ("roles:manage", "Create, change and delete roles, and register permissions"),
    ("locations:manage", "Create, change and delete locations"),
    ("api_keys:manage", "Create and revoke API keys"),
    ("org:manage", "Change the organization's name and slug"),
];

/// A permission name, `resource:action`: lower-case letters, digits and `_`
/// on each side of one colon, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission(String);

impl Permission {
    pub fn parse(raw: &str) -> Result<Permission, Invalid> {
        let s = raw.trim();
        let part_ok = |p: &str| {
            p.starts_with(|c: char| c.is_ascii_lowercase())
                && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        match s.split_once(':') {
            Some((resource, action)) if s.len() <= 64 && part_ok(resource) && part_ok(action) => {
                Ok(Permission(s.to_string()))
            }
            _ => Err(Invalid::new("must look like resource:action (lower-case letters, digits, _), at most 64 bytes")),
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
        CATALOGUE.iter().any(|(name, _)| *name == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for ok in ["users:read", "beacons:toggle", "metrics2:view_all"] {
            assert!(Permission::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "users", "users:", ":read", "Users:read", "users:read:all", "users :read", "1x:read"] {
            assert!(Permission::parse(bad).is_err(), "{bad}");
        }
        assert!(Permission::parse(&format!("a:{}", "b".repeat(63))).is_err());
        assert!(Permission::parse("roles:manage").unwrap().is_builtin());
        assert!(!Permission::parse("beacons:toggle").unwrap().is_builtin());
    }
}
