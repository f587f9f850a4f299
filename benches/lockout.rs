//! What lockout adds to a sign-in, measured on the statements themselves:
//! `PgLockout` and `PgRateLimits` on a real PostgreSQL (the test kit's
//! cluster), with the bookkeeping of each kind of attempt run in sequence as
//! `AuthService::login` runs it, and no bcrypt in the way.
//!
//! - a failed login: the client's failure count read, the slot claimed,
//!   the failure recorded, the client's failure counted;
//! - a successful login: the count read, the slot claimed, the counter
//!   cleared.
//!
//! Run with `just bench-lockout` (`-- --attempts N --concurrency C`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
#[allow(dead_code)] // the server's memory is not measured here
mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use roster_domain::auth::{LockoutKey, LockoutPolicy};
use roster_domain::ports::{LockoutStore, RateLimitStore};
use roster_postgres::pool::{build_pool, PoolConfig};
use roster_postgres::{PgLockout, PgRateLimits};
use support::{arg, percentile};

fn report(name: &str, mut times: Vec<Duration>, wall: Duration) {
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {name:<28} p50 {:>6.3} ms  p99 {:>6.3} ms  ({} in {:.2} s)",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        times.len(),
        wall.as_secs_f64()
    );
}

/// `attempts` sequences of `kind` from `concurrency` tasks, each on an address of its own.
async fn phase(
    lockout: &PgLockout,
    limits: &PgRateLimits,
    attempts: usize,
    concurrency: usize,
    fail: bool,
) -> (Vec<Duration>, Duration) {
    let policy = LockoutPolicy { max_failures: u32::MAX, ..LockoutPolicy::default() };
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let (lockout, limits) = (lockout.clone(), limits.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(attempts / concurrency);
                for i in 0..attempts / concurrency {
                    let key = LockoutKey::for_address(&format!("bench-{fail}-{t}-{i}@example.com"));
                    let ip_key = format!("login:ip:10.0.{t}.1");
                    let now = Utc::now();
                    let began = Instant::now();
                    limits.count(&ip_key, now).await.unwrap();
                    lockout.claim(&key, &policy, now).await.unwrap();
                    if fail {
                        lockout.fail(&key, &policy, now).await.unwrap();
                        limits.hit(&ip_key, now).await.unwrap();
                    } else {
                        lockout.clear(&key).await.unwrap();
                    }
                    times.push(began.elapsed());
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, start.elapsed())
}

#[tokio::main]
async fn main() {
    let attempts = arg("--attempts", 4000) as usize;
    let concurrency = arg("--concurrency", 4).max(1) as usize;
    let db = roster_testkit::fresh_database().await.expect("test database");
    let pool = build_pool(db.url(), &PoolConfig { max_size: concurrency, ..PoolConfig::default() }).expect("pool");
    let (lockout, limits) = (PgLockout::new(pool.clone()), PgRateLimits::new(pool));
    // Warm the pool and the plans.
    phase(&lockout, &limits, 200, concurrency, true).await;
    println!("lockout bookkeeping — {attempts} attempts, {concurrency} concurrent, PostgreSQL on loopback");
    let (times, wall) = phase(&lockout, &limits, attempts, concurrency, true).await;
    report("failed login", times, wall);
    let (times, wall) = phase(&lockout, &limits, attempts, concurrency, false).await;
    report("successful login", times, wall);
}
