use mockall::predicate::*;

use super::*;
use crate::{
    auth::{AccessClaims, RefreshSecret, RefreshToken},
    mail::{AccountPolicy, MailTemplate, TokenPurpose},
    ports::{LoginRecord, RotateOutcome},
    service::test_support::*,
    user::UserStatus,
};

pub(super) fn creds(email: &str, password: &str) -> Credentials {
    Credentials { email: email.into(), password: password.into(), org: None }
}

/// The session of a login that needed no second step.
fn signed(outcome: LoginOutcome) -> SignedIn {
    match outcome {
        LoginOutcome::SignedIn(s) => *s,
        LoginOutcome::MfaRequired { .. } => panic!("expected a session, got the MFA step"),
    }
}

pub(super) fn record(status: UserStatus) -> LoginRecord {
    let mut u = user("ada@example.com", "member");
    u.status = status;
    LoginRecord { subject: SessionSubject::in_default_org(u, vec![]), password_hash: Some("$real".into()) }
}

#[tokio::test]
async fn unknown_email_costs_one_dummy_verification() {
    let mut m = Mocks::new();
    m.users.expect_find_login().returning(|_| Ok(None));
    m.hasher.expect_verify().with(eq("pw-guess-1"), eq("$dummy")).times(1).returning(|_, _| Ok(false));
    m.sessions.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("nobody@example.com", "pw-guess-1"), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials));
}

#[tokio::test]
async fn malformed_email_also_costs_one_verification() {
    let mut m = Mocks::new();
    m.users.expect_find_login().never();
    m.hasher.expect_verify().times(1).returning(|_, _| Ok(false));
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("not an email", "x"), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials));
}

#[tokio::test]
async fn wrong_password_is_the_same_answer() {
    let mut m = Mocks::new();
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Active))));
    m.hasher.expect_verify().with(always(), eq("$real")).times(1).returning(|_, _| Ok(false));
    m.sessions.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("ada@example.com", "wrong"), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials));
}

#[tokio::test]
async fn banned_account_cannot_sign_in_even_with_the_right_password() {
    let mut m = Mocks::new();
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Banned))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.sessions.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let err = s.auth.login(creds("ada@example.com", "right"), ClientMeta::default()).await.unwrap_err();
    assert!(matches!(err, Error::AccountDisabled(UserStatus::Banned)));
}

#[tokio::test]
async fn login_opens_a_session_holding_only_the_token_hash() {
    let mut m = Mocks::new();
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Active))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    let stored = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = stored.clone();
    m.sessions.expect_create().times(1).returning(move |s| {
        *seen.lock().unwrap() = Some(s.refresh_hash);
        assert_eq!(s.expires_at, now() + chrono::Duration::days(90));
        Ok(())
    });
    let s = m.services(AuthPolicy::default());
    let out = signed(s.auth.login(creds("Ada@Example.com", "right"), ClientMeta::default()).await.unwrap());
    assert_eq!(out.expires_in, 900);
    assert_eq!(Some(out.refresh_token.hash()), *stored.lock().unwrap());
    assert_eq!(out.user.last_login_at, Some(now()));
}

#[tokio::test]
async fn refresh_hands_out_the_derived_successor_on_rotation_and_replay() {
    let token = RefreshToken::generate();
    let expected = token.successor(&RefreshSecret::new([7; 32]));
    for replay in [false, true] {
        let mut m = Mocks::new();
        let succ_hash = expected.hash();
        m.sessions.expect_rotate().times(1).returning(move |r| {
            assert_eq!(r.successor, succ_hash);
            assert_eq!(r.grace, chrono::Duration::seconds(10));
            let subject = SessionSubject::in_default_org(user("ada@example.com", "member"), vec![]);
            let session_id = Uuid::now_v7();
            let amr = vec!["pwd".to_string(), "otp".to_string()];
            Ok(if replay {
                RotateOutcome::Replayed { session_id, subject, amr }
            } else {
                RotateOutcome::Rotated { session_id, subject, amr }
            })
        });
        // A refresh keeps how the session was authenticated.
        m.signer = crate::ports::MockTokenSigner::new();
        m.signer.expect_sign().times(1).returning(|c| {
            assert_eq!(c.amr, ["pwd", "otp"]);
            Ok("token".into())
        });
        let s = m.services(AuthPolicy::default());
        let out = s.auth.refresh(token.expose(), None).await.unwrap();
        assert_eq!(out.refresh_token, expected);
    }
}

