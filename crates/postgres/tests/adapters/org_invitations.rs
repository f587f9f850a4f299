//! Invitations into organizations in `PgOrgInvitationRepository`: creation
//! with its letters, listing newest first by status, superseding per
//! address and organization, revocation, acceptance by an existing or a new
//! account (also concurrently), and what deleting a role, a location, an
//! organization or the inviter does to invitations.

#![allow(clippy::unwrap_used)]

use crate::common::{at, email, letter, location, member, new_role, new_user, org, outbox_rows, role, setup, Ctx};
use chrono::{DateTime, Duration, Utc};
use roster_domain::auth::{OneTimeToken, TokenHash};
use roster_domain::mail::{Effects, InvitationStatus, MailTemplate, RevokeOutcome, TokenState};
use roster_domain::org::{AcceptOutcome, Acceptance, NewOrgInvitation, OrgInvitation};
use roster_domain::ports::{
    LocationRepository, MemberRepository, OrgInvitationRepository, OrganizationRepository, RoleRepository,
    UserRepository,
};
use roster_domain::user::{BuiltinRole, UserStatus};
use roster_domain::{Conflict, RepoError, DEFAULT_ORG_ID};
use roster_postgres::PgOrgInvitationRepository;
use uuid::Uuid;

fn repo(ctx: &Ctx) -> PgOrgInvitationRepository {
    PgOrgInvitationRepository::new(ctx.pool.clone())
}

/// An invitation of `address` into `org` with `role_id`, made at
/// `at(secs)`, living a week.
fn new_invitation(org: Uuid, address: &str, role_id: Uuid, secs: i64) -> NewOrgInvitation {
    NewOrgInvitation {
        id: Uuid::now_v7(),
        org_id: org,
        email: email(address),
        role_id,
        location_id: None,
        invited_by: None,
        token_hash: OneTimeToken::generate().hash(),
        expires_at: at(secs) + Duration::days(7),
        now: at(secs),
    }
}

/// Creates an invitation into `org` with its role `member`; returns it and
/// its token's hash.
async fn invite(ctx: &Ctx, org: Uuid, address: &str, secs: i64) -> (OrgInvitation, TokenHash) {
    let role_id = role(ctx, org, "member").await.id;
    let new = new_invitation(org, address, role_id, secs);
    (repo(ctx).create(&new, &Effects::none()).await.unwrap(), new.token_hash)
}

async fn list(ctx: &Ctx, org: Uuid, status: Option<InvitationStatus>, now: DateTime<Utc>) -> Vec<String> {
    let page = repo(ctx).list(org, status, 1, 50, now).await.unwrap();
    page.items.into_iter().map(|i| i.email).collect()
}

async fn state(ctx: &Ctx, token: &TokenHash, now: DateTime<Utc>) -> Option<TokenState> {
    repo(ctx).find(token).await.unwrap().map(|t| t.state(now))
}

