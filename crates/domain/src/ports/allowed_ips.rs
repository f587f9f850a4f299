//! Users' IP allowlists and whether they are enforced.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::RepoError,
    user::{AllowedIp, AllowedNet, IpPolicy},
};

/// What adding an entry to one user's list did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedIpAdded {
    /// A new entry.
    Created(AllowedIp),
    /// The user's list held this address or range already: that entry.
    Existing(AllowedIp),
    /// The list holds the most entries it may; nothing was written.
    Full,
    /// There is no such user.
    UserGone,
}

/// What adding an entry to many users' lists did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAdded {
    /// Every user that still exists holds the entry now (those that had it
    /// keep their entry); these are they.
    Applied(Vec<Uuid>),
    /// These users' lists are full (and lack the entry): nothing was
    /// written for anyone.
    Full(Vec<Uuid>),
}

/// The allowlists (`user_allowed_ips`, removed with their user) and the
/// `block_unknown_ips` flag of each user.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AllowedIpRepository: Send + Sync + 'static {
    /// User `user`'s policy — the flag and the list, oldest first — in one
    /// round trip (the login reads it); `None` if there is no such user.
    async fn ip_policy(&self, user: Uuid) -> Result<Option<IpPolicy>, RepoError>;

    /// Adds `net` to the user's list as entry `id`, unless the list has it
    /// already (answered as it is) or holds `cap` entries (`Full`).
    /// Concurrent additions for one user are serialized, so the cap holds.
    async fn add_allowed_ip(
        &self,
        user: Uuid,
        id: Uuid,
        net: &AllowedNet,
        cap: usize,
        now: DateTime<Utc>,
    ) -> Result<AllowedIpAdded, RepoError>;

    /// Removes entry `entry` of the user's list; `false` if the user has no
    /// such entry.
    async fn remove_allowed_ip(&self, user: Uuid, entry: Uuid) -> Result<bool, RepoError>;

    /// Sets `block_unknown_ips` (and bumps `updated_at`) for `users`, in one
    /// statement; answers the ids of those that exist.
    async fn set_block_unknown_ips(
        &self,
        users: &[Uuid],
        block: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, RepoError>;

    /// Adds `net` to each of `users`' lists in one transaction (new entries
    /// get fresh ids; a list that has it keeps its entry), unless a list
    /// lacking it holds `cap` entries: then nothing is written (`Full`).
    async fn add_allowed_ip_for(
        &self,
        users: &[Uuid],
        net: &AllowedNet,
        cap: usize,
        now: DateTime<Utc>,
    ) -> Result<BulkAdded, RepoError>;

    /// Removes `net` from each of `users`' lists, in one statement (a list
    /// without it is left alone).
    async fn remove_allowed_ip_for(&self, users: &[Uuid], net: &AllowedNet) -> Result<(), RepoError>;

    /// The ids of the users with these addresses (given in lower case,
    /// compared case-insensitively), with the address as given; addresses
    /// without an account are absent. Whether the caller may see them is
    /// the use case's question.
    async fn user_ids_by_email(&self, emails: &[String]) -> Result<Vec<(String, Uuid)>, RepoError>;
}
