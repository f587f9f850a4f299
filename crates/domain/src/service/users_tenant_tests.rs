//! `/users` in an organization's session or with its API key: its members,
//! the accounts it manages, and nobody else.

use mockall::predicate::*;

use super::*;
use crate::{
    mail::MailTemplate,
    org::{Location, Member, MemberOutcome, Role},
    service::test_support::*,
    user::{MembershipView, UserPatchInput, UserReplaceInput},
    values::PasswordPolicy,
};

const FRONT_DESK: &str = "front-desk";

/// An administrator of organization `org` (its `admin`, holding `users:*`).
fn tenant_admin(org: Uuid) -> Principal {
    let mut p = principal(user("venue-admin@example.com", "member"), admin_perms());
    p.org_id = org;
    p.role = Some("admin".into());
    p
}

fn role(org: Uuid, name: &str, permissions: Vec<String>, requires_location: bool) -> Role {
    Role {
        id: Uuid::now_v7(),
        org_id: org,
        name: name.into(),
        title: Some("Front Desk".into()),
        description: None,
        permissions,
        builtin: name != FRONT_DESK,
        requires_location,
        created_at: now(),
    }
}

/// `u` as organization `org` sees them: a member, managed there or not.
fn in_org(mut u: User, org: Uuid, managed_by: Uuid) -> User {
    u.managed_by = Some(managed_by);
    u.membership = Some(MembershipView {
        org_id: org,
        org_name: "Venue Co".into(),
        role_name: "Member".into(),
        location_id: None,
        location_name: None,
        membership_active: true,
        managed: managed_by == org,
    });
    u
}

/// Roles `member` and `front-desk` (which requires a location) in `org`,
/// and one location there.
fn venue_org(m: &mut Mocks, org: Uuid, venue: Uuid) {
    m.roles.expect_role_by_name().returning(move |o, name| {
        Ok((o == org)
            .then(|| role(o, name, vec![], name == FRONT_DESK))
            .filter(|r| r.name == "member" || r.name == FRONT_DESK || r.name == "admin"))
    });
    m.locations.expect_get_location().returning(move |o, id| {
        Ok((o == org && id == venue).then(|| Location {
            id,
            org_id: o,
            name: "Hall".into(),
            timezone: "UTC".into(),
            keywords: vec![],
            created_at: now(),
            updated_at: now(),
        }))
    });
}

#[tokio::test]
async fn an_organization_creates_an_account_it_manages_and_a_membership_with_every_bad_field_at_once() {
    let (org, venue) = (Uuid::now_v7(), Uuid::now_v7());
    let mut m = Mocks::new();
    venue_org(&mut m, org, venue);
    // Its own password policy: 8–30 bytes with every class (seed 002).
    let policy = PasswordPolicy {
        min_length: 8,
        max_length: 30,
        require_digit: true,
        require_symbol: true,
        require_upper: true,
        require_lower: true,
    };
    m.orgs.expect_get_org().returning(move |id| {
        Ok(Some(crate::org::Organization {
            id,
            slug: "venue".into(),
            name: "Venue Co".into(),
            is_default: false,
            password_policy: Some(policy.clone()),
            created_at: now(),
            updated_at: now(),
        }))
    });
    m.hasher.expect_hash().returning(|_| Ok("$h".into()));
    m.users
        .expect_create()
        .withf(move |rec, _| {
            matches!(rec.membership, NewMembership::Org { org_id, location_id: Some(l), .. } if org_id == org && l == venue)
        })
        .times(1)
        .returning(|rec, _| {
            let mut u = user(rec.email.as_str(), "member");
            u.id = rec.id;
            Ok(u)
        });
    m.users.expect_get_in().returning(move |o, id| {
        let mut u = in_org(user("desk@example.com", FRONT_DESK), o, org);
        u.id = id;
        Ok(Some(u))
    });
    let s = m.services(AuthPolicy::default());
    let admin = tenant_admin(org);

    // A role that needs a location without one, a weak password that does
    // not match its confirmation, and a bad address: one 422.
    let input: NewUserInput = serde_json::from_value(serde_json::json!({
        "email": "not an address", "password": "weak", "password_confirmation": "other", "role": FRONT_DESK
    }))
    .unwrap();
    match s.users.create(&admin, input, &meta()).await {
        Err(Error::Validation(e)) => {
            assert_eq!(e.fields().collect::<Vec<_>>(), ["email", "location_id", "password", "password_confirmation"])
        }
        other => panic!("unexpected {other:?}"),
    }
    let input: NewUserInput = serde_json::from_value(serde_json::json!({
        "email": "desk@example.com", "password": "Str0ng&Fine", "password_confirmation": "Str0ng&Fine",
        "role": FRONT_DESK, "location_id": venue
    }))
    .unwrap();
    let created = s.users.create(&admin, input, &meta()).await.unwrap();
    // The organization's view: the membership, not who else manages what.
    assert!(created.membership.is_some_and(|m| m.managed && m.org_id == org));
    assert_eq!(created.managed_by, None);
}

