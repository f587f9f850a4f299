//! Invitations: an administrator invites an address; Roster creates a
//! `pending` user and mails a link to set a password
//! (`POST /auth/invitations/accept`). Inviting a pending address again
//! supersedes the earlier invitation and its link.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{Permission, Principal},
    error::{Error, StateConflict},
    mail::{Effects, Invitation, InvitationStatus, LetterBody, NewInvitation, RevokeOutcome, TokenPurpose},
    ports::{AccountRepository, Clock, RoleRepository},
    user::{BuiltinRole, NewMembership, NewUser, NewUserRecord, Page, User, UserChanges, UserStatus},
    validation::ValidationErrors,
    values::{limits::NAME_MAX, BoundedText, Email, Locale},
    Patch,
};

use super::{
    grants::may_grant_platform_role,
    mail::{inviter_name, letter_to_new, new_token},
    require, AuthPolicy, ClientMeta, Letters, Throttle,
};

/// `POST /invitations`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::values::Email))]
    pub email: String,
    /// Role in the default organization once accepted (`member` by default).
    #[serde(default)]
    pub role: Option<BuiltinRole>,
    /// The invitee's name, used in the invitation and kept on the account.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Option<String>,
    /// The language of the invitation (BCP 47; en, fr, da, de).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::values::Locale>))]
    pub locale: Option<String>,
}

/// What [`InvitationService`] calls.
#[derive(Clone)]
pub struct InvitationPorts {
    /// Invitations, their pending users and tokens.
    pub accounts: Arc<dyn AccountRepository>,
    /// The default organization's roles, which an invitation grants.
    pub roles: Arc<dyn RoleRepository>,
    pub letters: Letters,
    pub throttle: Throttle,
    pub clock: Arc<dyn Clock>,
}

/// Invitation use cases.
#[derive(Clone)]
pub struct InvitationService {
    ports: InvitationPorts,
    policy: Arc<AuthPolicy>,
}

impl InvitationService {
    pub fn new(ports: InvitationPorts, policy: Arc<AuthPolicy>) -> InvitationService {
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
        require(principal, Permission::UsersWrite)?;
        let role = input.role.unwrap_or(BuiltinRole::Member);
        may_grant_platform_role(&*self.ports.roles, principal, role).await?;
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        let name =
            input.name.map(|n| errors.check("name", BoundedText::<NAME_MAX>::parse(&n).map(BoundedText::into_inner)));
        let locale = input.locale.map(|l| errors.check("locale", Locale::parse(&l).map(Locale::into_inner)));
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let fields = UserChanges {
            name: name.flatten().map_or(Patch::Keep, Patch::Set),
            locale: locale.flatten().map_or(Patch::Keep, Patch::Set),
            ..UserChanges::default()
        };
        let new = NewUser {
            email,
            password: None,
            status: UserStatus::Pending,
            role: None,
            location_id: None,
            email_verified: false,
            fields,
            extras: Default::default(),
        };
        let (invitation, _) = self.write(principal, new, NewMembership::Platform(role), true, meta).await?;
        Ok(invitation)
    }

    /// Creates a validated pending user and invites them (`POST /users` with
    /// `send_invite`). The caller checked the permission and the role.
    pub(super) async fn create_invited(
        &self,
        principal: &Principal,
        new: NewUser,
        membership: NewMembership,
        meta: &ClientMeta,
    ) -> Result<User, Error> {
        Ok(self.write(principal, new, membership, false, meta).await?.1)
    }

    async fn write(
        &self,
        principal: &Principal,
        new: NewUser,
        membership: NewMembership,
        reinvite: bool,
        meta: &ClientMeta,
    ) -> Result<(Invitation, User), Error> {
        let now = self.ports.clock.now();
        let limit = &self.policy.accounts.limits.invite;
        self.ports.throttle.check("invite", limit, new.email.as_str(), meta.ip.as_deref(), now).await?;
        let user = NewUserRecord {
            id: Uuid::now_v7(),
            email: new.email,
            password_hash: None,
            status: UserStatus::Pending,
            email_verified: false,
            is_superadmin: false,
            membership,
            fields: new.fields,
            extras: new.extras,
            now,
        };
        let ttl = self.policy.accounts.invitation_ttl;
        let id = Uuid::now_v7();
        let (token, record) = new_token(TokenPurpose::Invitation, user.id, user.email.clone(), Some(id), ttl, now);
        let inviter = inviter_name(principal);
        let letter = letter_to_new(&user, LetterBody::Invitation { token, valid_for: ttl, inviter });
        let effects = Effects::token_and_mail(record, self.ports.letters.queue(letter, now)?);
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
        require(principal, Permission::UsersRead)?;
        let now = self.ports.clock.now();
        Ok(self.ports.accounts.list_invitations(status, page, per_page, now).await?)
    }

    /// Withdraws an open invitation: its link stops working and its user,
    /// still pending, is removed. Idempotent. Needs `users:write`. Errors:
    /// `NotFound`, `InvalidState` (accepted), `Unavailable`.
    pub async fn revoke(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        require(principal, Permission::UsersWrite)?;
        let now = self.ports.clock.now();
        match self.ports.accounts.revoke_invitation(id, now).await? {
            RevokeOutcome::Revoked | RevokeOutcome::AlreadyClosed => Ok(()),
            RevokeOutcome::Accepted => Err(Error::InvalidState(StateConflict::InvitationAccepted)),
            RevokeOutcome::NotFound => Err(Error::NotFound("invitation")),
        }
    }
}
