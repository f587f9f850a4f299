//! The guards of sign-in, as `AuthService` applies them: lockout, the
//! client's failure count, the MFA step and the IP allowlist.

use super::tests::{creds, record};
use super::*;
use crate::{mail::MailTemplate, ports::LoginRecord, service::test_support::*, user::UserStatus};

#[tokio::test]
async fn a_locked_address_is_refused_before_anything_is_checked() {
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    let until = now() + chrono::Duration::seconds(42);
    m.lockout.expect_claim().times(1).returning(move |_, _, _| Ok(crate::auth::Claim::Locked { until }));
    m.users.expect_find_login().never();
    m.hasher.expect_verify().never();
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("ada@example.com", "right"), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::TooManyAttempts { retry_after_secs: 42 }), "{err:?}");
}

#[tokio::test]
async fn known_and_unknown_addresses_count_failures_under_the_same_key_scheme() {
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    let keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (claimed, failed) = (keys.clone(), keys.clone());
    m.lockout.expect_claim().times(2).returning(move |k, _, _| {
        claimed.lock().unwrap().push(("claim", *k));
        Ok(crate::auth::Claim::Granted)
    });
    m.lockout.expect_fail().times(2).returning(move |k, _, _| {
        failed.lock().unwrap().push(("fail", *k));
        Ok(None)
    });
    m.lockout.expect_clear().never();
    m.users
        .expect_find_login()
        .returning(|e| Ok((e.as_str() == "ada@example.com").then(|| record(UserStatus::Active))));
    m.hasher.expect_verify().times(2).returning(|_, _| Ok(false));
    let s = m.services(AuthPolicy::default());
    for email in ["Ada@Example.com", "nobody@example.com"] {
        let err = s.auth.login(creds(email, "wrong"), ClientMeta::default()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidCredentials));
    }
    let keys = keys.lock().unwrap();
    let ada = crate::auth::LockoutKey::for_address("ada@example.com");
    let nobody = crate::auth::LockoutKey::for_address("nobody@example.com");
    assert_eq!(*keys, [("claim", ada), ("fail", ada), ("claim", nobody), ("fail", nobody)]);
}

#[tokio::test]
async fn the_failure_that_locks_a_known_account_mails_its_owner() {
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    m.lockout.expect_claim().returning(|_, _, _| Ok(crate::auth::Claim::Granted));
    m.lockout.expect_fail().times(1).returning(|_, _, _| Ok(Some(chrono::Duration::minutes(1))));
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Active))));
    m.hasher.expect_verify().returning(|_, _| Ok(false));
    m.accounts
        .expect_issue()
        .withf(|e| e.mails.len() == 1 && e.mails[0].template == MailTemplate::AccountLocked)
        .times(1)
        .returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("ada@example.com", "wrong"), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials));
}

#[tokio::test]
async fn a_client_address_over_its_failures_is_refused_and_failures_are_counted() {
    let mut m = Mocks::new();
    let limit = AuthPolicy::default().login_limit.per_ip;
    m.rate_limits.expect_count().times(1).returning(move |k, _| {
        assert!(k.starts_with("login:ip:"), "{k}");
        Ok(limit)
    });
    m.hasher.expect_verify().never();
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("ada@example.com", "x"), meta()).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");

    let mut m = Mocks::new();
    m.rate_limits.expect_count().returning(|_, _| Ok(0));
    m.rate_limits.expect_hit().withf(|k, _| k == "login:ip:192.0.2.7").times(1).returning(|_, _| Ok(1));
    m.users.expect_find_login().returning(|_| Ok(None));
    m.hasher.expect_verify().returning(|_, _| Ok(false));
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("nobody@example.com", "x"), meta()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials));
}

fn mfa_record() -> LoginRecord {
    let mut r = record(UserStatus::Active);
    r.subject.user.mfa_enabled = true;
    r
}

