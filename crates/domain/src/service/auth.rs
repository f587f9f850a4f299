//! Registration, login, refresh-token rotation, logout, authentication of
//! bearer tokens, and the caller's own account.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{LockoutKey, MfaChallengeToken, Principal, RefreshSecret, RefreshToken, SessionSubject},
    error::{Error, TokenRejection},
    mail::{Effects, LetterBody},
    org::ApiKeySecret,
    ports::{
        AllowedIpRepository, ApiKeyRepository, Clock, MfaRepository, NewChallenge, PasswordHasher, RotateOutcome,
        Rotation, SessionRepository, TokenSigner, UserRepository,
    },
    user::{BuiltinRole, MePatch, NewMembership, NewUserInput, NewUserRecord, User},
    values::{Email, Password},
};

use super::{
    guard::{FactorCheck, Lockout, Notices, SecondFactor},
    hash_error,
    issuer::{AMR_PASSWORD, AMR_PASSWORD_AND_OTP},
    mail::letter_to,
    throttle::LOGIN_BUCKET,
    AuthPolicy, ClientMeta, Letters, PasswordRules, SessionIssuer, SignedIn, Throttle,
};

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

/// The second step of a login with MFA on: a one-time code from the
/// authenticator app, or a recovery code, for the challenge the login gave.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MfaVerifyInput {
    /// The `challenge` of the login's answer.
    pub challenge: String,
    /// The 6-digit code the authenticator app shows now.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "123456"))]
    pub code: Option<String>,
    /// Instead of `code`: one of the recovery codes (each works once).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "abcde-fghjk"))]
    pub recovery_code: Option<String>,
}

impl std::fmt::Debug for MfaVerifyInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaVerifyInput { <redacted> }")
    }
}

/// The outcome of a password login.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Signed in.
    SignedIn(Box<SignedIn>),
    /// The password was right and the account has MFA on: redeem the
    /// challenge with a code at `POST /auth/mfa/verify`.
    MfaRequired {
        challenge: MfaChallengeToken,
        /// Seconds the challenge lives.
        expires_in: i64,
    },
}

