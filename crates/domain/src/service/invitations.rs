//! Invitations: an administrator invites an address; Roster creates a
//! `pending` user and mails a link to set a password
//! (`POST /auth/invitations/accept`). Inviting a pending address again
//! supersedes the earlier invitation and its link.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{perms, Actor, AuthPolicy, Principal},
    error::Error,
    mail::{Effects, Invitation, InvitationStatus, LetterBody, NewInvitation, RevokeOutcome, TokenPurpose},
    ports::NewUserRecord,
    user::{BuiltinRole, NewUser, Page, User, UserChanges, UserStatus},
    validation::ValidationErrors,
    values::{BoundedText, Email, Locale},
    Patch,
};

use super::{
    mail::{letter_to_new, new_token, queue, throttle},
    require, ClientMeta, Ports,
};

/// `POST /invitations`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    pub email: String,
    /// Role in the default organization once accepted (`member` by default).
    #[serde(default)]
    pub role: Option<BuiltinRole>,
    /// The invitee's name, used in the invitation and kept on the account.
    #[serde(default)]
    pub name: Option<String>,
    /// The language of the invitation (BCP 47; en, fr, da, de).
    #[serde(default)]
    pub locale: Option<String>,
}

/// Invitation use cases.
#[derive(Clone)]
pub struct InvitationService {
    ports: Ports,
    policy: Arc<AuthPolicy>,
}

/// Who may give a new user `role` in the default organization: owners (and
/// superadmins) any; others only a role whose permissions they hold
/// themselves, never `owner` — so an API key or a custom role with
/// `users:write` cannot mint an `admin` stronger than itself.
pub(super) async fn may_grant(ports: &Ports, principal: &Principal, role: BuiltinRole) -> Result<(), Error> {
    if principal.is_superadmin || (principal.in_default_org() && principal.is_owner()) {
        return Ok(());
    }
    if role == BuiltinRole::Owner {
        return Err(Error::Forbidden("only owners can grant the owner role"));
    }
    let granted = ports
        .orgs
        .role_by_name(crate::DEFAULT_ORG_ID, role.as_str())
        .await?
        .ok_or_else(|| Error::Internal(format!("the default organization has no {} role", role.as_str())))?;
    if granted.permissions.iter().all(|p| principal.has(p)) {
        Ok(())
    } else {
        Err(Error::Forbidden("you can only grant a role whose permissions you hold"))
    }
}

/// How a letter names its sender: the user's name or address; nobody for an API key.
pub(super) fn inviter_name(principal: &Principal) -> Option<String> {
    match &principal.actor {
        Actor::User { user, .. } => user.name.clone().or_else(|| Some(user.email.clone())),
        Actor::ApiKey { .. } => None,
    }
}

impl InvitationService {
    pub fn new(ports: Ports, policy: Arc<AuthPolicy>) -> InvitationService {
        InvitationService { ports, policy }
    }

    /// Invites an address (again, if it belongs to a pending user). Needs
    /// `users:write`. Errors: `Forbidden`, `Validation`, `RateLimited`,
    /// `Conflict(EmailTaken)` (an account that is not pending has the
    /// address), `Unavailable`.
    pub async fn invite(
        &self,
        principal: &Principal,
        input: InviteInput,
        meta: &ClientMeta,
    ) -> Result<Invitation, Error> {
        require(principal, perms::USERS_WRITE)?;
        let role = input.role.unwrap_or(BuiltinRole::Member);
        may_grant(&self.ports, principal, role).await?;
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        let name = input.name.map(|n| errors.check("name", BoundedText::<200>::parse(&n).map(BoundedText::into_inner)));
        let locale = input.locale.map(|l| errors.check("locale", Locale::parse(&l).map(Locale::into_inner)));
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let fields = UserChanges {
            name: name.flatten().map_or(Patch::Keep, Patch::Set),
            locale: locale.flatten().map_or(Patch::Keep, Patch::Set),
            ..UserChanges::default()
        };
        let new = NewUser { email, password: None, status: UserStatus::Pending, role, email_verified: false, fields };
        let (invitation, _) = self.write(principal, new, true, meta).await?;
        Ok(invitation)
    }

    /// Creates a validated pending user and invites them (`POST /users` with
    /// `send_invite`). The caller checked the permission and the role.
    pub(super) async fn create_invited(
        &self,
        principal: &Principal,
        new: NewUser,
        meta: &ClientMeta,
    ) -> Result<User, Error> {
        Ok(self.write(principal, new, false, meta).await?.1)
    }

    async fn write(
        &self,
        principal: &Principal,
        new: NewUser,
        reinvite: bool,
        meta: &ClientMeta,
    ) -> Result<(Invitation, User), Error> {
        let now = self.ports.clock.now();
        let limit = &self.policy.accounts.limits.invite;
        throttle(&self.ports, "invite", limit, new.email.as_str(), meta.ip.as_deref(), now).await?;
        let user = NewUserRecord {
            id: Uuid::now_v7(),
            email: new.email,
            password_hash: None,
            status: UserStatus::Pending,
            email_verified: false,
            is_superadmin: false,
            role: new.role,
            fields: new.fields,
            now,
        };
        let ttl = self.policy.accounts.invitation_ttl;
        let id = Uuid::now_v7();
        let (token, record) = new_token(TokenPurpose::Invitation, user.id, user.email.clone(), Some(id), ttl, now);
        let inviter = inviter_name(principal);
        let letter = letter_to_new(&user, LetterBody::Invitation { token, valid_for: ttl, inviter });
        let effects = Effects::token_and_mail(record, queue(&self.ports, letter, now)?);
        let invitation = NewInvitation { id, user, invited_by: principal.user_id(), expires_at: now + ttl, reinvite };
        Ok(self.ports.accounts.invite(&invitation, &effects).await?)
    }

    /// Invitations, newest first. Needs `users:read`.
    pub async fn list(
        &self,
        principal: &Principal,
        status: Option<InvitationStatus>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Invitation>, Error> {
        require(principal, perms::USERS_READ)?;
        let now = self.ports.clock.now();
        Ok(self.ports.accounts.list_invitations(status, page, per_page, now).await?)
    }

    /// Withdraws an open invitation: its link stops working and its user,
    /// still pending, is removed. Idempotent. Needs `users:write`. Errors:
    /// `NotFound`, `InvalidState` (accepted), `Unavailable`.
    pub async fn revoke(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        require(principal, perms::USERS_WRITE)?;
        let now = self.ports.clock.now();
        match self.ports.accounts.revoke_invitation(id, now).await? {
            RevokeOutcome::Revoked | RevokeOutcome::AlreadyClosed => Ok(()),
            RevokeOutcome::Accepted => {
                Err(Error::InvalidState("the invitation was accepted; manage the account as a user"))
            }
            RevokeOutcome::NotFound => Err(Error::NotFound("invitation")),
        }
    }
}
