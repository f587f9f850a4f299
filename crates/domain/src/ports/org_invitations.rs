//! The store of invitations into organizations.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::TokenHash,
    error::RepoError,
    mail::{Effects, InvitationStatus, RevokeOutcome},
    org::{AcceptOutcome, Acceptance, NewOrgInvitation, OrgInvitation, OrgInvitationTicket},
    user::Page,
};

/// Invitations into organizations. Every method that takes an `org` only
/// reads or writes that organization's invitations.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OrgInvitationRepository: Send + Sync + 'static {
    /// Writes the invitation and queues `effects`' letters in one
    /// transaction, superseding the open invitation of the same address
    /// (compared case-insensitively) into the same organization.
    async fn create(&self, invitation: &NewOrgInvitation, effects: &Effects) -> Result<OrgInvitation, RepoError>;

    /// The organization's invitations, newest first, optionally of one
    /// status as of `now`.
    async fn list(
        &self,
        org: Uuid,
        status: Option<InvitationStatus>,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> Result<Page<OrgInvitation>, RepoError>;

    /// Withdraws an open invitation: its link stops working.
    async fn revoke(&self, org: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<RevokeOutcome, RepoError>;

    /// The invitation a token belongs to, whatever its state.
    async fn find(&self, token: &TokenHash) -> Result<Option<OrgInvitationTicket>, RepoError>;

    /// Accepts under a lock on the invitation, which must still be live
    /// (else `Gone`). `Join`: the account with the invitation's address
    /// becomes a member with the invitation's role and location (already a
    /// member: their membership is left as it is); `NoAccount` if there is no
    /// such account. `Create`: the account is created, then joins;
    /// `Conflict(EmailTaken)` if the address got an account meanwhile. The
    /// invitation is marked accepted in the same transaction.
    async fn accept(
        &self,
        token: &TokenHash,
        acceptance: &Acceptance,
        now: DateTime<Utc>,
    ) -> Result<AcceptOutcome, RepoError>;
}
