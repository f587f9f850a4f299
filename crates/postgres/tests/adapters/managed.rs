//! Accounts an organization manages: created as its members only, seen by
//! it with their membership, edited with their membership in one
//! transaction, and handed back to the platform when it goes.

#![allow(clippy::unwrap_used)]

use roster_domain::mail::Effects;
use roster_domain::org::{MemberChange, MemberOutcome, OrgPatch, RolePatch};
use roster_domain::ports::{
    LocationRepository, MemberRepository, OrganizationRepository, RoleRepository, UserRepository,
};
use roster_domain::user::{
    filter::parse, BuiltinRole, NewMembership, Paging, Scope, SortKey, UserChanges, UserFilter, UserListQuery,
    UserSortField,
};
use roster_domain::values::PasswordPolicy;
use roster_domain::{Patch, DEFAULT_ORG_ID};
use uuid::Uuid;

use crate::common::{at, email, location, new_role, new_user, org, role, setup, Ctx};

/// A user `org_id` creates: managed by it, with `role_id` and `location_id` there.
async fn created_by(ctx: &Ctx, address: &str, org_id: Uuid, role_id: Uuid, location_id: Option<Uuid>) -> Uuid {
    let mut record = new_user(address, BuiltinRole::Member, at(1));
    record.membership = NewMembership::Org { org_id, role_id, location_id };
    ctx.users.create(&record, &Effects::none()).await.unwrap().id
}

fn listing(scope: Scope, filter: UserFilter) -> UserListQuery {
    UserListQuery {
        scope,
        filter,
        per_page: 50,
        sort: vec![SortKey { field: UserSortField::Email, descending: false }],
        paging: Paging::Offset { page: 1 },
        with_total: true,
    }
}

async fn emails(ctx: &Ctx, scope: Scope, filter: UserFilter) -> Vec<String> {
    let page = ctx.users.list(&listing(scope, filter)).await.unwrap();
    page.items.into_iter().map(|u| u.email).collect()
}

#[tokio::test]
async fn an_organization_creates_its_own_accounts_and_sees_them_with_their_membership() {
    let ctx = setup().await;
    let venue = org(&ctx, "venue", None).await;
    let desk = ctx.roles.create_role(&new_role(venue.id, "front-desk", &[])).await.unwrap();
    let title = RolePatch { title: Patch::Set("Front Desk".into()), ..RolePatch::default() };
    ctx.roles.update_role(venue.id, desk.id, &title).await.unwrap();
    let hall = ctx.locations.create_location(&location(venue.id, "Concert Hall", &[], 1)).await.unwrap();
    let id = created_by(&ctx, "desk@example.com", venue.id, desk.id, Some(hall.id)).await;

    // The platform sees the account and who manages it; no default-org role.
    let platform = ctx.users.get(id).await.unwrap().unwrap();
    assert_eq!((platform.managed_by, platform.role, platform.membership), (Some(venue.id), None, None));
    assert_eq!(ctx.members.get_member(DEFAULT_ORG_ID, id).await.unwrap(), None);

    // The organization sees its member, the membership spelled out (seed 002's shape).
    let seen = ctx.users.get_in(venue.id, id).await.unwrap().unwrap();
    assert_eq!(seen.role.as_deref(), Some("front-desk"));
    let m = seen.membership.unwrap();
    assert_eq!((m.org_id, m.org_name.as_str(), m.role_name.as_str()), (venue.id, "VENUE", "Front Desk"));
    assert_eq!((m.location_id, m.location_name.as_deref()), (Some(hall.id), Some("Concert Hall")));
    assert!(m.membership_active && m.managed);

    // Nobody else's: another organization, or the default one, finds no such member.
    let other = org(&ctx, "other", None).await;
    assert_eq!(ctx.users.get_in(other.id, id).await.unwrap(), None);
    assert_eq!(ctx.users.get_in(DEFAULT_ORG_ID, id).await.unwrap(), None);
    assert_eq!(ctx.users.get_in(venue.id, Uuid::now_v7()).await.unwrap(), None);

    // A platform account that joined is a member the organization does not manage.
    let guest = ctx.users.create(&new_user("guest@example.com", BuiltinRole::Member, at(2)), &Effects::none()).await;
    let guest = guest.unwrap().id;
    let member = role(&ctx, venue.id, "member").await;
    ctx.members.add_member(venue.id, guest, member.id, None, at(3)).await.unwrap();
    let seen = ctx.users.get_in(venue.id, guest).await.unwrap().unwrap();
    let m = seen.membership.unwrap();
    assert_eq!((m.role_name.as_str(), m.managed, m.location_id), ("Member", false, None));
}

