//! The administrators' user API, with its authorization rules:
//! a superadmin may do everything; in the default organization `admin`
//! manages users; anyone reads and edits only themselves.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, Refusal},
    error::{Error, StateConflict},
    mail::{Effects, LetterBody, TokenPurpose},
    ports::{AccountRepository, Clock, PasswordHasher, RoleRepository, UserRepository},
    user::{
        BuiltinRole, ListParams, NewUserInput, NewUserRecord, Scope, User, UserChanges, UserPatchInput,
        UserReplaceInput, UserStatus,
    },
    validation::ValidationErrors,
    values::{Email, Password},
};

use super::{
    grants::may_grant_platform_role,
    hash_error,
    mail::{letter_to, new_token},
    merge_errors, require, AuthPolicy, ClientMeta, Directory, InvitationService, Letters, UserList,
};

/// What [`UserService`] calls.
#[derive(Clone)]
pub struct UserPorts {
    pub users: Arc<dyn UserRepository>,
    /// Password-reset tokens mailed by administrators.
    pub accounts: Arc<dyn AccountRepository>,
    /// The default organization's roles, which a new user is given.
    pub roles: Arc<dyn RoleRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub letters: Letters,
    pub directory: Directory,
    /// Users created with `send_invite` are invited.
    pub invitations: InvitationService,
    pub clock: Arc<dyn Clock>,
}

/// User administration use cases.
#[derive(Clone)]
pub struct UserService {
    ports: UserPorts,
    policy: Arc<AuthPolicy>,
}

/// The directory a caller may see. Until organizations have their own
/// administrators (issue [4]), whoever may read users reads the platform.
fn directory_scope(principal: &Principal) -> Scope {
    let _ = principal;
    Scope::Platform
}

/// An administrator may act on ordinary users; acting on an owner takes an
/// owner, and acting on a superadmin takes a superadmin.
fn guard_target(principal: &Principal, target: &User) -> Result<(), Error> {
    if target.is_superadmin && !principal.is_superadmin {
        return Err(Error::Forbidden(Refusal::SuperadminOnly));
    }
    if target.role.as_deref() == Some("owner") && !principal.is_owner() {
        return Err(Error::Forbidden(Refusal::OwnerOnly));
    }
    Ok(())
}

/// Who may edit user `id`: anyone with `users:write`, or the user
/// themselves, who may not change their email or its verification this way
/// (those come back as field errors, listed with any others).
fn edit_refusals(
    principal: &Principal,
    id: Uuid,
    changes_email: bool,
    sets_verified: bool,
) -> Result<ValidationErrors, Error> {
    let mut refused = ValidationErrors::new();
    // The same rule as `require`: platform user administration happens in a
    // default-organization session (another organization's `users:write`
    // says nothing about the platform's users).
    if require(principal, Permission::UsersWrite).is_ok() {
        return Ok(refused);
    }
    if !principal.is_user(id) {
        return Err(Error::Forbidden(Refusal::MissingPermission(Permission::UsersWrite)));
    }
    if changes_email {
        refused.add("email", "cannot be changed by the user themselves");
    }
    if sets_verified {
        refused.add("email_verified", "cannot be changed by the user themselves");
    }
    Ok(refused)
}

fn not_self(principal: &Principal, id: Uuid) -> Result<(), Error> {
    if principal.is_user(id) {
        Err(Error::Forbidden(Refusal::NotYourself))
    } else {
        Ok(())
    }
}

impl UserService {
    pub fn new(ports: UserPorts, policy: Arc<AuthPolicy>) -> UserService {
        UserService { ports, policy }
    }

    async fn load(&self, id: Uuid) -> Result<User, Error> {
        self.ports.users.get(id).await?.ok_or(Error::NotFound("user"))
    }

    /// Creates a user: with a password (an unverified address is sent a
    /// verification link), or with `send_invite` as a `pending` user who is
    /// mailed an invitation. Needs `users:write`; granting `owner` takes an
    /// owner. Errors: `Forbidden`, `Validation`, `Conflict`, `RateLimited`
    /// (invitations), `Unavailable`.
    pub async fn create(&self, principal: &Principal, input: NewUserInput, meta: &ClientMeta) -> Result<User, Error> {
        require(principal, Permission::UsersWrite)?;
        may_grant_platform_role(&*self.ports.roles, principal, input.role.unwrap_or(BuiltinRole::Member)).await?;
        let now = self.ports.clock.now();
        let new = input.validate(&self.policy.password, now.date_naive())?;
        let Some(password) = &new.password else {
            return self.ports.invitations.create_invited(principal, new, meta).await;
        };
        let hash = self.ports.hasher.hash(password).await.map_err(hash_error)?;
        let record = NewUserRecord {
            id: Uuid::now_v7(),
            email: new.email,
            password_hash: Some(hash),
            status: new.status,
            email_verified: new.email_verified,
            is_superadmin: false,
            role: new.role,
            fields: new.fields,
            now,
        };
        let effects = if record.email_verified || !record.status.can_sign_in() {
            Effects::none()
        } else {
            self.ports.letters.verification_for_new(&self.policy, &record)?
        };
        Ok(self.ports.users.create(&record, &effects).await?)
    }

