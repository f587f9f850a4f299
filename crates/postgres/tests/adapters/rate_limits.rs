//! `PgRateLimits` against a real PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::common::{at, setup};
use chrono::Duration;
use roster_domain::ports::RateLimitStore;

#[tokio::test]
async fn counts_per_key_and_window_and_prunes_old_windows() {
    let ctx = setup().await;
    let (w0, w1) = (at(0), at(0) + Duration::minutes(15));
    let rl = &ctx.rate_limits;
    assert_eq!(rl.hit("login:addr:a", w0).await.unwrap(), 1);
    assert_eq!(rl.hit("login:addr:a", w0).await.unwrap(), 2);
    assert_eq!(rl.hit("login:addr:b", w0).await.unwrap(), 1, "another key");
    assert_eq!(rl.hit("login:addr:a", w1).await.unwrap(), 1, "another window");
    assert_eq!(rl.hit("login:addr:a", w0).await.unwrap(), 3);

    assert_eq!(rl.prune(w0).await.unwrap(), 0, "strictly before");
    assert_eq!(rl.prune(w1).await.unwrap(), 2);
    assert_eq!(rl.hit("login:addr:a", w1).await.unwrap(), 2, "the current window stays");
    assert_eq!(rl.hit("login:addr:a", w0).await.unwrap(), 1, "a pruned window starts over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_hits_are_each_counted_once() {
    let ctx = setup().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let rl = ctx.rate_limits.clone();
            tokio::spawn(async move { rl.hit("invite:ip:10.0.0.1", at(60)).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<u32>>());
}