#[tokio::test]
async fn invitations_are_created_and_listed_newest_first_by_status() {
    let ctx = setup().await;
    let invitations = repo(&ctx);
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();
    let admin = role(&ctx, acme.id, "admin").await;

    invite(&ctx, acme.id, "a@example.com", 1).await;
    let mut new = new_invitation(acme.id, "b@example.com", admin.id, 2);
    new.location_id = Some(hq.id);
    new.invited_by = Some(ada.id);
    let b = invitations.create(&new, &Effects::none()).await.unwrap();
    let expected = OrgInvitation {
        id: new.id,
        org_id: acme.id,
        email: "b@example.com".into(),
        role: "admin".into(),
        location_id: Some(hq.id),
        invited_by: Some(ada.id),
        status: InvitationStatus::Pending,
        created_at: at(2),
        expires_at: at(2) + Duration::days(7),
        accepted_at: None,
    };
    assert_eq!(b, expected);
    let mut short = new_invitation(acme.id, "c@example.com", admin.id, 3);
    short.expires_at = at(100);
    invitations.create(&short, &Effects::none()).await.unwrap();
    invite(&ctx, globex.id, "d@example.com", 4).await;

    let p1 = invitations.list(acme.id, None, 1, 2, at(5)).await.unwrap();
    assert_eq!(p1.items.iter().map(|i| i.email.as_str()).collect::<Vec<_>>(), ["c@example.com", "b@example.com"]);
    assert_eq!((p1.total, p1.page, p1.per_page, p1.has_more), (Some(3), Some(1), 2, true));
    assert_eq!(p1.items[1], expected);
    let p2 = invitations.list(acme.id, None, 2, 2, at(5)).await.unwrap();
    assert_eq!(p2.items.iter().map(|i| i.email.as_str()).collect::<Vec<_>>(), ["a@example.com"]);
    assert_eq!((p2.total, p2.has_more), (Some(3), false));
    assert_eq!(list(&ctx, globex.id, None, at(5)).await, ["d@example.com"]);

    // c expires at(100); a is revoked.
    let a = invitations.list(acme.id, None, 2, 2, at(5)).await.unwrap().items.remove(0);
    assert_eq!(invitations.revoke(acme.id, a.id, at(6)).await.unwrap(), RevokeOutcome::Revoked);
    let pending = Some(InvitationStatus::Pending);
    assert_eq!(list(&ctx, acme.id, pending, at(99)).await, ["c@example.com", "b@example.com"]);
    assert_eq!(list(&ctx, acme.id, pending, at(100)).await, ["b@example.com"]);
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Expired), at(100)).await, ["c@example.com"]);
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Revoked), at(100)).await, ["a@example.com"]);
    assert!(list(&ctx, acme.id, Some(InvitationStatus::Accepted), at(100)).await.is_empty());
    let filtered = invitations.list(acme.id, pending, 1, 50, at(100)).await.unwrap();
    assert_eq!((filtered.total, filtered.has_more), (Some(1), false));
}

#[tokio::test]
async fn reinviting_an_address_supersedes_its_open_invitation_in_that_org_only() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let (first, t1) = invite(&ctx, acme.id, "bea@example.com", 1).await;
    let (_, elsewhere) = invite(&ctx, globex.id, "bea@example.com", 2).await;
    let (second, t2) = invite(&ctx, acme.id, "BEA@Example.com", 3).await;
    assert_eq!(second.email, "BEA@example.com");

    let ticket = repo(&ctx).find(&t1).await.unwrap().unwrap();
    assert_eq!((ticket.id, ticket.closed_at, ticket.used_at), (first.id, Some(at(3)), None));
    assert_eq!(ticket.state(at(4)), TokenState::Superseded);
    assert_eq!(state(&ctx, &t2, at(4)).await, Some(TokenState::Live));
    assert_eq!(state(&ctx, &elsewhere, at(4)).await, Some(TokenState::Live));
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Superseded), at(4)).await, ["bea@example.com"]);
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Pending), at(4)).await, ["BEA@example.com"]);
    assert_eq!(list(&ctx, globex.id, Some(InvitationStatus::Pending), at(4)).await, ["bea@example.com"]);

    // An expired invitation is still open to the unique index: a new one
    // supersedes it too.
    let member_role = role(&ctx, acme.id, "member").await;
    let mut short = new_invitation(acme.id, "cy@example.com", member_role.id, 5);
    short.expires_at = at(10);
    repo(&ctx).create(&short, &Effects::none()).await.unwrap();
    let (_, renewed) = invite(&ctx, acme.id, "cy@example.com", 20).await;
    assert_eq!(state(&ctx, &short.token_hash, at(21)).await, Some(TokenState::Superseded));
    assert_eq!(state(&ctx, &renewed, at(21)).await, Some(TokenState::Live));
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Expired), at(21)).await, Vec::<String>::new());

    // A revoked one is not superseded again.
    let (revoked, t3) = invite(&ctx, acme.id, "di@example.com", 30).await;
    repo(&ctx).revoke(acme.id, revoked.id, at(31)).await.unwrap();
    invite(&ctx, acme.id, "di@example.com", 32).await;
    let ticket = repo(&ctx).find(&t3).await.unwrap().unwrap();
    assert_eq!(ticket.closed_at, Some(at(31)));
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Revoked), at(33)).await, ["di@example.com"]);
}