#[tokio::test]
async fn a_right_password_with_mfa_on_gives_a_challenge_and_its_slot_back() {
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    m.lockout.expect_claim().times(1).returning(|_, _, _| Ok(crate::auth::Claim::Granted));
    m.lockout.expect_release().times(1).returning(|_, _| Ok(()));
    m.lockout.expect_clear().never();
    m.users.expect_find_login().returning(|_| Ok(Some(mfa_record())));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.sessions.expect_create().never();
    m.mfa
        .expect_create_challenge()
        .withf(|c| c.expires_at == now() + chrono::Duration::minutes(5) && c.org_id.is_none())
        .times(1)
        .returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    match s.auth.login(creds("ada@example.com", "right"), ClientMeta::default()).await.unwrap() {
        LoginOutcome::MfaRequired { challenge, expires_in } => {
            assert!(challenge.expose().starts_with("rmc_"));
            assert_eq!(expires_in, 300);
        }
        LoginOutcome::SignedIn(_) => panic!("signed in without the second factor"),
    }
}

/// Mocks for `verify_mfa`: a live challenge of an MFA user whose
/// authenticator holds `secret`, last step spent `last_step`.
fn verify_mocks(secret: &crate::auth::TotpSecret, last_step: i64) -> (Mocks, crate::user::User) {
    let mut m = Mocks::new();
    let r = mfa_record();
    let u = r.subject.user.clone();
    let (id, found) = (u.id, u.clone());
    m.mfa.expect_attempt_challenge().returning(move |_, max, _| {
        assert_eq!(max, 5);
        Ok(Some(crate::ports::ChallengeRecord { user_id: id, org_id: None, user_agent: None, ip: None }))
    });
    m.users.expect_get().returning(move |_| Ok(Some(found.clone())));
    m.users.expect_find_login().returning(move |_| Ok(Some(r.clone())));
    let mut sealed = id.as_bytes().to_vec();
    sealed.extend_from_slice(secret.expose());
    m.mfa.expect_totp().returning(move |_| {
        Ok(Some(crate::ports::StoredTotp { sealed_secret: sealed.clone(), enabled: true, last_step }))
    });
    (m, u)
}

fn verify_input(code: &str) -> MfaVerifyInput {
    MfaVerifyInput {
        challenge: crate::auth::MfaChallengeToken::generate().expose().to_string(),
        code: Some(code.into()),
        recovery_code: None,
    }
}

#[tokio::test]
async fn a_right_code_spends_its_step_and_signs_in_with_otp() {
    let secret = crate::auth::TotpSecret::generate();
    let step = crate::auth::totp::step_at(now().timestamp());
    let (mut m, _) = verify_mocks(&secret, step - 5);
    m.mfa.expect_spend_step().withf(move |_, s| *s == step).times(1).returning(|_, _| Ok(true));
    m.mfa.expect_close_challenge().times(1).returning(|_, _| Ok(true));
    m.sessions.expect_create().withf(|s| s.amr == ["pwd", "otp"]).times(1).returning(|_| Ok(()));
    let claims = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = claims.clone();
    m.signer = crate::ports::MockTokenSigner::new();
    m.signer.expect_sign().returning(move |c| {
        *seen.lock().unwrap() = Some(c.clone());
        Ok("token".into())
    });
    let s = m.services(AuthPolicy::default());
    let out = s.auth.verify_mfa(verify_input(&secret.code(step).unwrap()), ClientMeta::default()).await.unwrap();
    assert_eq!(out.access_token, "token");
    assert_eq!(claims.lock().unwrap().as_ref().unwrap().amr, ["pwd", "otp"]);
}

#[tokio::test]
async fn a_reused_code_is_refused_counted_and_mailed() {
    let secret = crate::auth::TotpSecret::generate();
    let step = crate::auth::totp::step_at(now().timestamp());
    let (mut m, _) = verify_mocks(&secret, step);
    m.lockout_defaults = false;
    m.lockout.expect_claim().returning(|_, _, _| Ok(crate::auth::Claim::Granted));
    m.lockout.expect_fail().times(1).returning(|_, _, _| Ok(None));
    m.mfa.expect_spend_step().never();
    m.mfa.expect_close_challenge().never();
    m.sessions.expect_create().never();
    m.accounts
        .expect_issue()
        .withf(|e| e.mails[0].template == MailTemplate::MfaCodeReused)
        .times(1)
        .returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let err = s.auth.verify_mfa(verify_input(&secret.code(step).unwrap()), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidMfaCode), "{err:?}");
}

