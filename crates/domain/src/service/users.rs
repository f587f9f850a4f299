//! The administrators' user API. `/users` answers in the caller's
//! organization:
//!
//! - the platform's administrators — superadmins, and sessions or API keys
//!   acting in the default organization with the permission — see and
//!   administer every user, and see who manages each account;
//! - an organization's administrators — a session or API key acting in it,
//!   with the permission there — see its members, each with their
//!   membership; they administer the accounts the organization manages
//!   (profile, status, password reset, deletion), and of the other members
//!   only the membership (role and location); anyone else is "not found";
//! - everyone reads and edits themselves.
//!
//! An acting owner is needed to act on an owner of the organization, a
//! superadmin to act on a superadmin, and nobody acts on themselves through
//! status, deletion or their own role. Edits (`PATCH`, `PUT`) are in `edit`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, Refusal},
    error::{Error, StateConflict},
    mail::{Effects, LetterBody, TokenPurpose},
    org::Role,
    ports::{
        AccountRepository, Clock, LocationRepository, MemberRepository, PasswordHasher, RoleRepository, UserRepository,
    },
    user::{ListParams, NewMembership, NewUserInput, NewUserRecord, Scope, User, UserStatus},
    validation::ValidationErrors,
    values::{Email, Password},
    Conflict, DEFAULT_ORG_ID,
};

use super::{
    grants::{may_give_role, role_with_location},
    hash_error,
    mail::{letter_to, new_token},
    throttle::FORGOT_BUCKET,
    AuthPolicy, ClientMeta, Directory, ImageService, InvitationService, Letters, PasswordRules, Throttle, UserList,
};

/// What [`UserService`] calls.
#[derive(Clone)]
pub struct UserPorts {
    pub users: Arc<dyn UserRepository>,
    /// Password-reset tokens mailed by administrators.
    pub accounts: Arc<dyn AccountRepository>,
    /// The roles a user is given, and the locations they come with.
    pub roles: Arc<dyn RoleRepository>,
    pub locations: Arc<dyn LocationRepository>,
    /// The membership a role or location change starts from, and the one a
    /// transfer of the account needs.
    pub members: Arc<dyn MemberRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    /// The managing organization's password policy.
    pub passwords: PasswordRules,
    pub letters: Letters,
    /// Rations an organization's `409 email_taken` answers.
    pub throttle: Throttle,
    pub directory: Directory,
    /// Users created with `send_invite` are invited.
    pub invitations: InvitationService,
    /// Users' pictures.
    pub images: ImageService,
    pub clock: Arc<dyn Clock>,
}

/// User administration use cases.
#[derive(Clone)]
pub struct UserService {
    ports: UserPorts,
    policy: Arc<AuthPolicy>,
}

/// Whose users a caller administers: the platform's (acting in the default
/// organization) or one organization's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Platform,
    Org(Uuid),
}

impl Reach {
    fn of(principal: &Principal) -> Reach {
        if principal.in_default_org() {
            Reach::Platform
        } else {
            Reach::Org(principal.org_id)
        }
    }

    /// The organization whose roles and locations a user is given here.
    fn org(self) -> Uuid {
        match self {
            Reach::Platform => DEFAULT_ORG_ID,
            Reach::Org(org) => org,
        }
    }

    fn scope(self) -> Scope {
        match self {
            Reach::Platform => Scope::Platform,
            Reach::Org(org) => Scope::Org(org),
        }
    }

    /// The answer as this reach shows it: the platform sees who manages the
    /// account; an organization sees the membership and whether it manages it.
    fn present(self, mut user: User) -> User {
        match self {
            Reach::Platform => user.membership = None,
            Reach::Org(_) => user.managed_by = None,
        }
        user
    }
}

/// Refused unless the caller holds `permission` where it acts.
fn require_here(principal: &Principal, permission: Permission) -> Result<(), Error> {
    if principal.holds(permission) {
        Ok(())
    } else {
        Err(Error::Forbidden(Refusal::MissingPermission(permission)))
    }
}

/// An administrator may act on ordinary users; acting on an owner (of the
/// organization the caller acts in) takes an owner, and acting on a
/// superadmin takes a superadmin.
fn guard_target(principal: &Principal, target: &User) -> Result<(), Error> {
    if target.is_superadmin && !principal.is_superadmin {
        return Err(Error::Forbidden(Refusal::SuperadminOnly));
    }
    if target.role.as_deref() == Some("owner") && !principal.is_owner() {
        return Err(Error::Forbidden(Refusal::OwnerOnly));
    }
    Ok(())
}

fn not_self(principal: &Principal, id: Uuid) -> Result<(), Error> {
    if principal.is_user(id) {
        Err(Error::Forbidden(Refusal::NotYourself))
    } else {
        Ok(())
    }
}