#[tokio::test]
async fn the_letter_is_queued_in_the_invitations_transaction() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let member_role = role(&ctx, acme.id, "member").await;
    let new = new_invitation(acme.id, "bea@example.com", member_role.id, 1);
    let effects = Effects::mail(letter(MailTemplate::Invitation, "bea@example.com", at(1)));
    repo(&ctx).create(&new, &effects).await.unwrap();
    let rows = outbox_rows(&ctx).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].recipient.as_str(), rows[0].status.as_str()), ("bea@example.com", "pending"));

    // A failing invitation (a repeated token hash) queues nothing, and
    // supersedes nothing.
    let mut twin = new_invitation(acme.id, "bea@example.com", member_role.id, 2);
    twin.token_hash = new.token_hash;
    let effects = Effects::mail(letter(MailTemplate::Invitation, "bea@example.com", at(2)));
    assert!(matches!(repo(&ctx).create(&twin, &effects).await, Err(RepoError::Internal(_))));
    assert_eq!(outbox_rows(&ctx).await.len(), 1);
    assert_eq!(state(&ctx, &new.token_hash, at(3)).await, Some(TokenState::Live));
}

#[tokio::test]
async fn revoke_outcomes() {
    let ctx = setup().await;
    let invitations = repo(&ctx);
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let (inv, token) = invite(&ctx, acme.id, "cy@example.com", 1).await;

    assert_eq!(invitations.revoke(globex.id, inv.id, at(2)).await.unwrap(), RevokeOutcome::NotFound);
    assert_eq!(invitations.revoke(acme.id, Uuid::now_v7(), at(2)).await.unwrap(), RevokeOutcome::NotFound);
    assert_eq!(state(&ctx, &token, at(2)).await, Some(TokenState::Live));
    assert_eq!(invitations.revoke(acme.id, inv.id, at(2)).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(invitations.revoke(acme.id, inv.id, at(3)).await.unwrap(), RevokeOutcome::AlreadyClosed);
    assert_eq!(state(&ctx, &token, at(3)).await, Some(TokenState::Superseded));
    assert_eq!(invitations.accept(&token, &Acceptance::Join, at(3)).await.unwrap(), AcceptOutcome::Gone);

    let (superseded, _) = invite(&ctx, acme.id, "di@example.com", 4).await;
    invite(&ctx, acme.id, "di@example.com", 5).await;
    assert_eq!(invitations.revoke(acme.id, superseded.id, at(6)).await.unwrap(), RevokeOutcome::AlreadyClosed);

    let (expiring, _) = invite(&ctx, acme.id, "ed@example.com", 7).await;
    let later = at(7) + Duration::days(7);
    assert_eq!(invitations.revoke(acme.id, expiring.id, later).await.unwrap(), RevokeOutcome::AlreadyClosed);

    let (accepted, token) = invite(&ctx, acme.id, "bob@example.com", 8).await;
    let joined = invitations.accept(&token, &Acceptance::Join, at(9)).await.unwrap();
    assert_eq!(joined, AcceptOutcome::Joined { user_id: bob.id });
    assert_eq!(invitations.revoke(acme.id, accepted.id, at(10)).await.unwrap(), RevokeOutcome::Accepted);
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Accepted), at(10)).await, ["bob@example.com"]);
}

