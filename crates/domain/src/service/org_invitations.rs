//! Invitations into an organization by email. The inviter gets the same
//! answer whether or not the address has an account, so no tenant learns
//! who uses the platform; the mailbox owner settles it by accepting: an
//! existing account joins (nothing else of it changes), a new address
//! chooses a password and gets an account, verified by the link itself.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{OneTimeToken, Permission, Principal, TokenHash},
    error::{Error, StateConflict},
    mail::{Effects, InvitationStatus, Letter, LetterBody, RevokeOutcome, TokenState},
    org::{AcceptOutcome, Acceptance, Access, NewOrgInvitation, OrgInvitation, OrgInvitationTicket, OrgInviteInput},
    ports::{
        Clock, LocationRepository, OrgInvitationRepository, OrganizationRepository, PasswordHasher, RoleRepository,
        UserRepository,
    },
    user::{NewMembership, NewUserExtras, NewUserRecord, Page, UserChanges, UserStatus},
    validation::ValidationErrors,
    values::{limits::NAME_MAX, BoundedText, Email, Locale, Password},
    Conflict, Patch, RepoError,
};

use super::{
    grants::{may_assign, role_with_location},
    hash_error,
    mail::{inviter_name, letter_to},
    AuthPolicy, ClientMeta, Letters, OrgGate, PasswordRules, SessionIssuer, SignedIn, Throttle,
};

const MEMBERS_MANAGE: Access = Access::Permission(Permission::MembersManage);

/// `POST /auth/org-invitations/accept`.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptOrgInvitationInput {
    pub token: String,
    /// Needed when the address has no account yet: the new account's password.
    /// Ignored for an existing account, whose password does not change.
    #[serde(default)]
    pub password: Option<String>,
    /// The new account's name (ignored for an existing account).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Option<String>,
}

impl std::fmt::Debug for AcceptOrgInvitationInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AcceptOrgInvitationInput { <redacted> }")
    }
}

/// What accepting did.
#[derive(Debug)]
pub enum OrgAccepted {
    /// An existing account joined; it signs in as usual.
    Joined { org_id: Uuid, user_id: Uuid },
    /// A new account was created, joined, and is signed in.
    Created { org_id: Uuid, signed_in: Box<SignedIn> },
}

/// Organization invitation use cases.
/// What [`OrgInvitationService`] calls.
#[derive(Clone)]
pub struct OrgInvitationPorts {
    pub gate: OrgGate,
    /// The organization's name, for the letter.
    pub orgs: Arc<dyn OrganizationRepository>,
    /// The role an invitation grants, and the location it comes with.
    pub roles: Arc<dyn RoleRepository>,
    pub locations: Arc<dyn LocationRepository>,
    /// Whether the address has an account.
    pub users: Arc<dyn UserRepository>,
    pub org_invitations: Arc<dyn OrgInvitationRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    /// The inviting organization's password policy, for a new account.
    pub passwords: PasswordRules,
    pub letters: Letters,
    pub throttle: Throttle,
    /// Signs in a new account made by accepting.
    pub issuer: SessionIssuer,
    pub clock: Arc<dyn Clock>,
}

#[derive(Clone)]
pub struct OrgInvitationService {
    ports: OrgInvitationPorts,
    policy: Arc<AuthPolicy>,
}

impl OrgInvitationService {
    pub fn new(ports: OrgInvitationPorts, policy: Arc<AuthPolicy>) -> OrgInvitationService {
        OrgInvitationService { ports, policy }
    }

