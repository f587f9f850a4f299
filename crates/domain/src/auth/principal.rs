use std::collections::BTreeSet;

use uuid::Uuid;

use super::{Permission, Refusal};
use crate::user::User;

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

/// Who is behind a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// A user signed in with a session.
    User {
        /// The caller's own record, fresh from the store.
        user: Box<User>,
        session_id: Uuid,
    },
    /// A host service with an API key of the principal's organization.
    ApiKey { key_id: Uuid, name: String },
}

/// The authenticated caller of a request: a user whose access token was
/// verified and whose session was found live in the store, or a live API key.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub actor: Actor,
    /// Never true for an API key.
    pub is_superadmin: bool,
    /// The organization the caller acts in; `role` and `permissions` are there.
    pub org_id: Uuid,
    /// The user's role in `org_id`; `None` for an API key.
    pub role: Option<String>,
    pub permissions: BTreeSet<String>,
}

impl Principal {
    pub fn new(session_id: Uuid, subject: SessionSubject) -> Principal {
        Principal {
            is_superadmin: subject.user.is_superadmin,
            org_id: subject.org_id,
            role: subject.org_role,
            permissions: subject.permissions.into_iter().collect(),
            actor: Actor::User { user: Box::new(subject.user), session_id },
        }
    }

    /// A host service acting with the API key `key_id` in its organization
    /// `org_id`, holding exactly the key's permissions.
    pub fn api_key(key_id: Uuid, name: String, org_id: Uuid, permissions: &[String]) -> Principal {
        Principal {
            actor: Actor::ApiKey { key_id, name },
            is_superadmin: false,
            org_id,
            role: None,
            permissions: permissions.iter().cloned().collect(),
        }
    }

    /// The signed-in user, if the caller is one.
    pub fn user(&self) -> Option<&User> {
        match &self.actor {
            Actor::User { user, .. } => Some(user),
            Actor::ApiKey { .. } => None,
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.user().map(|u| u.id)
    }

    /// Whether the caller is the user `id`.
    pub fn is_user(&self, id: Uuid) -> bool {
        self.user_id() == Some(id)
    }

    /// The signed-in user and their session, for what only a user can do
    /// (their own profile, password, sessions). An API key is refused with
    /// [`Refusal::SignedInUserOnly`].
    pub fn signed_in(&self) -> Result<(&User, Uuid), Refusal> {
        match &self.actor {
            Actor::User { user, session_id } => Ok((user, *session_id)),
            Actor::ApiKey { .. } => Err(Refusal::SignedInUserOnly),
        }
    }

    /// Whether the caller holds the permission named `permission` (built in
    /// or registered) where it acts. Superadmins hold every permission.
    pub fn has(&self, permission: &str) -> bool {
        self.is_superadmin || self.permissions.contains(permission)
    }

    /// Whether the caller holds a built-in permission where it acts.
    pub fn holds(&self, permission: Permission) -> bool {
        self.has(permission.as_str())
    }

    /// Whether the caller acts in the default organization, where the
    /// platform's user administration happens.
    pub fn in_default_org(&self) -> bool {
        self.org_id == crate::DEFAULT_ORG_ID
    }

    pub fn is_owner(&self) -> bool {
        self.is_superadmin || self.role.as_deref() == Some("owner")
    }
}