#[tokio::test]
async fn joining_adds_the_membership_and_leaves_an_existing_one_alone() {
    let ctx = setup().await;
    let invitations = repo(&ctx);
    let bob = member(&ctx, "Bob@example.com", None, at(0)).await;
    let carol = member(&ctx, "carol@example.com", None, at(0)).await;
    let dan = member(&ctx, "dan@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();
    let admin = role(&ctx, acme.id, "admin").await;
    let member_role = role(&ctx, acme.id, "member").await;

    let mut new = new_invitation(acme.id, "bob@example.com", admin.id, 2);
    new.location_id = Some(hq.id);
    let inv = invitations.create(&new, &Effects::none()).await.unwrap();
    assert!(ctx.members.get_member(acme.id, bob.id).await.unwrap().is_none());
    let outcome = invitations.accept(&new.token_hash, &Acceptance::Join, at(3)).await.unwrap();
    assert_eq!(outcome, AcceptOutcome::Joined { user_id: bob.id });
    let m = ctx.members.get_member(acme.id, bob.id).await.unwrap().unwrap();
    assert_eq!((m.role.as_str(), m.location_id, m.active, m.created_at), ("admin", Some(hq.id), true, at(3)));
    let ticket = invitations.find(&new.token_hash).await.unwrap().unwrap();
    assert_eq!((ticket.used_at, ticket.state(at(4))), (Some(at(3)), TokenState::Used));
    let listed = invitations.list(acme.id, None, 1, 50, at(4)).await.unwrap().items;
    assert_eq!(
        (listed[0].id, listed[0].status, listed[0].accepted_at),
        (inv.id, InvitationStatus::Accepted, Some(at(3)))
    );
    assert_eq!(invitations.accept(&new.token_hash, &Acceptance::Join, at(4)).await.unwrap(), AcceptOutcome::Gone);

    // Already a member: the membership stays as it was, deactivated or not;
    // the invitation is accepted all the same.
    ctx.members.add_member(acme.id, carol.id, member_role.id, None, at(5)).await.unwrap();
    ctx.members.add_member(acme.id, dan.id, member_role.id, None, at(5)).await.unwrap();
    ctx.members.set_member_active(acme.id, dan.id, false, at(6)).await.unwrap();
    for (user, address) in [(carol.id, "carol@example.com"), (dan.id, "dan@example.com")] {
        let new = new_invitation(acme.id, address, admin.id, 7);
        invitations.create(&new, &Effects::none()).await.unwrap();
        let outcome = invitations.accept(&new.token_hash, &Acceptance::Join, at(8)).await.unwrap();
        assert_eq!(outcome, AcceptOutcome::Joined { user_id: user });
        let m = ctx.members.get_member(acme.id, user).await.unwrap().unwrap();
        assert_eq!((m.role.as_str(), m.created_at, m.active), ("member", at(5), user == carol.id));
    }
}

#[tokio::test]
async fn joining_without_an_account_changes_nothing() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let (_, token) = invite(&ctx, acme.id, "nobody@example.com", 1).await;
    assert_eq!(repo(&ctx).accept(&token, &Acceptance::Join, at(2)).await.unwrap(), AcceptOutcome::NoAccount);
    assert_eq!(state(&ctx, &token, at(2)).await, Some(TokenState::Live));
    assert_eq!(list(&ctx, acme.id, Some(InvitationStatus::Pending), at(2)).await, ["nobody@example.com"]);
    assert_eq!(
        repo(&ctx).accept(&OneTimeToken::generate().hash(), &Acceptance::Join, at(2)).await.unwrap(),
        AcceptOutcome::Gone
    );
}

/// The account `Create` makes: active, verified, with a password.
fn account(address: &str, secs: i64) -> roster_domain::user::NewUserRecord {
    let mut record = new_user(address, BuiltinRole::Member, at(secs));
    record.email_verified = true;
    record
}

