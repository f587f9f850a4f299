use chrono::Duration;
use mockall::predicate::*;

use super::*;
use crate::{
    auth::{OneTimeToken, SessionSubject},
    mail::{MailTemplate, RateLimit, RateLimits, TokenRecord},
    ports::LoginRecord,
    service::test_support::*,
    user::UserStatus,
};

fn login_record(u: User) -> LoginRecord {
    LoginRecord { subject: SessionSubject::in_default_org(u, vec![]), password_hash: Some("$h".into()) }
}

fn token_record(purpose: TokenPurpose, u: User) -> TokenRecord {
    TokenRecord {
        purpose,
        email: u.email.clone(),
        user: u,
        invitation_id: None,
        created_at: now() - Duration::minutes(5),
        expires_at: now() + Duration::minutes(55),
        used_at: None,
        superseded_at: None,
    }
}

#[tokio::test]
async fn forgot_answers_alike_and_mails_only_active_accounts() {
    for (status, mails) in [(None, false), (Some(UserStatus::Active), true), (Some(UserStatus::Banned), false)] {
        let mut m = Mocks::new().unlimited();
        m.users.expect_find_login().returning(move |_| {
            Ok(status.map(|s| {
                let mut u = user("ada@example.com", "member");
                u.status = s;
                login_record(u)
            }))
        });
        m.accounts.expect_issue().times(usize::from(mails)).returning(|effects| {
            let token = effects.token.as_ref().unwrap();
            assert_eq!(token.purpose, TokenPurpose::ResetPassword);
            assert_eq!(token.expires_at, now() + Duration::hours(1));
            assert_eq!(effects.mails[0].template, MailTemplate::PasswordReset);
            Ok(())
        });
        let s = m.services(AuthPolicy::default());
        s.accounts.forgot_password("Ada@Example.com", &meta()).await.unwrap();
    }
}

