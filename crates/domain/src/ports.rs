//! The ports: traits the use cases need from the outside world. Adapters
//! implement them; unit tests use the mockall mocks (feature `mock`).
//!
//! Every port is `Send + Sync + 'static` and says which errors each method
//! returns. Repositories translate their storage failures into [`RepoError`]
//! once: a lost connection or exhausted pool is `Unavailable`, never
//! "not found".

mod api_key;
mod mail;
mod org;
mod org_invitation;

pub use api_key::*;
pub use mail::*;
pub use org::*;
pub use org_invitation::*;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{
    auth::{AccessClaims, SessionSubject, TokenHash},
    error::{RepoError, TokenRejection},
    mail::Effects,
    user::{BuiltinRole, Page, Scope, User, UserChanges, UserFilter, UserListQuery, UserStatus},
    values::{Email, Password},
};

/// The current time.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Why hashing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The hashing pool is shut down or saturated beyond its queue.
    #[error("password hashing unavailable: {0}")]
    Unavailable(String),
    /// The stored hash is malformed, or the hasher failed.
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Slow password hashing. Implementations run the work off the async
/// executor (bcrypt on a bounded blocking pool).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a policy-checked password.
    async fn hash(&self, password: &Password) -> Result<String, HashError>;
    /// Whether `password` matches `hash`. A malformed hash is `Internal`.
    async fn verify(&self, password: &str, hash: &str) -> Result<bool, HashError>;
    /// A valid hash of a random password at the configured cost, verified
    /// against when the email is unknown so both answers take the same time.
    fn dummy_hash(&self) -> String;
}

/// Signs and verifies access tokens.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait TokenSigner: Send + Sync + 'static {
    /// Signs `claims` with the current key. Fails only on a broken key (`Err`
    /// carries the cause, logged by the caller).
    fn sign(&self, claims: &AccessClaims) -> Result<String, String>;
    /// Checks signature, algorithm, key id, issuer, audience and expiry.
    fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejection>;
}

/// A user to insert, with everything validated.
#[derive(Debug, Clone)]
pub struct NewUserRecord {
    pub id: Uuid,
    pub email: Email,
    /// `None` for users who have not set a password (invited).
    pub password_hash: Option<String>,
    pub status: UserStatus,
    pub email_verified: bool,
    pub is_superadmin: bool,
    /// Role in the default organization.
    pub role: BuiltinRole,
    /// Every editable field as `Set` or `Keep`.
    pub fields: UserChanges,
    pub now: DateTime<Utc>,
}

/// What login needs: the user, their stored hash and their permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginRecord {
    pub subject: SessionSubject,
    pub password_hash: Option<String>,
}

/// The user directory.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Inserts the user, their password credential and their default-org
    /// membership, then issues and queues `effects` (a verification token and
    /// its mail), in one transaction. `Conflict(EmailTaken)` when another user
    /// has the email (case-insensitively) — decided by the unique index.
    async fn create(&self, user: &NewUserRecord, effects: &Effects) -> Result<User, RepoError>;

    /// The user with their default-org role, or `None`.
    async fn get(&self, id: Uuid) -> Result<Option<User>, RepoError>;

    /// The login record for an email, compared case-insensitively.
    async fn find_login(&self, email: &Email) -> Result<Option<LoginRecord>, RepoError>;

    /// The stored password hash, if the user has one.
    async fn password_hash(&self, id: Uuid) -> Result<Option<String>, RepoError>;

    /// Applies `changes` and bumps `updated_at`; `None` if the user is gone.
    /// `Conflict(EmailTaken)` on a duplicate email.
    async fn update(&self, id: Uuid, changes: &UserChanges, now: DateTime<Utc>) -> Result<Option<User>, RepoError>;

    /// Sets the status; when the new status cannot sign in, revokes every
    /// session of the user in the same transaction. `None` if the user is gone.
    async fn set_status(&self, id: Uuid, status: UserStatus, now: DateTime<Utc>) -> Result<Option<User>, RepoError>;

    /// Deletes the user with their credentials, sessions and memberships.
    /// `false` if there was no such user.
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

/// A session to open, with the first refresh token of its chain.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The organization the session acts in (the user is a member).
    pub org_id: Uuid,
    pub refresh_hash: TokenHash,
    pub refresh_expires_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub now: DateTime<Utc>,
}

/// One rotation request: the presented token's hash and its successor's.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub presented: TokenHash,
    pub successor: TokenHash,
    pub successor_expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub grace: Duration,
    /// Move the session to this organization (the user must be a member).
    pub switch_org: Option<Uuid>,
}

/// What became of a rotation.
#[derive(Debug, Clone, PartialEq)]
pub enum RotateOutcome {
    /// The token was live: it is now used and its successor stored.
    Rotated { session_id: Uuid, subject: SessionSubject },
    /// The token was rotated less than `grace` ago: its successor (the one
    /// given) is still the live token and is handed out again.
    Replayed { session_id: Uuid, subject: SessionSubject },
    /// The token was rotated longer ago than `grace`: a stolen token is being
    /// replayed. The whole session has been revoked.
    Reused { session_id: Uuid },
    /// Unknown or expired token, revoked or expired session, or a user who
    /// can no longer sign in.
    Invalid,
    /// `switch_org` names an organization the user is not a member of;
    /// nothing was rotated.
    NotMember,
}

/// Sessions and their refresh tokens.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync + 'static {
    /// Opens a session, stores its first refresh token and records the login
    /// time on the user, in one transaction.
    async fn create(&self, session: &NewSession) -> Result<(), RepoError>;

    /// The subject of a live session (not revoked, not expired, owned by
    /// `user_id`, user active, still a member of the session's organization)
    /// — one indexed lookup for the default organization. `None` otherwise.
    async fn subject(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionSubject>, RepoError>;

    /// Rotates a refresh token atomically, correct under concurrent calls
    /// with the same token (row lock on the presented token).
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome, RepoError>;

    /// Revokes one session of one user. `false` if it was not live.
    async fn revoke(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Revokes the session a refresh token belongs to. `false` if unknown.
    async fn revoke_by_refresh(&self, hash: &TokenHash, reason: &str, now: DateTime<Utc>) -> Result<bool, RepoError>;

    /// Revokes every live session of a user except `except`; returns how many.
    async fn revoke_all_for_user(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, RepoError>;
}

/// A rendered message, ready to hand to a relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Stable per message (`<uuid@host>`), so a retried send is recognisably
    /// the same message.
    pub message_id: String,
    pub to: Email,
    /// The recipient's display name, if known.
    pub to_name: Option<String>,
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// Why a message was not handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The relay is down, refused us temporarily (4xx) or timed out: retry later.
    #[error("mail relay unavailable: {0}")]
    Unavailable(String),
    /// The relay refused this message for good (5xx, e.g. an unknown mailbox):
    /// retrying will not help.
    #[error("mail rejected: {0}")]
    Rejected(String),
    /// Anything else (a broken message, a local I/O failure).
    #[error("mail failure: {0}")]
    Internal(String),
}

/// Hands messages to a mail relay (SMTP), a directory of `.eml` files, or
/// memory. The sender address is the adapter's configuration.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}