#[tokio::test]
async fn creating_an_account_makes_it_the_organizations_own() {
    let ctx = setup().await;
    let invitations = repo(&ctx);
    let acme = org(&ctx, "acme", None).await;
    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();
    let admin = role(&ctx, acme.id, "admin").await;
    let mut new = new_invitation(acme.id, "nina@example.com", admin.id, 2);
    new.location_id = Some(hq.id);
    invitations.create(&new, &Effects::none()).await.unwrap();

    let record = account("nina@example.com", 3);
    let outcome =
        invitations.accept(&new.token_hash, &Acceptance::Create(Box::new(record.clone())), at(3)).await.unwrap();
    assert_eq!(outcome, AcceptOutcome::Joined { user_id: record.id });
    let user = ctx.users.get(record.id).await.unwrap().unwrap();
    assert_eq!((user.email.as_str(), user.status, user.email_verified), ("nina@example.com", UserStatus::Active, true));
    // Managed by the inviting organization and a member of it only.
    assert_eq!((user.role.as_deref(), user.managed_by), (None, Some(acme.id)));
    assert_eq!(ctx.users.password_hash(record.id).await.unwrap().as_deref(), Some("hash-of-nina@example.com"));
    assert_eq!(ctx.members.get_member(DEFAULT_ORG_ID, record.id).await.unwrap(), None);
    let m = ctx.members.get_member(acme.id, record.id).await.unwrap().unwrap();
    assert_eq!((m.role.as_str(), m.location_id, m.active), ("admin", Some(hq.id), true));
    assert_eq!(state(&ctx, &new.token_hash, at(4)).await, Some(TokenState::Used));

    // Into the default organization itself: a platform account with the
    // invitation's role, whatever the record said.
    let default_admin = role(&ctx, DEFAULT_ORG_ID, "admin").await;
    let new = new_invitation(DEFAULT_ORG_ID, "otto@example.com", default_admin.id, 5);
    invitations.create(&new, &Effects::none()).await.unwrap();
    let record = account("otto@example.com", 6);
    let outcome =
        invitations.accept(&new.token_hash, &Acceptance::Create(Box::new(record.clone())), at(6)).await.unwrap();
    assert_eq!(outcome, AcceptOutcome::Joined { user_id: record.id });
    let otto = ctx.users.get(record.id).await.unwrap().unwrap();
    assert_eq!((otto.role.as_deref(), otto.managed_by), (Some("admin"), Some(DEFAULT_ORG_ID)));
}

