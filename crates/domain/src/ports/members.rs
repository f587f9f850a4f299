//! Memberships: who belongs to which organization, with which role.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    org::{Member, MemberChange, MemberOutcome, Membership},
};

/// The members of organizations. Every method that takes an
/// `org` only reads or writes rows of that organization: an id from another
/// organization is "not found".
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait MemberRepository: Send + Sync + 'static {
    /// The user's role and effective permissions (role ∪ extra) in the
    /// organization. `None` for a deactivated membership too: a deactivated
    /// member is no member to authorization, login and session switching.
    async fn membership(&self, org: Uuid, user: Uuid) -> Result<Option<Membership>, RepoError>;

    async fn get_member(&self, org: Uuid, user: Uuid) -> Result<Option<Member>, RepoError>;
    /// `Conflict(AlreadyMember)`. The user exists (the caller checked).
    async fn add_member(
        &self,
        org: Uuid,
        user: Uuid,
        role_id: Uuid,
        location_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Member, RepoError>;
    /// Applies the change unless it would leave the organization without an
    /// active owner (checked under lock, so two concurrent demotions cannot
    /// both pass).
    async fn update_member(
        &self,
        org: Uuid,
        user: Uuid,
        change: &MemberChange,
    ) -> Result<MemberOutcome<Member>, RepoError>;
    /// Removes the membership unless it is the last active owner's.
    async fn remove_member(&self, org: Uuid, user: Uuid) -> Result<MemberOutcome<()>, RepoError>;
    /// Activates or deactivates the membership (idempotent; a non-default
    /// organization only). Deactivating refuses the last active owner
    /// (checked under the same lock as demotions) and revokes the user's
    /// sessions acting in `org` in the same transaction; their sessions
    /// elsewhere stay.
    async fn set_member_active(
        &self,
        org: Uuid,
        user: Uuid,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<MemberOutcome<Member>, RepoError>;
}
