//! `PgLockout` and `PgMfaRepository` against a real PostgreSQL.

#![allow(clippy::unwrap_used)]

use chrono::Duration;
use roster_domain::auth::{Claim, LockoutKey, LockoutPolicy};
use roster_domain::mail::Effects;
use roster_domain::ports::{LockoutStore, MfaRepository, NewChallenge, UserRepository};
use roster_postgres::{PgLockout, PgMfaRepository};
use uuid::Uuid;

use crate::common::{at, member, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_hand_out_exactly_max_failures_slots() {
    let ctx = setup().await;
    let store = PgLockout::new(ctx.pool.clone());
    let policy = LockoutPolicy::default();
    let key = LockoutKey::for_address("race@example.com");
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim(&key, &policy, at(0)).await.unwrap() })
        })
        .collect();
    let mut granted = 0;
    for t in tasks {
        granted += usize::from(t.await.unwrap() == Claim::Granted);
    }
    assert_eq!(granted, 5);
    // The five fail: one lock, of a minute.
    let mut locks = Vec::new();
    for _ in 0..5 {
        locks.extend(store.fail(&key, &policy, at(1)).await.unwrap());
    }
    assert_eq!(locks, [Duration::minutes(1)]);
    let state = store.state(&key).await.unwrap().unwrap();
    assert_eq!(state.locked_until, Some(at(61)));
    assert_eq!(store.claim(&key, &policy, at(30)).await.unwrap(), Claim::Locked { until: at(61) });
    // After the lock, a new window; an unlock forgets everything.
    assert_eq!(store.claim(&key, &policy, at(62)).await.unwrap(), Claim::Granted);
    assert!(store.clear(&key).await.unwrap());
    assert!(store.state(&key).await.unwrap().is_none());
    assert!(!store.clear(&key).await.unwrap());
}

#[tokio::test]
async fn released_slots_and_pruning() {
    let ctx = setup().await;
    let store = PgLockout::new(ctx.pool.clone());
    let policy = LockoutPolicy::default();
    let key = LockoutKey::for_address("ada@example.com");
    for _ in 0..3 {
        store.claim(&key, &policy, at(0)).await.unwrap();
    }
    store.release(&key, &policy).await.unwrap();
    assert_eq!(store.state(&key).await.unwrap().unwrap().failures, 2);
    // Releasing what is not there is nothing.
    store.release(&LockoutKey::for_address("nobody@example.com"), &policy).await.unwrap();
    assert_eq!(store.prune(at(0)).await.unwrap(), 0, "recent");
    assert_eq!(store.prune(at(3600)).await.unwrap(), 1);
}

#[tokio::test]
async fn an_authenticator_is_enabled_once_its_steps_spent_once_and_its_codes_used_once() {
    let ctx = setup().await;
    let mfa = PgMfaRepository::new(ctx.pool.clone());
    let u = member(&ctx, "mfa@example.com", None, at(0)).await;
    assert!(mfa.totp(u.id).await.unwrap().is_none());
    assert!(mfa.begin_enrolment(u.id, b"sealed-1", at(0)).await.unwrap());
    // A pending enrolment is replaced.
    assert!(mfa.begin_enrolment(u.id, b"sealed-2", at(1)).await.unwrap());
    let t = mfa.totp(u.id).await.unwrap().unwrap();
    assert_eq!((t.sealed_secret.as_slice(), t.enabled, t.last_step), (&b"sealed-2"[..], false, 0));
    // Not on yet: no step can be spent.
    assert!(!mfa.spend_step(u.id, 10).await.unwrap());

    let codes = [[1u8; 32], [2u8; 32]];
    assert!(mfa.enable(u.id, 100, &codes, at(2), &Effects::none()).await.unwrap());
    assert!(!mfa.enable(u.id, 101, &codes, at(2), &Effects::none()).await.unwrap(), "enabled already");
    assert!(ctx.users.get(u.id).await.unwrap().unwrap().mfa_enabled);
    assert!(!mfa.begin_enrolment(u.id, b"sealed-3", at(3)).await.unwrap(), "an enabled one stays");
    assert_eq!(mfa.totp(u.id).await.unwrap().unwrap().sealed_secret, b"sealed-2");

    assert!(!mfa.spend_step(u.id, 100).await.unwrap(), "the confirming step is spent");
    assert!(mfa.spend_step(u.id, 101).await.unwrap());
    assert!(!mfa.spend_step(u.id, 101).await.unwrap());
    assert!(!mfa.spend_step(u.id, 99).await.unwrap());

    assert_eq!(mfa.recovery_codes_left(u.id).await.unwrap(), 2);
    assert_eq!(mfa.use_recovery_code(u.id, &[1; 32], at(4)).await.unwrap(), Some(1));
    assert_eq!(mfa.use_recovery_code(u.id, &[1; 32], at(5)).await.unwrap(), None, "once");
    assert_eq!(mfa.use_recovery_code(Uuid::now_v7(), &[2; 32], at(5)).await.unwrap(), None, "another user's");
    assert!(mfa.replace_recovery_codes(u.id, &[[3; 32]]).await.unwrap());
    assert_eq!(mfa.use_recovery_code(u.id, &[2; 32], at(6)).await.unwrap(), None, "replaced");
    assert_eq!(mfa.recovery_codes_left(u.id).await.unwrap(), 1);

    assert!(mfa.disable(u.id, &Effects::none()).await.unwrap());
    assert!(!mfa.disable(u.id, &Effects::none()).await.unwrap());
    assert!(!ctx.users.get(u.id).await.unwrap().unwrap().mfa_enabled);
    assert_eq!(mfa.recovery_codes_left(u.id).await.unwrap(), 0);
    assert!(!mfa.replace_recovery_codes(u.id, &[[4; 32]]).await.unwrap(), "MFA is off");
}

#[tokio::test]
async fn a_challenge_takes_a_few_attempts_and_closes_once() {
    let ctx = setup().await;
    let mfa = PgMfaRepository::new(ctx.pool.clone());
    let u = member(&ctx, "ch@example.com", None, at(0)).await;
    let challenge = NewChallenge {
        hash: [9; 32],
        user_id: u.id,
        org_id: None,
        created_at: at(0),
        expires_at: at(300),
        user_agent: Some("agent".into()),
        ip: Some("192.0.2.1".into()),
    };
    mfa.create_challenge(&challenge).await.unwrap();
    for _ in 0..3 {
        let found = mfa.attempt_challenge(&[9; 32], 3, at(10)).await.unwrap().unwrap();
        assert_eq!((found.user_id, found.ip.as_deref()), (u.id, Some("192.0.2.1")));
    }
    assert!(mfa.attempt_challenge(&[9; 32], 3, at(10)).await.unwrap().is_none(), "out of attempts");
    assert!(mfa.attempt_challenge(&[9; 32], 10, at(300)).await.unwrap().is_none(), "expired");
    assert!(mfa.close_challenge(&[9; 32], at(11)).await.unwrap());
    assert!(!mfa.close_challenge(&[9; 32], at(12)).await.unwrap(), "once");
    assert!(mfa.attempt_challenge(&[9; 32], 10, at(12)).await.unwrap().is_none(), "used");
    assert_eq!(mfa.prune_challenges(at(200)).await.unwrap(), 0);
    assert_eq!(mfa.prune_challenges(at(301)).await.unwrap(), 1);
}
