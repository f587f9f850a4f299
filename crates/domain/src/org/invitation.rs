//! Invitations into an organization, by email. They are not the platform's
//! account invitations: they create no pending user and touch no other
//! organization's invitations. Whether the address already has an account is
//! never told to the inviter — the answer is the same invitation either way —
//! and is settled when the mailbox owner accepts: a new account is created,
//! or the existing one joins.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::Serialize;
use uuid::Uuid;

use crate::{
    auth::TokenHash,
    mail::{InvitationStatus, TokenState},
    user::NewUserRecord,
    values::Email,
};

/// An invitation into an organization, as its administrators see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgInvitation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    /// The role the invitee gets in the organization.
    pub role: String,
    pub location_id: Option<Uuid>,
    /// Who sent it; `null` for an API key or a deleted account.
    pub invited_by: Option<Uuid>,
    pub status: InvitationStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// `POST /orgs/{id}/invitations`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgInviteInput {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::values::Email))]
    pub email: String,
    /// A role name of the organization (`member` by default).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name_or_null))]
    pub role: Option<String>,
    /// Required when the role `requires_location`.
    #[serde(default)]
    pub location_id: Option<Uuid>,
    /// The language of the letter when the address has no account yet
    /// (BCP 47; en, fr, da, de); an existing account's own language wins.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::values::Locale>))]
    pub locale: Option<String>,
}

/// An invitation to write; re-inviting an address into the same
/// organization supersedes its open invitation.
#[derive(Debug, Clone)]
pub struct NewOrgInvitation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: Email,
    pub role_id: Uuid,
    pub location_id: Option<Uuid>,
    pub invited_by: Option<Uuid>,
    pub token_hash: TokenHash,
    pub expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// What a presented invitation token is, for its acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInvitationTicket {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    /// The role and location the invitee joins with.
    pub role_id: Uuid,
    pub location_id: Option<Uuid>,
    pub used_at: Option<DateTime<Utc>>,
    /// Revoked or superseded.
    pub closed_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

impl OrgInvitationTicket {
    /// Used beats closed beats expired, as for mailed tokens.
    pub fn state(&self, now: DateTime<Utc>) -> TokenState {
        if self.used_at.is_some() {
            TokenState::Used
        } else if self.closed_at.is_some() {
            TokenState::Superseded
        } else if self.expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Live
        }
    }
}

/// How an invitation is accepted.
#[derive(Debug, Clone)]
pub enum Acceptance {
    /// The address has an account: it joins.
    Join,
    /// The address has no account: this one is created (active, verified),
    /// then joins.
    Create(Box<NewUserRecord>),
}

/// What accepting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// The user (existing or new) is now a member.
    Joined { user_id: Uuid },
    /// The token was no longer live when the store locked it.
    Gone,
    /// `Join`, but the address has no account (any more): a password is needed.
    NoAccount,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_beats_closed_beats_expired() {
        let now = Utc::now();
        let t = OrgInvitationTicket {
            id: Uuid::now_v7(),
            org_id: Uuid::now_v7(),
            email: "a@example.com".into(),
            role_id: Uuid::now_v7(),
            location_id: None,
            used_at: None,
            closed_at: None,
            expires_at: now + chrono::Duration::days(1),
        };
        assert_eq!(t.state(now), TokenState::Live);
        let expired = OrgInvitationTicket { expires_at: now, ..t.clone() };
        assert_eq!(expired.state(now), TokenState::Expired);
        let closed = OrgInvitationTicket { closed_at: Some(now), ..expired.clone() };
        assert_eq!(closed.state(now), TokenState::Superseded);
        assert_eq!(OrgInvitationTicket { used_at: Some(now), ..closed }.state(now), TokenState::Used);
    }
}
