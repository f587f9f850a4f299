use std::sync::{Arc, Mutex};

use chrono::Duration;
use uuid::Uuid;

use super::*;
use crate::{
    auth::SessionSubject,
    mail::{InvitationStatus, MailTemplate},
    org::{OrgInvitationTicket, Organization, Role},
    ports::LoginRecord,
    service::test_support::*,
};

fn role(org: Uuid, name: &str) -> Role {
    Role {
        id: Uuid::now_v7(),
        org_id: org,
        name: name.into(),
        title: None,
        description: None,
        permissions: vec![],
        builtin: true,
        requires_location: false,
        created_at: now(),
    }
}

fn organization(id: Uuid) -> Organization {
    Organization {
        id,
        slug: "acme".into(),
        name: "Acme & Co".into(),
        is_default: false,
        password_policy: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn account(email: &str) -> LoginRecord {
    let mut u = user(email, "member");
    u.locale = Some("da".into());
    LoginRecord { subject: SessionSubject::in_default_org(u, vec![]), password_hash: Some("$h".into()) }
}

fn input(email: &str, role: Option<&str>) -> OrgInviteInput {
    OrgInviteInput { email: email.into(), role: role.map(String::from), location_id: None, locale: None }
}

/// An inviter with `members:manage` in `org` and mocks that write what they are given.
fn inviter(org: Uuid, accounts: &'static [&'static str]) -> (Mocks, Principal, Arc<Mutex<Vec<String>>>) {
    let (mut m, p) = caller(org, "admin", &["members:manage"]);
    m = m.unlimited();
    m.roles.expect_role_by_name().returning(|o, name| Ok(Some(role(o, name))));
    m.orgs.expect_get_org().returning(|id| Ok(Some(organization(id))));
    m.users.expect_find_login().returning(|e| Ok(accounts.contains(&e.as_str()).then(|| account(e.as_str()))));
    let letters = Arc::new(Mutex::new(Vec::new()));
    let seen = letters.clone();
    m.org_invitations.expect_create().returning(move |inv, effects| {
        let mail = &effects.mails[0];
        assert_eq!(mail.template, MailTemplate::OrgInvitation);
        seen.lock().unwrap().push(subject_of(mail));
        Ok(OrgInvitation {
            id: inv.id,
            org_id: inv.org_id,
            email: inv.email.as_str().into(),
            role: "member".into(),
            location_id: inv.location_id,
            invited_by: inv.invited_by,
            status: InvitationStatus::Pending,
            created_at: inv.now,
            expires_at: inv.expires_at,
            accepted_at: None,
        })
    });
    (m, p, letters)
}

#[tokio::test]
async fn the_inviter_cannot_tell_an_existing_account_from_a_new_address() {
    let org = Uuid::now_v7();
    let (m, p, letters) = inviter(org, &["known@example.com"]);
    let s = m.services(AuthPolicy::default());
    let known = s.org_invitations.invite(&p, org, input("known@example.com", None), &meta()).await.unwrap();
    let new = s.org_invitations.invite(&p, org, input("new@example.com", None), &meta()).await.unwrap();
    let shape = |i: &OrgInvitation| {
        let mut v = serde_json::to_value(i).unwrap();
        for k in ["id", "email", "created_at", "expires_at"] {
            v[k] = serde_json::Value::Null;
        }
        v
    };
    assert_eq!(shape(&known), shape(&new));
    assert_eq!(known.invited_by, p.user_id());
    // Both got a letter with a link.
    assert_eq!(letters.lock().unwrap().len(), 2);
    assert!(letters.lock().unwrap().iter().all(|s| s.starts_with("org_invitation ") && !s.ends_with(" -")));
}

#[tokio::test]
async fn inviting_takes_members_manage_the_role_and_lists_every_bad_field() {
    let org = Uuid::now_v7();
    let (mut m, p, _) = inviter(org, &[]);
    m.locations.expect_get_location().returning(|_, _| Ok(None));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(
        s.org_invitations.invite(&p, Uuid::now_v7(), input("a@example.com", None), &meta()).await,
        Err(Error::NotFound("organization"))
    ));
    assert!(matches!(
        s.org_invitations.invite(&p, org, input("a@example.com", Some("owner")), &meta()).await,
        Err(Error::Forbidden(_))
    ));
    let bad = OrgInviteInput {
        email: "nope".into(),
        role: None,
        location_id: Some(Uuid::now_v7()),
        locale: Some("not a locale".into()),
    };
    match s.org_invitations.invite(&p, org, bad, &meta()).await {
        Err(Error::Validation(e)) => {
            assert_eq!(e.fields().collect::<Vec<_>>(), vec!["email", "locale", "location_id"])
        }
        other => panic!("unexpected {other:?}"),
    }

    let (mut m, member) = caller(org, "member", &[]);
    m.org_invitations.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let r = s.org_invitations.invite(&member, org, input("a@example.com", None), &meta()).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::MembersManage)))));
}