#[tokio::test]
async fn an_organization_does_not_mark_addresses_verified_nor_give_roles_above_its_own() {
    let (org, venue) = (Uuid::now_v7(), Uuid::now_v7());
    let mut m = Mocks::new();
    venue_org(&mut m, org, venue);
    m.orgs.expect_get_org().returning(|_| Ok(None));
    m.users.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let input: NewUserInput = serde_json::from_value(serde_json::json!({
        "email": "n@example.com", "password": "long enough", "email_verified": true
    }))
    .unwrap();
    match s.users.create(&tenant_admin(org), input, &meta()).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), ["email_verified"]),
        other => panic!("unexpected {other:?}"),
    }
    // A users:* key of the organization cannot make an admin (more than users:*).
    let mut m = Mocks::new();
    m.roles.expect_role_by_name().returning(|o, name| {
        let permissions = if name == "admin" { vec!["members:manage".into()] } else { vec![] };
        Ok(Some(role(o, name, permissions, false)))
    });
    m.users.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let key = crate::org::ApiKey {
        id: Uuid::now_v7(),
        org_id: org,
        name: "front-desk-app".into(),
        prefix: "rsk_abcdefgh".into(),
        permissions: admin_perms(),
        created_by: None,
        created_at: now(),
        last_used_at: None,
        expires_at: None,
    };
    let input: NewUserInput = serde_json::from_value(
        serde_json::json!({"email": "n@example.com", "password": "long enough", "role": "admin"}),
    )
    .unwrap();
    assert!(matches!(
        s.users.create(&key.principal(), input, &meta()).await,
        Err(Error::Forbidden(Refusal::GrantBeyondOwn))
    ));
}

