use chrono::Duration;

use crate::{
    auth::LockoutPolicy,
    mail::{AccountPolicy, RetryPolicy},
    values::PasswordPolicy,
};

/// The second step of login (`auth.mfa`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPolicy {
    /// The service's name in authenticator apps (the `otpauth` issuer).
    pub issuer_name: String,
    /// How long a login challenge lives (default 5 minutes).
    pub challenge_ttl: Duration,
    /// Codes tried on one challenge before it is spent (default 5).
    pub challenge_attempts: u32,
}

impl Default for MfaPolicy {
    fn default() -> Self {
        MfaPolicy { issuer_name: "Roster".into(), challenge_ttl: Duration::minutes(5), challenge_attempts: 5 }
    }
}

/// Failed sign-ins one client address may make (`rate_limits.login`):
/// wrong passwords and wrong codes, on any accounts, so one address cannot
/// spray many accounts while staying under each one's lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    pub per_ip: u32,
    pub window: Duration,
}

impl Default for LoginLimit {
    fn default() -> Self {
        LoginLimit { per_ip: 100, window: Duration::minutes(15) }
    }
}

/// Authentication settings, from configuration.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    /// `iss` of issued tokens (the public URL).
    pub issuer: String,
    /// `aud` of issued tokens.
    pub audience: String,
    /// Lifetime of an access token (default 15 minutes).
    pub access_ttl: Duration,
    /// Lifetime of one refresh token; each rotation issues a fresh one (default 30 days).
    pub refresh_ttl: Duration,
    /// Absolute lifetime of a session, however often it is refreshed (default 90 days).
    pub session_ttl: Duration,
    /// How long a rotated refresh token may be presented again and get the same
    /// successor back, so concurrent refreshes do not log the user out (default 10 s).
    pub reuse_grace: Duration,
    /// Whether anyone may register (`POST /auth/register`).
    pub open_registration: bool,
    pub password: PasswordPolicy,
    /// Verification, resets, invitations and their rate limits.
    pub accounts: AccountPolicy,
    /// How the outbox worker retries mail.
    pub outbox: RetryPolicy,
    /// Lockout after failed sign-ins (`auth.lockout`).
    pub lockout: LockoutPolicy,
    /// TOTP and the MFA step of login (`auth.mfa`).
    pub mfa: MfaPolicy,
    /// Failed sign-ins per client address (`rate_limits.login`).
    pub login_limit: LoginLimit,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            issuer: "http://127.0.0.1:8080".into(),
            audience: "roster".into(),
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            session_ttl: Duration::days(90),
            reuse_grace: Duration::seconds(10),
            open_registration: true,
            password: PasswordPolicy::default(),
            accounts: AccountPolicy::default(),
            outbox: RetryPolicy::default(),
            lockout: LockoutPolicy::default(),
            mfa: MfaPolicy::default(),
            login_limit: LoginLimit::default(),
        }
    }
}
