use std::collections::BTreeSet;

use uuid::Uuid;

use crate::user::User;

/// Permission strings (`resource:action`) used by the user management use cases.
pub mod perms {
    pub const USERS_READ: &str = "users:read";
    pub const USERS_WRITE: &str = "users:write";
    pub const USERS_DELETE: &str = "users:delete";
    pub const USERS_MANAGE_STATUS: &str = "users:manage_status";
    pub const SESSIONS_REVOKE: &str = "sessions:revoke";
}

/// A user with a live session, as the store returns it: the user (whose
/// `role` is their role in the default organization), the organization the
/// session acts in, their role there and their effective permissions there.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSubject {
    pub user: User,
    pub permissions: Vec<String>,
    /// The session's active organization.
    pub org_id: Uuid,
    /// The role in `org_id`.
    pub org_role: Option<String>,
}

impl SessionSubject {
    /// A subject acting in the default organization.
    pub fn in_default_org(user: User, permissions: Vec<String>) -> SessionSubject {
        let org_role = user.role.clone();
        SessionSubject { user, permissions, org_id: crate::DEFAULT_ORG_ID, org_role }
    }
}

/// The authenticated caller of a request, built from a verified access token
/// whose session was found live in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub is_superadmin: bool,
    /// The organization the session acts in; `role` and `permissions` are there.
    pub org_id: Uuid,
    pub role: Option<String>,
    pub permissions: BTreeSet<String>,
    /// The caller's own record, fresh from the store.
    pub user: User,
}

impl Principal {
    pub fn new(session_id: Uuid, subject: SessionSubject) -> Principal {
        Principal {
            user_id: subject.user.id,
            session_id,
            is_superadmin: subject.user.is_superadmin,
            org_id: subject.org_id,
            role: subject.org_role,
            permissions: subject.permissions.into_iter().collect(),
            user: subject.user,
        }
    }

    /// Superadmins hold every permission.
    pub fn has(&self, permission: &str) -> bool {
        self.is_superadmin || self.permissions.contains(permission)
    }

    /// Whether the session acts in the default organization, where the
    /// platform's user administration happens.
    pub fn in_default_org(&self) -> bool {
        self.org_id == crate::DEFAULT_ORG_ID
    }

    pub fn is_owner(&self) -> bool {
        self.is_superadmin || self.role.as_deref() == Some("owner")
    }
}
