use chrono::Duration;

/// One rate limit: at most `per_address` requests per address and
/// `per_ip` per client IP in each fixed window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_address: u32,
    pub per_ip: u32,
    pub window: Duration,
}

/// The rate limits of the mail-sending endpoints, counted in the database so
/// they hold across processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /auth/password/forgot`.
    pub forgot: RateLimit,
    /// `POST /auth/email/resend`.
    pub resend: RateLimit,
    /// `POST /invitations` and `POST /users` with `send_invite`.
    pub invite: RateLimit,
    /// An organization's `409 email_taken` answers to `POST /users`, per
    /// organization (`per_address`) and per client: they tell whether an
    /// address has an account, so they are rationed.
    pub email_taken: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        let hour = Duration::hours(1);
        RateLimits {
            forgot: RateLimit { per_address: 5, per_ip: 30, window: hour },
            resend: RateLimit { per_address: 5, per_ip: 30, window: hour },
            invite: RateLimit { per_address: 5, per_ip: 200, window: hour },
            email_taken: RateLimit { per_address: 30, per_ip: 30, window: hour },
        }
    }
}

/// Settings of the mail-bearing account flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPolicy {
    /// Refuse login (`403 email_not_verified`) until the address is verified;
    /// registration then answers without tokens.
    pub require_verified_email: bool,
    pub verify_email_ttl: Duration,
    pub change_email_ttl: Duration,
    pub reset_password_ttl: Duration,
    pub invitation_ttl: Duration,
    pub limits: RateLimits,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy {
            require_verified_email: false,
            verify_email_ttl: Duration::hours(48),
            change_email_ttl: Duration::hours(24),
            reset_password_ttl: Duration::hours(1),
            invitation_ttl: Duration::days(7),
            limits: RateLimits::default(),
        }
    }
}

/// How the outbox worker retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before a message is parked as dead.
    pub max_attempts: u32,
    /// Delay after the first failure; doubled after each further one.
    pub base_delay: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
    /// How long a claimed message is hidden from other workers; a worker that
    /// dies mid-send releases it after this long.
    pub lease: Duration,
    /// Messages claimed at once.
    pub batch: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::seconds(30),
            max_delay: Duration::hours(1),
            lease: Duration::minutes(2),
            batch: 16,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempt + 1` after `attempt` failed:
    /// exponential, capped, with "equal jitter" (half fixed, half random,
    /// from `unit` in `[0, 1)`) so a relay that comes back is not stormed.
    pub fn delay_after(&self, attempt: u32, unit: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base_ms = self.base_delay.num_milliseconds().max(1) as f64;
        let full = (base_ms * 2f64.powi(exp as i32)).min(self.max_delay.num_milliseconds().max(1) as f64);
        let ms = full / 2.0 + full / 2.0 * unit.clamp(0.0, 1.0);
        Duration::milliseconds(ms as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_after(1, 0.0), Duration::seconds(15));
        assert_eq!(p.delay_after(1, 1.0), Duration::seconds(30));
        assert_eq!(p.delay_after(2, 1.0), Duration::seconds(60));
        assert_eq!(p.delay_after(3, 0.5), Duration::seconds(90));
        assert_eq!(p.delay_after(40, 1.0), Duration::hours(1));
        assert_eq!(p.delay_after(40, 0.0), Duration::minutes(30));
    }
}