#[tokio::test]
async fn forgot_is_rate_limited_per_address_before_any_lookup() {
    let mut m = Mocks::new();
    m.rate_limits.expect_hit().withf(|k, _| k.starts_with("forgot:addr:")).returning(|_, _| Ok(4));
    m.rate_limits.expect_hit().withf(|k, _| k == "forgot:ip:192.0.2.7").returning(|_, _| Ok(1));
    m.users.expect_find_login().never();
    let limits = RateLimits {
        forgot: RateLimit { per_address: 3, per_ip: 10, window: Duration::hours(1) },
        ..RateLimits::default()
    };
    let mut policy = AuthPolicy::default();
    policy.accounts.limits = limits;
    let s = m.services(policy);
    // The fixed clock is 12:00:00 sharp: the whole hour is left.
    match s.accounts.forgot_password("ada@example.com", &meta()).await {
        Err(Error::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 3600),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn reset_refuses_bad_unknown_wrong_purpose_and_spent_tokens() {
    let live = OneTimeToken::generate();
    let mut m = Mocks::new();
    m.accounts.expect_find_token().returning(|_| Ok(None));
    let s = m.services(AuthPolicy::default());
    for raw in ["", "nope", live.expose()] {
        let input = ResetPasswordInput { token: raw.into(), password: "new password".into() };
        assert!(matches!(s.accounts.reset_password(input).await, Err(Error::InvalidToken)));
    }
    type Edit = fn(&mut TokenRecord);
    let cases: [(Edit, Result<(), TokenState>); 5] = [
        (|r| r.purpose = TokenPurpose::VerifyEmail, Ok(())),
        (|r| r.used_at = Some(now()), Err(TokenState::Used)),
        (|r| r.expires_at = now(), Err(TokenState::Expired)),
        (|r| r.superseded_at = Some(now()), Err(TokenState::Superseded)),
        (|r| r.user.status = UserStatus::Banned, Ok(())),
    ];
    for (edit, expected) in cases {
        let mut m = Mocks::new();
        m.accounts.expect_find_token().returning(move |_| {
            let mut r = token_record(TokenPurpose::ResetPassword, user("ada@example.com", "member"));
            edit(&mut r);
            Ok(Some(r))
        });
        m.accounts.expect_redeem().never();
        m.hasher.expect_hash().never();
        let s = m.services(AuthPolicy::default());
        let input = ResetPasswordInput { token: live.expose().into(), password: "new password".into() };
        match (s.accounts.reset_password(input).await, expected) {
            (Err(Error::TokenGone(got)), Err(want)) => assert_eq!(got, want),
            (Err(Error::InvalidToken), Ok(())) => {}
            (other, _) => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn reset_sets_the_password_with_a_notice_in_one_redemption() {
    let token = OneTimeToken::generate();
    let hash = token.hash();
    let mut m = Mocks::new();
    m.accounts
        .expect_find_token()
        .returning(|_| Ok(Some(token_record(TokenPurpose::ResetPassword, user("ada@example.com", "member")))));
    m.hasher.expect_hash().times(1).returning(|_| Ok("$new".into()));
    m.accounts.expect_redeem().times(1).returning(move |r, effects| {
        assert_eq!(r.hash, hash);
        assert_eq!(r.action, RedeemAction::ResetPassword { password_hash: "$new".into() });
        assert_eq!(effects.mails[0].template, MailTemplate::PasswordChanged);
        assert!(effects.token.is_none());
        Ok(RedeemOutcome::Redeemed(user("ada@example.com", "member")))
    });
    let s = m.services(AuthPolicy::default());
    let weak = ResetPasswordInput { token: token.expose().into(), password: "ada@example.com".into() };
    assert!(matches!(s.accounts.reset_password(weak).await, Err(Error::Validation(_))));
    let input = ResetPasswordInput { token: token.expose().into(), password: "new password".into() };
    s.accounts.reset_password(input).await.unwrap();
}

#[tokio::test]
async fn a_token_spent_concurrently_is_reported_as_used() {
    let token = OneTimeToken::generate();
    let mut m = Mocks::new();
    let mut calls = 0;
    m.accounts.expect_find_token().returning(move |_| {
        calls += 1;
        let mut r = token_record(TokenPurpose::VerifyEmail, user("ada@example.com", "member"));
        if calls > 1 {
            r.used_at = Some(now());
        }
        Ok(Some(r))
    });
    m.accounts.expect_redeem().returning(|_, _| Ok(RedeemOutcome::NotLive));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.accounts.verify_email(token.expose()).await, Err(Error::TokenGone(TokenState::Used))));
}

#[tokio::test]
async fn change_of_address_tokens_switch_the_address() {
    let token = OneTimeToken::generate();
    let mut m = Mocks::new();
    m.accounts
        .expect_find_token()
        .returning(|_| Ok(Some(token_record(TokenPurpose::ChangeEmail, user("ada@example.com", "member")))));
    m.accounts
        .expect_redeem()
        .withf(|r, e| r.action == RedeemAction::ChangeEmail && e.mails.is_empty())
        .times(1)
        .returning(|_, _| Ok(RedeemOutcome::Redeemed(user("new@example.com", "member"))));
    let s = m.services(AuthPolicy::default());
    assert_eq!(s.accounts.verify_email(token.expose()).await.unwrap().email, "new@example.com");
}

#[tokio::test]
async fn email_change_needs_the_password_and_a_new_address() {
    let me = principal(user("ada@example.com", "member"), vec![]);
    let mut m = Mocks::new();
    m.users.expect_password_hash().returning(|_| Ok(Some("$h".into())));
    m.hasher.expect_verify().returning(|p, _| Ok(p == "right"));
    m.accounts.expect_issue().never();
    let s = m.services(AuthPolicy::default());
    let input = ChangeEmailInput { email: "ADA@example.com".into(), current_password: "wrong".into() };
    match s.accounts.request_email_change(&me, input).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), vec!["current_password", "email"]),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn email_change_mails_the_new_address_a_link_and_the_old_a_notice() {
    let me = principal(user("ada@example.com", "member"), vec![]);
    let me_id = me.user_id().unwrap();
    let mut m = Mocks::new();
    m.users.expect_password_hash().returning(|_| Ok(Some("$h".into())));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.users.expect_find_login().returning(|_| Ok(None));
    m.accounts.expect_issue().times(1).returning(move |e| {
        let token = e.token.as_ref().unwrap();
        assert_eq!(
            (token.purpose, token.user_id, token.email.as_str()),
            (TokenPurpose::ChangeEmail, me_id, "new@example.com")
        );
        let sent: Vec<_> = e.mails.iter().map(|m| (m.template, m.to.as_str())).collect();
        assert_eq!(
            sent,
            vec![
                (MailTemplate::ConfirmEmailChange, "new@example.com"),
                (MailTemplate::EmailChangeNotice, "ada@example.com")
            ]
        );
        Ok(())
    });
    let s = m.services(AuthPolicy::default());
    let input = ChangeEmailInput { email: "new@example.com".into(), current_password: "right".into() };
    s.accounts.request_email_change(&me, input).await.unwrap();
}

#[tokio::test]
async fn email_change_to_a_taken_address_tells_that_address_only() {
    let me = principal(user("ada@example.com", "member"), vec![]);
    let mut m = Mocks::new();
    m.users.expect_password_hash().returning(|_| Ok(Some("$h".into())));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.users.expect_find_login().returning(|_| Ok(Some(login_record(user("taken@example.com", "member")))));
    m.accounts
        .expect_issue()
        .withf(|e| {
            e.token.is_none()
                && e.mails.len() == 1
                && e.mails[0].template == MailTemplate::EmailInUse
                && e.mails[0].to.as_str() == "taken@example.com"
        })
        .times(1)
        .returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let input = ChangeEmailInput { email: "taken@example.com".into(), current_password: "right".into() };
    s.accounts.request_email_change(&me, input).await.unwrap();
}

#[tokio::test]
async fn accepting_an_invitation_activates_and_signs_in() {
    let token = OneTimeToken::generate();
    let mut invited = user("new@example.com", "member");
    invited.status = UserStatus::Pending;
    let mut m = Mocks::new();
    let rec = token_record(TokenPurpose::Invitation, invited.clone());
    m.accounts.expect_find_token().returning(move |_| Ok(Some(rec.clone())));
    m.hasher.expect_hash().times(1).returning(|_| Ok("$pw".into()));
    m.accounts
        .expect_redeem()
        .withf(|r, _| {
            r.action == RedeemAction::AcceptInvitation { password_hash: "$pw".into(), name: Some("Nia".into()) }
        })
        .times(1)
        .returning(|_, _| Ok(RedeemOutcome::Redeemed(user("new@example.com", "member"))));
    m.users
        .expect_find_login()
        .with(eq(Email::parse("new@example.com").unwrap()))
        .returning(|_| Ok(Some(login_record(user("new@example.com", "member")))));
    m.sessions.expect_create().times(1).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let bad = AcceptInvitationInput { token: token.expose().into(), password: "short".into(), name: Some(" ".into()) };
    match s.accounts.accept_invitation(bad, ClientMeta::default()).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), vec!["name", "password"]),
        other => panic!("unexpected {other:?}"),
    }
    let input = AcceptInvitationInput {
        token: token.expose().into(),
        password: "long enough".into(),
        name: Some("Nia".into()),
    };
    let signed = s.accounts.accept_invitation(input, ClientMeta::default()).await.unwrap();
    assert_eq!(signed.user.email, "new@example.com");
}

