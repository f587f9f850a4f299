//! What every mail-bearing use case shares: turning a letter into a sealed
//! outbox message, issuing tokens, and the rate limits counted in the store.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    auth::OneTimeToken,
    error::Error,
    mail::{Letter, LetterBody, NewToken, QueuedMail, RateLimit, SealedMail, TokenPurpose},
    ports::NewUserRecord,
    user::User,
    values::Email,
    Patch,
};

use super::Ports;

/// A letter to `user` at their current address.
pub(super) fn letter_to(user: &User, body: LetterBody) -> Letter {
    Letter {
        id: Uuid::now_v7(),
        to: Email::from_trusted(user.email.clone()),
        to_name: user.name.clone().or_else(|| user.given_name.clone()),
        locale: user.locale.clone(),
        body,
    }
}

/// A letter to a user about to be written (registration, creation,
/// invitation), addressed from their record.
pub(super) fn letter_to_new(user: &NewUserRecord, body: LetterBody) -> Letter {
    let set = |p: &Patch<String>| match p {
        Patch::Set(v) => Some(v.clone()),
        Patch::Keep | Patch::Clear => None,
    };
    Letter {
        id: Uuid::now_v7(),
        to: user.email.clone(),
        to_name: set(&user.fields.name).or_else(|| set(&user.fields.given_name)),
        locale: set(&user.fields.locale),
        body,
    }
}

/// Renders and seals a letter for the outbox. A composer or sealer failure
/// is a bug or a broken key: `Internal`.
pub(super) fn queue(ports: &Ports, letter: Letter, now: DateTime<Utc>) -> Result<QueuedMail, Error> {
    let mail = ports.composer.compose(&letter).map_err(|e| Error::Internal(format!("composing a letter: {e}")))?;
    let json = serde_json::to_vec(&SealedMail::from(&mail)).map_err(|e| Error::Internal(e.to_string()))?;
    let sealed = ports.sealer.seal(&json).map_err(|e| Error::Internal(format!("sealing a letter: {e}")))?;
    Ok(QueuedMail { id: letter.id, template: letter.body.template(), to: letter.to, sealed, created_at: now })
}

/// A fresh token for `purpose`, mailed to `email`, and its record.
pub(super) fn new_token(
    purpose: TokenPurpose,
    user_id: Uuid,
    email: Email,
    invitation_id: Option<Uuid>,
    ttl: Duration,
    now: DateTime<Utc>,
) -> (OneTimeToken, NewToken) {
    let token = OneTimeToken::generate();
    let record = NewToken { hash: token.hash(), purpose, user_id, email, invitation_id, expires_at: now + ttl, now };
    (token, record)
}

/// The start of the fixed window of length `window` that holds `now`.
fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let len = window.num_seconds().max(1);
    let start = now.timestamp().div_euclid(len) * len;
    DateTime::from_timestamp(start, 0).unwrap_or(now)
}

/// Counts one request against `limit` for the address (hashed: the counters
/// never hold an address) and for the client IP; `RateLimited` with the
/// seconds until the window ends when either is over its limit.
pub(super) async fn throttle(
    ports: &Ports,
    bucket: &str,
    limit: &RateLimit,
    address: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let start = window_start(now, limit.window);
    let digest = Sha256::digest(address.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let mut over = ports.rate_limits.hit(&format!("{bucket}:addr:{hex}"), start).await? > limit.per_address;
    if let Some(ip) = ip {
        over |= ports.rate_limits.hit(&format!("{bucket}:ip:{}", ip_key(ip)), start).await? > limit.per_ip;
    }
    if over {
        let left = (start + limit.window - now).num_seconds().max(1);
        return Err(Error::RateLimited { retry_after_secs: left as u64 });
    }
    Ok(())
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
