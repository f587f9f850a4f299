//! Members of an organization in `PgMemberRepository`: adding, changing and
//! removing them, their effective permissions, the composite foreign keys
//! that keep their role and location in their organization, and the last
//! owner rule, also under concurrency.

#![allow(clippy::unwrap_used)]

use crate::common::{at, location, member, new_role, org, role, setup, strings};
use roster_domain::org::{MemberChange, MemberOutcome};
use roster_domain::ports::{LocationRepository, MemberRepository, RoleRepository};
use roster_domain::{Conflict, RepoError};
use uuid::Uuid;

#[tokio::test]
async fn add_get_update_and_remove_members() {
    let ctx = setup().await;
    let boss = member(&ctx, "boss@example.com", None, at(0)).await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", Some(boss.id)).await;
    let member_role = role(&ctx, acme.id, "member").await;
    let added = ctx.members.add_member(acme.id, ada.id, member_role.id, None, at(2)).await.unwrap();
    assert_eq!((added.org_id, added.user_id, added.role.as_str()), (acme.id, ada.id, "member"));
    assert_eq!((added.location_id, added.extra_permissions.len(), added.created_at), (None, 0, at(2)));
    assert_eq!(ctx.members.get_member(acme.id, ada.id).await.unwrap(), Some(added.clone()));
    let again = ctx.members.add_member(acme.id, ada.id, member_role.id, None, at(3)).await;
    assert_eq!(again, Err(RepoError::Conflict(Conflict::AlreadyMember)));

    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();
    let bar = ctx.roles.create_role(&new_role(acme.id, "bartender", &["bar:serve"])).await.unwrap();
    let change = MemberChange {
        role_id: Some(bar.id),
        location_id: Some(Some(hq.id)),
        extra_permissions: Some(strings(&["metrics:view", "beacons:toggle"])),
    };
    let MemberOutcome::Done(changed) = ctx.members.update_member(acme.id, ada.id, &change).await.unwrap() else {
        panic!("not changed")
    };
    assert_eq!((changed.role.as_str(), changed.location_id), ("bartender", Some(hq.id)));
    assert_eq!(changed.extra_permissions, strings(&["metrics:view", "beacons:toggle"]));
    assert_eq!(changed.created_at, at(2));

    // Nothing asked, nothing changed; then the location is cleared and the
    // extras replaced, the role left alone.
    let same = ctx.members.update_member(acme.id, ada.id, &MemberChange::default()).await.unwrap();
    assert_eq!(same, MemberOutcome::Done(changed.clone()));
    let clear = MemberChange {
        location_id: Some(None),
        extra_permissions: Some(strings(&["alarms:arm"])),
        ..MemberChange::default()
    };
    let MemberOutcome::Done(cleared) = ctx.members.update_member(acme.id, ada.id, &clear).await.unwrap() else {
        panic!("not changed")
    };
    assert_eq!((cleared.role.as_str(), cleared.location_id), ("bartender", None));
    assert_eq!(cleared.extra_permissions, strings(&["alarms:arm"]));

    assert_eq!(ctx.members.remove_member(acme.id, ada.id).await.unwrap(), MemberOutcome::Done(()));
    assert_eq!(ctx.members.get_member(acme.id, ada.id).await.unwrap(), None);
    assert_eq!(ctx.members.remove_member(acme.id, ada.id).await.unwrap(), MemberOutcome::NotFound);
    assert_eq!(ctx.members.update_member(acme.id, ada.id, &change).await.unwrap(), MemberOutcome::NotFound);
    assert_eq!(ctx.members.get_member(acme.id, Uuid::now_v7()).await.unwrap(), None);
    // Her default-organization membership is untouched.
    assert!(ctx.members.get_member(roster_domain::DEFAULT_ORG_ID, ada.id).await.unwrap().is_some());
}

#[tokio::test]
async fn membership_is_the_role_and_the_extras() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let desk = ctx.roles.create_role(&new_role(acme.id, "desk", &["users:read", "beacons:toggle"])).await.unwrap();
    ctx.members.add_member(acme.id, ada.id, desk.id, None, at(1)).await.unwrap();
    let extras =
        MemberChange { extra_permissions: Some(strings(&["users:read", "metrics:view"])), ..Default::default() };
    ctx.members.update_member(acme.id, ada.id, &extras).await.unwrap();

    let m = ctx.members.membership(acme.id, ada.id).await.unwrap().unwrap();
    assert_eq!((m.org_id, m.user_id, m.role.as_str()), (acme.id, ada.id, "desk"));
    assert_eq!(m.permissions, strings(&["beacons:toggle", "metrics:view", "users:read"]));
    assert!(m.has("metrics:view") && !m.has("users:write"));
    // Only the membership of that organization counts.
    let d = ctx.members.membership(roster_domain::DEFAULT_ORG_ID, ada.id).await.unwrap().unwrap();
    assert_eq!((d.role.as_str(), d.permissions.len()), ("member", 0));
    assert_eq!(ctx.members.membership(acme.id, Uuid::now_v7()).await.unwrap(), None);
    assert_eq!(ctx.members.membership(Uuid::now_v7(), ada.id).await.unwrap(), None);
}

