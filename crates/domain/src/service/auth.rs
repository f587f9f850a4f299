//! Registration, login, refresh-token rotation, logout, authentication of
//! bearer tokens, and the caller's own account.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{Principal, RefreshSecret, RefreshToken, SessionSubject},
    error::{Error, TokenRejection},
    mail::{Effects, LetterBody},
    org::ApiKeySecret,
    ports::{
        ApiKeyRepository, Clock, PasswordHasher, RotateOutcome, Rotation, SessionRepository, TokenSigner,
        UserRepository,
    },
    user::{BuiltinRole, MePatch, NewMembership, NewUserInput, NewUserRecord, User},
    values::{Email, Password},
};

use super::{hash_error, mail::letter_to, AuthPolicy, ClientMeta, Letters, PasswordRules, SessionIssuer, SignedIn};

/// Self-registration: the public subset of a new user.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::values::Email))]
    pub email: String,
    pub password: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub given_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub family_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::values::Locale>))]
    pub locale: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::values::TimeZone>))]
    pub timezone: Option<String>,
}

impl std::fmt::Debug for RegisterInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterInput")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Email and password, and optionally the organization to act in.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::values::Email))]
    pub email: String,
    pub password: String,
    /// The organization the session acts in (its id); the default one if absent.
    #[serde(default)]
    pub org: Option<Uuid>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("org", &self.org)
            .finish()
    }
}

/// The outcome of registration.
#[derive(Debug, Clone)]
pub enum Registered {
    /// Signed in at once.
    SignedIn(SignedIn),
    /// Login waits for the address to be verified; a link was mailed.
    VerificationRequired(User),
}

/// What [`AuthService`] calls.
#[derive(Clone)]
pub struct AuthPorts {
    pub users: Arc<dyn UserRepository>,
    /// Bearer tokens that are API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Rotation, lookup and revocation of sessions.
    pub sessions: Arc<dyn SessionRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    /// The policy of a changed password: its account's managing organization's.
    pub passwords: PasswordRules,
    /// Verifies access tokens.
    pub signer: Arc<dyn TokenSigner>,
    pub letters: Letters,
    pub issuer: SessionIssuer,
    pub clock: Arc<dyn Clock>,
}

/// Authentication use cases.
#[derive(Clone)]
pub struct AuthService {
    ports: AuthPorts,
    policy: Arc<AuthPolicy>,
    secret: RefreshSecret,
}

