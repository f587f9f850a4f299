//! Sessions and their refresh tokens.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{
    auth::{SessionInfo, SessionSubject, TokenHash},
    error::RepoError,
};

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
    /// How the session was authenticated (RFC 8176 values: `pwd`, `otp`).
    pub amr: Vec<String>,
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
    Rotated { session_id: Uuid, subject: SessionSubject, amr: Vec<String> },
    /// The token was rotated less than `grace` ago: its successor (the one
    /// given) is still the live token and is handed out again.
    Replayed { session_id: Uuid, subject: SessionSubject, amr: Vec<String> },
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

    /// The live sessions (not revoked, not expired at `now`) of `user_id`,
    /// newest first, at most `limit`, each with its organization's name;
    /// `current` is left false (the caller knows which is theirs). An
    /// unknown user has none.
    async fn list_for_user(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SessionInfo>, RepoError>;

    /// Revokes one session of one user. `false` if it was not live (unknown,
    /// another user's, already revoked, or expired at `now`).
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