fn ticket(org: Uuid, email: &str) -> OrgInvitationTicket {
    OrgInvitationTicket {
        id: Uuid::now_v7(),
        org_id: org,
        email: email.into(),
        role_id: Uuid::now_v7(),
        location_id: None,
        used_at: None,
        closed_at: None,
        expires_at: now() + Duration::days(1),
    }
}

fn accept_input(token: &str, password: Option<&str>) -> AcceptOrgInvitationInput {
    AcceptOrgInvitationInput { token: token.into(), password: password.map(String::from), name: None }
}

#[tokio::test]
async fn an_existing_account_joins_without_touching_its_password() {
    let org = Uuid::now_v7();
    let token = OneTimeToken::generate();
    let mut m = Mocks::new();
    m.org_invitations.expect_find().returning(move |_| Ok(Some(ticket(org, "known@example.com"))));
    m.users.expect_find_login().returning(|e| Ok(Some(account(e.as_str()))));
    m.hasher.expect_hash().never();
    m.sessions.expect_create().never();
    let joined = Uuid::now_v7();
    m.org_invitations
        .expect_accept()
        .withf(|_, a, _| matches!(a, Acceptance::Join))
        .times(1)
        .returning(move |_, _, _| Ok(AcceptOutcome::Joined { user_id: joined }));
    let s = m.services(AuthPolicy::default());
    let r = s.org_invitations.accept(accept_input(token.expose(), Some("ignored entirely")), meta()).await;
    assert!(matches!(r, Ok(OrgAccepted::Joined { org_id, user_id }) if org_id == org && user_id == joined));
}

#[tokio::test]
async fn a_new_address_chooses_a_password_and_is_signed_in_verified() {
    let org = Uuid::now_v7();
    let token = OneTimeToken::generate();
    let mut m = Mocks::new();
    m.org_invitations.expect_find().returning(move |_| Ok(Some(ticket(org, "new@example.com"))));
    let created = Arc::new(Mutex::new(false));
    let c = created.clone();
    m.users.expect_find_login().returning(move |e| Ok((*c.lock().unwrap()).then(|| account(e.as_str()))));
    m.hasher.expect_hash().returning(|_| Ok("$new".into()));
    // No password policy of its own: the platform's.
    m.orgs.expect_get_org().returning(|id| Ok(Some(organization(id))));
    let c = created.clone();
    m.org_invitations.expect_accept().returning(move |_, a, _| match a {
        Acceptance::Create(r) => {
            assert!(r.email_verified && r.status == UserStatus::Active && r.password_hash.as_deref() == Some("$new"));
            // The inviting organization manages the new account.
            assert_eq!(r.membership.managed_by(), org);
            *c.lock().unwrap() = true;
            Ok(AcceptOutcome::Joined { user_id: r.id })
        }
        Acceptance::Join => panic!("no account to join"),
    });
    m.sessions.expect_create().times(1).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    match s.org_invitations.accept(accept_input(token.expose(), None), meta()).await {
        Err(Error::Validation(e)) => assert!(e.get("password").is_some()),
        other => panic!("unexpected {other:?}"),
    }
    let r = s.org_invitations.accept(accept_input(token.expose(), Some("a long enough password")), meta()).await;
    assert!(matches!(r, Ok(OrgAccepted::Created { org_id, .. }) if org_id == org), "{r:?}");
}

#[tokio::test]
async fn used_closed_and_expired_tokens_are_gone() {
    let org = Uuid::now_v7();
    let token = OneTimeToken::generate();
    for (t, state) in [
        (OrgInvitationTicket { used_at: Some(now()), ..ticket(org, "a@example.com") }, TokenState::Used),
        (OrgInvitationTicket { closed_at: Some(now()), ..ticket(org, "a@example.com") }, TokenState::Superseded),
        (OrgInvitationTicket { expires_at: now(), ..ticket(org, "a@example.com") }, TokenState::Expired),
    ] {
        let mut m = Mocks::new();
        m.org_invitations.expect_find().returning(move |_| Ok(Some(t.clone())));
        m.org_invitations.expect_accept().never();
        let s = m.services(AuthPolicy::default());
        let r = s.org_invitations.accept(accept_input(token.expose(), Some("a long enough password")), meta()).await;
        assert!(matches!(r, Err(Error::TokenGone(s)) if s == state), "{r:?}");
    }
    let mut m = Mocks::new();
    m.org_invitations.expect_find().returning(|_| Ok(None));
    let s = m.services(AuthPolicy::default());
    let r = s.org_invitations.accept(accept_input(token.expose(), None), meta()).await;
    assert!(matches!(r, Err(Error::InvalidToken)));
    let r = s.org_invitations.accept(accept_input("garbage", None), meta()).await;
    assert!(matches!(r, Err(Error::InvalidToken)));
}
