//! One-time tokens and platform invitations in the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::TokenHash,
    error::RepoError,
    mail::{
        Effects, Invitation, InvitationStatus, NewInvitation, RedeemOutcome, Redemption, RevokeOutcome, TokenRecord,
    },
    user::{Page, User},
};

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
