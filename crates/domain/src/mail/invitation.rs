use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::user::NewUserRecord;

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Mailed, not yet accepted, not expired.
    Pending,
    Accepted,
    /// Withdrawn by an administrator.
    Revoked,
    /// Replaced by a newer invitation to the same address.
    Superseded,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Superseded => "superseded",
            InvitationStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<InvitationStatus> {
        [
            InvitationStatus::Pending,
            InvitationStatus::Accepted,
            InvitationStatus::Revoked,
            InvitationStatus::Superseded,
            InvitationStatus::Expired,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// An invitation to join, as administrators see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: Uuid,
    /// The invited user (status `pending` until they accept).
    pub user_id: Uuid,
    pub email: String,
    /// Role in the default organization once accepted.
    pub role: String,
    /// Who sent it; `null` if that account was deleted.
    pub invited_by: Option<Uuid>,
    pub status: InvitationStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// An invitation to write.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub id: Uuid,
    /// The pending user to create when no user has the address.
    pub user: NewUserRecord,
    pub invited_by: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    /// Whether an address that belongs to a *pending* user is invited again
    /// (superseding their open invitations; their role becomes the new
    /// one). Otherwise, and always for a non-pending user, the address is
    /// `Conflict(EmailTaken)`.
    pub reinvite: bool,
}

/// What became of revoking an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// Revoked; its token no longer works, and the invited user, if still
    /// pending with no other open invitation, was removed.
    Revoked,
    /// Already revoked, superseded or expired: nothing changed.
    AlreadyClosed,
    /// Accepted: the account exists now and is managed as a user.
    Accepted,
    NotFound,
}
