//! The user directory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::SessionSubject,
    error::RepoError,
    mail::Effects,
    org::{MemberChange, MemberOutcome},
    user::{NewUserRecord, Page, Scope, User, UserChanges, UserFilter, UserListQuery, UserStatus},
    values::Email,
};

/// What login needs: the user, their stored hash and their permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginRecord {
    pub subject: SessionSubject,
    pub password_hash: Option<String>,
}

/// A user's last sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLogin {
    pub at: DateTime<Utc>,
    /// The client address, as Roster saw it.
    pub ip: Option<String>,
}

/// The user directory.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Inserts the user (managed by the organization of `user.membership`),
    /// their password credential and their membership (in the default
    /// organization, or only in the organization that manages them), then
    /// issues and queues `effects` (a verification token and its mail), in
    /// one transaction. `Conflict(EmailTaken)` when another user has the
    /// email (case-insensitively) — decided by the unique index.
    async fn create(&self, user: &NewUserRecord, effects: &Effects) -> Result<User, RepoError>;

    /// The user with their default-org role and managing organization, or `None`.
    async fn get(&self, id: Uuid) -> Result<Option<User>, RepoError>;

    /// The user as organization `org` sees them — their role there and their
    /// [`MembershipView`](crate::user::MembershipView) — or `None` if they are
    /// no member of `org` (whether or not the account exists).
    async fn get_in(&self, org: Uuid, id: Uuid) -> Result<Option<User>, RepoError>;

    /// The login record for an email, compared case-insensitively.
    async fn find_login(&self, email: &Email) -> Result<Option<LoginRecord>, RepoError>;

    /// When and from which address the user last signed in.
    async fn last_login(&self, id: Uuid) -> Result<Option<LastLogin>, RepoError>;

    /// The stored password hash, if the user has one.
    async fn password_hash(&self, id: Uuid) -> Result<Option<String>, RepoError>;

    /// Applies `changes`, bumps `updated_at` and issues and queues
    /// `effects` (a new address's verification link), in one transaction;
    /// `None` if the user is gone. `Conflict(EmailTaken)` on a duplicate email.
    async fn update(
        &self,
        id: Uuid,
        changes: &UserChanges,
        effects: &Effects,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, RepoError>;

    /// Applies `changes` to the account (if any) and `member` to its
    /// membership in `org` (if any), and issues and queues `effects`, in one
    /// transaction; returns the user as `org` sees them. `NotFound` if the
    /// user is no member of `org`; `LastOwner` if the role change would
    /// leave `org` without an active owner (nothing is written then).
    /// `Conflict(EmailTaken)`.
    async fn update_in(
        &self,
        org: Uuid,
        id: Uuid,
        changes: &UserChanges,
        member: Option<MemberChange>,
        effects: &Effects,
        now: DateTime<Utc>,
    ) -> Result<MemberOutcome<User>, RepoError>;

    /// Sets the status; when the new status cannot sign in, revokes every
    /// session of the user in the same transaction. `None` if the user is gone.
    async fn set_status(&self, id: Uuid, status: UserStatus, now: DateTime<Utc>) -> Result<Option<User>, RepoError>;

    /// Deletes the user with their credentials, sessions and memberships —
    /// in every organization. `false` if there was no such user.
    async fn delete(&self, id: Uuid) -> Result<bool, RepoError>;

    /// Replaces the password hash, revokes every session of the user but
    /// `keep_session` and queues `effects` (the change notice), in one
    /// transaction.
    async fn set_password(
        &self,
        id: Uuid,
        hash: &str,
        keep_session: Option<Uuid>,
        now: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<(), RepoError>;

    /// One page of users visible in `query.scope` that match its filter, in
    /// its sort order (then id), offset or keyset paged; `total` when
    /// `query.with_total`; `has_more` whether rows follow.
    async fn list(&self, query: &UserListQuery) -> Result<Page<User>, RepoError>;

    /// How many users visible in `scope` match.
    async fn count(&self, scope: Scope, filter: &UserFilter) -> Result<u64, RepoError>;

    /// Makes the user with this email a superadmin and owner of the default
    /// organization with this password, creating them (active, verified) if
    /// needed. Returns the user and whether it was created.
    async fn upsert_superadmin(
        &self,
        id: Uuid,
        email: &Email,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), RepoError>;
}
