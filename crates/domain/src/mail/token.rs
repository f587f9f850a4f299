use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{auth::TokenHash, user::User, values::Email};

/// What a mailed one-time token is for. A token is accepted only by the
/// endpoint of its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Proves the user's current address (`POST /auth/email/verify`).
    VerifyEmail,
    /// Proves a new address, which then replaces the old (`POST /auth/email/verify`).
    ChangeEmail,
    /// Sets a new password (`POST /auth/password/reset`).
    ResetPassword,
    /// Accepts an invitation (`POST /auth/invitations/accept`).
    Invitation,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ChangeEmail => "change_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::Invitation => "invitation",
        }
    }

    pub fn parse(s: &str) -> Option<TokenPurpose> {
        match s {
            "verify_email" => Some(TokenPurpose::VerifyEmail),
            "change_email" => Some(TokenPurpose::ChangeEmail),
            "reset_password" => Some(TokenPurpose::ResetPassword),
            "invitation" => Some(TokenPurpose::Invitation),
            _ => None,
        }
    }
}

/// A token to store. Issuing it supersedes every live token of the same
/// user and purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub hash: TokenHash,
    pub purpose: TokenPurpose,
    pub user_id: Uuid,
    /// The address the token was mailed to: the user's address, or the new
    /// one for [`TokenPurpose::ChangeEmail`].
    pub email: Email,
    /// The invitation an [`TokenPurpose::Invitation`] token accepts.
    pub invitation_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// A stored token with its user, as found by its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub purpose: TokenPurpose,
    pub user: User,
    pub email: String,
    pub invitation_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
}

/// Whether a token can still be used, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Live,
    /// Used once already.
    Used,
    /// Past its expiry.
    Expired,
    /// A newer token of the same purpose was issued, or what it was for is
    /// gone (a revoked invitation, an address changed since).
    Superseded,
}

impl TokenRecord {
    /// Used beats superseded beats expired: the most specific reason first.
    pub fn state(&self, now: DateTime<Utc>) -> TokenState {
        if self.used_at.is_some() {
            TokenState::Used
        } else if self.superseded_at.is_some() {
            TokenState::Superseded
        } else if self.expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Live
        }
    }
}

/// What redeeming a token does, besides using it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedeemAction {
    /// Marks the address verified, if it is still the user's address.
    VerifyEmail,
    /// Replaces the user's address with the token's (verified). Other
    /// change and verification tokens of the user are superseded.
    ChangeEmail,
    /// Sets the password, marks the address verified (the mailbox was
    /// proven) and revokes every session of the user.
    ResetPassword { password_hash: String },
    /// Sets the password, activates the pending user, marks the address
    /// verified, sets the name if given, and marks the invitation accepted.
    AcceptInvitation { password_hash: String, name: Option<String> },
}

/// One redemption: the token, what it does, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub hash: TokenHash,
    pub action: RedeemAction,
    pub now: DateTime<Utc>,
}

/// What became of a redemption.
#[derive(Debug, Clone, PartialEq)]
// Returned once per redemption and matched at once: boxing the user buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum RedeemOutcome {
    /// Done; the user as they are now.
    Redeemed(User),
    /// The token was used, superseded or expired meanwhile, or what it was
    /// for no longer holds (the address changed, the user is no longer
    /// pending). Nothing was written.
    NotLive,
}