    /// Mails the user a link to set a new password (their current one keeps
    /// working until then). Needs `users:write`. Errors: `Forbidden`,
    /// `NotFound`, `InvalidState` (pending or banned), `Unavailable`.
    pub async fn send_password_reset(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        require(principal, Permission::UsersWrite)?;
        let target = self.load(id).await?;
        guard_target(principal, &target)?;
        match target.status {
            UserStatus::Pending => return Err(Error::InvalidState(StateConflict::UserPending)),
            UserStatus::Banned => return Err(Error::InvalidState(StateConflict::UserBanned)),
            UserStatus::Active | UserStatus::Inactive => {}
        }
        let now = self.ports.clock.now();
        let ttl = self.policy.accounts.reset_password_ttl;
        let email = Email::from_trusted(target.email.clone());
        let (token, record) = new_token(TokenPurpose::ResetPassword, target.id, email, None, ttl, now);
        let body = LetterBody::PasswordReset { token, valid_for: ttl, by_admin: true };
        let mail = self.ports.letters.queue(letter_to(&target, body), now)?;
        Ok(self.ports.accounts.issue(&Effects::token_and_mail(record, mail)).await?)
    }

    /// Reads a user: oneself, or anyone with `users:read`.
    pub async fn get(&self, principal: &Principal, id: Uuid) -> Result<User, Error> {
        if !principal.is_user(id) {
            require(principal, Permission::UsersRead)?;
        }
        self.load(id).await
    }

    /// Merges changes into a user. Oneself without `users:write` may change
    /// only profile fields.
    pub async fn patch(&self, principal: &Principal, id: Uuid, input: UserPatchInput) -> Result<User, Error> {
        let refused = edit_refusals(principal, id, input.email.is_some(), input.email_verified.is_some())?;
        let now = self.ports.clock.now();
        let changes = merge_errors(refused, input.validate(now.date_naive()))?;
        self.apply(principal, id, changes, now).await
    }

    /// Replaces every editable field of a user; fields left out are cleared.
    pub async fn replace(&self, principal: &Principal, id: Uuid, input: UserReplaceInput) -> Result<User, Error> {
        let changes_email = Email::parse(&input.email)
            .ok()
            .zip(principal.user())
            .is_some_and(|(e, me)| !e.as_str().eq_ignore_ascii_case(&me.email));
        let refused = edit_refusals(principal, id, changes_email, input.email_verified.is_some())?;
        let now = self.ports.clock.now();
        let changes = merge_errors(refused, input.validate(now.date_naive()))?;
        self.apply(principal, id, changes, now).await
    }

    async fn apply(
        &self,
        principal: &Principal,
        id: Uuid,
        mut changes: UserChanges,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<User, Error> {
        let target = self.load(id).await?;
        if !principal.is_user(id) {
            guard_target(principal, &target)?;
        }
        // A changed address is unverified unless the administrator says otherwise.
        match &changes.email {
            // The same address, byte for byte: nothing to change.
            Some(e) if e.as_str() == target.email => changes.email = None,
            // Only the case differs: the same mailbox, still verified.
            Some(e) if e.as_str().eq_ignore_ascii_case(&target.email) => {}
            Some(_) if changes.email_verified.is_none() => changes.email_verified = Some(false),
            _ => {}
        }
        self.ports.users.update(id, &changes, now).await?.ok_or(Error::NotFound("user"))
    }

    /// Deletes a user for good, with sessions and memberships. Needs `users:delete`.
    pub async fn delete(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        require(principal, Permission::UsersDelete)?;
        not_self(principal, id)?;
        let target = self.load(id).await?;
        guard_target(principal, &target)?;
        if self.ports.users.delete(id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("user"))
        }
    }

    /// Activates, deactivates or bans a user (idempotent). Leaving `active`
    /// revokes every session of the user. Needs `users:manage_status`.
    pub async fn set_status(&self, principal: &Principal, id: Uuid, status: UserStatus) -> Result<User, Error> {
        require(principal, Permission::UsersManageStatus)?;
        not_self(principal, id)?;
        let target = self.load(id).await?;
        guard_target(principal, &target)?;
        if target.status == status {
            return Ok(target);
        }
        let now = self.ports.clock.now();
        self.ports.users.set_status(id, status, now).await?.ok_or(Error::NotFound("user"))
    }

    /// One page of the directory: shortcuts, `filter=`, sort, projection,
    /// offset or keyset paging. Needs `users:read`. Errors: `Forbidden`,
    /// `InvalidQuery`, `InvalidFilter`, `InvalidCursor`, `Unavailable`.
    pub async fn list(&self, principal: &Principal, params: &ListParams) -> Result<UserList, Error> {
        require(principal, Permission::UsersRead)?;
        self.ports.directory.list(directory_scope(principal), params).await
    }

    /// How many users match the shortcuts and `filter=`. Needs `users:read`.
    pub async fn count(&self, principal: &Principal, params: &ListParams) -> Result<u64, Error> {
        require(principal, Permission::UsersRead)?;
        self.ports.directory.count(directory_scope(principal), params).await
    }

    /// Creates or promotes a platform superadmin (the `roster admin create`
    /// command). The password must satisfy the policy.
    pub async fn ensure_superadmin(&self, email: &str, password: &str) -> Result<(User, bool), Error> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(email));
        let password =
            match Password::new(&self.policy.password, password, Some(email.as_ref().map_or("", |e| e.as_str()))) {
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

#[cfg(test)]
#[path = "users_tests.rs"]
mod tests;
