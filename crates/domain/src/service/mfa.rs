//! Two-step verification, self-service and by administrators: enrolling an
//! authenticator app, confirming it (which turns MFA on and hands out the
//! recovery codes, once), turning it off, new recovery codes, and an
//! administrator's reset for a lost phone.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{LockoutKey, Permission, Principal, TotpSecret},
    error::{Error, StateConflict},
    mail::{Effects, LetterBody},
    ports::{Clock, MfaRepository, PasswordHasher, UserRepository},
    user::User,
    validation::ValidationErrors,
};

use super::{
    guard::{FactorCheck, Lockout, Notices, SecondFactor},
    hash_error, MfaPolicy, UserService,
};

/// What [`MfaService`] calls.
#[derive(Clone)]
pub struct MfaPorts {
    /// Password hashes, to confirm the caller's password.
    pub users: Arc<dyn UserRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub mfa: Arc<dyn MfaRepository>,
    pub second: SecondFactor,
    /// Wrong codes here count like wrong codes at sign-in, so a stolen
    /// session cannot try every code through these routes.
    pub lockout: Lockout,
    pub notices: Notices,
    /// Who may reset whose MFA.
    pub accounts: UserService,
    pub clock: Arc<dyn Clock>,
}

/// A started enrolment: the secret, shown this once.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// The `otpauth://totp/…` URI the QR code carries.
    pub otpauth_uri: String,
}

/// A second factor given to confirm a change: a one-time code from the
/// authenticator or, instead, a recovery code.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TurnOffInput {
    pub current_password: String,
    /// The 6-digit code the authenticator app shows now.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "123456"))]
    pub code: Option<String>,
    /// Instead of `code`: one of the recovery codes (used up by this).
    #[serde(default)]
    pub recovery_code: Option<String>,
}

impl std::fmt::Debug for TurnOffInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TurnOffInput { <redacted> }")
    }
}

/// Self-service and administrative MFA.
#[derive(Clone)]
pub struct MfaService {
    ports: MfaPorts,
    policy: MfaPolicy,
}

impl MfaService {
    pub fn new(ports: MfaPorts, policy: MfaPolicy) -> MfaService {
        MfaService { ports, policy }
    }

    /// Whether `password` is the user's: a `Validation` error on
    /// `current_password` otherwise, added to `errors`.
    async fn check_password(&self, user: &User, password: &str, errors: &mut ValidationErrors) -> Result<(), Error> {
        let ok = match self.ports.users.password_hash(user.id).await? {
            Some(hash) => self.ports.hasher.verify(password, &hash).await.map_err(hash_error)?,
            None => false,
        };
        if !ok {
            errors.add("current_password", "is not your current password");
        }
        Ok(())
    }

    /// Starts enrolling an authenticator app (replacing an enrolment that
    /// was never confirmed): a new secret, sealed in the store, shown once.
    /// Errors: `Validation` (wrong password), `InvalidState(MfaEnabled)`,
    /// `Forbidden` (API keys), `Unavailable`.
    pub async fn begin(&self, principal: &Principal, current_password: &str) -> Result<Enrolment, Error> {
        let (user, _) = principal.signed_in()?;
        let mut errors = ValidationErrors::new();
        self.check_password(user, current_password, &mut errors).await?;
        errors.finish(|| ())?;
        if user.mfa_enabled {
            return Err(Error::InvalidState(StateConflict::MfaEnabled));
        }
        let secret = TotpSecret::generate();
        let sealed = self.ports.second.seal(user.id, &secret)?;
        if !self.ports.mfa.begin_enrolment(user.id, &sealed, self.ports.clock.now()).await? {
            return Err(Error::InvalidState(StateConflict::MfaEnabled));
        }
        let otpauth_uri = secret.otpauth_uri(&self.policy.issuer_name, &user.email).map_err(Error::Internal)?;
        Ok(Enrolment { secret: secret.base32(), otpauth_uri })
    }

