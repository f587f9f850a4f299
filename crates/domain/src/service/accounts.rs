//! The mailed-token flows: forgotten passwords, email verification and
//! change of address, and accepting an invitation.
//!
//! Requests that name an address (`forgot`, `resend`) answer the same way
//! whether or not an account has it; only the mail that follows differs.

use std::sync::Arc;

use serde::Deserialize;

use crate::{
    auth::{OneTimeToken, Principal},
    error::Error,
    mail::{Effects, LetterBody, RedeemAction, RedeemOutcome, Redemption, TokenPurpose, TokenRecord, TokenState},
    ports::{AccountRepository, Clock, PasswordHasher, UserRepository},
    user::User,
    validation::ValidationErrors,
    values::{limits::NAME_MAX, BoundedText, Email, Password, PasswordPolicy},
};

use super::{
    hash_error,
    mail::{letter_to, new_token},
    throttle::FORGOT_BUCKET,
    AuthPolicy, ClientMeta, Letters, PasswordRules, SessionIssuer, SignedIn, Throttle,
};

/// A mailed token and a new password (`POST /auth/password/reset`).
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordInput {
    pub token: String,
    pub password: String,
}

/// Accepting an invitation (`POST /auth/invitations/accept`).
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationInput {
    pub token: String,
    pub password: String,
    /// Replaces the name the inviter gave, if any.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Option<String>,
}

/// A change of the caller's address (`POST /me/email`).
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailInput {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::values::Email))]
    pub email: String,
    pub current_password: String,
}

macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { <redacted> }"))
            }
        }
    )*};
}
redacted_debug!(ResetPasswordInput, AcceptInvitationInput, ChangeEmailInput);

/// What [`AccountService`] calls.
#[derive(Clone)]
pub struct AccountPorts {
    pub users: Arc<dyn UserRepository>,
    /// The mailed tokens and what redeeming them does.
    pub accounts: Arc<dyn AccountRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    /// The policy of a new password: its account's managing organization's.
    pub passwords: PasswordRules,
    pub letters: Letters,
    pub throttle: Throttle,
    /// Signs in a user who accepted an invitation.
    pub issuer: SessionIssuer,
    pub clock: Arc<dyn Clock>,
}

/// Account flows driven by mailed tokens.
#[derive(Clone)]
pub struct AccountService {
    ports: AccountPorts,
    policy: Arc<AuthPolicy>,
}

impl AccountService {
    pub fn new(ports: AccountPorts, policy: Arc<AuthPolicy>) -> AccountService {
        AccountService { ports, policy }
    }

    /// Mails a password-reset link if an active account has the address.
    /// Answers the same either way. Errors: `Validation` (not an address),
    /// `RateLimited`, `Unavailable`.
    pub async fn forgot_password(&self, email: &str, meta: &ClientMeta) -> Result<(), Error> {
        let email = parse_email(email)?;
        let now = self.ports.clock.now();
        let limit = &self.policy.accounts.limits.forgot;
        self.ports.throttle.check(FORGOT_BUCKET, limit, email.as_str(), meta.ip.as_deref(), now).await?;
        let Some(record) = self.ports.users.find_login(&email).await? else {
            return Ok(());
        };
        let user = record.subject.user;
        if !user.status.can_sign_in() {
            return Ok(());
        }
        let ttl = self.policy.accounts.reset_password_ttl;
        let email = Email::from_trusted(user.email.clone());
        let (token, record) = new_token(TokenPurpose::ResetPassword, user.id, email, None, ttl, now);
        let body = LetterBody::PasswordReset { token, valid_for: ttl, by_admin: false };
        let mail = self.ports.letters.queue(letter_to(&user, body), now)?;
        Ok(self.ports.accounts.issue(&Effects::token_and_mail(record, mail)).await?)
    }