#[tokio::test]
async fn invitations_need_write_access_and_owners_for_owner() {
    let mut m = Mocks::new().unlimited().default_roles();
    m.accounts.expect_invite().never();
    let s = m.services(AuthPolicy::default());
    let member = principal(user("m@example.com", "member"), vec![]);
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let input = |role| crate::service::InviteInput { email: "new@example.com".into(), role, name: None, locale: None };
    assert!(matches!(s.invitations.invite(&member, input(None), &meta()).await, Err(Error::Forbidden(_))));
    let owner = Some(crate::user::BuiltinRole::Owner);
    assert!(matches!(s.invitations.invite(&admin, input(owner), &meta()).await, Err(Error::Forbidden(_))));
    let bad = crate::service::InviteInput {
        email: "nope".into(),
        role: None,
        name: Some("".into()),
        locale: Some("not a locale".into()),
    };
    match s.invitations.invite(&admin, bad, &meta()).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), vec!["email", "locale", "name"]),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn an_invitation_writes_a_pending_user_its_token_and_its_letter_together() {
    let mut m = Mocks::new().unlimited().default_roles();
    m.accounts.expect_invite().times(1).returning(|inv, effects| {
        assert!(inv.reinvite);
        assert_eq!(inv.user.status, UserStatus::Pending);
        assert!(inv.user.password_hash.is_none());
        assert_eq!(inv.expires_at, now() + Duration::days(7));
        let token = effects.token.as_ref().unwrap();
        assert_eq!(
            (token.purpose, token.invitation_id, token.user_id),
            (TokenPurpose::Invitation, Some(inv.id), inv.user.id)
        );
        assert_eq!(effects.mails[0].template, MailTemplate::Invitation);
        let invitation = crate::mail::Invitation {
            id: inv.id,
            user_id: inv.user.id,
            email: inv.user.email.as_str().into(),
            role: "member".into(),
            invited_by: inv.invited_by,
            status: crate::mail::InvitationStatus::Pending,
            created_at: now(),
            expires_at: inv.expires_at,
            accepted_at: None,
        };
        Ok((invitation, user("new@example.com", "member")))
    });
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let input = crate::service::InviteInput {
        email: "new@example.com".into(),
        role: None,
        name: Some("Nia".into()),
        locale: Some("da".into()),
    };
    let inv = s.invitations.invite(&admin, input, &meta()).await.unwrap();
    assert_eq!(inv.invited_by, Some(admin.user_id().unwrap()));
}
