//! The API key store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::TokenHash,
    error::RepoError,
    org::{ApiKey, NewApiKey},
    user::Page,
};

/// API keys of organizations. Every method that takes an `org` only reads or
/// writes that organization's keys: another organization's key id is "not
/// found". Revoked keys are kept (their prefix stays taken) but never listed
/// or accepted again.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ApiKeyRepository: Send + Sync + 'static {
    async fn create(&self, key: &NewApiKey) -> Result<ApiKey, RepoError>;

    /// The organization's live keys (not revoked; expired ones included, so
    /// their owners see them), newest first.
    async fn list(&self, org: Uuid, page: u32, per_page: u32) -> Result<Page<ApiKey>, RepoError>;

    /// A live key of the organization.
    async fn get(&self, org: Uuid, id: Uuid) -> Result<Option<ApiKey>, RepoError>;

    /// Revokes a live key; `false` if the organization has no such live key.
    async fn revoke(&self, org: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError>;

    /// The live, unexpired key with this hash, recording `now` as its last
    /// use (at most once a minute, so a busy key does not write on every
    /// request). `None` for anything else.
    async fn authenticate(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<Option<ApiKey>, RepoError>;
}
