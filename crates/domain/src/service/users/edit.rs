//! Editing a user: the account's fields where the caller may change them,
//! and the user's role and location where the caller acts, in one
//! transaction (`PATCH` and `PUT /users/{id}`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, Refusal},
    error::Error,
    mail::{Effects, LetterBody, TokenPurpose},
    org::{MemberChange, MemberOutcome},
    user::{MembershipEdit, User, UserChanges, UserPatchInput, UserReplaceInput},
    validation::{Patch, ValidationErrors},
    values::Email,
};

use super::{
    super::{
        grants::may_give_role,
        mail::{letter_to, new_token},
    },
    guard_target, refuse, Reach, UserService,
};

/// Who may edit user `id`: anyone with `users:write` where they act, or
/// the user themselves, who may not change their email or its verification
/// this way; and only the platform's administrators mark an address
/// verified. Those come back as field errors, listed with any others.
fn edit_refusals(
    principal: &Principal,
    id: Uuid,
    changes_email: bool,
    sets_verified: bool,
) -> Result<ValidationErrors, Error> {
    let mut refused = ValidationErrors::new();
    if principal.holds(Permission::UsersWrite) {
        if sets_verified && Reach::of(principal) != Reach::Platform {
            refused.add("email_verified", "is set by the platform's administrators; the user verifies by link");
        }
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

impl UserService {
    /// Merges changes into a user: into the account (oneself without
    /// `users:write` only profile fields; an organization only accounts it
    /// manages, else `Forbidden(NotManaged)`) and into the user's role and
    /// location where the caller acts.
    pub async fn patch(&self, principal: &Principal, id: Uuid, mut input: UserPatchInput) -> Result<User, Error> {
        let edit = MembershipEdit { role: input.role.take(), location_id: std::mem::take(&mut input.location_id) };
        let transfer = input.managed_by.take();
        let touches_account =
            input.email.is_some() || input.email_verified.is_some() || !input.fields.is_empty() || transfer.is_some();
        let refused = edit_refusals(principal, id, input.email.is_some(), input.email_verified.is_some())?;
        let now = self.ports.clock.now();
        let changes = input.validate(now.date_naive()).map(|mut c| {
            c.managed_by = transfer;
            c
        });
        self.apply(principal, id, Edit { refused, changes, membership: edit, touches_account }, now).await
    }

    /// Replaces every editable field of the account (fields left out are
    /// cleared; the role and location are kept unless given), with the same
    /// rules as [`Self::patch`].
    pub async fn replace(&self, principal: &Principal, id: Uuid, mut input: UserReplaceInput) -> Result<User, Error> {
        let edit = MembershipEdit {
            role: input.role.take(),
            location_id: input.location_id.take().map_or(Patch::Keep, Patch::Set),
        };
        let changes_email = Email::parse(&input.email)
            .ok()
            .zip(principal.user())
            .is_some_and(|(e, me)| !e.as_str().eq_ignore_ascii_case(&me.email));
        let refused = edit_refusals(principal, id, changes_email, input.email_verified.is_some())?;
        let now = self.ports.clock.now();
        let changes = input.validate(now.date_naive());
        self.apply(principal, id, Edit { refused, changes, membership: edit, touches_account: true }, now).await
    }

    async fn apply(&self, principal: &Principal, id: Uuid, edit: Edit, now: DateTime<Utc>) -> Result<User, Error> {
        let reach = Reach::of(principal);
        // Bad fields are told before the store is asked, unless the
        // membership's own problems (which take the member) come with them.
        if edit.membership.is_empty() {
            if let Err(e) = &edit.changes {
                let mut errors = edit.refused.clone();
                errors.absorb(e.clone());
                return Err(Error::Validation(errors));
            }
            refuse(edit.refused.clone())?;
        }
        let target = self.load(reach, id).await?;
        let is_self = principal.is_user(id);
        if !is_self {
            guard_target(principal, &target)?;
        }
        if let (Reach::Org(org), true, false) = (reach, edit.touches_account, is_self) {
            if target.managed_by != Some(org) {
                return Err(Error::Forbidden(Refusal::NotManaged));
            }
        }
        let Edit { mut refused, changes, membership, .. } = edit;
        let mut changes = match changes {
            Ok(c) => c,
            Err(e) => {
                refused.absorb(e);
                UserChanges::default()
            }
        };
        if changes.managed_by.is_some() && !principal.is_superadmin {
            return Err(Error::Forbidden(Refusal::SuperadminOnly));
        }
        let member = self.membership_change(principal, reach, &target, &membership, &mut refused).await?;
        if let Some(org) = changes.managed_by {
            if self.ports.members.get_member(org, id).await?.is_none() {
                refused.add("managed_by", "the user is not a member of this organization");
            }
        }
        refuse(refused)?;
        // A changed address is unverified (and sent a link) unless the
        // administrator says otherwise.
        let mut effects = Effects::none();
        match &changes.email {
            // The same address, byte for byte: nothing to change.
            Some(e) if e.as_str() == target.email => changes.email = None,
            // Only the case differs: the same mailbox, still verified.
            Some(e) if e.as_str().eq_ignore_ascii_case(&target.email) => {}
            Some(e) if changes.email_verified != Some(true) => {
                changes.email_verified = Some(false);
                effects = self.verification_of_new_address(&target, e, now)?;
            }
            _ => {}
        }
        let written = match (reach, &member) {
            (Reach::Platform, None) => self.ports.users.update(id, &changes, &effects, now).await.map_err(Error::from),
            _ => match self.ports.users.update_in(reach.org(), id, &changes, member.clone(), &effects, now).await {
                Ok(MemberOutcome::Done(user)) => Ok(Some(user)),
                Ok(MemberOutcome::NotFound) => Ok(None),
                Ok(MemberOutcome::LastOwner) => Err(Error::Forbidden(Refusal::LastOwner)),
                Err(e) => Err(e.into()),
            },
        };
        // A taken address tells as much here as on creation.
        let written = written.and_then(|w| w.ok_or(Error::NotFound("user")));
        let written = self.email_taken_rationed(reach, written, None, now).await?;
        Ok(reach.present(written))
    }

    /// The change of the target's membership (in the organization the
    /// caller acts in) that `edit` asks for: the role is given only by one
    /// who may give it, nobody changes their own, and a location must be
    /// the organization's and is required by some roles. Field problems go
    /// into `errors`.
    async fn membership_change(
        &self,
        principal: &Principal,
        reach: Reach,
        target: &User,
        edit: &MembershipEdit,
        errors: &mut ValidationErrors,
    ) -> Result<Option<MemberChange>, Error> {
        if edit.is_empty() {
            return Ok(None);
        }
        if principal.is_user(target.id) && !principal.is_superadmin {
            return Err(Error::Forbidden(Refusal::NotYourself));
        }
        let Some(current) = self.ports.members.get_member(reach.org(), target.id).await? else {
            errors.add("role", "the user is not a member of this organization");
            return Ok(None);
        };
        let location = match edit.location_id {
            Patch::Keep => current.location_id,
            Patch::Clear => None,
            Patch::Set(id) => Some(id),
        };
        let name = edit.role.as_deref().unwrap_or(&current.role);
        let Some(role) = self.role_for(reach, Some(name), location, errors).await? else { return Ok(None) };
        if edit.role.is_some() && role.name != current.role {
            may_give_role(principal, &role)?;
        }
        Ok(Some(MemberChange {
            role_id: edit.role.is_some().then_some(role.id),
            location_id: (!edit.location_id.is_keep()).then_some(location),
            extra_permissions: None,
        }))
    }

    /// A verification link for `user`'s new address `email`.
    fn verification_of_new_address(&self, user: &User, email: &Email, now: DateTime<Utc>) -> Result<Effects, Error> {
        let ttl = self.policy.accounts.verify_email_ttl;
        let (token, record) = new_token(TokenPurpose::VerifyEmail, user.id, email.clone(), None, ttl, now);
        let mut letter = letter_to(user, LetterBody::VerifyEmail { token, valid_for: ttl });
        letter.to = email.clone();
        Ok(Effects::token_and_mail(record, self.ports.letters.queue(letter, now)?))
    }
}

/// An edit of a user, as `apply` takes it.
struct Edit {
    /// Field errors found before validation (what the caller may not change).
    refused: ValidationErrors,
    /// The validated account changes, or their field errors.
    changes: Result<UserChanges, ValidationErrors>,
    membership: MembershipEdit,
    /// Whether it changes the account itself (not only the membership).
    touches_account: bool,
}
