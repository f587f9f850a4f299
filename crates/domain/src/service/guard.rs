//! The guards of sign-in that several services share:
//!
//! - [`Lockout`] applies `auth.lockout` through the lockout store;
//! - [`SecondFactor`] checks one-time and recovery codes, spending them
//!   once in every process, and keeps TOTP secrets sealed;
//! - [`Notices`] mails a user a security notice on its own (not as part of
//!   another write), logging rather than failing when it cannot.

use std::sync::Arc;

use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{
    auth::{totp, Claim, CodeCheck, LockoutKey, LockoutPolicy, LockoutState, MfaHasher, TokenHash, TotpSecret},
    error::Error,
    mail::{Effects, LetterBody},
    ports::{AccountRepository, Clock, LockoutStore, MfaRepository, Sealer},
    user::User,
};

use super::{mail::letter_to, Letters};

/// Lockout after failed sign-ins, counted in the store.
#[derive(Clone)]
pub struct Lockout {
    store: Arc<dyn LockoutStore>,
    policy: LockoutPolicy,
    clock: Arc<dyn Clock>,
}

impl Lockout {
    pub fn new(store: Arc<dyn LockoutStore>, policy: LockoutPolicy, clock: Arc<dyn Clock>) -> Lockout {
        Lockout { store, policy, clock }
    }

    /// Takes a slot for an attempt: `TooManyAttempts` while the account is
    /// locked (or every slot is taken), before anything is checked.
    pub(super) async fn claim(&self, key: &LockoutKey) -> Result<(), Error> {
        let now = self.clock.now();
        match self.store.claim(key, &self.policy, now).await? {
            Claim::Granted => Ok(()),
            Claim::Locked { until } => Err(Error::TooManyAttempts { retry_after_secs: Claim::retry_after(until, now) }),
        }
    }

    /// The attempt failed. When it locks the account, the owner (`user`,
    /// if the address has an account) is mailed; a lock of an unknown
    /// address tells nobody.
    pub(super) async fn fail(&self, key: &LockoutKey, user: Option<&User>, notices: &Notices) -> Result<(), Error> {
        let locked = self.store.fail(key, &self.policy, self.clock.now()).await?;
        if let (Some(locked_for), Some(user)) = (locked, user) {
            tracing::warn!(user_id = %user.id, lock_secs = locked_for.num_seconds(), "account locked after failed sign-ins");
            let failures = self.policy.max_failures;
            notices.send(user, LetterBody::AccountLocked { failures, locked_for }).await;
        }
        Ok(())
    }

    /// The attempt was right but is not a sign-in yet: its slot back.
    pub(super) async fn release(&self, key: &LockoutKey) -> Result<(), Error> {
        Ok(self.store.release(key, &self.policy).await?)
    }

    /// A sign-in, or an administrator's unlock: the counter is forgotten.
    pub(super) async fn clear(&self, key: &LockoutKey) -> Result<bool, Error> {
        Ok(self.store.clear(key).await?)
    }

    /// The counter of `key` as it stands now.
    pub(super) async fn state(&self, key: &LockoutKey) -> Result<Option<LockoutState>, Error> {
        Ok(self.store.state(key).await?)
    }

    pub(super) fn policy(&self) -> &LockoutPolicy {
        &self.policy
    }
}

/// Mails security notices.
#[derive(Clone)]
pub struct Notices {
    letters: Letters,
    /// Queues a letter on its own (`issue` with mail only).
    outbox: Arc<dyn AccountRepository>,
    clock: Arc<dyn Clock>,
}

impl Notices {
    pub fn new(letters: Letters, outbox: Arc<dyn AccountRepository>, clock: Arc<dyn Clock>) -> Notices {
        Notices { letters, outbox, clock }
    }

    /// The notice as effects, to write with the change it reports.
    pub(super) fn effects(&self, user: &User, body: LetterBody) -> Result<Effects, Error> {
        Ok(Effects::mail(self.letters.queue(letter_to(user, body), self.clock.now())?))
    }

    /// Queues the notice now. A notice is not worth failing the request it
    /// reports on: a failure is logged (without the address).
    pub(super) async fn send(&self, user: &User, body: LetterBody) {
        let template = body.template();
        let queued = match self.effects(user, body) {
            Ok(effects) => self.outbox.issue(&effects).await.map_err(Error::from),
            Err(e) => Err(e),
        };
        if let Err(e) = queued {
            tracing::warn!(user_id = %user.id, ?template, error = %e, "security notice not queued");
        }
    }
}