/// The composite foreign keys refuse a role or location of another
/// organization. That is a broken invariant (the domain looks both up in
/// the organization first), so `error.rs` reports it as `Internal`.
#[tokio::test]
async fn roles_and_locations_of_another_org_are_refused() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let acme_member = role(&ctx, acme.id, "member").await;
    let globex_owner = role(&ctx, globex.id, "owner").await;
    let globex_hq = ctx.locations.create_location(&location(globex.id, "Globex HQ", &[], 1)).await.unwrap();

    let r = ctx.members.add_member(acme.id, ada.id, globex_owner.id, None, at(2)).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    let r = ctx.members.add_member(acme.id, ada.id, acme_member.id, Some(globex_hq.id), at(2)).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    assert_eq!(ctx.members.get_member(acme.id, ada.id).await.unwrap(), None);

    let added = ctx.members.add_member(acme.id, ada.id, acme_member.id, None, at(2)).await.unwrap();
    let to_role = MemberChange { role_id: Some(globex_owner.id), ..MemberChange::default() };
    let r = ctx.members.update_member(acme.id, ada.id, &to_role).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    let to_location = MemberChange { location_id: Some(Some(globex_hq.id)), ..MemberChange::default() };
    let r = ctx.members.update_member(acme.id, ada.id, &to_location).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    let unknown = MemberChange { role_id: Some(Uuid::now_v7()), ..MemberChange::default() };
    let r = ctx.members.update_member(acme.id, ada.id, &unknown).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    assert_eq!(ctx.members.get_member(acme.id, ada.id).await.unwrap(), Some(added));
}

#[tokio::test]
async fn the_last_owner_stays() {
    let ctx = setup().await;
    let boss = member(&ctx, "boss@example.com", None, at(0)).await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", Some(boss.id)).await;
    let owner = role(&ctx, acme.id, "owner").await;
    let admin = role(&ctx, acme.id, "admin").await;
    let before = ctx.members.get_member(acme.id, boss.id).await.unwrap().unwrap();

    let demote = MemberChange { role_id: Some(admin.id), ..MemberChange::default() };
    assert_eq!(ctx.members.update_member(acme.id, boss.id, &demote).await.unwrap(), MemberOutcome::LastOwner);
    let demote_and_more = MemberChange {
        role_id: Some(admin.id),
        location_id: Some(None),
        extra_permissions: Some(strings(&["beacons:toggle"])),
    };
    assert_eq!(ctx.members.update_member(acme.id, boss.id, &demote_and_more).await.unwrap(), MemberOutcome::LastOwner);
    assert_eq!(ctx.members.remove_member(acme.id, boss.id).await.unwrap(), MemberOutcome::LastOwner);
    assert_eq!(ctx.members.get_member(acme.id, boss.id).await.unwrap(), Some(before));

    // Staying owner is fine, and so is changing anything but the role.
    let stay =
        MemberChange { role_id: Some(owner.id), extra_permissions: Some(strings(&["a:b"])), ..Default::default() };
    let MemberOutcome::Done(stayed) = ctx.members.update_member(acme.id, boss.id, &stay).await.unwrap() else {
        panic!("refused")
    };
    assert_eq!((stayed.role.as_str(), stayed.extra_permissions.clone()), ("owner", strings(&["a:b"])));

    // With a second owner either may go, but not both.
    ctx.members.add_member(acme.id, ada.id, owner.id, None, at(1)).await.unwrap();
    assert!(matches!(ctx.members.update_member(acme.id, boss.id, &demote).await.unwrap(), MemberOutcome::Done(_)));
    assert_eq!(ctx.members.remove_member(acme.id, ada.id).await.unwrap(), MemberOutcome::LastOwner);
    assert_eq!(ctx.members.update_member(acme.id, ada.id, &demote).await.unwrap(), MemberOutcome::LastOwner);
    // Non-owners come and go.
    assert_eq!(ctx.members.remove_member(acme.id, boss.id).await.unwrap(), MemberOutcome::Done(()));
    assert_eq!(ctx.members.get_member(acme.id, ada.id).await.unwrap().unwrap().role, "owner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_demotions_of_the_last_two_owners_leave_one() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    for round in 0..8 {
        let acme = org(&ctx, &format!("acme-{round}"), Some(ada.id)).await;
        let owner = role(&ctx, acme.id, "owner").await;
        let member_role = role(&ctx, acme.id, "member").await;
        ctx.members.add_member(acme.id, bob.id, owner.id, None, at(1)).await.unwrap();

        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let demote = MemberChange { role_id: Some(member_role.id), ..MemberChange::default() };
        let tasks: Vec<_> = [ada.id, bob.id]
            .into_iter()
            .map(|user| {
                let (repo, barrier, demote) = (ctx.members.clone(), barrier.clone(), demote.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    repo.update_member(acme.id, user, &demote).await.unwrap()
                })
            })
            .collect();
        let mut done = 0;
        let mut last = 0;
        for t in tasks {
            match t.await.unwrap() {
                MemberOutcome::Done(m) => {
                    assert_eq!(m.role, "member");
                    done += 1;
                }
                MemberOutcome::LastOwner => last += 1,
                MemberOutcome::NotFound => panic!("member vanished"),
            }
        }
        assert_eq!((done, last), (1, 1), "round {round}");
        let mut roles = Vec::new();
        for user in [ada.id, bob.id] {
            roles.push(ctx.members.get_member(acme.id, user).await.unwrap().unwrap().role);
        }
        roles.sort();
        assert_eq!(roles, ["member", "owner"], "round {round}");
    }
}