/// `errors` as a `Validation` error unless empty.
fn refuse(errors: ValidationErrors) -> Result<(), Error> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

impl UserService {
    pub fn new(ports: UserPorts, policy: Arc<AuthPolicy>) -> UserService {
        UserService { ports, policy }
    }

    /// The user as `reach` may see them: anyone for the platform, a member
    /// for an organization; else `NotFound`, as for an unknown id.
    async fn load(&self, reach: Reach, id: Uuid) -> Result<User, Error> {
        let found = match reach {
            Reach::Platform => self.ports.users.get(id).await?,
            Reach::Org(org) => self.ports.users.get_in(org, id).await?,
        };
        found.ok_or(Error::NotFound("user"))
    }

    /// A target of an account-level action (status, password reset,
    /// deletion): needs `permission`, the owner and superadmin rules, not
    /// oneself unless `self_allowed`, and — for an organization — an account
    /// it manages.
    async fn account_target(
        &self,
        principal: &Principal,
        id: Uuid,
        permission: Permission,
        self_allowed: bool,
    ) -> Result<User, Error> {
        require_here(principal, permission)?;
        if !self_allowed {
            not_self(principal, id)?;
        }
        let reach = Reach::of(principal);
        let target = self.load(reach, id).await?;
        guard_target(principal, &target)?;
        if let Reach::Org(org) = reach {
            if target.managed_by != Some(org) {
                return Err(Error::Forbidden(Refusal::NotManaged));
            }
        }
        Ok(target)
    }