impl AuthService {
    pub fn new(ports: AuthPorts, policy: Arc<AuthPolicy>, secret: RefreshSecret) -> AuthService {
        AuthService { ports, policy, secret }
    }

    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }

    /// Self-registration: the user, a verification link in the same
    /// transaction, and a session unless verified addresses are required.
    /// Errors: `RegistrationClosed`, `Validation`, `Conflict(EmailTaken)`,
    /// `Unavailable`, `Internal`.
    pub async fn register(&self, input: RegisterInput, meta: ClientMeta) -> Result<Registered, Error> {
        if !self.policy.open_registration {
            return Err(Error::RegistrationClosed);
        }
        let now = self.ports.clock.now();
        let new = NewUserInput {
            email: input.email,
            password: Some(input.password),
            password_confirmation: None,
            location_id: None,
            send_invite: false,
            name: input.name,
            given_name: input.given_name,
            family_name: input.family_name,
            phone: None,
            locale: input.locale,
            timezone: input.timezone,
            profile: None,
            attributes: None,
            status: None,
            role: None,
            email_verified: None,
            settings: None,
            push_token: None,
        }
        .validate(&self.policy.password, now.date_naive())?;
        let Some(password) = &new.password else {
            return Err(Error::Internal("a registration without a password passed validation".into()));
        };
        let hash = self.ports.hasher.hash(password).await.map_err(hash_error)?;
        let record = NewUserRecord {
            id: Uuid::now_v7(),
            email: new.email,
            password_hash: Some(hash),
            status: new.status,
            email_verified: false,
            is_superadmin: false,
            membership: NewMembership::Platform(BuiltinRole::Member),
            fields: new.fields,
            extras: new.extras,
            now,
        };
        let effects = self.ports.letters.verification_for_new(&self.policy, &record)?;
        let user = self.ports.users.create(&record, &effects).await?;
        if self.policy.accounts.require_verified_email {
            return Ok(Registered::VerificationRequired(user));
        }
        self.ports.issuer.open(SessionSubject::in_default_org(user, Vec::new()), meta).await.map(Registered::SignedIn)
    }

    /// Password login. Unknown email and wrong password give the same
    /// `InvalidCredentials` after the same amount of hashing work. Without
    /// `org`, the session acts in the default organization — or, for a user
    /// who is not one of its members, in the organization that manages the
    /// account. Errors also: `AccountDisabled` (right password, account not
    /// active), `EmailNotVerified` (right password, verification required),
    /// `NotFound` (not a member of `org`), `NoOrganization` (no
    /// organization to land in), `Unavailable`.
    pub async fn login(&self, credentials: Credentials, meta: ClientMeta) -> Result<SignedIn, Error> {
        let record = match Email::parse(&credentials.email) {
            Ok(email) => self.ports.users.find_login(&email).await?,
            Err(_) => None,
        };
        let Some(record) = record.filter(|r| r.password_hash.is_some()) else {
            // Same work as a real check, so timing says nothing about the email.
            let _ = self.ports.hasher.verify(&credentials.password, &self.ports.hasher.dummy_hash()).await;
            return Err(Error::InvalidCredentials);
        };
        let hash = record.password_hash.as_deref().unwrap_or_default();
        if !self.ports.hasher.verify(&credentials.password, hash).await.map_err(hash_error)? {
            return Err(Error::InvalidCredentials);
        }
        if !record.subject.user.status.can_sign_in() {
            return Err(Error::AccountDisabled(record.subject.user.status));
        }
        if self.policy.accounts.require_verified_email && !record.subject.user.email_verified {
            return Err(Error::EmailNotVerified);
        }
        let subject = match credentials.org {
            Some(org) => self.ports.issuer.subject_in(record.subject, org).await?,
            None => self.ports.issuer.landing(record.subject).await?,
        };
        self.ports.issuer.open(subject, meta).await
    }

    /// Rotates a refresh token, optionally moving the session to another
    /// organization of the user's. A token rotated less than the grace
    /// window ago gets the same successor again; an older one revokes its
    /// session. Errors: `InvalidRefreshToken`, `NotFound` (not a member of
    /// `org`), `Unavailable`, `Internal`.
    pub async fn refresh(&self, raw: &str, org: Option<Uuid>) -> Result<SignedIn, Error> {
        let token = RefreshToken::parse(raw).ok_or(Error::InvalidRefreshToken)?;
        let successor = token.successor(&self.secret);
        let now = self.ports.clock.now();
        let outcome = self
            .ports
            .sessions
            .rotate(&Rotation {
                presented: token.hash(),
                successor: successor.hash(),
                successor_expires_at: now + self.policy.refresh_ttl,
                now,
                grace: self.policy.reuse_grace,
                switch_org: org,
            })
            .await?;
        match outcome {
            RotateOutcome::Rotated { session_id, subject } | RotateOutcome::Replayed { session_id, subject } => {
                self.ports.issuer.signed_in(session_id, subject, successor)
            }
            RotateOutcome::Reused { session_id } => {
                tracing::warn!(%session_id, "refresh token reused after rotation; session revoked");
                Err(Error::InvalidRefreshToken)
            }
            RotateOutcome::Invalid => Err(Error::InvalidRefreshToken),
            RotateOutcome::NotMember => Err(Error::NotFound("organization")),
        }
    }

    /// Verifies a bearer token: an access token whose session is live, or a
    /// live API key (`rsk_…`). Errors: `Unauthenticated(Invalid | Expired |
    /// Revoked)` (an unknown, revoked or expired key is `Invalid`), `Unavailable`.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, Error> {
        if ApiKeySecret::looks_like(token) {
            let key = ApiKeySecret::parse(token).ok_or(Error::Unauthenticated(TokenRejection::Invalid))?;
            let now = self.ports.clock.now();
            return match self.ports.api_keys.authenticate(&key.hash(), now).await? {
                Some(key) => Ok(key.principal()),
                None => Err(Error::Unauthenticated(TokenRejection::Invalid)),
            };
        }
        let claims = self.ports.signer.verify(token).map_err(Error::Unauthenticated)?;
        let now = self.ports.clock.now();
        match self.ports.sessions.subject(claims.sid, claims.sub, now).await? {
            Some(subject) => Ok(Principal::new(claims.sid, subject)),
            None => Err(Error::Unauthenticated(TokenRejection::Revoked)),
        }
    }

    /// Ends the caller's session.
    pub async fn logout(&self, principal: &Principal) -> Result<(), Error> {
        let (user, session_id) = principal.signed_in()?;
        let now = self.ports.clock.now();
        self.ports.sessions.revoke(session_id, user.id, "logout", now).await?;
        Ok(())
    }

    /// Ends the session a refresh token belongs to (for clients whose access
    /// token has expired). Unknown tokens are `InvalidRefreshToken`.
    pub async fn logout_with_refresh(&self, raw: &str) -> Result<(), Error> {
        let token = RefreshToken::parse(raw).ok_or(Error::InvalidRefreshToken)?;
        let now = self.ports.clock.now();
        if self.ports.sessions.revoke_by_refresh(&token.hash(), "logout", now).await? {
            Ok(())
        } else {
            Err(Error::InvalidRefreshToken)
        }
    }

    /// Updates the caller's own profile fields.
    pub async fn update_me(&self, principal: &Principal, patch: MePatch) -> Result<User, Error> {
        let (user, _) = principal.signed_in()?;
        let now = self.ports.clock.now();
        let changes = patch.validate(now.date_naive())?;
        self.ports.users.update(user.id, &changes, &Effects::none(), now).await?.ok_or(Error::NotFound("user"))
    }

    /// Changes the caller's password. The current password is required; every
    /// other session of the caller is revoked and a notice is mailed. Errors: `Validation` (wrong
    /// current password is reported on `current_password`), `Unavailable`.
    pub async fn change_password(&self, principal: &Principal, current: &str, new: &str) -> Result<(), Error> {
        let (user, session_id) = principal.signed_in()?;
        let hash = self.ports.users.password_hash(user.id).await?;
        let current_ok = match &hash {
            Some(h) => self.ports.hasher.verify(current, h).await.map_err(hash_error)?,
            None => false,
        };
        let mut errors = crate::ValidationErrors::new();
        if !current_ok {
            errors.add("current_password", "is not your current password");
        }
        let policy = self.ports.passwords.for_account(user.managed_by).await?;
        let password = match Password::new(&policy, new, Some(&user.email)) {
            Ok(_) if current_ok && current == new => {
                errors.add("new_password", "must differ from the current password");
                None
            }
            Ok(p) => Some(p),
            Err(msgs) => {
                errors.extend("new_password", msgs);
                None
            }
        };
        let Some(password) = password.filter(|_| errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        let new_hash = self.ports.hasher.hash(&password).await.map_err(hash_error)?;
        let now = self.ports.clock.now();
        let notice = self.ports.letters.queue(letter_to(user, LetterBody::PasswordChanged { reset: false }), now)?;
        let effects = Effects::mail(notice);
        self.ports.users.set_password(user.id, &new_hash, Some(session_id), now, &effects).await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
