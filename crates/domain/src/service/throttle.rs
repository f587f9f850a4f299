//! Rate limits counted in the store, shared by every process: fixed windows
//! per address (hashed: the counters never hold an address) and per client.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::{error::Error, mail::RateLimit, ports::RateLimitStore};

use super::LoginLimit;

/// The bucket of failed sign-ins per client address: wrong passwords and
/// wrong codes together.
pub(super) const LOGIN_BUCKET: &str = "login";

/// The bucket of password-reset letters to an address: `forgot` and the
/// administrators' resets count in it together.
pub(super) const FORGOT_BUCKET: &str = "forgot";

/// Counts requests against rate limits.
#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn RateLimitStore>,
}

impl Throttle {
    pub fn new(store: Arc<dyn RateLimitStore>) -> Throttle {
        Throttle { store }
    }

    /// Counts one request against `limit` for the address and for the client
    /// IP; `RateLimited` with the seconds until the window ends when either
    /// is over its limit.
    pub(super) async fn check(
        &self,
        bucket: &str,
        limit: &RateLimit,
        address: &str,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let start = window_start(now, limit.window);
        let mut over = self.store.hit(&address_key(bucket, address), start).await? > limit.per_address;
        if let Some(ip) = ip {
            over |= self.store.hit(&client_key(bucket, ip), start).await? > limit.per_ip;
        }
        if over {
            let left = (start + limit.window - now).num_seconds().max(1);
            return Err(Error::RateLimited { retry_after_secs: left as u64 });
        }
        Ok(())
    }
}

impl Throttle {
    /// Refuses a client address that has failed `limit` times in the
    /// current window (`RateLimited`), without counting this request.
    pub(super) async fn guard_failures(
        &self,
        bucket: &str,
        limit: &LoginLimit,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let Some(ip) = ip else { return Ok(()) };
        let start = window_start(now, limit.window);
        if self.store.count(&client_key(bucket, ip), start).await? >= limit.per_ip {
            let left = (start + limit.window - now).num_seconds().max(1);
            return Err(Error::RateLimited { retry_after_secs: left as u64 });
        }
        Ok(())
    }

    /// Counts one failure of the client address.
    pub(super) async fn count_failure(
        &self,
        bucket: &str,
        limit: &LoginLimit,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        if let Some(ip) = ip {
            self.store.hit(&client_key(bucket, ip), window_start(now, limit.window)).await?;
        }
        Ok(())
    }
}

/// The counter of a client address in `bucket`.
fn client_key(bucket: &str, ip: &str) -> String {
    format!("{bucket}:ip:{}", ip_key(ip))
}

/// The counter of `address` in `bucket`: a truncated SHA-256 of the
/// address, trimmed and lower-cased, so the store never holds an address.
pub(super) fn address_key(bucket: &str, address: &str) -> String {
    let digest = Sha256::digest(address.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{bucket}:addr:{hex}")
}

/// The start of the fixed window of length `window` that holds `now`.
fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let len = window.num_seconds().max(1);
    let start = now.timestamp().div_euclid(len) * len;
    DateTime::from_timestamp(start, 0).unwrap_or(now)
}

/// What a client address counts as: an IPv4 address itself, an IPv6
/// address by its /64 (one host usually holds a whole /64).
fn ip_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(|| ip.to_string(), |v4| v4.to_string()),
        _ => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(ip_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(ip_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(ip_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(ip_key("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn windows_are_aligned() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 34, 56).unwrap();
        assert_eq!(window_start(now, Duration::hours(1)), Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap());
        assert_eq!(window_start(now, Duration::minutes(15)), Utc.with_ymd_and_hms(2026, 11, 24, 12, 30, 0).unwrap());
    }
}