    /// Sets a new password with a mailed reset token, revokes every session
    /// and mails a notice. Errors: `InvalidToken`, `TokenGone`, `Validation`
    /// (`password`), `Unavailable`.
    pub async fn reset_password(&self, input: ResetPasswordInput) -> Result<(), Error> {
        let record = self.live_token(&input.token, &[TokenPurpose::ResetPassword]).await?;
        if !matches!(record.user.status, crate::user::UserStatus::Active | crate::user::UserStatus::Inactive) {
            return Err(Error::InvalidToken);
        }
        let policy = self.ports.passwords.for_account(record.user.managed_by).await?;
        let password = new_password(&policy, &input.password, &record.user.email)?;
        let password_hash = self.ports.hasher.hash(&password).await.map_err(hash_error)?;
        let now = self.ports.clock.now();
        let notice =
            self.ports.letters.queue(letter_to(&record.user, LetterBody::PasswordChanged { reset: true }), now)?;
        let action = RedeemAction::ResetPassword { password_hash };
        self.redeem(&input.token, action, Effects::mail(notice)).await.map(|_| ())
    }

    /// Confirms an address with a mailed token: the current one (after
    /// registration) or a new one (after `POST /me/email`, which then takes
    /// its place). Errors: `InvalidToken`, `TokenGone`, `Conflict(EmailTaken)`
    /// (the new address was taken meanwhile), `Unavailable`.
    pub async fn verify_email(&self, raw: &str) -> Result<User, Error> {
        let record = self.live_token(raw, &[TokenPurpose::VerifyEmail, TokenPurpose::ChangeEmail]).await?;
        let action = match record.purpose {
            TokenPurpose::ChangeEmail => RedeemAction::ChangeEmail,
            _ => RedeemAction::VerifyEmail,
        };
        self.redeem(raw, action, Effects::none()).await
    }

    /// Mails a fresh verification link if an active account with an
    /// unverified address has it. Answers the same either way. Errors:
    /// `Validation`, `RateLimited`, `Unavailable`.
    pub async fn resend_verification(&self, email: &str, meta: &ClientMeta) -> Result<(), Error> {
        let email = parse_email(email)?;
        let now = self.ports.clock.now();
        let limit = &self.policy.accounts.limits.resend;
        self.ports.throttle.check("resend", limit, email.as_str(), meta.ip.as_deref(), now).await?;
        match self.ports.users.find_login(&email).await? {
            Some(r) if r.subject.user.status.can_sign_in() && !r.subject.user.email_verified => {
                let effects = self.verification(&r.subject.user)?;
                Ok(self.ports.accounts.issue(&effects).await?)
            }
            _ => Ok(()),
        }
    }

    /// Starts a change of the caller's address: a confirmation link to the
    /// new address, a notice to the old one; the address changes when the
    /// link is followed. If the new address already has an account, that
    /// address is told instead, and the caller sees the same answer.
    /// Errors: `Validation` (`email`, `current_password`), `Unavailable`.
    pub async fn request_email_change(&self, principal: &Principal, input: ChangeEmailInput) -> Result<(), Error> {
        let (user, _) = principal.signed_in()?;
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        if email.as_ref().is_some_and(|e| e.as_str().eq_ignore_ascii_case(&user.email)) {
            errors.add("email", "is already your address");
        }
        let hash = self.ports.users.password_hash(user.id).await?;
        let current_ok = match &hash {
            Some(h) => self.ports.hasher.verify(&input.current_password, h).await.map_err(hash_error)?,
            None => false,
        };
        if !current_ok {
            errors.add("current_password", "is not your current password");
        }
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let now = self.ports.clock.now();
        let newcomer = |body| {
            let mut letter = letter_to(user, body);
            letter.to = email.clone();
            letter
        };
        let effects = if self.ports.users.find_login(&email).await?.is_some() {
            Effects::mail(self.ports.letters.queue(newcomer(LetterBody::EmailInUse), now)?)
        } else {
            let ttl = self.policy.accounts.change_email_ttl;
            let (token, record) = new_token(TokenPurpose::ChangeEmail, user.id, email.clone(), None, ttl, now);
            let new_email = email.as_str().to_string();
            let confirm = LetterBody::ConfirmEmailChange { token, valid_for: ttl, new_email: new_email.clone() };
            let notice = LetterBody::EmailChangeNotice { new_email };
            Effects {
                token: Some(record),
                mails: vec![
                    self.ports.letters.queue(newcomer(confirm), now)?,
                    self.ports.letters.queue(letter_to(user, notice), now)?,
                ],
            }
        };
        Ok(self.ports.accounts.issue(&effects).await?)
    }

