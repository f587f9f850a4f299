use mockall::predicate::*;

use super::*;
use crate::{
    auth::{totp, Principal, TotpSecret},
    mail::MailTemplate,
    ports::StoredTotp,
    service::test_support::*,
};

fn me(mfa_enabled: bool) -> Principal {
    let mut u = user("ada@example.com", "member");
    u.mfa_enabled = mfa_enabled;
    principal(u, vec![])
}

fn password_ok(m: &mut Mocks, ok: bool) {
    m.users.expect_password_hash().returning(|_| Ok(Some("$real".into())));
    m.hasher.expect_verify().returning(move |_, _| Ok(ok));
}

fn sealed_for(p: &Principal, secret: &TotpSecret) -> Vec<u8> {
    let mut sealed = p.user_id().unwrap().as_bytes().to_vec();
    sealed.extend_from_slice(secret.expose());
    sealed
}

#[tokio::test]
async fn enrolment_needs_the_password_and_stores_the_secret_sealed_for_the_user() {
    let p = me(false);
    let id = p.user_id().unwrap();
    let mut m = Mocks::new();
    password_ok(&mut m, true);
    m.mfa
        .expect_begin_enrolment()
        .withf(move |u, sealed, _| *u == id && sealed.len() == 16 + 20 && sealed[..16] == *id.as_bytes())
        .times(1)
        .returning(|_, _, _| Ok(true));
    let s = m.services(AuthPolicy::default());
    let e = s.mfa.begin(&p, "right").await.unwrap();
    assert_eq!(e.secret.len(), 32);
    assert!(e.otpauth_uri.starts_with("otpauth://totp/Roster:ada%40example.com?"), "{}", e.otpauth_uri);

    let mut m = Mocks::new();
    password_ok(&mut m, false);
    m.mfa.expect_begin_enrolment().never();
    let s = m.services(AuthPolicy::default());
    let Err(Error::Validation(errors)) = s.mfa.begin(&p, "wrong").await else { panic!("expected 422") };
    assert!(errors.as_map().contains_key("current_password"));
}

#[tokio::test]
async fn enrolling_with_mfa_on_is_a_conflict() {
    let mut m = Mocks::new();
    password_ok(&mut m, true);
    m.mfa.expect_begin_enrolment().never();
    let s = m.services(AuthPolicy::default());
    let r = s.mfa.begin(&me(true), "right").await;
    assert!(matches!(r, Err(Error::InvalidState(StateConflict::MfaEnabled))), "{r:?}");
}

