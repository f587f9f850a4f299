//! The account-security settings: `auth.lockout`, `auth.mfa` and
//! `rate_limits.login` (validated with the rest in `Config::validate`).

use serde::{Deserialize, Serialize};

/// `rate_limits.login`: failed sign-ins one client address may make in a
/// window before its logins are refused (`429 rate_limited`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginLimitConfig {
    pub per_ip: u32,
    pub window_secs: i64,
}

impl Default for LoginLimitConfig {
    fn default() -> Self {
        LoginLimitConfig { per_ip: 100, window_secs: 15 * 60 }
    }
}

/// `auth.lockout`: failed sign-ins on one account (counted by the address
/// signed in with, known or not) that lock it, and for how long.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutConfig {
    /// Failures within `window_secs` that lock the account.
    pub max_failures: u32,
    pub window_secs: i64,
    /// The first lock; each further one doubles, up to `max_lock_secs`.
    pub lock_secs: i64,
    pub max_lock_secs: i64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig { max_failures: 5, window_secs: 15 * 60, lock_secs: 60, max_lock_secs: 15 * 60 }
    }
}

/// `auth.mfa`: TOTP enrolment and the MFA step of login.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MfaConfig {
    /// The service's name in authenticator apps.
    pub issuer_name: String,
    /// How long the challenge of a login lives.
    pub challenge_ttl_secs: i64,
    /// Codes one challenge takes before it is spent.
    pub challenge_attempts: u32,
}

impl Default for MfaConfig {
    fn default() -> Self {
        MfaConfig { issuer_name: "Roster".into(), challenge_ttl_secs: 5 * 60, challenge_attempts: 5 }
    }
}
