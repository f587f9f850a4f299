//! Lockout after failed sign-ins (ASVS V2.2.1): the rule, as pure
//! functions of one counter's state, so every process that shares the
//! store applies it alike. The store runs each step on the locked row.
//!
//! Every attempt takes a slot *before* the password is checked, so however
//! many attempts arrive at once, at most `max_failures` of them reach the
//! hash before the account locks: the rest are refused outright. A failed
//! attempt keeps its slot; a correct password that is not yet a sign-in
//! (the MFA step follows, or the address is not allowed) gives it back; a
//! sign-in clears the counter.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::TokenHash;

/// The counter of one address: a hash of the address signed in with,
/// trimmed and lower-cased, whether or not an account has it, so a lock
/// says nothing about which addresses exist and the store holds none.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LockoutKey(TokenHash);

impl std::fmt::Debug for LockoutKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LockoutKey({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

impl LockoutKey {
    pub fn for_address(address: &str) -> LockoutKey {
        let mut h = Sha256::new();
        h.update(b"roster login lockout v1\0");
        h.update(address.trim().to_lowercase().as_bytes());
        LockoutKey(h.finalize().into())
    }

    pub fn as_bytes(&self) -> &TokenHash {
        &self.0
    }

    pub fn from_bytes(bytes: TokenHash) -> LockoutKey {
        LockoutKey(bytes)
    }
}

/// `auth.lockout`: how many failures within which window lock an account,
/// and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within `window` that lock the account (default 5).
    pub max_failures: u32,
    /// The window failures are counted in (default 15 minutes).
    pub window: Duration,
    /// The first lock (default 1 minute); each further one doubles…
    pub first_lock: Duration,
    /// …up to this (default 15 minutes).
    pub max_lock: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            window: Duration::minutes(15),
            first_lock: Duration::minutes(1),
            max_lock: Duration::minutes(15),
        }
    }
}

/// One counter as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutState {
    /// Attempts counted in the current window: failures, and attempts still
    /// being checked.
    pub failures: u32,
    pub window_start: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Locks so far; the next lasts `first_lock · 2^locks` (capped). Forgotten
    /// after a window without failures.
    pub locks: u32,
    pub last_failure_at: Option<DateTime<Utc>>,
}

impl LockoutState {
    fn fresh(now: DateTime<Utc>) -> LockoutState {
        LockoutState { failures: 0, window_start: now, locked_until: None, locks: 0, last_failure_at: None }
    }

    /// The lock in force at `now`, if any.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Go on and check the credentials.
    Granted,
    /// Refused without checking anything, until then.
    Locked { until: DateTime<Utc> },
}

impl Claim {
    /// Seconds for `Retry-After` (at least 1).
    pub fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
        let ms = (until - now).num_milliseconds().max(0);
        (((ms + 999) / 1000) as u64).max(1)
    }
}

impl LockoutPolicy {
    /// How long the lock after `locks` earlier ones lasts.
    pub fn lock_for(&self, locks: u32) -> Duration {
        let factor = 1i32.checked_shl(locks.min(30)).unwrap_or(i32::MAX);
        self.first_lock.checked_mul(factor).map_or(self.max_lock, |d| d.min(self.max_lock))
    }

    /// The state at `now` before anything is counted: an ended lock or
    /// window starts a new window; a window without failures forgets
    /// earlier locks.
    fn settled(&self, state: Option<LockoutState>, now: DateTime<Utc>) -> LockoutState {
        let mut s = state.unwrap_or_else(|| LockoutState::fresh(now));
        if s.locked_at(now).is_some() {
            return s;
        }
        if let Some(last) = s.locked_until.or(s.last_failure_at) {
            if last + self.window <= now {
                s.locks = 0;
            }
        }
        if s.locked_until.take().is_some() || s.window_start + self.window <= now {
            s.failures = 0;
            s.window_start = now;
        }
        s
    }

    /// An attempt asks for a slot: refused while locked, and while
    /// attempts under way already hold every slot (then for as long as the
    /// lock they are about to cause would last).
    pub fn claim(&self, state: Option<LockoutState>, now: DateTime<Utc>) -> (LockoutState, Claim) {
        let mut s = self.settled(state, now);
        if let Some(until) = s.locked_at(now) {
            return (s, Claim::Locked { until });
        }
        if s.failures >= self.max_failures {
            let until = now + self.lock_for(s.locks);
            return (s, Claim::Locked { until });
        }
        s.failures += 1;
        (s, Claim::Granted)
    }

    /// A granted attempt failed. With every slot spent the account locks;
    /// the answer is the length of a lock that began now (for the notice).
    pub fn fail(&self, state: Option<LockoutState>, now: DateTime<Utc>) -> (LockoutState, Option<Duration>) {
        let mut s = state.unwrap_or_else(|| {
            let mut s = LockoutState::fresh(now);
            s.failures = 1;
            s
        });
        s.last_failure_at = Some(now);
        if s.failures >= self.max_failures && s.locked_at(now).is_none() {
            let length = self.lock_for(s.locks);
            s.locked_until = Some(now + length);
            s.locks = s.locks.saturating_add(1);
            return (s, Some(length));
        }
        (s, None)
    }

