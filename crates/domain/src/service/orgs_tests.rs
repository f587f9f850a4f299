use chrono::Utc;
use uuid::Uuid;

use super::*;
use crate::{
    org::{AddMemberInput, Member, MemberOutcome, MemberPatch, Role},
    service::test_support::*,
    Patch,
};

fn role(org: Uuid, name: &str, permissions: &[&str], requires_location: bool) -> Role {
    Role {
        id: Uuid::now_v7(),
        org_id: org,
        name: name.into(),
        title: None,
        description: None,
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        builtin: matches!(name, "owner" | "admin" | "member"),
        requires_location,
        created_at: Utc::now(),
    }
}

fn member(org: Uuid, user: Uuid, role: &str) -> Member {
    Member {
        org_id: org,
        user_id: user,
        role: role.into(),
        location_id: None,
        extra_permissions: vec![],
        active: true,
        created_at: Utc::now(),
    }
}

#[tokio::test]
async fn strangers_get_not_found_everywhere_in_an_organization() {
    let org = Uuid::now_v7();
    let (m, p) = caller(Uuid::now_v7(), "owner", &["roles:manage", "locations:manage", "members:manage"]);
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.orgs.get(&p, org).await, Err(Error::NotFound("organization"))));
    assert!(matches!(s.roles.list(&p, org).await, Err(Error::NotFound(_))));
    assert!(matches!(s.locations.list(&p, org, None, 1, 20).await, Err(Error::NotFound(_))));
    assert!(matches!(s.members.remove(&p, org, Uuid::now_v7()).await, Err(Error::NotFound(_))));
    assert!(matches!(s.roles.delete_permission(&p, org, "beacons:toggle").await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn only_superadmins_create_and_delete_organizations_and_never_the_default() {
    let (m, p) = caller(crate::DEFAULT_ORG_ID, "owner", &["org:manage"]);
    let s = m.services(AuthPolicy::default());
    let input = crate::org::NewOrgInput { name: "Acme".into(), slug: "acme".into(), owner_id: None };
    assert!(matches!(s.orgs.create(&p, input).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.orgs.delete(&p, crate::DEFAULT_ORG_ID).await, Err(Error::Forbidden(_))));

    let mut root = user("root@example.com", "owner");
    root.is_superadmin = true;
    let root = principal(root, vec![]);
    let mut m = Mocks::new();
    m.members.expect_membership().returning(|_, _| Ok(None));
    m.orgs.expect_get_org().returning(|_| Ok(None));
    m.orgs.expect_delete_org().never();
    m.users.expect_get().returning(|_| Ok(None));
    let s = m.services(AuthPolicy::default());
    assert!(matches!(s.orgs.delete(&root, Uuid::now_v7()).await, Err(Error::NotFound(_))));
    let input = crate::org::NewOrgInput { name: "Acme".into(), slug: "acme".into(), owner_id: Some(Uuid::now_v7()) };
    match s.orgs.create(&root, input).await {
        Err(Error::Validation(e)) => assert!(e.get("owner_id").is_some()),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn roles_grant_only_known_permissions_the_caller_holds() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller(org, "admin", &["roles:manage", "users:read"]);
    m.roles.expect_create_role().never();
    let s = m.services(AuthPolicy::default());
    let input = |perms: &[&str]| crate::org::NewRoleInput {
        name: "front-desk".into(),
        title: None,
        description: None,
        permissions: perms.iter().map(|p| p.to_string()).collect(),
        requires_location: true,
    };
    match s.roles.create(&p, org, input(&["users:read", "beacons:toggle"])).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), vec!["permissions[1]"]),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(s.roles.create(&p, org, input(&["users:delete"])).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn built_in_roles_keep_their_names_and_owner_keeps_everything() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller(org, "owner", &["roles:manage"]);
    let owner = role(org, "owner", &[], false);
    let admin = role(org, "admin", &[], false);
    let (owner_id, admin_id) = (owner.id, admin.id);
    m.roles
        .expect_get_role()
        .returning(move |_, id| Ok(Some(if id == owner_id { owner.clone() } else { admin.clone() })));
    m.roles.expect_update_role().never();
    m.roles.expect_delete_role().never();
    let s = m.services(AuthPolicy::default());
    let rename = crate::org::RolePatch { name: Some("boss".into()), ..Default::default() };
    assert!(matches!(s.roles.update(&p, org, admin_id, rename).await, Err(Error::InvalidState(_))));
    let strip = crate::org::RolePatch { permissions: Some(vec![]), ..Default::default() };
    assert!(matches!(s.roles.update(&p, org, owner_id, strip).await, Err(Error::InvalidState(_))));
    assert!(matches!(s.roles.delete(&p, org, admin_id).await, Err(Error::InvalidState(_))));
}

#[tokio::test]
async fn location_bound_roles_need_a_location_of_the_same_organization() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller_with(org, "owner", &["members:manage"], vec!["users:write".into()]);
    m.users.expect_get().returning(|id| {
        let mut u = user("x@example.com", "member");
        u.id = id;
        Ok(Some(u))
    });
    m.roles.expect_role_by_name().returning(move |o, n| Ok((n == "venue").then(|| role(o, "venue", &[], true))));
    m.locations.expect_get_location().returning(|_, _| Ok(None));
    m.members.expect_add_member().never();
    let s = m.services(AuthPolicy::default());
    let add =
        |role: &str, location_id| AddMemberInput { user_id: Uuid::now_v7(), role: Some(role.into()), location_id };
    for (input, field) in [
        (add("venue", None), "location_id"),
        (add("venue", Some(Uuid::now_v7())), "location_id"),
        (add("nope", None), "role"),
    ] {
        match s.members.add(&p, org, input).await {
            Err(Error::Validation(e)) => assert!(e.get(field).is_some(), "{field}: {e:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn admins_make_no_owners_touch_no_owners_and_never_change_their_own_role() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller(org, "admin", &["members:manage", "users:read"]);
    let me = p.user_id().unwrap();
    let owner_id = Uuid::now_v7();
    let other = Uuid::now_v7();
    m.users.expect_get().returning(|id| {
        let mut u = user("x@example.com", "member");
        u.id = id;
        Ok(Some(u))
    });
    m.roles.expect_role_by_name().returning(|o, n| Ok(Some(role(o, n, &[], false))));
    m.members.expect_get_member().returning(move |o, u| {
        Ok(Some(member(
            o,
            u,
            if u == owner_id {
                "owner"
            } else if u == me {
                "admin"
            } else {
                "member"
            },
        )))
    });
    m.members.expect_update_member().never();
    m.members.expect_remove_member().never();
    m.members.expect_add_member().never();
    let s = m.services(AuthPolicy::default());
    let make_owner = AddMemberInput { user_id: other, role: Some("owner".into()), location_id: None };
    assert!(matches!(s.members.add(&p, org, make_owner).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.members.remove(&p, org, owner_id).await, Err(Error::Forbidden(_))));
    let promote = MemberPatch { role: Some("owner".into()), location_id: Patch::Keep };
    assert!(matches!(s.members.update(&p, org, me, promote.clone()).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.members.update(&p, org, other, promote).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn the_last_owner_stays() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller(org, "owner", &["members:manage"]);
    m.members.expect_get_member().returning(|o, u| Ok(Some(member(o, u, "owner"))));
    m.members.expect_remove_member().returning(|_, _| Ok(MemberOutcome::LastOwner));
    let s = m.services(AuthPolicy::default());
    match s.members.remove(&p, org, Uuid::now_v7()).await {
        Err(Error::Forbidden(Refusal::LastOwner)) => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn an_organizations_own_admins_cannot_pull_in_users_by_id() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller(org, "owner", &["members:manage"]);
    m.users.expect_get().never();
    m.members.expect_add_member().never();
    let s = m.services(AuthPolicy::default());
    let input = AddMemberInput { user_id: Uuid::now_v7(), role: None, location_id: None };
    assert!(matches!(s.members.add(&p, org, input).await, Err(Error::Forbidden(_))));
}