/// The second factors `POST /auth/mfa/verify` takes.
pub const MFA_METHODS: [&str; 2] = ["totp", "recovery_code"];

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
    /// Lockout of accounts after failed sign-ins.
    pub lockout: Lockout,
    /// Failed sign-ins per client address.
    pub throttle: Throttle,
    /// Login challenges.
    pub mfa: Arc<dyn MfaRepository>,
    /// One-time and recovery codes.
    pub second: SecondFactor,
    /// Security notices (account locked, recovery code used, code reused,
    /// sign-in blocked).
    pub notices: Notices,
    /// Where each account may sign in from.
    pub allowed_ips: Arc<dyn AllowedIpRepository>,
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
            block_unknown_ips: None,
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
    /// `InvalidCredentials` after the same amount of hashing work, and count
    /// alike against the address's lockout and the client's failures. An
    /// account with MFA on gets a challenge instead of a session. Without
    /// `org`, the session acts in the default organization — or, for a user
    /// who is not one of its members, in the organization that manages the
    /// account. Errors also: `TooManyAttempts` (the address is locked:
    /// nothing was checked), `RateLimited` (the client failed too often),
    /// `AccountDisabled` (right password, account not active),
    /// `EmailNotVerified` (right password, verification required),
    /// `IpNotAllowed` (right password, address outside the allowlist),
    /// `NotFound` (not a member of `org`), `NoOrganization` (no
    /// organization to land in), `Unavailable`.
    pub async fn login(&self, credentials: Credentials, meta: ClientMeta) -> Result<LoginOutcome, Error> {
        let now = self.ports.clock.now();
        let limit = &self.policy.login_limit;
        self.ports.throttle.guard_failures(LOGIN_BUCKET, limit, meta.ip.as_deref(), now).await?;
        let email = Email::parse(&credentials.email).ok();
        let key = LockoutKey::for_address(email.as_ref().map_or(credentials.email.as_str(), Email::as_str));
        self.ports.lockout.claim(&key).await?;
        let record = match &email {
            Some(email) => self.ports.users.find_login(email).await?,
            None => None,
        };
        let Some(record) = record.filter(|r| r.password_hash.is_some()) else {
            // Same work as a real check, so timing says nothing about the email.
            let _ = self.ports.hasher.verify(&credentials.password, &self.ports.hasher.dummy_hash()).await;
            return Err(self.failed(&key, None, &meta, Error::InvalidCredentials).await);
        };
        let hash = record.password_hash.as_deref().unwrap_or_default();
        if !self.ports.hasher.verify(&credentials.password, hash).await.map_err(hash_error)? {
            return Err(self.failed(&key, Some(&record.subject.user), &meta, Error::InvalidCredentials).await);
        }
        // The password is right: whatever follows, this was no failure.
        let user = &record.subject.user;
        if !user.status.can_sign_in() {
            self.ports.lockout.release(&key).await?;
            return Err(Error::AccountDisabled(user.status));
        }
        if self.policy.accounts.require_verified_email && !user.email_verified {
            self.ports.lockout.release(&key).await?;
            return Err(Error::EmailNotVerified);
        }
        if user.mfa_enabled {
            self.ports.lockout.release(&key).await?;
            let challenge = MfaChallengeToken::generate();
            let ttl = self.policy.mfa.challenge_ttl;
            self.ports
                .mfa
                .create_challenge(&NewChallenge {
                    hash: self.ports.second.hasher().challenge(&challenge),
                    user_id: user.id,
                    org_id: credentials.org,
                    created_at: now,
                    expires_at: now + ttl,
                    user_agent: meta.user_agent.as_ref().map(|s| s.chars().take(512).collect()),
                    ip: meta.ip.clone(),
                })
                .await?;
            return Ok(LoginOutcome::MfaRequired { challenge, expires_in: ttl.num_seconds() });
        }
        let signed = self.sign_in(&key, record.subject, credentials.org, meta, AMR_PASSWORD).await?;
        Ok(LoginOutcome::SignedIn(Box::new(signed)))
    }

    /// The second step of a login with MFA on: a code (or a recovery code)
    /// for the challenge. A challenge lives `auth.mfa.challenge_ttl`, takes
    /// `challenge_attempts` codes and signs in once; wrong codes count
    /// against the account's lockout and the client's failures like wrong
    /// passwords. A code whose step was spent already is refused, logged,
    /// and the holder is mailed (ASVS V2.9.4); a recovery code used is
    /// mailed too. The session's tokens carry `amr: ["pwd", "otp"]`.
    /// Errors: `Validation` (neither or both of `code` and
    /// `recovery_code`), `InvalidChallenge`, `InvalidMfaCode`,
    /// `TooManyAttempts`, `RateLimited`, `AccountDisabled`, `IpNotAllowed`,
    /// `NotFound`, `NoOrganization`, `Unavailable`.
    pub async fn verify_mfa(&self, input: MfaVerifyInput, meta: ClientMeta) -> Result<SignedIn, Error> {
        let now = self.ports.clock.now();
        let limit = &self.policy.login_limit;
        self.ports.throttle.guard_failures(LOGIN_BUCKET, limit, meta.ip.as_deref(), now).await?;
        let (code, recovery) = match (&input.code, &input.recovery_code) {
            (Some(code), None) => (code, false),
            (None, Some(code)) => (code, true),
            _ => {
                let mut errors = crate::ValidationErrors::new();
                errors.add("code", "give either code or recovery_code");
                return Err(Error::Validation(errors));
            }
        };
        let token = MfaChallengeToken::parse(&input.challenge).ok_or(Error::InvalidChallenge)?;
        let hash = self.ports.second.hasher().challenge(&token);
        let attempts = self.policy.mfa.challenge_attempts;
        let challenge = self.ports.mfa.attempt_challenge(&hash, attempts, now).await?.ok_or(Error::InvalidChallenge)?;
        let user = self.ports.users.get(challenge.user_id).await?.ok_or(Error::InvalidChallenge)?;
        let key = LockoutKey::for_address(&user.email);
        self.ports.lockout.claim(&key).await?;
        let check = self.ports.second.check(user.id, code, recovery).await?;
        let recovery_left = match check {
            FactorCheck::Accepted { recovery_left } => recovery_left,
            FactorCheck::Reused => {
                tracing::warn!(user_id = %user.id, "a one-time code was presented again and refused");
                self.ports.notices.send(&user, LetterBody::MfaCodeReused).await;
                return Err(self.failed(&key, Some(&user), &meta, Error::InvalidMfaCode).await);
            }
            FactorCheck::Invalid => {
                return Err(self.failed(&key, Some(&user), &meta, Error::InvalidMfaCode).await);
            }
        };
        if !self.ports.mfa.close_challenge(&hash, now).await? {
            // Another request redeemed the challenge meanwhile.
            self.ports.lockout.release(&key).await?;
            return Err(Error::InvalidChallenge);
        }
        if let Some(remaining) = recovery_left {
            tracing::info!(user_id = %user.id, remaining, "a recovery code was used to sign in");
            self.ports.notices.send(&user, LetterBody::RecoveryCodeUsed { remaining }).await;
        }
        let record = self.ports.users.find_login(&Email::from_trusted(user.email.clone())).await?;
        let Some(record) = record.filter(|r| r.subject.user.id == user.id) else {
            return Err(Error::InvalidChallenge);
        };
        if !record.subject.user.status.can_sign_in() {
            self.ports.lockout.release(&key).await?;
            return Err(Error::AccountDisabled(record.subject.user.status));
        }
        let meta = ClientMeta { user_agent: meta.user_agent.or(challenge.user_agent), ip: meta.ip.or(challenge.ip) };
        self.sign_in(&key, record.subject, challenge.org_id, meta, AMR_PASSWORD_AND_OTP).await
    }

    /// Counts a failed attempt against the account's lockout (mailing the
    /// owner, if there is one, when it locks) and the client's failures,
    /// and gives the error to answer: `refusal`, or the store's error if it
    /// could not count (then nothing is acknowledged).
    async fn failed(&self, key: &LockoutKey, user: Option<&User>, meta: &ClientMeta, refusal: Error) -> Error {
        let now = self.ports.clock.now();
        if let Err(e) = self.ports.lockout.fail(key, user, &self.ports.notices).await {
            return e;
        }
        let limit = &self.policy.login_limit;
        match self.ports.throttle.count_failure(LOGIN_BUCKET, limit, meta.ip.as_deref(), now).await {
            Ok(()) => refusal,
            Err(e) => e,
        }
    }

    /// The last step of a sign-in whose credentials are right (password,
    /// and code when MFA is on): the address allowlist (`IpNotAllowed` and a
    /// notice outside it), the lockout counter cleared, the organization landed in,
    /// the session opened with `amr`.
    async fn sign_in(
        &self,
        key: &LockoutKey,
        subject: SessionSubject,
        org: Option<Uuid>,
        meta: ClientMeta,
        amr: &[&str],
    ) -> Result<SignedIn, Error> {
        let user = &subject.user;
        let policy = self.ports.allowed_ips.ip_policy(user.id).await?;
        if !policy.is_none_or(|p| p.allows(meta.ip.as_deref())) {
            // Right credentials, wrong place: no failure, but no session,
            // and the owner is told where from. (A wrong password from there
            // got the ordinary 401 before this: no oracle.)
            self.ports.lockout.release(key).await?;
            let ip = meta.ip.as_deref().map_or_else(|| "unknown".to_string(), crate::user::display_ip);
            tracing::warn!(user_id = %user.id, %ip, "sign-in from an address outside the allowlist refused");
            self.ports.notices.send(user, LetterBody::LoginBlocked { ip }).await;
            return Err(Error::IpNotAllowed);
        }
        self.ports.lockout.clear(key).await?;
        let subject = match org {
            Some(org) => self.ports.issuer.subject_in(subject, org).await?,
            None => self.ports.issuer.landing(subject).await?,
        };
        self.ports.issuer.open_with(subject, meta, amr).await
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
            RotateOutcome::Rotated { session_id, subject, amr }
            | RotateOutcome::Replayed { session_id, subject, amr } => {
                self.ports.issuer.signed_in(session_id, subject, successor, amr)
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

#[cfg(test)]
#[path = "auth_guard_tests.rs"]
mod guard_tests;