    /// A granted attempt had the right password but is not a sign-in yet:
    /// its slot is given back.
    pub fn release(&self, state: Option<LockoutState>) -> Option<LockoutState> {
        state.map(|mut s| {
            s.failures = s.failures.saturating_sub(1);
            s
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0).unwrap()
    }

    fn fail_once(p: &LockoutPolicy, s: Option<LockoutState>, now: DateTime<Utc>) -> (LockoutState, Option<Duration>) {
        let (s, claim) = p.claim(s, now);
        assert_eq!(claim, Claim::Granted);
        p.fail(Some(s), now)
    }

    #[test]
    fn five_failures_lock_for_a_minute_then_doubling_up_to_fifteen() {
        let p = LockoutPolicy::default();
        let mut now = t0();
        let mut s = None;
        let mut locks = Vec::new();
        for _round in 0..7 {
            for i in 0..5 {
                let (next, locked) = fail_once(&p, s, now);
                assert_eq!(locked.is_some(), i == 4, "failure {i}");
                if let Some(d) = locked {
                    locks.push(d.num_minutes());
                    let (_, claim) = p.claim(Some(next.clone()), now + Duration::seconds(1));
                    assert_eq!(claim, Claim::Locked { until: now + d });
                    now += d;
                }
                s = Some(next);
            }
        }
        assert_eq!(locks, [1, 2, 4, 8, 15, 15, 15]);
    }

    #[test]
    fn at_most_max_failures_slots_are_handed_out_at_once() {
        let p = LockoutPolicy::default();
        let now = t0();
        let mut s = None;
        let mut granted = 0;
        for _ in 0..50 {
            let (next, claim) = p.claim(s, now);
            if claim == Claim::Granted {
                granted += 1;
            } else {
                assert_eq!(claim, Claim::Locked { until: now + Duration::minutes(1) });
            }
            s = Some(next);
        }
        assert_eq!(granted, 5);
        // The five then fail: one lock, one notice.
        let mut notices = 0;
        for _ in 0..5 {
            let (next, locked) = p.fail(s, now);
            notices += usize::from(locked.is_some());
            s = Some(next);
        }
        assert_eq!(notices, 1);
        assert_eq!(s.unwrap().locked_until, Some(now + Duration::minutes(1)));
    }

    #[test]
    fn a_released_slot_is_not_a_failure() {
        let p = LockoutPolicy::default();
        let now = t0();
        let mut s = None;
        for _ in 0..4 {
            s = Some(fail_once(&p, s, now).0);
        }
        // A right password that goes on to the MFA step gives its slot back…
        let (claimed, claim) = p.claim(s, now);
        assert_eq!(claim, Claim::Granted);
        let released = p.release(Some(claimed)).unwrap();
        assert_eq!(released.failures, 4);
        // …so the code that follows still gets a slot.
        assert_eq!(p.claim(Some(released), now).1, Claim::Granted);
    }

    #[test]
    fn failures_outside_the_window_do_not_count_and_old_locks_are_forgotten() {
        let p = LockoutPolicy::default();
        let mut now = t0();
        let mut s = None;
        for _ in 0..4 {
            s = Some(fail_once(&p, s, now).0);
        }
        now += Duration::minutes(15);
        for _ in 0..4 {
            let (next, locked) = fail_once(&p, s, now);
            assert_eq!(locked, None);
            s = Some(next);
        }
        let (locked_state, locked) = fail_once(&p, s, now);
        assert_eq!(locked, Some(Duration::minutes(1)));
        // A quiet window after the lock: the next lock is a first one again.
        now += Duration::minutes(1) + Duration::minutes(15);
        let mut s = Some(locked_state);
        for i in 0..5 {
            let (next, locked) = fail_once(&p, s, now);
            if i == 4 {
                assert_eq!(locked, Some(Duration::minutes(1)));
            }
            s = Some(next);
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        let now = t0();
        assert_eq!(Claim::retry_after(now + Duration::milliseconds(1500), now), 2);
        assert_eq!(Claim::retry_after(now, now), 1);
        assert_eq!(Claim::retry_after(now + Duration::minutes(1), now), 60);
    }

    #[test]
    fn keys_ignore_case_and_spaces_and_hide_the_address() {
        assert_eq!(LockoutKey::for_address(" Ada@Example.com "), LockoutKey::for_address("ada@example.com"));
        assert_ne!(LockoutKey::for_address("ada@example.com"), LockoutKey::for_address("bob@example.com"));
        assert!(!format!("{:?}", LockoutKey::for_address("ada@example.com")).contains("ada"));
    }

    #[test]
    fn lock_lengths_saturate() {
        let p = LockoutPolicy::default();
        assert_eq!(p.lock_for(0), Duration::minutes(1));
        assert_eq!(p.lock_for(3), Duration::minutes(8));
        assert_eq!(p.lock_for(4), Duration::minutes(15));
        assert_eq!(p.lock_for(u32::MAX), Duration::minutes(15));
    }
}