#[tokio::test]
async fn a_taken_address_is_told_to_an_organization_a_rationed_number_of_times() {
    let org = Uuid::now_v7();
    let mut m = Mocks::new();
    venue_org(&mut m, org, Uuid::now_v7());
    m.orgs.expect_get_org().returning(|_| Ok(None));
    m.hasher.expect_hash().returning(|_| Ok("$h".into()));
    m.users.expect_create().returning(|_, _| Err(crate::RepoError::Conflict(Conflict::EmailTaken)));
    // Counted per organization (and client); the third answer is over a limit of two.
    let key = "email-taken:addr:";
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let h = hits.clone();
    m.rate_limits.expect_hit().returning(move |k, _| {
        Ok(if k.starts_with(key) { h.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 } else { 1 })
    });
    let mut policy = AuthPolicy::default();
    policy.accounts.limits.email_taken.per_address = 2;
    let s = m.services(policy);
    let input = || -> NewUserInput {
        serde_json::from_value(serde_json::json!({"email": "taken@example.com", "password": "long enough"})).unwrap()
    };
    let admin = tenant_admin(org);
    for _ in 0..2 {
        assert!(matches!(s.users.create(&admin, input(), &meta()).await, Err(Error::Conflict(Conflict::EmailTaken))));
    }
    assert!(matches!(s.users.create(&admin, input(), &meta()).await, Err(Error::RateLimited { .. })));
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn of_a_member_it_does_not_manage_an_organization_changes_only_the_membership() {
    let org = Uuid::now_v7();
    let target = in_org(user("guest@example.com", "member"), org, crate::DEFAULT_ORG_ID);
    let id = target.id;
    let mut m = Mocks::new();
    venue_org(&mut m, org, Uuid::now_v7());
    let t = target.clone();
    m.users.expect_get_in().with(eq(org), eq(id)).returning(move |_, _| Ok(Some(t.clone())));
    m.members.expect_get_member().returning(move |o, u| {
        Ok(Some(Member {
            org_id: o,
            user_id: u,
            role: "member".into(),
            location_id: None,
            extra_permissions: vec![],
            active: true,
            created_at: now(),
        }))
    });
    m.users.expect_set_status().never();
    m.users.expect_delete().never();
    m.accounts.expect_issue().never();
    let t = target.clone();
    m.users
        .expect_update_in()
        .withf(move |o, _, changes, member, _, _| {
            *o == org && changes.is_empty() && member.as_ref().is_some_and(|c| c.role_id.is_some())
        })
        .times(1)
        .returning(move |_, _, _, _, _, _| Ok(MemberOutcome::Done(t.clone())));
    let s = m.services(AuthPolicy::default());
    let admin = tenant_admin(org);
    let patch = |v: serde_json::Value| -> UserPatchInput { serde_json::from_value(v).unwrap() };
    let not_managed = |r: Result<User, Error>| matches!(r, Err(Error::Forbidden(Refusal::NotManaged)));
    assert!(not_managed(s.users.patch(&admin, id, patch(serde_json::json!({"name": "Renamed"}))).await));
    let put: UserReplaceInput = serde_json::from_value(serde_json::json!({"email": "guest@example.com"})).unwrap();
    assert!(not_managed(s.users.replace(&admin, id, put).await));
    assert!(not_managed(s.users.set_status(&admin, id, UserStatus::Banned).await));
    assert!(matches!(s.users.delete(&admin, id).await, Err(Error::Forbidden(Refusal::NotManaged))));
    assert!(matches!(s.users.send_password_reset(&admin, id).await, Err(Error::Forbidden(Refusal::NotManaged))));
    // Its role there still changes.
    let moved = s.users.patch(&admin, id, patch(serde_json::json!({"role": FRONT_DESK, "location_id": null}))).await;
    assert!(matches!(moved, Err(Error::Validation(ref e)) if e.get("location_id").is_some()), "{moved:?}");
    let promoted = s.users.patch(&admin, id, patch(serde_json::json!({"role": "admin"}))).await.unwrap();
    assert_eq!(promoted.managed_by, None);
}

#[tokio::test]
async fn an_organization_edits_an_account_it_manages_and_a_new_address_gets_a_link() {
    let org = Uuid::now_v7();
    let target = in_org(user("desk@example.com", "member"), org, org);
    let id = target.id;
    let mut m = Mocks::new();
    let t = target.clone();
    m.users.expect_get_in().returning(move |_, _| Ok(Some(t.clone())));
    let t = target.clone();
    m.users
        .expect_update_in()
        .withf(|_, _, changes, member, effects, _| {
            member.is_none()
                && changes.email_verified == Some(false)
                && effects
                    .mails
                    .iter()
                    .any(|m| m.template == MailTemplate::VerifyEmail && m.to.as_str() == "new@example.com")
        })
        .times(1)
        .returning(move |_, _, _, _, _, _| Ok(MemberOutcome::Done(t.clone())));
    m.users.expect_update().never();
    let s = m.services(AuthPolicy::default());
    let input: UserPatchInput =
        serde_json::from_value(serde_json::json!({"email": "new@example.com", "locale": "da"})).unwrap();
    s.users.patch(&tenant_admin(org), id, input).await.unwrap();
}

#[tokio::test]
async fn anyone_outside_the_organization_is_not_found_and_the_platform_sees_who_manages_whom() {
    let org = Uuid::now_v7();
    let stranger = user("stranger@example.com", "member");
    let id = stranger.id;
    let mut m = Mocks::new();
    m.users.expect_get_in().returning(|_, _| Ok(None));
    let mut managed_elsewhere = stranger.clone();
    managed_elsewhere.managed_by = Some(org);
    m.users.expect_get().returning(move |_| Ok(Some(managed_elsewhere.clone())));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.users.get(&tenant_admin(org), id).await, Err(Error::NotFound("user"))));
    let platform = principal(user("admin@example.com", "admin"), admin_perms());
    assert_eq!(s.users.get(&platform, id).await.unwrap().managed_by, Some(org));
}

#[tokio::test]
async fn only_superadmins_hand_an_account_to_an_organization_it_belongs_to() {
    let (org, target) = (Uuid::now_v7(), user("moved@example.com", "member"));
    let id = target.id;
    let mut m = Mocks::new();
    m.users.expect_get().returning(move |_| Ok(Some(target.clone())));
    m.members.expect_get_member().returning(|_, _| Ok(None));
    m.users.expect_update().never();
    let s = m.services(AuthPolicy::default());
    let transfer = || -> UserPatchInput { serde_json::from_value(serde_json::json!({"managed_by": org})).unwrap() };
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    assert!(matches!(s.users.patch(&admin, id, transfer()).await, Err(Error::Forbidden(Refusal::SuperadminOnly))));
    let mut root = user("root@example.com", "owner");
    root.is_superadmin = true;
    match s.users.patch(&principal(root, vec![]), id, transfer()).await {
        Err(Error::Validation(e)) => assert!(e.get("managed_by").is_some()),
        other => panic!("unexpected {other:?}"),
    }
}