#[tokio::test]
async fn reused_or_garbage_refresh_tokens_are_refused() {
    let mut m = Mocks::new();
    m.sessions.expect_rotate().times(1).returning(|_| Ok(RotateOutcome::Reused { session_id: Uuid::now_v7() }));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.auth.refresh(RefreshToken::generate().expose(), None).await, Err(Error::InvalidRefreshToken)));
    assert!(matches!(s.auth.refresh("garbage", None).await, Err(Error::InvalidRefreshToken)));
}

#[tokio::test]
async fn closed_registration_touches_nothing() {
    let mut m = Mocks::new();
    m.users.expect_create().never();
    m.hasher.expect_hash().never();
    let s = m.services(AuthPolicy { open_registration: false, ..Default::default() });
    let input = RegisterInput {
        email: "a@example.com".into(),
        password: "long enough".into(),
        name: None,
        given_name: None,
        family_name: None,
        locale: None,
        timezone: None,
    };
    assert!(matches!(s.auth.register(input, ClientMeta::default()).await, Err(Error::RegistrationClosed)));
}

#[tokio::test]
async fn register_validates_before_hashing() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().never();
    let s = m.services(AuthPolicy::default());
    let input = RegisterInput {
        email: "bad".into(),
        password: "short".into(),
        name: None,
        given_name: None,
        family_name: None,
        locale: Some("xx-yy-zz".into()),
        timezone: None,
    };
    match s.auth.register(input, ClientMeta::default()).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), vec!["email", "locale", "password"]),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn revoked_session_is_unauthenticated() {
    let mut m = Mocks::new();
    m.signer.expect_verify().returning(|_| {
        Ok(AccessClaims {
            sub: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            iss: "i".into(),
            aud: "a".into(),
            exp: 0,
            iat: 0,
            email: "e".into(),
            org: crate::DEFAULT_ORG_ID,
            role: None,
            perms: vec![],
            amr: vec![],
        })
    });
    m.sessions.expect_subject().returning(|_, _, _| Ok(None));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.auth.authenticate("t").await, Err(Error::Unauthenticated(TokenRejection::Revoked))));
}

#[tokio::test]
async fn change_password_checks_current_and_keeps_this_session() {
    let me = principal(user("ada@example.com", "member"), vec![]);
    let keep = me.signed_in().unwrap().1;
    let me_id = me.user_id().unwrap();
    let mut m = Mocks::new();
    m.users.expect_password_hash().returning(|_| Ok(Some("$real".into())));
    m.hasher.expect_verify().with(eq("old password"), eq("$real")).returning(|_, _| Ok(true));
    m.hasher.expect_verify().returning(|_, _| Ok(false));
    m.hasher.expect_hash().times(1).returning(|_| Ok("$new".into()));
    m.users
        .expect_set_password()
        .withf(move |id, hash, k, _, effects| {
            *id == me_id
                && hash == "$new"
                && *k == Some(keep)
                && effects.token.is_none()
                && effects.mails.len() == 1
                && effects.mails[0].template == MailTemplate::PasswordChanged
                && effects.mails[0].to.as_str() == "ada@example.com"
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let s = m.services(AuthPolicy::default());
    match s.auth.change_password(&me, "not it", "short").await {
        Err(Error::Validation(e)) => {
            assert_eq!(e.fields().collect::<Vec<_>>(), vec!["current_password", "new_password"])
        }
        other => panic!("unexpected {other:?}"),
    }
    s.auth.change_password(&me, "old password", "new password!").await.unwrap();
}

fn registration(email: &str) -> RegisterInput {
    RegisterInput {
        email: email.into(),
        password: "long enough".into(),
        name: Some("Ada".into()),
        given_name: None,
        family_name: None,
        locale: Some("fr".into()),
        timezone: None,
    }
}

#[tokio::test]
async fn register_writes_the_user_with_a_verification_link_in_one_call() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().returning(|_| Ok("$h".into()));
    m.users.expect_create().times(1).returning(|rec, effects| {
        let token = effects.token.as_ref().expect("a verification token");
        assert_eq!(token.purpose, TokenPurpose::VerifyEmail);
        assert_eq!(token.user_id, rec.id);
        assert_eq!(token.expires_at, now() + chrono::Duration::hours(48));
        let [mail] = effects.mails.as_slice() else { panic!("one mail") };
        assert_eq!(mail.template, MailTemplate::VerifyEmail);
        assert_eq!(mail.to.as_str(), "ada@example.com");
        // The mailed token is the one whose hash is stored.
        let subject = subject_of(mail);
        let raw = subject.split(' ').nth(1).unwrap();
        assert_eq!(crate::auth::OneTimeToken::parse(raw).unwrap().hash(), token.hash);
        let mut u = user("ada@example.com", "member");
        u.id = rec.id;
        Ok(u)
    });
    m.sessions.expect_create().times(1).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(
        s.auth.register(registration("ada@example.com"), ClientMeta::default()).await.unwrap(),
        Registered::SignedIn(_)
    ));
}

