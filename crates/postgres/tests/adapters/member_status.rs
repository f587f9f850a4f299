//! Deactivating and activating members in `PgMemberRepository`: the membership
//! stays (listed, its role kept) but acts as none — no `membership`, no
//! session in that organization — while the user's sessions elsewhere and
//! their other memberships are untouched; the last active owner stays.

#![allow(clippy::unwrap_used)]

use crate::common::{at, hash, member, new_session, org, role, setup, Ctx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::org::{Member, MemberOutcome};
use roster_domain::ports::{
    MemberRepository, OrganizationRepository, RotateOutcome, Rotation, SessionRepository, UserRepository,
};
use roster_domain::user::{Paging, Scope, SortKey, UserFilter, UserListQuery, UserSortField, UserStatus};
use roster_domain::RepoError;
use roster_postgres::schema::sessions;
use uuid::Uuid;

async fn revoked_reason(ctx: &Ctx, session_id: Uuid) -> Option<String> {
    let mut c = ctx.pool.get().await.unwrap();
    sessions::table.find(session_id).select(sessions::revoked_reason).first(&mut c).await.unwrap()
}

/// Rotating refresh token `hash(from)` at `secs`, moving the session to `org`.
fn switch(from: u8, org: Uuid, secs: i64) -> Rotation {
    Rotation {
        presented: hash(from),
        successor: hash(from + 100),
        successor_expires_at: at(secs) + chrono::Duration::minutes(30),
        now: at(secs),
        grace: chrono::Duration::seconds(10),
        switch_org: Some(org),
    }
}

fn done(outcome: MemberOutcome<Member>) -> Member {
    match outcome {
        MemberOutcome::Done(m) => m,
        other => panic!("unexpected {other:?}"),
    }
}

/// The emails of the organization's members, as the directory lists them.
async fn listed(ctx: &Ctx, org: Uuid) -> Vec<String> {
    let q = UserListQuery {
        scope: Scope::Org(org),
        filter: UserFilter::default(),
        per_page: 100,
        sort: vec![SortKey { field: UserSortField::Email, descending: false }],
        paging: Paging::Offset { page: 1 },
        with_total: true,
    };
    ctx.users.list(&q).await.unwrap().items.into_iter().map(|u| u.email).collect()
}

#[tokio::test]
async fn a_deactivated_member_is_listed_but_no_member_until_activated() {
    let ctx = setup().await;
    let boss = member(&ctx, "boss@example.com", None, at(0)).await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", Some(boss.id)).await;
    let member_role = role(&ctx, acme.id, "member").await;
    let added = ctx.members.add_member(acme.id, ada.id, member_role.id, None, at(1)).await.unwrap();
    assert!(added.active);

    // Sessions of hers: two in acme, one in the default organization; and the boss's in acme.
    let mut in_acme = new_session(ada.id, 1, at(2));
    in_acme.org_id = acme.id;
    let mut also_in_acme = new_session(ada.id, 2, at(2));
    also_in_acme.org_id = acme.id;
    let at_home = new_session(ada.id, 3, at(2));
    let mut boss_in_acme = new_session(boss.id, 4, at(2));
    boss_in_acme.org_id = acme.id;
    for s in [&in_acme, &also_in_acme, &at_home, &boss_in_acme] {
        ctx.sessions.create(s).await.unwrap();
    }

    let off = done(ctx.members.set_member_active(acme.id, ada.id, false, at(3)).await.unwrap());
    assert_eq!((off.active, off.role.as_str(), off.created_at), (false, "member", at(1)));
    assert_eq!(ctx.members.get_member(acme.id, ada.id).await.unwrap(), Some(off.clone()));
    assert_eq!(ctx.members.membership(acme.id, ada.id).await.unwrap(), None);
    // Her sessions in acme are over, at once and for good.
    for s in [&in_acme, &also_in_acme] {
        assert_eq!(revoked_reason(&ctx, s.id).await.as_deref(), Some("member_deactivated"));
        assert!(ctx.sessions.subject(s.id, ada.id, at(4)).await.unwrap().is_none());
    }
    // Her account, her default-organization session and membership, and the boss's session are untouched.
    assert_eq!(ctx.users.get(ada.id).await.unwrap().unwrap().status, UserStatus::Active);
    assert_eq!(revoked_reason(&ctx, at_home.id).await, None);
    let home = ctx.sessions.subject(at_home.id, ada.id, at(4)).await.unwrap().unwrap();
    assert_eq!(home.org_id, roster_domain::DEFAULT_ORG_ID);
    assert!(ctx.members.membership(roster_domain::DEFAULT_ORG_ID, ada.id).await.unwrap().is_some());
    assert!(ctx.sessions.subject(boss_in_acme.id, boss.id, at(4)).await.unwrap().is_some());
    // Her default-organization session cannot move to acme.
    assert_eq!(ctx.sessions.rotate(&switch(3, acme.id, 4)).await.unwrap(), RotateOutcome::NotMember);
    // Still listed among acme's members; acme is no longer among her organizations.
    assert_eq!(listed(&ctx, acme.id).await, ["ada@example.com", "boss@example.com"]);
    let hers: Vec<Uuid> = ctx.orgs.list_orgs(Some(ada.id), 1, 20).await.unwrap().items.iter().map(|o| o.id).collect();
    assert_eq!(hers, [roster_domain::DEFAULT_ORG_ID]);
    // Deactivating again changes nothing, not even the time.
    let again = done(ctx.members.set_member_active(acme.id, ada.id, false, at(6)).await.unwrap());
    assert_eq!(again, off);

    // A session opened in acme anyway (the domain refuses the login) has no subject.
    let mut sneaky = new_session(ada.id, 5, at(5));
    sneaky.org_id = acme.id;
    ctx.sessions.create(&sneaky).await.unwrap();
    assert!(ctx.sessions.subject(sneaky.id, ada.id, at(5)).await.unwrap().is_none());

    let on = done(ctx.members.set_member_active(acme.id, ada.id, true, at(7)).await.unwrap());
    assert_eq!(on, Member { active: true, ..off });
    assert_eq!(done(ctx.members.set_member_active(acme.id, ada.id, true, at(8)).await.unwrap()), on);
    assert_eq!(ctx.members.membership(acme.id, ada.id).await.unwrap().unwrap().role, "member");
    assert!(ctx.sessions.subject(sneaky.id, ada.id, at(8)).await.unwrap().is_some(), "a live session acts again");
    match ctx.sessions.rotate(&switch(3, acme.id, 8)).await.unwrap() {
        RotateOutcome::Rotated { subject, .. } => assert_eq!(subject.org_id, acme.id),
        other => panic!("unexpected {other:?}"),
    }
    // Revoked sessions stay revoked.
    assert!(ctx.sessions.subject(in_acme.id, ada.id, at(8)).await.unwrap().is_none());
    assert_eq!(ctx.orgs.list_orgs(Some(ada.id), 1, 20).await.unwrap().items.len(), 2);

    // Unknown members and organizations are not found.
    assert_eq!(
        ctx.members.set_member_active(acme.id, Uuid::now_v7(), false, at(9)).await.unwrap(),
        MemberOutcome::NotFound
    );
    assert_eq!(
        ctx.members.set_member_active(Uuid::now_v7(), ada.id, true, at(9)).await.unwrap(),
        MemberOutcome::NotFound
    );
}

#[tokio::test]
async fn the_last_active_owner_stays_active() {
    let ctx = setup().await;
    let boss = member(&ctx, "boss@example.com", None, at(0)).await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", Some(boss.id)).await;
    let owner = role(&ctx, acme.id, "owner").await;
    let admin = role(&ctx, acme.id, "admin").await;
    let mut boss_session = new_session(boss.id, 1, at(1));
    boss_session.org_id = acme.id;
    ctx.sessions.create(&boss_session).await.unwrap();

    assert_eq!(ctx.members.set_member_active(acme.id, boss.id, false, at(2)).await.unwrap(), MemberOutcome::LastOwner);
    assert!(ctx.members.get_member(acme.id, boss.id).await.unwrap().unwrap().active);
    assert_eq!(revoked_reason(&ctx, boss_session.id).await, None, "nothing was written");

    // With a second owner, one may be deactivated — and then the other is
    // the last active one: neither deactivated, demoted nor removed.
    ctx.members.add_member(acme.id, ada.id, owner.id, None, at(3)).await.unwrap();
    assert!(!done(ctx.members.set_member_active(acme.id, ada.id, false, at(4)).await.unwrap()).active);
    assert_eq!(ctx.members.set_member_active(acme.id, boss.id, false, at(5)).await.unwrap(), MemberOutcome::LastOwner);
    let demote = roster_domain::org::MemberChange { role_id: Some(admin.id), ..Default::default() };
    assert_eq!(ctx.members.update_member(acme.id, boss.id, &demote).await.unwrap(), MemberOutcome::LastOwner);
    assert_eq!(ctx.members.remove_member(acme.id, boss.id).await.unwrap(), MemberOutcome::LastOwner);
    // The deactivated owner is no active owner to keep: demoted or removed freely.
    assert!(matches!(ctx.members.update_member(acme.id, ada.id, &demote).await.unwrap(), MemberOutcome::Done(_)));
    assert_eq!(ctx.members.remove_member(acme.id, ada.id).await.unwrap(), MemberOutcome::Done(()));
    // Once reactivated, a second owner lets the first go.
    ctx.members.add_member(acme.id, ada.id, owner.id, None, at(6)).await.unwrap();
    ctx.members.set_member_active(acme.id, ada.id, false, at(7)).await.unwrap();
    done(ctx.members.set_member_active(acme.id, ada.id, true, at(8)).await.unwrap());
    assert!(!done(ctx.members.set_member_active(acme.id, boss.id, false, at(9)).await.unwrap()).active);
    assert_eq!(revoked_reason(&ctx, boss_session.id).await.as_deref(), Some("member_deactivated"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deactivations_of_the_last_two_active_owners_leave_one() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    for round in 0..8 {
        let acme = org(&ctx, &format!("acme-{round}"), Some(ada.id)).await;
        let owner = role(&ctx, acme.id, "owner").await;
        ctx.members.add_member(acme.id, bob.id, owner.id, None, at(1)).await.unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [ada.id, bob.id]
            .into_iter()
            .map(|user| {
                let (repo, barrier) = (ctx.members.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    repo.set_member_active(acme.id, user, false, at(2)).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(match t.await.unwrap() {
                MemberOutcome::Done(m) => m.active,
                MemberOutcome::LastOwner => true,
                MemberOutcome::NotFound => panic!("member vanished"),
            });
        }
        outcomes.sort();
        assert_eq!(outcomes, [false, true], "round {round}: one deactivated, one refused");
        let mut active = 0;
        for user in [ada.id, bob.id] {
            active += usize::from(ctx.members.get_member(acme.id, user).await.unwrap().unwrap().active);
        }
        assert_eq!(active, 1, "round {round}");
    }
}

/// The default organization's members are the platform's users: the store
/// refuses to deactivate them (the domain never asks), so the hot path of
/// `subject` need not look.
#[tokio::test]
async fn the_default_organization_never_holds_a_deactivated_member() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let s = new_session(ada.id, 1, at(0));
    ctx.sessions.create(&s).await.unwrap();
    let r = ctx.members.set_member_active(roster_domain::DEFAULT_ORG_ID, ada.id, false, at(1)).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    assert!(ctx.members.get_member(roster_domain::DEFAULT_ORG_ID, ada.id).await.unwrap().unwrap().active);
    assert!(ctx.sessions.subject(s.id, ada.id, at(2)).await.unwrap().is_some());
}