#[tokio::test]
async fn creating_an_account_for_a_taken_address_conflicts() {
    let ctx = setup().await;
    let eve = member(&ctx, "Eve@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let (_, token) = invite(&ctx, acme.id, "eve@example.com", 1).await;
    let record = account("eve@example.com", 2);
    let err = repo(&ctx).accept(&token, &Acceptance::Create(Box::new(record.clone())), at(2)).await.unwrap_err();
    assert!(matches!(err, RepoError::Conflict(Conflict::EmailTaken)), "{err:?}");
    assert_eq!(state(&ctx, &token, at(2)).await, Some(TokenState::Live));
    assert!(ctx.users.get(record.id).await.unwrap().is_none());
    assert!(ctx.members.get_member(acme.id, eve.id).await.unwrap().is_none());
}

#[tokio::test]
async fn an_expired_or_closed_invitation_is_gone() {
    let ctx = setup().await;
    member(&ctx, "bob@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let member_role = role(&ctx, acme.id, "member").await;
    let mut new = new_invitation(acme.id, "bob@example.com", member_role.id, 1);
    new.expires_at = at(10);
    repo(&ctx).create(&new, &Effects::none()).await.unwrap();
    assert_eq!(repo(&ctx).accept(&new.token_hash, &Acceptance::Join, at(10)).await.unwrap(), AcceptOutcome::Gone);
    let record = account("fay@example.com", 10);
    let (_, token) = invite(&ctx, acme.id, "fay@example.com", 1).await;
    invite(&ctx, acme.id, "fay@example.com", 2).await;
    let outcome = repo(&ctx).accept(&token, &Acceptance::Create(Box::new(record.clone())), at(10)).await.unwrap();
    assert_eq!(outcome, AcceptOutcome::Gone);
    assert!(ctx.users.get(record.id).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acceptances_join_once() {
    let ctx = setup().await;
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    for create in [false, true] {
        let address = if create { "new@example.com" } else { "bob@example.com" };
        let (_, token) = invite(&ctx, acme.id, address, 1).await;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (invitations, barrier) = (repo(&ctx), barrier.clone());
                let acceptance =
                    if create { Acceptance::Create(Box::new(account(address, 2))) } else { Acceptance::Join };
                tokio::spawn(async move {
                    barrier.wait().await;
                    invitations.accept(&token, &acceptance, at(2)).await.unwrap()
                })
            })
            .collect();
        let mut joined = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                AcceptOutcome::Joined { user_id } => joined.push(user_id),
                AcceptOutcome::Gone => {}
                AcceptOutcome::NoAccount => panic!("bob has an account"),
            }
        }
        assert_eq!(joined.len(), 1, "create: {create}");
        if !create {
            assert_eq!(joined[0], bob.id);
        }
        assert!(ctx.members.get_member(acme.id, joined[0]).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn deleting_what_an_invitation_names_voids_it() {
    let ctx = setup().await;
    let invitations = repo(&ctx);
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let guide = ctx.roles.create_role(&new_role(acme.id, "guide", &[])).await.unwrap();
    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();

    let by_role = new_invitation(acme.id, "a@example.com", guide.id, 2);
    invitations.create(&by_role, &Effects::none()).await.unwrap();
    let mut by_location = new_invitation(acme.id, "b@example.com", role(&ctx, acme.id, "member").await.id, 3);
    by_location.location_id = Some(hq.id);
    by_location.invited_by = Some(ada.id);
    invitations.create(&by_location, &Effects::none()).await.unwrap();
    let (_, kept) = invite(&ctx, acme.id, "c@example.com", 4).await;
    let (_, elsewhere) = invite(&ctx, globex.id, "d@example.com", 5).await;

    assert!(ctx.roles.delete_role(acme.id, guide.id).await.unwrap());
    assert!(invitations.find(&by_role.token_hash).await.unwrap().is_none());
    assert!(ctx.users.delete(ada.id).await.unwrap());
    let listed = invitations.list(acme.id, None, 1, 50, at(6)).await.unwrap().items;
    let b = listed.iter().find(|i| i.email == "b@example.com").unwrap();
    assert_eq!(b.invited_by, None);
    assert!(ctx.locations.delete_location(acme.id, hq.id).await.unwrap());
    assert!(invitations.find(&by_location.token_hash).await.unwrap().is_none());
    assert_eq!(list(&ctx, acme.id, None, at(6)).await, ["c@example.com"]);

    assert!(ctx.orgs.delete_org(acme.id).await.unwrap());
    assert!(invitations.find(&kept).await.unwrap().is_none());
    assert!(invitations.find(&elsewhere).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invitations_of_one_address_leave_one_open() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let member_role = role(&ctx, acme.id, "member").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (invitations, barrier) = (repo(&ctx), barrier.clone());
            let address = if i % 2 == 0 { "bea@example.com" } else { "BEA@example.com" };
            let new = new_invitation(acme.id, address, member_role.id, 1);
            tokio::spawn(async move {
                barrier.wait().await;
                invitations.create(&new, &Effects::none()).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let page = repo(&ctx).list(acme.id, None, 1, 50, at(2)).await.unwrap();
    let open = page.items.iter().filter(|i| i.status == InvitationStatus::Pending).count();
    let superseded = page.items.iter().filter(|i| i.status == InvitationStatus::Superseded).count();
    assert_eq!((open, superseded), (1, 7));
}