    /// Accepts an invitation: sets the password (and the name, if given),
    /// activates the account, marks the address verified and signs in.
    /// Errors: `InvalidToken`, `TokenGone`, `Validation`, `Unavailable`.
    pub async fn accept_invitation(&self, input: AcceptInvitationInput, meta: ClientMeta) -> Result<SignedIn, Error> {
        let record = self.live_token(&input.token, &[TokenPurpose::Invitation]).await?;
        let mut errors = ValidationErrors::new();
        let name = match input.name.as_deref().map(BoundedText::<NAME_MAX>::parse) {
            Some(Ok(n)) => Some(n.into_inner()),
            Some(Err(e)) => {
                errors.add("name", e.to_string());
                None
            }
            None => None,
        };
        let policy = self.ports.passwords.for_account(record.user.managed_by).await?;
        let password = match Password::new(&policy, &input.password, Some(&record.user.email)) {
            Ok(p) => Some(p),
            Err(msgs) => {
                errors.extend("password", msgs);
                None
            }
        };
        let Some(password) = password.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let password_hash = self.ports.hasher.hash(&password).await.map_err(hash_error)?;
        let user =
            self.redeem(&input.token, RedeemAction::AcceptInvitation { password_hash, name }, Effects::none()).await?;
        let email = Email::from_trusted(user.email.clone());
        let record = self.ports.users.find_login(&email).await?.ok_or(Error::NotFound("user"))?;
        let subject = self.ports.issuer.landing(record.subject).await?;
        self.ports.issuer.open(subject, meta).await
    }

    /// A verification token for `user`'s current address and its letter.
    fn verification(&self, user: &User) -> Result<Effects, Error> {
        let now = self.ports.clock.now();
        let ttl = self.policy.accounts.verify_email_ttl;
        let (token, record) =
            new_token(TokenPurpose::VerifyEmail, user.id, Email::from_trusted(user.email.clone()), None, ttl, now);
        let mail = self.ports.letters.queue(letter_to(user, LetterBody::VerifyEmail { token, valid_for: ttl }), now)?;
        Ok(Effects::token_and_mail(record, mail))
    }

    /// The record of a token that is live and for one of `purposes`.
    async fn live_token(&self, raw: &str, purposes: &[TokenPurpose]) -> Result<TokenRecord, Error> {
        let token = OneTimeToken::parse(raw).ok_or(Error::InvalidToken)?;
        let record = self.ports.accounts.find_token(&token.hash()).await?.ok_or(Error::InvalidToken)?;
        if !purposes.contains(&record.purpose) {
            return Err(Error::InvalidToken);
        }
        match record.state(self.ports.clock.now()) {
            TokenState::Live => Ok(record),
            gone => Err(Error::TokenGone(gone)),
        }
    }

    /// Redeems; when the store finds the token no longer live (a concurrent
    /// use, or its purpose no longer holds), says why as of now.
    async fn redeem(&self, raw: &str, action: RedeemAction, effects: Effects) -> Result<User, Error> {
        let token = OneTimeToken::parse(raw).ok_or(Error::InvalidToken)?;
        let now = self.ports.clock.now();
        let redemption = Redemption { hash: token.hash(), action, now };
        match self.ports.accounts.redeem(&redemption, &effects).await? {
            RedeemOutcome::Redeemed(user) => Ok(user),
            RedeemOutcome::NotLive => match self.ports.accounts.find_token(&token.hash()).await? {
                Some(r) if r.state(now) != TokenState::Live => Err(Error::TokenGone(r.state(now))),
                Some(_) => Err(Error::TokenGone(TokenState::Superseded)),
                None => Err(Error::InvalidToken),
            },
        }
    }
}

fn parse_email(raw: &str) -> Result<Email, Error> {
    let mut errors = ValidationErrors::new();
    let email = errors.check("email", Email::parse(raw));
    email.ok_or(Error::Validation(errors))
}

fn new_password(policy: &PasswordPolicy, raw: &str, email: &str) -> Result<Password, Error> {
    Password::new(policy, raw, Some(email)).map_err(|msgs| {
        let mut errors = ValidationErrors::new();
        errors.extend("password", msgs);
        Error::Validation(errors)
    })
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
