use chrono::Duration;

use crate::{
    mail::{AccountPolicy, RetryPolicy},
    values::PasswordPolicy,
};

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
        }
    }
}
