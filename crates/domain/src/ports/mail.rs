//! Ports of the mail-bearing flows: composing and sealing letters, the
//! tokens, invitations and outbox in the store, and rate-limit counters.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{
    auth::TokenHash,
    error::RepoError,
    mail::{
        ClaimedMail, Effects, Invitation, InvitationStatus, Letter, NewInvitation, OutboxEntry, OutboxStats,
        OutboxStatus, RedeemOutcome, Redemption, RevokeOutcome, TokenRecord,
    },
    user::{Page, User},
};

use super::OutgoingMail;

/// Renders letters: subject, plain text and HTML in the recipient's locale
/// (falling back to English), with links built from the configured URL
/// template of each flow. Pure and fast; no I/O.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait MailComposer: Send + Sync + 'static {
    /// `Err` only for a broken template (a bug), with its cause.
    fn compose(&self, letter: &Letter) -> Result<OutgoingMail, String>;
}

/// Authenticated encryption of queued messages at rest: they carry live
/// tokens, which the store otherwise keeps only hashed.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Sealer: Send + Sync + 'static {
    fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, String>;
    /// `Err` when the bytes were not sealed with this key or were altered.
    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String>;
}

/// One-time tokens and invitations, each change written with its
/// [`Effects`] in one transaction.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync + 'static {
    /// Issues `effects.token` (superseding the user's live tokens of the same
    /// purpose) and queues `effects.mails`.
    async fn issue(&self, effects: &Effects) -> Result<(), RepoError>;

    /// The token with this hash and its user, whatever its state.
    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, RepoError>;

    /// Uses the token up and applies its action, if it is still live at
    /// `redemption.now` (checked under a row lock). `Conflict(EmailTaken)`
    /// when a change of address meets an address taken meanwhile (nothing
    /// is written then).
    async fn redeem(&self, redemption: &Redemption, effects: &Effects) -> Result<RedeemOutcome, RepoError>;

    /// Writes an invitation: creates its pending user (or, with `reinvite`,
    /// reuses the pending user who has the address and supersedes their open
    /// invitations), then the token and mails of `effects`.
    /// `Conflict(EmailTaken)` when the address belongs to a user who cannot
    /// be invited.
    async fn invite(&self, invitation: &NewInvitation, effects: &Effects) -> Result<(Invitation, User), RepoError>;

    /// Invitations, newest first, optionally of one status (as of `now`).
    async fn list_invitations(
        &self,
        status: Option<InvitationStatus>,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> Result<Page<Invitation>, RepoError>;

    /// Revokes an open invitation and its token; removes its user if still
    /// pending with no other open invitation.
    async fn revoke_invitation(&self, id: Uuid, now: DateTime<Utc>) -> Result<RevokeOutcome, RepoError>;
}

/// The worker's side of the outbox.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OutboxRepository: Send + Sync + 'static {
    /// Claims up to `limit` due pending messages (`FOR UPDATE SKIP LOCKED`,
    /// so concurrent workers never claim the same one), counts the attempt,
    /// and hides them from other workers until `now + lease`.
    async fn claim(&self, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<ClaimedMail>, RepoError>;

    /// Records a delivery and erases the content. Ignored (`false`) if the
    /// claim of `attempt` was lost to another worker after its lease ran out.
    async fn mark_sent(&self, id: Uuid, attempt: u32, now: DateTime<Utc>) -> Result<bool, RepoError>;

    /// Records a failed attempt: due again at `retry_at`, or dead if `None`.
    async fn mark_failed(
        &self,
        id: Uuid,
        attempt: u32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Messages, newest first, optionally of one status.
    async fn list(
        &self,
        status: Option<OutboxStatus>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<OutboxEntry>, RepoError>;

    /// Queues a dead message again with a fresh attempt count. `false` if
    /// there is no dead message with this id.
    async fn requeue(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError>;

    async fn stats(&self, now: DateTime<Utc>) -> Result<OutboxStats, RepoError>;

    /// Deletes sent messages older than `before`; returns how many.
    async fn prune_sent(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}

/// Fixed-window counters shared by every process.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    /// Counts one hit on `key` in the window starting at `window_start` and
    /// returns the count including it.
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, RepoError>;

    /// Forgets windows that started before `before`.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}
