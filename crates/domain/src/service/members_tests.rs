//! Activating and deactivating members: who may, on whom, and what the
//! store's answers become.

use chrono::Utc;
use mockall::predicate::eq;
use uuid::Uuid;

use super::*;
use crate::{org::Member, service::test_support::*};

fn member(org: Uuid, user: Uuid, role: &str, active: bool) -> Member {
    Member {
        org_id: org,
        user_id: user,
        role: role.into(),
        location_id: None,
        extra_permissions: vec![],
        active,
        created_at: Utc::now(),
    }
}

/// `get_member` answers `target` as a member with `role`, nobody else.
fn target_is(m: &mut Mocks, org: Uuid, target: Uuid, role: &'static str) {
    m.members
        .expect_get_member()
        .returning(move |o, u| Ok((o == org && u == target).then(|| member(o, u, role, true))));
}

#[tokio::test]
async fn an_admin_deactivates_and_reactivates_a_member_in_their_organization() {
    let (org, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let (mut m, p) = caller(org, "admin", &["members:manage"]);
    target_is(&mut m, org, bob, "member");
    m.members
        .expect_set_member_active()
        .with(eq(org), eq(bob), eq(false), eq(now()))
        .times(1)
        .returning(|o, u, active, _| Ok(MemberOutcome::Done(member(o, u, "member", active))));
    m.members
        .expect_set_member_active()
        .with(eq(org), eq(bob), eq(true), eq(now()))
        .times(1)
        .returning(|o, u, active, _| Ok(MemberOutcome::Done(member(o, u, "member", active))));
    let s = m.services(AuthPolicy::default());
    let off = s.members.deactivate(&p, org, bob).await.unwrap();
    assert_eq!((off.user_id, off.active), (bob, false));
    let on = s.members.activate(&p, org, bob).await.unwrap();
    assert_eq!((on.user_id, on.active), (bob, true));
}

#[tokio::test]
async fn without_members_manage_it_is_forbidden_and_strangers_see_nothing() {
    let (org, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let (mut m, p) = caller(org, "member", &["users:read"]);
    target_is(&mut m, org, bob, "member");
    m.members.expect_set_member_active().never();
    let s = m.services(AuthPolicy::default());
    assert!(matches!(
        s.members.deactivate(&p, org, bob).await,
        Err(Error::Forbidden(Refusal::MissingPermission(Permission::MembersManage)))
    ));
    assert!(matches!(
        s.members.activate(&p, org, bob).await,
        Err(Error::Forbidden(Refusal::MissingPermission(Permission::MembersManage)))
    ));
    // Another organization, where the caller is no member, does not exist.
    let other = Uuid::now_v7();
    assert!(matches!(s.members.deactivate(&p, other, bob).await, Err(Error::NotFound("organization"))));
}

#[tokio::test]
async fn nobody_deactivates_themselves_and_owners_are_left_to_owners() {
    let org = Uuid::now_v7();
    let (mut m, owner) = caller(org, "owner", &["members:manage"]);
    let me = owner.user_id().unwrap();
    target_is(&mut m, org, me, "owner");
    m.members.expect_set_member_active().never();
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.members.deactivate(&owner, org, me).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.members.activate(&owner, org, me).await, Err(Error::Forbidden(_))));

    let boss = Uuid::now_v7();
    let (mut m, admin) = caller(org, "admin", &["members:manage"]);
    target_is(&mut m, org, boss, "owner");
    m.members.expect_set_member_active().never();
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.members.deactivate(&admin, org, boss).await, Err(Error::Forbidden(Refusal::OwnerOnly))));
    // An unknown member is not found.
    assert!(matches!(s.members.deactivate(&admin, org, Uuid::now_v7()).await, Err(Error::NotFound("member"))));
}

#[tokio::test]
async fn the_last_active_owner_stays_and_a_vanished_member_is_not_found() {
    let (org, other_owner, gone) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (mut m, p) = caller(org, "owner", &["members:manage"]);
    m.members.expect_get_member().returning(|o, u| Ok(Some(member(o, u, "owner", true))));
    m.members
        .expect_set_member_active()
        .with(eq(org), eq(other_owner), eq(false), eq(now()))
        .returning(|_, _, _, _| Ok(MemberOutcome::LastOwner));
    m.members
        .expect_set_member_active()
        .with(eq(org), eq(gone), eq(false), eq(now()))
        .returning(|_, _, _, _| Ok(MemberOutcome::NotFound));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.members.deactivate(&p, org, other_owner).await, Err(Error::Forbidden(Refusal::LastOwner))));
    assert!(matches!(s.members.deactivate(&p, org, gone).await, Err(Error::NotFound("member"))));
}

#[tokio::test]
async fn the_default_organization_deactivates_users_not_members() {
    let (org, bob) = (crate::DEFAULT_ORG_ID, Uuid::now_v7());
    let (mut m, p) = caller(org, "admin", &["members:manage", "users:manage_status"]);
    target_is(&mut m, org, bob, "member");
    m.members.expect_set_member_active().never();
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.members.deactivate(&p, org, bob).await, Err(Error::InvalidState(_))));
    assert!(matches!(s.members.activate(&p, org, bob).await, Err(Error::InvalidState(_))));
}

#[tokio::test]
async fn a_superadmin_deactivates_anyone_else_but_not_themselves() {
    let (org, boss) = (Uuid::now_v7(), Uuid::now_v7());
    let mut root = user("root@example.com", "member");
    root.is_superadmin = true;
    let root = principal(root, vec![]);
    let me = root.user_id().unwrap();
    let mut m = Mocks::new();
    m.members.expect_membership().returning(move |o, u| Ok((u == me).then(|| membership(o, u, "owner", &[]))));
    m.orgs.expect_get_org().returning(|id| {
        Ok(Some(crate::org::Organization {
            id,
            slug: "acme".into(),
            name: "Acme".into(),
            is_default: false,
            password_policy: None,
            created_at: now(),
            updated_at: now(),
        }))
    });
    m.members.expect_get_member().returning(|o, u| Ok(Some(member(o, u, "owner", true))));
    m.members
        .expect_set_member_active()
        .with(eq(org), eq(boss), eq(false), eq(now()))
        .times(1)
        .returning(|o, u, active, _| Ok(MemberOutcome::Done(member(o, u, "owner", active))));
    let s = m.services(AuthPolicy::default());
    assert!(!s.members.deactivate(&root, org, boss).await.unwrap().active);
    assert!(matches!(s.members.deactivate(&root, org, me).await, Err(Error::Forbidden(_))));
}