#[tokio::test]
async fn an_organizations_directory_lists_its_members_with_their_membership_and_filters_on_it() {
    let ctx = setup().await;
    let venue = org(&ctx, "venue", None).await;
    let member = role(&ctx, venue.id, "member").await;
    let hall = ctx.locations.create_location(&location(venue.id, "Hall", &[], 1)).await.unwrap();
    created_by(&ctx, "ada@example.com", venue.id, member.id, Some(hall.id)).await;
    created_by(&ctx, "bob@example.com", venue.id, member.id, None).await;
    let guest = ctx.users.create(&new_user("cy@example.com", BuiltinRole::Member, at(2)), &Effects::none()).await;
    ctx.members.add_member(venue.id, guest.unwrap().id, member.id, Some(hall.id), at(3)).await.unwrap();
    ctx.users.create(&new_user("dee@example.com", BuiltinRole::Member, at(4)), &Effects::none()).await.unwrap();

    let scope = Scope::Org(venue.id);
    let page = ctx.users.list(&listing(scope, UserFilter::default())).await.unwrap();
    let rows: Vec<(String, bool, Option<Uuid>)> = page
        .items
        .iter()
        .map(|u| {
            let m = u.membership.as_ref().unwrap();
            (u.email.clone(), m.managed, m.location_id)
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ada@example.com".into(), true, Some(hall.id)),
            ("bob@example.com".into(), true, None),
            ("cy@example.com".into(), false, Some(hall.id))
        ]
    );
    assert_eq!(page.total, Some(3));

    let with = |filter: &str| UserFilter { predicate: Some(parse(filter).unwrap()), ..UserFilter::default() };
    assert_eq!(emails(&ctx, scope, with("managed eq true")).await, ["ada@example.com", "bob@example.com"]);
    assert_eq!(emails(&ctx, scope, with("managed eq false")).await, ["cy@example.com"]);
    let at_hall = format!(r#"location_id eq "{}""#, hall.id);
    assert_eq!(emails(&ctx, scope, with(&at_hall)).await, ["ada@example.com", "cy@example.com"]);
    assert_eq!(emails(&ctx, scope, with("location_id pr")).await, ["ada@example.com", "cy@example.com"]);
    let shortcut = UserFilter { location_id: vec![hall.id], ..UserFilter::default() };
    assert_eq!(emails(&ctx, scope, shortcut.clone()).await, ["ada@example.com", "cy@example.com"]);
    assert_eq!(ctx.users.count(scope, &shortcut).await.unwrap(), 2);
    // The platform's `managed` is its own accounts'.
    assert_eq!(emails(&ctx, Scope::Platform, with("managed eq false")).await, ["ada@example.com", "bob@example.com"]);
}

/// An organization's page picks its ids first and reads their rows after:
/// the rows come back in the page's order, not the ids', and `has_more`
/// still says whether another page follows.
#[tokio::test]
async fn an_organizations_pages_keep_their_order_across_the_deferred_read() {
    let ctx = setup().await;
    let venue = org(&ctx, "venue", None).await;
    let member = role(&ctx, venue.id, "member").await;
    // Created (ids and the table's physical order ascending) in an order
    // that puts some page of either sort below backwards.
    for address in ["bob@example.com", "ada@example.com", "dee@example.com", "cy@example.com", "eve@example.com"] {
        created_by(&ctx, address, venue.id, member.id, None).await;
    }
    let page_of = |n: u32, descending: bool| UserListQuery {
        per_page: 2,
        sort: vec![SortKey { field: UserSortField::Email, descending }],
        paging: Paging::Offset { page: n },
        ..listing(Scope::Org(venue.id), UserFilter::default())
    };
    let mut seen = Vec::new();
    for n in 1..=3 {
        let page = ctx.users.list(&page_of(n, true)).await.unwrap();
        assert_eq!(page.has_more, n < 3, "page {n}");
        assert!(page.items.iter().all(|u| u.membership.is_some()));
        seen.extend(page.items.into_iter().map(|u| u.email));
    }
    let expected = ["eve", "dee", "cy", "bob", "ada"].map(|n| format!("{n}@example.com"));
    assert_eq!(seen, expected);
    let first = ctx.users.list(&page_of(1, false)).await.unwrap();
    let first: Vec<String> = first.items.into_iter().map(|u| u.email).collect();
    assert_eq!(first, ["ada@example.com", "bob@example.com"]);
}

#[tokio::test]
async fn the_account_and_the_membership_change_in_one_transaction() {
    let ctx = setup().await;
    let venue = org(&ctx, "venue", None).await;
    let member = role(&ctx, venue.id, "member").await;
    let owner = role(&ctx, venue.id, "owner").await;
    let id = created_by(&ctx, "ada@example.com", venue.id, owner.id, None).await;
    let rename = UserChanges { name: Patch::Set("Ada".into()), ..UserChanges::default() };

    // The last owner's demotion is refused, and the account change with it.
    let demote = MemberChange { role_id: Some(member.id), ..MemberChange::default() };
    let r = ctx.users.update_in(venue.id, id, &rename, Some(demote.clone()), &Effects::none(), at(5)).await;
    assert_eq!(r.unwrap(), MemberOutcome::LastOwner);
    assert_eq!(ctx.users.get(id).await.unwrap().unwrap().name, None);

    // With another owner, both happen.
    let second = created_by(&ctx, "bob@example.com", venue.id, owner.id, None).await;
    let r = ctx.users.update_in(venue.id, id, &rename, Some(demote), &Effects::none(), at(6)).await.unwrap();
    let MemberOutcome::Done(user) = r else { panic!("{r:?}") };
    assert_eq!((user.name.as_deref(), user.role.as_deref()), (Some("Ada"), Some("member")));
    assert_eq!(user.updated_at, at(6));

    // A membership-only change leaves the account alone; no membership, no change.
    let back = MemberChange { role_id: Some(owner.id), ..MemberChange::default() };
    let r = ctx.users.update_in(venue.id, id, &UserChanges::default(), Some(back), &Effects::none(), at(7)).await;
    let MemberOutcome::Done(user) = r.unwrap() else { panic!() };
    assert_eq!((user.role.as_deref(), user.updated_at), (Some("owner"), at(6)));
    let elsewhere = org(&ctx, "elsewhere", None).await;
    let r = ctx.users.update_in(elsewhere.id, second, &rename, None, &Effects::none(), at(8)).await;
    assert_eq!(r.unwrap(), MemberOutcome::NotFound);
    assert_eq!(ctx.users.get(second).await.unwrap().unwrap().name, None);

    // A superadmin hands the account to the platform.
    let to_platform = UserChanges { managed_by: Some(DEFAULT_ORG_ID), ..UserChanges::default() };
    let moved = ctx.users.update(second, &to_platform, &Effects::none(), at(9)).await.unwrap().unwrap();
    assert_eq!(moved.managed_by, Some(DEFAULT_ORG_ID));
}

#[tokio::test]
async fn deleting_an_organization_hands_its_accounts_back_to_the_platform() {
    let ctx = setup().await;
    let venue = org(&ctx, "venue", None).await;
    let member = role(&ctx, venue.id, "member").await;
    let id = created_by(&ctx, "ada@example.com", venue.id, member.id, None).await;
    assert!(ctx.orgs.delete_org(venue.id).await.unwrap());
    let user = ctx.users.get(id).await.unwrap().unwrap();
    // Still there, now the platform's, and a member of the default organization (so it can sign in).
    assert_eq!((user.managed_by, user.role.as_deref()), (Some(DEFAULT_ORG_ID), Some("member")));
    assert_eq!(email(&user.email), email("ada@example.com"));
}

#[tokio::test]
async fn an_organization_keeps_a_password_policy_of_its_own() {
    let ctx = setup().await;
    let venue = org(&ctx, "venue", None).await;
    assert_eq!(venue.password_policy, None);
    let policy = PasswordPolicy { min_length: 10, max_length: 30, require_digit: true, ..PasswordPolicy::default() };
    let set = OrgPatch { password_policy: Patch::Set(policy.clone()), ..OrgPatch::default() };
    let updated = ctx.orgs.update_org(venue.id, &set, at(1)).await.unwrap().unwrap();
    assert_eq!(updated.password_policy.as_ref(), Some(&policy));
    assert_eq!(ctx.orgs.get_org(venue.id).await.unwrap().unwrap().password_policy, Some(policy));
    let clear = OrgPatch { password_policy: Patch::Clear, ..OrgPatch::default() };
    assert_eq!(ctx.orgs.update_org(venue.id, &clear, at(2)).await.unwrap().unwrap().password_policy, None);
    // Built-in roles come with a title.
    assert_eq!(role(&ctx, venue.id, "owner").await.title.as_deref(), Some("Owner"));
}