#[tokio::test]
async fn confirming_spends_the_step_stores_ten_hashed_codes_and_mails() {
    let p = me(false);
    let secret = TotpSecret::generate();
    let step = totp::step_at(now().timestamp());
    let sealed = sealed_for(&p, &secret);
    let mut m = Mocks::new();
    m.mfa
        .expect_totp()
        .returning(move |_| Ok(Some(StoredTotp { sealed_secret: sealed.clone(), enabled: false, last_step: 0 })));
    m.mfa
        .expect_enable()
        .withf(move |_, s, codes, _, effects| {
            *s == step && codes.len() == 10 && effects.mails[0].template == MailTemplate::MfaEnabled
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let s = m.services(AuthPolicy::default());
    let codes = s.mfa.confirm(&p, &secret.code(step).unwrap()).await.unwrap();
    assert_eq!(codes.len(), 10);
}

#[tokio::test]
async fn a_wrong_confirmation_code_is_a_validation_error_and_writes_nothing() {
    let p = me(false);
    let secret = TotpSecret::generate();
    let sealed = sealed_for(&p, &secret);
    let mut m = Mocks::new();
    m.mfa
        .expect_totp()
        .returning(move |_| Ok(Some(StoredTotp { sealed_secret: sealed.clone(), enabled: false, last_step: 0 })));
    m.mfa.expect_enable().never();
    let s = m.services(AuthPolicy::default());
    let step = totp::step_at(now().timestamp());
    let wrong = secret.code(step + 5).unwrap();
    assert!(matches!(s.mfa.confirm(&p, &wrong).await, Err(Error::Validation(_))));
}

#[tokio::test]
async fn a_secret_sealed_for_another_user_does_not_open() {
    let p = me(false);
    let other = me(false);
    let secret = TotpSecret::generate();
    let sealed = sealed_for(&other, &secret);
    let mut m = Mocks::new();
    m.mfa
        .expect_totp()
        .returning(move |_| Ok(Some(StoredTotp { sealed_secret: sealed.clone(), enabled: false, last_step: 0 })));
    m.mfa.expect_enable().never();
    let s = m.services(AuthPolicy::default());
    let code = secret.code(totp::step_at(now().timestamp())).unwrap();
    assert!(matches!(s.mfa.confirm(&p, &code).await, Err(Error::Internal(_))));
}

#[tokio::test]
async fn turning_off_takes_the_password_and_a_code_and_mails() {
    let p = me(true);
    let secret = TotpSecret::generate();
    let step = totp::step_at(now().timestamp());
    let sealed = sealed_for(&p, &secret);
    let mut m = Mocks::new();
    password_ok(&mut m, true);
    m.mfa
        .expect_totp()
        .returning(move |_| Ok(Some(StoredTotp { sealed_secret: sealed.clone(), enabled: true, last_step: 0 })));
    m.mfa.expect_spend_step().times(1).returning(|_, _| Ok(true));
    m.mfa
        .expect_disable()
        .withf(|_, e| e.mails[0].template == MailTemplate::MfaDisabled)
        .times(1)
        .returning(|_, _| Ok(true));
    let s = m.services(AuthPolicy::default());
    let input =
        TurnOffInput { current_password: "right".into(), code: Some(secret.code(step).unwrap()), recovery_code: None };
    s.mfa.turn_off(&p, input).await.unwrap();

    // Neither factor: every problem at once, nothing checked further.
    let mut m = Mocks::new();
    password_ok(&mut m, false);
    m.mfa.expect_disable().never();
    let s = m.services(AuthPolicy::default());
    let Err(Error::Validation(errors)) =
        s.mfa.turn_off(&p, TurnOffInput { current_password: "x".into(), ..Default::default() }).await
    else {
        panic!("expected 422")
    };
    assert!(errors.as_map().contains_key("current_password") && errors.as_map().contains_key("code"));
}

#[tokio::test]
async fn an_administrator_resets_another_users_mfa_and_they_are_mailed() {
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let target = user("ada@example.com", "member");
    let id = target.id;
    let mut m = Mocks::new();
    m.users.expect_get().with(eq(id)).returning(move |_| Ok(Some(target.clone())));
    m.mfa
        .expect_disable()
        .withf(move |u, e| *u == id && e.mails[0].template == MailTemplate::MfaDisabled)
        .times(1)
        .returning(|_, _| Ok(true));
    let s = m.services(AuthPolicy::default());
    s.mfa.reset(&admin, id).await.unwrap();

    // Not on oneself, not without users:write.
    let s = Mocks::new().services(AuthPolicy::default());
    assert!(matches!(s.mfa.reset(&admin, admin.user_id().unwrap()).await, Err(Error::Forbidden(_))));
    let member = principal(user("bob@example.com", "member"), vec![]);
    assert!(matches!(s.mfa.reset(&member, id).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn api_keys_have_no_second_factor() {
    let key = Principal::api_key(uuid::Uuid::now_v7(), "k".into(), crate::DEFAULT_ORG_ID, &admin_perms());
    let s = Mocks::new().services(AuthPolicy::default());
    assert!(matches!(s.mfa.begin(&key, "x").await, Err(Error::Forbidden(_))));
    assert!(matches!(s.mfa.confirm(&key, "123456").await, Err(Error::Forbidden(_))));
    assert!(matches!(s.mfa.new_recovery_codes(&key, "123456").await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn wrong_codes_on_the_self_service_routes_count_against_the_lockout() {
    let p = me(true);
    let secret = TotpSecret::generate();
    let sealed = sealed_for(&p, &secret);
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    m.mfa
        .expect_totp()
        .returning(move |_| Ok(Some(StoredTotp { sealed_secret: sealed.clone(), enabled: true, last_step: 0 })));
    m.lockout.expect_claim().times(1).returning(|_, _, _| Ok(crate::auth::Claim::Granted));
    m.lockout.expect_fail().times(1).returning(|_, _, _| Ok(None));
    m.mfa.expect_replace_recovery_codes().never();
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.mfa.new_recovery_codes(&p, "000000").await, Err(Error::Validation(_))));

    // Locked: refused before the code is looked at.
    let mut m = Mocks::new();
    m.lockout_defaults = false;
    let until = now() + chrono::Duration::minutes(1);
    m.lockout.expect_claim().returning(move |_, _, _| Ok(crate::auth::Claim::Locked { until }));
    m.mfa.expect_totp().never();
    let s = m.services(AuthPolicy::default());
    let r = s.mfa.new_recovery_codes(&p, "123456").await;
    assert!(matches!(r, Err(Error::TooManyAttempts { retry_after_secs: 60 })), "{r:?}");
}