#[tokio::test]
async fn a_code_spent_by_a_concurrent_request_counts_as_reused() {
    let secret = crate::auth::TotpSecret::generate();
    let step = crate::auth::totp::step_at(now().timestamp());
    let (mut m, _) = verify_mocks(&secret, step - 1);
    m.mfa.expect_spend_step().times(1).returning(|_, _| Ok(false));
    m.accounts.expect_issue().times(1).returning(|_| Ok(()));
    m.sessions.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let err = s.auth.verify_mfa(verify_input(&secret.code(step).unwrap()), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidMfaCode), "{err:?}");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_mails_what_is_left() {
    let secret = crate::auth::TotpSecret::generate();
    let (mut m, _) = verify_mocks(&secret, 0);
    m.mfa.expect_use_recovery_code().times(1).returning(|_, _, _| Ok(Some(9)));
    m.mfa.expect_close_challenge().times(1).returning(|_, _| Ok(true));
    m.sessions.expect_create().times(1).returning(|_| Ok(()));
    m.accounts
        .expect_issue()
        .withf(|e| e.mails[0].template == MailTemplate::RecoveryCodeUsed)
        .times(1)
        .returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let input = MfaVerifyInput { recovery_code: Some("ABCDE-FGHJK".into()), code: None, ..verify_input("") };
    s.auth.verify_mfa(input, ClientMeta::default()).await.unwrap();
}

#[tokio::test]
async fn a_dead_challenge_and_a_missing_factor_are_refused_without_counting() {
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    m.lockout.expect_claim().never();
    m.mfa.expect_attempt_challenge().returning(|_, _, _| Ok(None));
    let s = m.services(AuthPolicy::default());
    let err = s.auth.verify_mfa(verify_input("123456"), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidChallenge), "{err:?}");
    let garbage = MfaVerifyInput { challenge: "rmc_nope".into(), ..verify_input("123456") };
    assert!(matches!(s.auth.verify_mfa(garbage, ClientMeta::default()).await, Err(Error::InvalidChallenge)));
    let neither = MfaVerifyInput { code: None, ..verify_input("") };
    assert!(matches!(s.auth.verify_mfa(neither, ClientMeta::default()).await, Err(Error::Validation(_))));
}

#[tokio::test]
async fn a_right_password_from_outside_the_allowlist_is_refused_released_and_mailed() {
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    m.ip_policy_defaults = false;
    m.lockout.expect_claim().returning(|_, _, _| Ok(crate::auth::Claim::Granted));
    m.lockout.expect_release().times(1).returning(|_, _| Ok(()));
    m.lockout.expect_clear().never();
    m.lockout.expect_fail().never();
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Active))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.allowed_ips.expect_ip_policy().returning(|_| {
        let net = crate::user::AllowedNet::parse("198.51.100.0/24").unwrap();
        let entry = crate::user::AllowedIp { id: Uuid::now_v7(), cidr: net, created_at: now() };
        Ok(Some(crate::user::IpPolicy { block_unknown_ips: true, entries: vec![entry] }))
    });
    m.sessions.expect_create().never();
    m.rate_limits.expect_count().returning(|_, _| Ok(0));
    m.rate_limits.expect_hit().never();
    m.accounts
        .expect_issue()
        .withf(|e| e.mails[0].template == MailTemplate::LoginBlocked)
        .times(1)
        .returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    // meta() comes from 192.0.2.7, outside 198.51.100.0/24.
    let err = s.auth.login(creds("ada@example.com", "right"), meta()).await.unwrap_err();
    assert!(matches!(err, Error::IpNotAllowed), "{err:?}");
}

#[tokio::test]
async fn a_wrong_password_from_outside_the_allowlist_is_an_ordinary_failure() {
    let mut m = Mocks::new();
    m.ip_policy_defaults = false;
    m.allowed_ips.expect_ip_policy().never();
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Active))));
    m.hasher.expect_verify().returning(|_, _| Ok(false));
    m.unlimited_failures();
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("ada@example.com", "wrong"), meta()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials), "{err:?}");
}