    /// Invites an address into the organization with a role (and location).
    /// Needs `members:manage` there, and the right to hand out the role.
    /// Re-inviting an address supersedes its open invitation into this
    /// organization. Errors: `NotFound` (not the caller's organization),
    /// `Forbidden`, `Validation` (every bad field), `RateLimited`.
    pub async fn invite(
        &self,
        principal: &Principal,
        org: Uuid,
        input: OrgInviteInput,
        meta: &ClientMeta,
    ) -> Result<OrgInvitation, Error> {
        let membership = self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        let locale = input.locale.map(|l| errors.check("locale", Locale::parse(&l).map(Locale::into_inner)));
        let role_name = input.role.as_deref().unwrap_or("member");
        let role =
            match role_with_location(&*self.ports.roles, &*self.ports.locations, org, role_name, input.location_id)
                .await
            {
                Ok(role) => Some(role),
                Err(Error::Validation(e)) => {
                    errors.absorb(e);
                    None
                }
                Err(e) => return Err(e),
            };
        let (Some(email), Some(role)) = (email, role) else {
            return Err(Error::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        may_assign(principal, membership.as_ref(), &role)?;
        let now = self.ports.clock.now();
        let limit = &self.policy.accounts.limits.invite;
        self.ports.throttle.check("org-invite", limit, email.as_str(), meta.ip.as_deref(), now).await?;
        let organization = self.ports.orgs.get_org(org).await?.ok_or(Error::NotFound("organization"))?;

        let ttl = self.policy.accounts.invitation_ttl;
        let token = OneTimeToken::generate();
        let hash = token.hash();
        let body = LetterBody::OrgInvitation {
            token,
            valid_for: ttl,
            inviter: inviter_name(principal),
            organization: organization.name,
        };
        // Both branches look the address up, so the answer takes as long
        // either way; only the letter's greeting and language differ.
        let letter = match self.ports.users.find_login(&email).await? {
            Some(account) => letter_to(&account.subject.user, body),
            None => Letter { id: Uuid::now_v7(), to: email.clone(), to_name: None, locale: locale.flatten(), body },
        };
        let effects = Effects::mail(self.ports.letters.queue(letter, now)?);
        let invitation = NewOrgInvitation {
            id: Uuid::now_v7(),
            org_id: org,
            email,
            role_id: role.id,
            location_id: input.location_id,
            invited_by: principal.user_id(),
            token_hash: hash,
            expires_at: now + ttl,
            now,
        };
        Ok(self.ports.org_invitations.create(&invitation, &effects).await?)
    }

    /// The organization's invitations, newest first. Needs `members:manage`.
    pub async fn list(
        &self,
        principal: &Principal,
        org: Uuid,
        status: Option<InvitationStatus>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<OrgInvitation>, Error> {
        self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        let now = self.ports.clock.now();
        Ok(self.ports.org_invitations.list(org, status, page, per_page, now).await?)
    }

    /// Withdraws an open invitation; its link stops working. Idempotent.
    /// Needs `members:manage`. Errors: `NotFound`, `InvalidState` (accepted).
    pub async fn revoke(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<(), Error> {
        self.ports.gate.authorized(principal, org, MEMBERS_MANAGE).await?;
        let now = self.ports.clock.now();
        match self.ports.org_invitations.revoke(org, id, now).await? {
            RevokeOutcome::Revoked | RevokeOutcome::AlreadyClosed => Ok(()),
            RevokeOutcome::Accepted => Err(Error::InvalidState(StateConflict::InvitationAccepted)),
            RevokeOutcome::NotFound => Err(Error::NotFound("invitation")),
        }
    }

    /// Accepts with the token of the letter. Errors: `InvalidToken`,
    /// `TokenGone` (used, revoked or superseded, expired), `Validation`
    /// (`password`, `name` — only for an address without an account).
    pub async fn accept(&self, input: AcceptOrgInvitationInput, meta: ClientMeta) -> Result<OrgAccepted, Error> {
        let token = OneTimeToken::parse(&input.token).ok_or(Error::InvalidToken)?;
        let hash = token.hash();
        let ticket = self.ports.org_invitations.find(&hash).await?.ok_or(Error::InvalidToken)?;
        let now = self.ports.clock.now();
        match ticket.state(now) {
            TokenState::Live => {}
            gone => return Err(Error::TokenGone(gone)),
        }
        let email = Email::from_trusted(ticket.email.clone());
        if self.ports.users.find_login(&email).await?.is_some() {
            match self.ports.org_invitations.accept(&hash, &Acceptance::Join, now).await? {
                AcceptOutcome::Joined { user_id } => return Ok(OrgAccepted::Joined { org_id: ticket.org_id, user_id }),
                AcceptOutcome::Gone => return Err(self.gone(&hash).await),
                // The account was deleted meanwhile: make a new one below.
                AcceptOutcome::NoAccount => {}
            }
        }
        let record = self.new_account(&ticket, email.clone(), input.password, input.name, now).await?;
        match self.ports.org_invitations.accept(&hash, &Acceptance::Create(Box::new(record)), now).await {
            Ok(AcceptOutcome::Joined { .. }) => {}
            Ok(AcceptOutcome::Gone) => return Err(self.gone(&hash).await),
            Ok(AcceptOutcome::NoAccount) => return Err(Error::Internal("creating an account found none".into())),
            // The address got an account meanwhile: it joins instead.
            Err(RepoError::Conflict(Conflict::EmailTaken)) => {
                return match self.ports.org_invitations.accept(&hash, &Acceptance::Join, now).await? {
                    AcceptOutcome::Joined { user_id } => Ok(OrgAccepted::Joined { org_id: ticket.org_id, user_id }),
                    _ => Err(self.gone(&hash).await),
                };
            }
            Err(e) => return Err(e.into()),
        }
        let account = self.ports.users.find_login(&email).await?.ok_or(Error::NotFound("user"))?;
        let subject = self.ports.issuer.landing(account.subject).await?;
        let signed_in = self.ports.issuer.open(subject, meta).await?;
        Ok(OrgAccepted::Created { org_id: ticket.org_id, signed_in: Box::new(signed_in) })
    }

    /// The account to create for an address without one: the password is
    /// required and checked by the policy; the link verified the address.
    /// The account a new address gets by accepting `ticket`: managed by the
    /// inviting organization (its password policy applies) and a member of
    /// it only, with the invitation's role and location.
    async fn new_account(
        &self,
        ticket: &OrgInvitationTicket,
        email: Email,
        password: Option<String>,
        name: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<NewUserRecord, Error> {
        let mut errors = ValidationErrors::new();
        let name =
            name.and_then(|n| errors.check("name", BoundedText::<NAME_MAX>::parse(&n).map(BoundedText::into_inner)));
        let policy = self.ports.passwords.of(ticket.org_id).await?;
        let password = match password.as_deref().map(|p| Password::new(&policy, p, Some(email.as_str()))) {
            Some(Ok(p)) => Some(p),
            Some(Err(messages)) => {
                errors.extend("password", messages);
                None
            }
            None => {
                errors.add("password", "is required: this address has no account yet");
                None
            }
        };
        let Some(password) = password.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let hash = self.ports.hasher.hash(&password).await.map_err(hash_error)?;
        Ok(NewUserRecord {
            id: Uuid::now_v7(),
            email,
            password_hash: Some(hash),
            status: UserStatus::Active,
            email_verified: true,
            is_superadmin: false,
            membership: NewMembership::Org {
                org_id: ticket.org_id,
                role_id: ticket.role_id,
                location_id: ticket.location_id,
            },
            fields: UserChanges { name: name.map_or(Patch::Keep, Patch::Set), ..UserChanges::default() },
            extras: NewUserExtras::default(),
            now,
        })
    }

    /// Why the token stopped being live while it was being accepted.
    async fn gone(&self, hash: &TokenHash) -> Error {
        let now = self.ports.clock.now();
        match self.ports.org_invitations.find(hash).await {
            Ok(Some(t)) => Error::TokenGone(t.state(now)),
            Ok(None) => Error::InvalidToken,
            Err(e) => e.into(),
        }
    }
}

#[cfg(test)]
#[path = "org_invitations_tests.rs"]
mod tests;