    /// Confirms the pending enrolment with a code from the app: MFA is on,
    /// the code's step is spent (it cannot sign in too), the "MFA turned
    /// on" notice goes out, and ten recovery codes are returned — the only
    /// time they are shown. Errors: `Validation` (wrong or reused code, on
    /// `code`), `InvalidState(MfaNotPending | MfaEnabled)`, `Forbidden`,
    /// `Unavailable`.
    pub async fn confirm(&self, principal: &Principal, code: &str) -> Result<Vec<String>, Error> {
        let (user, _) = principal.signed_in()?;
        let stored = self.ports.mfa.totp(user.id).await?;
        let stored = match stored {
            Some(s) if s.enabled => return Err(Error::InvalidState(StateConflict::MfaEnabled)),
            Some(s) => s,
            None => return Err(Error::InvalidState(StateConflict::MfaNotPending)),
        };
        let secret = self.ports.second.open(user.id, &stored.sealed_secret)?;
        let check = secret.check(code, self.ports.second.now_step(), stored.last_step).map_err(Error::Internal)?;
        let crate::auth::CodeCheck::Valid { step } = check else {
            return Err(wrong_code("code"));
        };
        let (shown, hashes) = self.ports.second.new_recovery_codes();
        let effects = self.ports.notices.effects(user, LetterBody::MfaEnabled)?;
        if !self.ports.mfa.enable(user.id, step, &hashes, self.ports.clock.now(), &effects).await? {
            // Another request confirmed (or restarted) the enrolment meanwhile.
            return Err(Error::InvalidState(StateConflict::MfaNotPending));
        }
        tracing::info!(user_id = %user.id, "two-step verification turned on");
        Ok(shown)
    }

    /// Turns MFA off, with the password and a current code (or a recovery
    /// code). Errors: `Validation` (wrong password, wrong code, neither or
    /// both of `code` and `recovery_code`), `InvalidState(MfaNotEnabled)`,
    /// `Forbidden`, `Unavailable`.
    pub async fn turn_off(&self, principal: &Principal, input: TurnOffInput) -> Result<(), Error> {
        let (user, _) = principal.signed_in()?;
        let mut errors = ValidationErrors::new();
        self.check_password(user, &input.current_password, &mut errors).await?;
        let factor = match (&input.code, &input.recovery_code) {
            (Some(code), None) => Some((code, false)),
            (None, Some(code)) => Some((code, true)),
            _ => {
                errors.add("code", "give either code or recovery_code");
                None
            }
        };
        errors.finish(|| ())?;
        if !user.mfa_enabled {
            return Err(Error::InvalidState(StateConflict::MfaNotEnabled));
        }
        if let Some((code, recovery)) = factor {
            self.guarded_check(user, code, recovery).await?;
        }
        self.disable(user, false).await
    }

    /// New recovery codes for the old ones, with a current code. Errors:
    /// `Validation` (wrong code), `InvalidState(MfaNotEnabled)`, `Forbidden`,
    /// `Unavailable`.
    pub async fn new_recovery_codes(&self, principal: &Principal, code: &str) -> Result<Vec<String>, Error> {
        let (user, _) = principal.signed_in()?;
        if !user.mfa_enabled {
            return Err(Error::InvalidState(StateConflict::MfaNotEnabled));
        }
        self.guarded_check(user, code, false).await?;
        let (shown, hashes) = self.ports.second.new_recovery_codes();
        if !self.ports.mfa.replace_recovery_codes(user.id, &hashes).await? {
            return Err(Error::InvalidState(StateConflict::MfaNotEnabled));
        }
        Ok(shown)
    }

    /// An administrator turns a user's MFA off (a lost phone). Needs
    /// `users:write` on an account the caller may edit (an organization: one
    /// it manages), not one's own. The user is sent the "MFA turned off"
    /// notice. Idempotent: nothing happens, and nothing is mailed, when MFA
    /// is off. Errors: `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn reset(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        let target = self.ports.accounts.security_target(principal, id, Permission::UsersWrite, false).await?;
        self.disable(&target, true).await
    }

    /// Checks (and spends) a code of the user's enabled authenticator, or a
    /// recovery code, under the account's lockout: a slot is taken first
    /// (`TooManyAttempts` while locked), a wrong code keeps it as a
    /// failure, a right one gives it back.
    async fn guarded_check(&self, user: &User, code: &str, recovery: bool) -> Result<(), Error> {
        let key = LockoutKey::for_address(&user.email);
        self.ports.lockout.claim(&key).await?;
        if matches!(self.ports.second.check(user.id, code, recovery).await?, FactorCheck::Accepted { .. }) {
            self.ports.lockout.release(&key).await?;
            return Ok(());
        }
        self.ports.lockout.fail(&key, Some(user), &self.ports.notices).await?;
        Err(wrong_code(if recovery { "recovery_code" } else { "code" }))
    }

    async fn disable(&self, user: &User, by_admin: bool) -> Result<(), Error> {
        let effects: Effects = self.ports.notices.effects(user, LetterBody::MfaDisabled { by_admin })?;
        if self.ports.mfa.disable(user.id, &effects).await? {
            tracing::info!(user_id = %user.id, by_admin, "two-step verification turned off");
        }
        Ok(())
    }
}

/// A wrong or reused code, reported on `field`.
fn wrong_code(field: &str) -> Error {
    let mut errors = ValidationErrors::new();
    errors.add(field, "is not a valid code");
    Error::Validation(errors)
}

#[cfg(test)]
#[path = "mfa_tests.rs"]
mod tests;