/// What a presented second factor turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FactorCheck {
    /// Accepted and spent. For a recovery code: how many are left.
    Accepted { recovery_left: Option<u32> },
    /// A one-time code whose step was spent already (ASVS V2.8.4).
    Reused,
    /// Wrong, or MFA is off.
    Invalid,
}

/// Checks and spends second factors; seals TOTP secrets.
#[derive(Clone)]
pub struct SecondFactor {
    mfa: Arc<dyn MfaRepository>,
    /// The MFA key's sealer (AES-256-GCM), distinct from the outbox's.
    sealer: Arc<dyn Sealer>,
    hasher: MfaHasher,
    clock: Arc<dyn Clock>,
}

impl SecondFactor {
    pub fn new(
        mfa: Arc<dyn MfaRepository>,
        sealer: Arc<dyn Sealer>,
        hasher: MfaHasher,
        clock: Arc<dyn Clock>,
    ) -> SecondFactor {
        SecondFactor { mfa, sealer, hasher, clock }
    }

    pub(super) fn hasher(&self) -> &MfaHasher {
        &self.hasher
    }

    /// The step holding now.
    pub(super) fn now_step(&self) -> i64 {
        totp::step_at(self.clock.now().timestamp())
    }

    /// Seals `secret` for `user_id`: the user id is sealed with it and
    /// checked on opening, so a sealed secret copied onto another user's
    /// row does not open.
    pub(super) fn seal(&self, user_id: Uuid, secret: &TotpSecret) -> Result<Vec<u8>, Error> {
        let mut plain = Zeroizing::new(Vec::with_capacity(16 + secret.expose().len()));
        plain.extend_from_slice(user_id.as_bytes());
        plain.extend_from_slice(secret.expose());
        self.sealer.seal(&plain).map_err(|e| Error::Internal(format!("sealing a TOTP secret: {e}")))
    }

    pub(super) fn open(&self, user_id: Uuid, sealed: &[u8]) -> Result<TotpSecret, Error> {
        let plain = Zeroizing::new(
            self.sealer.open(sealed).map_err(|e| Error::Internal(format!("opening a TOTP secret: {e}")))?,
        );
        match plain.split_at_checked(16) {
            Some((id, secret)) if id == user_id.as_bytes() => TotpSecret::from_bytes(secret.to_vec())
                .ok_or_else(|| Error::Internal("a sealed TOTP secret is too short".into())),
            _ => Err(Error::Internal(format!("the TOTP secret of user {user_id} is sealed for another user"))),
        }
    }

    /// Checks a one-time code against the user's enabled authenticator and
    /// spends its step. Two requests with one code: one wins, the other
    /// sees `Reused`.
    pub(super) async fn check_code(&self, user_id: Uuid, code: &str) -> Result<FactorCheck, Error> {
        let Some(stored) = self.mfa.totp(user_id).await?.filter(|t| t.enabled) else {
            return Ok(FactorCheck::Invalid);
        };
        let secret = self.open(user_id, &stored.sealed_secret)?;
        let check = secret.check(code, self.now_step(), stored.last_step).map_err(Error::Internal)?;
        Ok(match check {
            CodeCheck::Valid { step } if self.mfa.spend_step(user_id, step).await? => {
                FactorCheck::Accepted { recovery_left: None }
            }
            CodeCheck::Valid { .. } | CodeCheck::Reused => FactorCheck::Reused,
            CodeCheck::Invalid => FactorCheck::Invalid,
        })
    }

    /// A recovery code (`recovery`) or else a one-time code, checked and spent.
    pub(super) async fn check(&self, user_id: Uuid, code: &str, recovery: bool) -> Result<FactorCheck, Error> {
        if recovery {
            self.check_recovery_code(user_id, code).await
        } else {
            self.check_code(user_id, code).await
        }
    }

    /// Spends one of the user's recovery codes.
    pub(super) async fn check_recovery_code(&self, user_id: Uuid, code: &str) -> Result<FactorCheck, Error> {
        let Some(hash) = self.hasher.recovery_code(code) else {
            return Ok(FactorCheck::Invalid);
        };
        Ok(match self.mfa.use_recovery_code(user_id, &hash, self.clock.now()).await? {
            Some(left) => FactorCheck::Accepted { recovery_left: Some(left) },
            None => FactorCheck::Invalid,
        })
    }

    /// A fresh set of recovery codes: as shown once, and as stored.
    pub(super) fn new_recovery_codes(&self) -> (Vec<String>, Vec<TokenHash>) {
        let shown = totp::generate_recovery_codes();
        let hashes = shown.iter().filter_map(|c| self.hasher.recovery_code(c)).collect();
        (shown.iter().map(|c| c.to_string()).collect(), hashes)
    }
}