#[tokio::test]
async fn required_verification_registers_without_a_session_and_refuses_login() {
    let policy = || AuthPolicy {
        accounts: AccountPolicy { require_verified_email: true, ..Default::default() },
        ..Default::default()
    };
    let mut m = Mocks::new();
    m.hasher.expect_hash().returning(|_| Ok("$h".into()));
    m.users.expect_create().returning(|_, _| Ok(user("ada@example.com", "member")));
    m.sessions.expect_create().never();
    let s = m.services(policy());
    assert!(matches!(
        s.auth.register(registration("ada@example.com"), ClientMeta::default()).await.unwrap(),
        Registered::VerificationRequired(_)
    ));

    let mut m = Mocks::new();
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Active))));
    m.hasher.expect_verify().returning(|p, _| Ok(p == "right"));
    m.sessions.expect_create().never();
    let s = m.services(policy());
    // A wrong password still says only that.
    assert!(matches!(
        s.auth.login(creds("ada@example.com", "wrong"), Default::default()).await,
        Err(Error::InvalidCredentials)
    ));
    assert!(matches!(
        s.auth.login(creds("ada@example.com", "right"), Default::default()).await,
        Err(Error::EmailNotVerified)
    ));
}

#[tokio::test]
async fn logging_in_to_an_organization_needs_a_membership_there() {
    let org = Uuid::now_v7();
    let mut m = Mocks::new();
    m.users.expect_find_login().returning(|_| Ok(Some(record(UserStatus::Active))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.members.expect_membership().returning(move |o, u| {
        Ok((o == org).then(|| crate::org::Membership {
            org_id: o,
            user_id: u,
            role: "venue".into(),
            permissions: vec!["users:read".into()],
        }))
    });
    m.sessions.expect_create().withf(move |s| s.org_id == org).times(1).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let mut c = creds("ada@example.com", "right");
    c.org = Some(Uuid::now_v7());
    assert!(matches!(s.auth.login(c, Default::default()).await, Err(Error::NotFound("organization"))));
    let mut c = creds("ada@example.com", "right");
    c.org = Some(org);
    let out = signed(s.auth.login(c, Default::default()).await.unwrap());
    assert_eq!(out.user.email, "ada@example.com");
}

#[tokio::test]
async fn switching_to_a_foreign_organization_is_not_found() {
    let mut m = Mocks::new();
    m.sessions.expect_rotate().withf(|r| r.switch_org.is_some()).returning(|_| Ok(RotateOutcome::NotMember));
    let s = m.services(AuthPolicy::default());
    let r = s.auth.refresh(RefreshToken::generate().expose(), Some(Uuid::now_v7())).await;
    assert!(matches!(r, Err(Error::NotFound("organization"))));
}

/// Ada as an account organization `org` manages: a member of it only.
fn managed_record(org: Uuid) -> LoginRecord {
    let mut u = user("ada@example.com", "member");
    u.role = None;
    u.managed_by = Some(org);
    LoginRecord { subject: SessionSubject::in_default_org(u, vec![]), password_hash: Some("$real".into()) }
}

#[tokio::test]
async fn an_organizations_own_account_signs_in_to_it_and_not_to_the_platform() {
    let org = Uuid::now_v7();
    let mut m = Mocks::new();
    m.users.expect_find_login().returning(move |_| Ok(Some(managed_record(org))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.members.expect_membership().returning(move |o, u| Ok((o == org).then(|| membership(o, u, "front-desk", &[]))));
    m.sessions.expect_create().withf(move |s| s.org_id == org).times(1).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    // Without `org`: its managing organization, where its role and permissions are.
    s.auth.login(creds("ada@example.com", "right"), ClientMeta::default()).await.unwrap();
    // Not one of the platform's users: the default organization does not exist for it.
    let platform = Credentials { org: Some(crate::DEFAULT_ORG_ID), ..creds("ada@example.com", "right") };
    assert!(matches!(s.auth.login(platform, ClientMeta::default()).await, Err(Error::NotFound("organization"))));
}

#[tokio::test]
async fn an_account_with_no_organization_left_cannot_sign_in() {
    // Its organization deactivated its membership, and it is no platform user.
    let org = Uuid::now_v7();
    let mut m = Mocks::new();
    m.users.expect_find_login().returning(move |_| Ok(Some(managed_record(org))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.members.expect_membership().returning(|_, _| Ok(None));
    m.sessions.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let r = s.auth.login(creds("ada@example.com", "right"), ClientMeta::default()).await;
    assert!(matches!(r, Err(Error::NoOrganization)), "{r:?}");
}