    /// The role called `name` (`member` when `None`) of the organization
    /// `reach` gives roles in, checked against `location`; every problem
    /// with either goes into `errors`.
    async fn role_for(
        &self,
        reach: Reach,
        name: Option<&str>,
        location: Option<Uuid>,
        errors: &mut ValidationErrors,
    ) -> Result<Option<Role>, Error> {
        let name = name.unwrap_or("member");
        match role_with_location(&*self.ports.roles, &*self.ports.locations, reach.org(), name, location).await {
            Ok(role) => Ok(Some(role)),
            Err(Error::Validation(e)) => {
                errors.absorb(e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a user in the caller's organization, managed by it and a
    /// member there with `role` (`member` by default) and `location_id`,
    /// in one transaction: with a password (an unverified address is sent a
    /// verification link), or with `send_invite` as a `pending` user who is
    /// mailed an invitation. Needs `users:write`; the role takes every
    /// permission it carries (an owner gives any). Every bad field comes in
    /// one `Validation`. An address that has an account is
    /// `Conflict(EmailTaken)` — rationed for organizations (`RateLimited`
    /// past the limit). Errors also: `Forbidden`, `Unavailable`.
    pub async fn create(&self, principal: &Principal, input: NewUserInput, meta: &ClientMeta) -> Result<User, Error> {
        require_here(principal, Permission::UsersWrite)?;
        if input.role.as_deref().map(str::trim) == Some("owner") && !principal.is_superadmin && !principal.is_owner() {
            return Err(Error::Forbidden(Refusal::OwnerOnly));
        }
        let reach = Reach::of(principal);
        let mut errors = ValidationErrors::new();
        let role = self.role_for(reach, input.role.as_deref(), input.location_id, &mut errors).await?;
        if let Some(role) = &role {
            may_give_role(principal, role)?;
        }
        if reach != Reach::Platform && input.email_verified == Some(true) {
            errors.add("email_verified", "is set by the platform's administrators; the user verifies by link");
        }
        let now = self.ports.clock.now();
        let policy = self.ports.passwords.of(reach.org()).await?;
        let new = match input.validate(&policy, now.date_naive()) {
            Ok(new) => Some(new),
            Err(e) => {
                errors.absorb(e);
                None
            }
        };
        let default_location =
            new.as_ref().and_then(|n| n.extras.settings.as_ref()).and_then(|s| s.settings.default_location_id);
        if let Some(location) = default_location {
            if self.ports.locations.get_location(reach.org(), location).await?.is_none() {
                errors.add("settings.default_location_id", "must be a location of the organization the user joins");
            }
        }
        let (Some(new), Some(role)) = (new, role) else { return Err(Error::Validation(errors)) };
        refuse(errors)?;
        let membership = NewMembership::Org { org_id: reach.org(), role_id: role.id, location_id: new.location_id };
        let Some(password) = &new.password else {
            let created = self.ports.invitations.create_invited(principal, new, membership, meta).await;
            let user = self.email_taken_rationed(reach, created, meta.ip.as_deref(), now).await?;
            return self.shown(reach, user).await;
        };
        let hash = self.ports.hasher.hash(password).await.map_err(hash_error)?;
        let record = NewUserRecord {
            id: Uuid::now_v7(),
            email: new.email,
            password_hash: Some(hash),
            status: new.status,
            email_verified: new.email_verified,
            is_superadmin: false,
            membership,
            fields: new.fields,
            extras: new.extras,
            now,
        };
        let effects = if record.email_verified || !record.status.can_sign_in() {
            Effects::none()
        } else {
            self.ports.letters.verification_for_new(&self.policy, &record)?
        };
        let created = self.ports.users.create(&record, &effects).await.map_err(Error::from);
        let user = self.email_taken_rationed(reach, created, meta.ip.as_deref(), now).await?;
        self.shown(reach, user).await
    }

    /// An organization learns from `409 email_taken` that an address has an
    /// account (creating a user, or changing an address), so those answers
    /// are counted per organization (and client, when known), and past the
    /// limit become `RateLimited`.
    async fn email_taken_rationed(
        &self,
        reach: Reach,
        written: Result<User, Error>,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<User, Error> {
        match (reach, written) {
            (Reach::Org(org), Err(Error::Conflict(Conflict::EmailTaken))) => {
                let limit = &self.policy.accounts.limits.email_taken;
                self.ports.throttle.check("email-taken", limit, &org.to_string(), ip, now).await?;
                Err(Error::Conflict(Conflict::EmailTaken))
            }
            (_, written) => written,
        }
    }

    /// The user as `reach` shows them, read again after a change.
    async fn view(&self, reach: Reach, id: Uuid) -> Result<User, Error> {
        Ok(reach.present(self.load(reach, id).await?))
    }

    /// `user`, just written, as `reach` shows them: an organization's view
    /// (with the membership) is read again.
    async fn shown(&self, reach: Reach, user: User) -> Result<User, Error> {
        match reach {
            Reach::Platform => Ok(reach.present(user)),
            Reach::Org(_) => self.view(reach, user.id).await,
        }
    }

    /// Mails the user a link to set a new password (their current one keeps
    /// working until then). Needs `users:write`; an organization resets only
    /// the accounts it manages; nobody resets their own (`forgot` or
    /// `POST /me/password` are theirs). The letters count against the
    /// address's limit of `forgot` — the same bucket, so administrators and
    /// anonymous callers together send no more than it allows. Errors:
    /// `Forbidden`, `NotFound`, `InvalidState` (pending or banned),
    /// `RateLimited`, `Unavailable`.
    pub async fn send_password_reset(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        let target = self.account_target(principal, id, Permission::UsersWrite, false).await?;
        match target.status {
            UserStatus::Pending => return Err(Error::InvalidState(StateConflict::UserPending)),
            UserStatus::Banned => return Err(Error::InvalidState(StateConflict::UserBanned)),
            UserStatus::Active | UserStatus::Inactive => {}
        }
        let now = self.ports.clock.now();
        // Per address only: an administrator's client is no anonymous one,
        // and resetting many users' passwords is their job.
        let limit = &self.policy.accounts.limits.forgot;
        self.ports.throttle.check(FORGOT_BUCKET, limit, &target.email, None, now).await?;
        let ttl = self.policy.accounts.reset_password_ttl;
        let email = Email::from_trusted(target.email.clone());
        let (token, record) = new_token(TokenPurpose::ResetPassword, target.id, email, None, ttl, now);
        let body = LetterBody::PasswordReset { token, valid_for: ttl, by_admin: true };
        let mail = self.ports.letters.queue(letter_to(&target, body), now)?;
        Ok(self.ports.accounts.issue(&Effects::token_and_mail(record, mail)).await?)
    }

    /// The target of an account-level security action another service
    /// takes on a user (an MFA reset, an unlock): [`Self::account_target`]'s
    /// rule with `permission`. Errors: `Forbidden`, `NotFound`, `Unavailable`.
    pub(super) async fn security_target(
        &self,
        principal: &Principal,
        id: Uuid,
        permission: Permission,
        self_allowed: bool,
    ) -> Result<User, Error> {
        self.account_target(principal, id, permission, self_allowed).await
    }

    /// The user whose own records (settings, picture) the caller reads or,
    /// with `write`, changes, by the rules of `GET` and `PATCH /users/{id}`:
    /// oneself; else `users:read` (to read) or, to write, what any account
    /// edit takes ([`Self::account_target`] with `users:write`). Errors:
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub(super) async fn records_of(&self, principal: &Principal, id: Uuid, write: bool) -> Result<User, Error> {
        let reach = Reach::of(principal);
        if principal.is_user(id) {
            return self.load(reach, id).await;
        }
        if write {
            return self.account_target(principal, id, Permission::UsersWrite, true).await;
        }
        require_here(principal, Permission::UsersRead)?;
        self.load(reach, id).await
    }

    /// The user whose sessions the caller lists or ends through
    /// `/users/{id}/sessions`: [`Self::account_target`] with
    /// `sessions:revoke`, oneself included (an administrator may end their
    /// own sessions there too). Errors: `Forbidden`, `NotFound`, `Unavailable`.
    pub(super) async fn sessions_of(&self, principal: &Principal, id: Uuid) -> Result<User, Error> {
        self.account_target(principal, id, Permission::SessionsRevoke, true).await
    }

    /// The user whose IP policy (allowlist, `block_unknown_ips`) the caller
    /// changes. It is an administrator's policy over the account, so it
    /// takes `users:write` where the caller acts even for oneself (a member
    /// does not lift their own restriction), with the rules of any account
    /// edit ([`Self::account_target`]: owners, superadmins, an
    /// organization's own accounts). Errors: `Forbidden`, `NotFound`,
    /// `Unavailable`.
    pub(super) async fn policy_target(&self, principal: &Principal, id: Uuid) -> Result<User, Error> {
        self.account_target(principal, id, Permission::UsersWrite, true).await
    }

    /// Refused unless the caller holds `users:write` where it acts (what
    /// every [`Self::policy_target`] needs, asked once before a bulk change).
    pub(super) fn may_write_users(principal: &Principal) -> Result<(), Error> {
        require_here(principal, Permission::UsersWrite)
    }

    /// Reads a user: oneself, or anyone the caller may see with `users:read`
    /// (an organization sees its members).
    pub async fn get(&self, principal: &Principal, id: Uuid) -> Result<User, Error> {
        if !principal.is_user(id) {
            require_here(principal, Permission::UsersRead)?;
        }
        self.view(Reach::of(principal), id).await
    }

    /// Deletes a user for good — the account, with its sessions and its
    /// memberships in every organization. Needs `users:delete`; an
    /// organization deletes only the accounts it manages.
    pub async fn delete(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        self.account_target(principal, id, Permission::UsersDelete, false).await?;
        if self.ports.users.delete(id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("user"))
        }
    }

    /// Activates, deactivates or bans a user (idempotent). Leaving `active`
    /// revokes every session of the user. Needs `users:manage_status`; an
    /// organization changes only the accounts it manages.
    pub async fn set_status(&self, principal: &Principal, id: Uuid, status: UserStatus) -> Result<User, Error> {
        let target = self.account_target(principal, id, Permission::UsersManageStatus, false).await?;
        let reach = Reach::of(principal);
        if target.status == status {
            return Ok(reach.present(target));
        }
        let now = self.ports.clock.now();
        let user = self.ports.users.set_status(id, status, now).await?.ok_or(Error::NotFound("user"))?;
        self.shown(reach, user).await
    }

    /// One page of the directory the caller may see (every user for the
    /// platform, its members for an organization): shortcuts, `filter=`,
    /// sort, projection, offset or keyset paging. Needs `users:read`.
    /// Errors: `Forbidden`, `InvalidQuery`, `InvalidFilter`, `InvalidCursor`,
    /// `Unavailable`.
    pub async fn list(&self, principal: &Principal, params: &ListParams) -> Result<UserList, Error> {
        require_here(principal, Permission::UsersRead)?;
        self.ports.directory.list(Reach::of(principal).scope(), params).await
    }

    /// How many users the caller may see match the shortcuts and `filter=`.
    /// Needs `users:read`.
    pub async fn count(&self, principal: &Principal, params: &ListParams) -> Result<u64, Error> {
        require_here(principal, Permission::UsersRead)?;
        self.ports.directory.count(Reach::of(principal).scope(), params).await
    }

    /// Creates or promotes a platform superadmin (the `roster admin create`
    /// command). The password must satisfy the platform's policy.
    pub async fn ensure_superadmin(&self, email: &str, password: &str) -> Result<(User, bool), Error> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(email));
        let policy = self.ports.passwords.platform();
        let password = match Password::new(policy, password, Some(email.as_ref().map_or("", |e| e.as_str()))) {
            Ok(p) => Some(p),
            Err(m) => {
                errors.extend("password", m);
                None
            }
        };
        let (Some(email), Some(password)) = (email, password) else {
            return Err(Error::Validation(errors));
        };
        let hash = self.ports.hasher.hash(&password).await.map_err(hash_error)?;
        let now = self.ports.clock.now();
        Ok(self.ports.users.upsert_superadmin(Uuid::now_v7(), &email, &hash, now).await?)
    }
}

mod avatar;
mod edit;

#[cfg(test)]
#[path = "users_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "users_tenant_tests.rs"]
mod tenant_tests;
