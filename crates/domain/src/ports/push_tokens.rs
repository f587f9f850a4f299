//! Users' push tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    user::{NewPushToken, PushToken, PushTokenLookup, UserPushTokens},
};

/// What registering a token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRegistration {
    /// The token is new to the user (new altogether, or moved from another
    /// user: the device changed hands).
    Created(PushToken),
    /// The user had it already: its `last_seen_at` and device name are updated.
    Refreshed(PushToken),
    /// There is no such user.
    UserGone,
}

/// Push tokens, unique by provider and token, each held by one user.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PushTokenRepository: Send + Sync + 'static {
    /// Registers the token to `user` in one transaction: taken from any
    /// other user who held it, refreshed if `user` held it; then, past
    /// `keep` tokens, the user's least recently seen are dropped. Two
    /// registrations for one user are serialized, so the cap holds.
    async fn register(
        &self,
        user: Uuid,
        token: &NewPushToken,
        keep: usize,
        now: DateTime<Utc>,
    ) -> Result<TokenRegistration, RepoError>;

    /// The user's tokens, most recently seen first.
    async fn list_tokens(&self, user: Uuid) -> Result<Vec<PushToken>, RepoError>;

    /// Deletes the user's token `id`; `false` if the user has no such token.
    async fn delete_token(&self, user: Uuid, id: Uuid) -> Result<bool, RepoError>;

    /// The tokens of the active members of `org` that `lookup` names, one
    /// entry per member found (with no tokens if they have none), in the
    /// order of their addresses; ids or addresses of anyone else are absent.
    async fn member_tokens(&self, org: Uuid, lookup: &PushTokenLookup) -> Result<Vec<UserPushTokens>, RepoError>;
}
