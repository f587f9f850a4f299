//! The user directory against real PostgreSQL: scope, shortcuts, every
//! filter operator per attribute kind, sorting with NULLs, offset and keyset
//! paging (also while rows are being inserted).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use crate::common::{at, new_user, setup, Ctx};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::mail::Effects;
use roster_domain::ports::UserRepository;
use roster_domain::user::filter::{Attr, Column, CompareOp, MembershipAttr, Predicate, Typed};
use roster_domain::user::{
    BuiltinRole, Keyset, NewMembership, NewUserRecord, Page, Paging, Scope, SortKey, User, UserFilter, UserListQuery,
    UserSortField, UserStatus,
};
use roster_domain::{Patch, RepoError, DEFAULT_ORG_ID};
use roster_postgres::schema::{memberships, organizations, roles, users};
use serde_json::json;
use uuid::Uuid;

use CompareOp::*;

const ORG_A: Uuid = Uuid::from_u128(0xA);
const ORG_B: Uuid = Uuid::from_u128(0xB);

/// Creates a user made at `at(secs)`, adjusted by `f`.
async fn person(ctx: &Ctx, email: &str, secs: i64, f: impl FnOnce(&mut NewUserRecord)) -> User {
    let mut rec = new_user(email, BuiltinRole::Member, at(secs));
    f(&mut rec);
    ctx.users.create(&rec, &Effects::none()).await.unwrap()
}

async fn set_login(ctx: &Ctx, id: Uuid, when: Option<DateTime<Utc>>) {
    let mut c = ctx.pool.get().await.unwrap();
    diesel::update(users::table.find(id)).set(users::last_login_at.eq(when)).execute(&mut c).await.unwrap();
}

/// Organization `org` with the roles `names`.
async fn org(ctx: &Ctx, org: Uuid, slug: &str, names: &[&str]) {
    let mut c = ctx.pool.get().await.unwrap();
    diesel::insert_into(organizations::table)
        .values((organizations::id.eq(org), organizations::slug.eq(slug), organizations::name.eq(slug)))
        .execute(&mut c)
        .await
        .unwrap();
    for (i, n) in names.iter().enumerate() {
        let id = Uuid::from_u128(org.as_u128() << 8 | i as u128);
        diesel::insert_into(roles::table)
            .values((roles::id.eq(id), roles::org_id.eq(org), roles::name.eq(*n)))
            .execute(&mut c)
            .await
            .unwrap();
    }
}

async fn join(ctx: &Ctx, org: Uuid, role: &str, user: Uuid) {
    let mut c = ctx.pool.get().await.unwrap();
    let role_id: Uuid = roles::table
        .filter(roles::org_id.eq(org).and(roles::name.eq(role)))
        .select(roles::id)
        .first(&mut c)
        .await
        .unwrap();
    diesel::insert_into(memberships::table)
        .values((memberships::org_id.eq(org), memberships::user_id.eq(user), memberships::role_id.eq(role_id)))
        .execute(&mut c)
        .await
        .unwrap();
}

/// ada (admin; A manager), grace (A viewer), linus (banned), barbara
/// (pending owner; B), odd (inactive; A viewer, no default membership).
async fn fixture() -> Ctx {
    let ctx = setup().await;
    org(&ctx, ORG_A, "org-a", &["manager", "viewer"]).await;
    org(&ctx, ORG_B, "org-b", &["member"]).await;
    let obj = |v: serde_json::Value| v.as_object().cloned();
    let ada = person(&ctx, "ada@example.com", 1, |r| {
        r.membership = NewMembership::Platform(BuiltinRole::Admin);
        r.email_verified = true;
        r.fields.name = Patch::Set("Ada Lovelace".into());
        r.fields.given_name = Patch::Set("Ada".into());
        r.fields.family_name = Patch::Set("Lovelace".into());
        r.fields.birthdate = Patch::Set(NaiveDate::from_ymd_opt(1815, 12, 10).unwrap());
        r.fields.attributes = obj(json!({"dept": "ENG", "level": 5, "remote": true}));
    })
    .await;
    let grace = person(&ctx, "grace@example.com", 2, |r| {
        r.fields.name = Patch::Set("Grace Hopper".into());
        r.fields.given_name = Patch::Set("Grace".into());
        r.fields.family_name = Patch::Set("Hopper".into());
        r.fields.birthdate = Patch::Set(NaiveDate::from_ymd_opt(1906, 12, 9).unwrap());
        r.fields.attributes = obj(json!({"dept": "eng-ops", "level": 7.5, "remote": false}));
    })
    .await;
    person(&ctx, "linus@example.com", 3, |r| {
        r.status = UserStatus::Banned;
        r.fields.name = Patch::Set("Linus".into());
        r.fields.attributes = obj(json!({"level": "5"}));
    })
    .await;
    let barbara = person(&ctx, "barbara@example.com", 4, |r| {
        r.membership = NewMembership::Platform(BuiltinRole::Owner);
        r.status = UserStatus::Pending;
        r.fields.given_name = Patch::Set(String::new());
        r.fields.family_name = Patch::Set("Liskov".into());
        r.fields.attributes = obj(json!({"remote": null}));
    })
    .await;
    let odd = person(&ctx, "odd_one@example.com", 5, |r| {
        r.status = UserStatus::Inactive;
        r.fields.name = Patch::Set(r"100% Sure_\".into());
    })
    .await;
    set_login(&ctx, ada.id, Some(at(100))).await;
    set_login(&ctx, grace.id, Some(at(50))).await;
    set_login(&ctx, barbara.id, Some(at(50))).await;
    join(&ctx, ORG_A, "manager", ada.id).await;
    join(&ctx, ORG_A, "viewer", grace.id).await;
    join(&ctx, ORG_B, "member", barbara.id).await;
    join(&ctx, ORG_A, "viewer", odd.id).await;
    let mut c = ctx.pool.get().await.unwrap();
    diesel::delete(
        memberships::table.filter(memberships::user_id.eq(odd.id).and(memberships::org_id.eq(DEFAULT_ORG_ID))),
    )
    .execute(&mut c)
    .await
    .unwrap();
    ctx
}

fn keys(sort: &[(UserSortField, bool)]) -> Vec<SortKey> {
    sort.iter().map(|&(field, descending)| SortKey { field, descending }).collect()
}

fn query(
    scope: Scope,
    filter: UserFilter,
    sort: &[(UserSortField, bool)],
    per_page: u32,
    paging: Paging,
) -> UserListQuery {
    UserListQuery { scope, filter, per_page, sort: keys(sort), paging, with_total: true }
}

fn names(page: &Page<User>) -> Vec<String> {
    page.items.iter().map(|u| u.email.split('@').next().unwrap().to_owned()).collect()
}

/// The local parts of the emails matching, sorted by email; checks that
/// `count` and `total` agree with the rows.
async fn find_in(ctx: &Ctx, scope: Scope, filter: UserFilter) -> Vec<String> {
    let q = query(scope, filter.clone(), &[(UserSortField::Email, false)], 100, Paging::Offset { page: 1 });
    let page = ctx.users.list(&q).await.unwrap();
    assert_eq!(page.total, Some(page.items.len() as u64));
    assert_eq!(ctx.users.count(scope, &filter).await.unwrap(), page.items.len() as u64);
    names(&page)
}

async fn find(ctx: &Ctx, p: Predicate) -> Vec<String> {
    find_in(ctx, Scope::Platform, UserFilter { predicate: Some(p), ..UserFilter::default() }).await
}

fn col(c: Column, op: CompareOp, v: Typed) -> Predicate {
    Predicate::Compare { attr: Attr::Column(c), op, value: v }
}
fn attr(key: &str, op: CompareOp, v: Typed) -> Predicate {
    Predicate::Compare { attr: Attr::Json(key.into()), op, value: v }
}
fn member(m: MembershipAttr, op: CompareOp, v: Typed) -> Predicate {
    Predicate::Compare { attr: Attr::Membership(m), op, value: v }
}
fn text(s: &str) -> Typed {
    Typed::Text(s.into())
}
fn and(a: Predicate, b: Predicate) -> Predicate {
    Predicate::And(Box::new(a), Box::new(b))
}
fn or(a: Predicate, b: Predicate) -> Predicate {
    Predicate::Or(Box::new(a), Box::new(b))
}
fn not(a: Predicate) -> Predicate {
    Predicate::Not(Box::new(a))
}
fn pr(a: Attr) -> Predicate {
    Predicate::Present(a)
}

#[tokio::test]
async fn text_operators_are_case_insensitive() {
    let ctx = fixture().await;
    let fam = |op, v| col(Column::FamilyName, op, text(v));
    assert_eq!(find(&ctx, fam(Eq, "HOPPER")).await, ["grace"]);
    assert_eq!(find(&ctx, fam(Ne, "hopper")).await, ["ada", "barbara", "linus", "odd_one"], "ne includes NULLs");
    assert_eq!(find(&ctx, fam(Co, "OV")).await, ["ada", "barbara"]);
    assert_eq!(find(&ctx, fam(Sw, "l")).await, ["ada", "barbara"]);
    assert_eq!(find(&ctx, fam(Ew, "ER")).await, ["grace"]);
    assert_eq!(find(&ctx, fam(Gt, "liskov")).await, ["ada"]);
    assert_eq!(find(&ctx, fam(Ge, "LISKOV")).await, ["ada", "barbara"]);
    assert_eq!(find(&ctx, fam(Lt, "Liskov")).await, ["grace"]);
    assert_eq!(find(&ctx, fam(Le, "liskov")).await, ["barbara", "grace"]);
    assert_eq!(find(&ctx, col(Column::Email, Eq, text("GRACE@Example.com"))).await, ["grace"]);
    // Wildcards in co/sw/ew are literal.
    let name = |op, v| col(Column::Name, op, text(v));
    assert_eq!(find(&ctx, name(Co, "%")).await, ["odd_one"]);
    assert_eq!(find(&ctx, name(Co, "_")).await, ["odd_one"]);
    assert_eq!(find(&ctx, name(Ew, r"_\")).await, ["odd_one"]);
    assert_eq!(find(&ctx, name(Sw, "a%")).await, Vec::<String>::new());
    assert_eq!(find(&ctx, name(Sw, "a")).await, ["ada"]);
}

#[tokio::test]
async fn typed_columns() {
    let ctx = fixture().await;
    let status = |op, s| col(Column::Status, op, Typed::Status(s));
    assert_eq!(find(&ctx, status(Eq, UserStatus::Banned)).await, ["linus"]);
    assert_eq!(find(&ctx, status(Ne, UserStatus::Active)).await, ["barbara", "linus", "odd_one"]);
    let verified = |op, b| col(Column::EmailVerified, op, Typed::Bool(b));
    assert_eq!(find(&ctx, verified(Eq, true)).await, ["ada"]);
    assert_eq!(find(&ctx, verified(Ne, true)).await.len(), 4);
    let created = |op, s| col(Column::CreatedAt, op, Typed::Time(at(s)));
    assert_eq!(find(&ctx, created(Eq, 2)).await, ["grace"]);
    assert_eq!(find(&ctx, created(Ne, 2)).await.len(), 4);
    assert_eq!(find(&ctx, created(Gt, 4)).await, ["odd_one"]);
    assert_eq!(find(&ctx, created(Ge, 4)).await, ["barbara", "odd_one"]);
    assert_eq!(find(&ctx, created(Lt, 2)).await, ["ada"]);
    assert_eq!(find(&ctx, created(Le, 2)).await, ["ada", "grace"]);
    let login = |op, s| col(Column::LastLoginAt, op, Typed::Time(at(s)));
    assert_eq!(find(&ctx, login(Lt, 100)).await, ["barbara", "grace"], "NULL is not less than anything");
    assert_eq!(find(&ctx, login(Ne, 50)).await, ["ada", "linus", "odd_one"], "ne includes NULLs");
    let born = |op, y, m, d| col(Column::Birthdate, op, Typed::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap()));
    assert_eq!(find(&ctx, born(Eq, 1906, 12, 9)).await, ["grace"]);
    assert_eq!(find(&ctx, born(Lt, 1900, 1, 1)).await, ["ada"]);
    assert_eq!(find(&ctx, born(Ge, 1815, 12, 10)).await, ["ada", "grace"]);
    assert_eq!(find(&ctx, born(Ne, 1906, 12, 9)).await.len(), 4);
    let all = ctx.users.list(&query(Scope::Platform, UserFilter::default(), &[], 10, Paging::Keyset(None))).await;
    let grace = all.unwrap().items.into_iter().find(|u| u.email.starts_with("grace")).unwrap();
    assert_eq!(find(&ctx, col(Column::Id, Eq, Typed::Uuid(grace.id))).await, ["grace"]);
    assert_eq!(find(&ctx, col(Column::Id, Ne, Typed::Uuid(grace.id))).await.len(), 4);
}

#[tokio::test]
async fn present_and_not_present() {
    let ctx = fixture().await;
    let c = |c| pr(Attr::Column(c));
    assert_eq!(find(&ctx, c(Column::GivenName)).await, ["ada", "grace"], "empty text is not present");
    assert_eq!(find(&ctx, not(c(Column::GivenName))).await, ["barbara", "linus", "odd_one"]);
    assert_eq!(find(&ctx, c(Column::LastLoginAt)).await, ["ada", "barbara", "grace"]);
    assert_eq!(find(&ctx, c(Column::Birthdate)).await, ["ada", "grace"]);
    assert_eq!(find(&ctx, c(Column::Email)).await.len(), 5);
    assert_eq!(find(&ctx, pr(Attr::Json("remote".into()))).await, ["ada", "grace"], "JSON null is not present");
    assert_eq!(find(&ctx, pr(Attr::Json("level".into()))).await, ["ada", "grace", "linus"]);
    assert_eq!(find(&ctx, pr(Attr::Membership(MembershipAttr::Role))).await, ["ada", "barbara", "grace", "linus"]);
    assert_eq!(find(&ctx, pr(Attr::Membership(MembershipAttr::OrgId))).await.len(), 5);
}

#[tokio::test]
async fn json_attributes_are_typed() {
    let ctx = fixture().await;
    // Host-application attributes compare exactly (SCIM caseExact).
    assert_eq!(find(&ctx, attr("dept", Eq, text("ENG"))).await, ["ada"]);
    assert!(find(&ctx, attr("dept", Eq, text("eng"))).await.is_empty());
    assert_eq!(find(&ctx, attr("dept", Sw, text("eng"))).await, ["grace"]);
    assert_eq!(find(&ctx, attr("dept", Co, text("-o"))).await, ["grace"]);
    assert!(find(&ctx, attr("dept", Ew, text("OPS"))).await.is_empty());
    assert_eq!(find(&ctx, attr("dept", Ew, text("ops"))).await, ["grace"]);
    assert_eq!(find(&ctx, attr("dept", Gt, text("ENG"))).await, ["grace"]);
    assert_eq!(find(&ctx, attr("dept", Ne, text("ENG"))).await, ["barbara", "grace", "linus", "odd_one"]);
    // A string literal matches strings only, a number numbers only.
    assert_eq!(find(&ctx, attr("level", Eq, text("5"))).await, ["linus"]);
    assert_eq!(find(&ctx, attr("level", Eq, Typed::Number(5.0))).await, ["ada"]);
    assert_eq!(find(&ctx, attr("level", Gt, Typed::Number(5.0))).await, ["grace"]);
    assert_eq!(find(&ctx, attr("level", Ge, Typed::Number(5.0))).await, ["ada", "grace"]);
    assert_eq!(find(&ctx, attr("level", Lt, Typed::Number(7.5))).await, ["ada"]);
    assert_eq!(find(&ctx, attr("level", Le, Typed::Number(7.5))).await, ["ada", "grace"]);
    assert_eq!(find(&ctx, attr("level", Ne, Typed::Number(5.0))).await.len(), 4);
    assert_eq!(find(&ctx, attr("remote", Eq, Typed::Bool(true))).await, ["ada"]);
    assert_eq!(find(&ctx, attr("remote", Eq, Typed::Bool(false))).await, ["grace"]);
    assert_eq!(find(&ctx, attr("remote", Ne, Typed::Bool(true))).await.len(), 4);
    assert_eq!(find(&ctx, attr("missing", Eq, text("x"))).await, Vec::<String>::new());
}

#[tokio::test]
async fn membership_facts_follow_the_scope() {
    let ctx = fixture().await;
    let org = |op, id| member(MembershipAttr::OrgId, op, Typed::Uuid(id));
    assert_eq!(find(&ctx, org(Eq, ORG_A)).await, ["ada", "grace", "odd_one"]);
    assert_eq!(find(&ctx, org(Ne, ORG_A)).await, ["barbara", "linus"]);
    let role = |op, v| member(MembershipAttr::Role, op, text(v));
    assert_eq!(find(&ctx, role(Eq, "ADMIN")).await, ["ada"]);
    assert_eq!(find(&ctx, role(Ne, "member")).await, ["ada", "barbara", "odd_one"], "no membership differs");
    assert_eq!(find(&ctx, role(Co, "WN")).await, ["barbara"]);
    assert_eq!(find(&ctx, role(Sw, "mem")).await, ["grace", "linus"]);
    assert_eq!(find(&ctx, role(Ew, "in")).await, ["ada"]);
    // In an organization's scope, `role` (filter and field) is the role there.
    let in_a = UserFilter { predicate: Some(role(Eq, "viewer")), ..UserFilter::default() };
    assert_eq!(find_in(&ctx, Scope::Org(ORG_A), in_a).await, ["grace", "odd_one"]);
    let roles = |scope| {
        let q = query(scope, UserFilter::default(), &[(UserSortField::Email, false)], 10, Paging::Keyset(None));
        let users = &ctx.users;
        async move { users.list(&q).await.unwrap().items.into_iter().map(|u| u.role).collect::<Vec<_>>() }
    };
    let s = |r: &str| Some(r.to_owned());
    assert_eq!(roles(Scope::Org(ORG_A)).await, [s("manager"), s("viewer"), s("viewer")]);
    assert_eq!(roles(Scope::Platform).await, [s("admin"), s("owner"), s("member"), s("member"), None]);
}

#[tokio::test]
async fn logic_combinations() {
    let ctx = fixture().await;
    let active = col(Column::Status, Eq, Typed::Status(UserStatus::Active));
    let remote = attr("remote", Eq, Typed::Bool(true));
    let named_l = col(Column::Name, Sw, text("l"));
    assert_eq!(find(&ctx, and(active.clone(), not(remote.clone()))).await, ["grace"]);
    assert_eq!(find(&ctx, or(remote.clone(), named_l.clone())).await, ["ada", "linus"]);
    assert_eq!(find(&ctx, not(or(remote.clone(), named_l.clone()))).await, ["barbara", "grace", "odd_one"]);
    assert_eq!(
        find(&ctx, and(not(remote.clone()), not(named_l.clone()))).await,
        find(&ctx, not(or(remote, named_l))).await,
        "De Morgan holds with NULLs"
    );
    // `not eq` equals `ne`, both including NULLs.
    let eq_x = col(Column::Name, Eq, text("linus"));
    assert_eq!(find(&ctx, not(eq_x)).await, find(&ctx, col(Column::Name, Ne, text("linus"))).await);
    let nested = or(and(active, member(MembershipAttr::OrgId, Eq, Typed::Uuid(ORG_A))), pr(Attr::Json("level".into())));
    assert_eq!(find(&ctx, nested.clone()).await, ["ada", "grace", "linus"]);
    assert_eq!(find(&ctx, not(not(nested.clone()))).await, ["ada", "grace", "linus"]);
}

#[tokio::test]
async fn scope_and_any_of_shortcuts() {
    let ctx = fixture().await;
    let all = UserFilter::default();
    assert_eq!(find_in(&ctx, Scope::Org(ORG_A), all.clone()).await, ["ada", "grace", "odd_one"]);
    assert_eq!(find_in(&ctx, Scope::Org(ORG_B), all.clone()).await, ["barbara"]);
    assert!(find_in(&ctx, Scope::Org(Uuid::from_u128(0xC)), all).await.is_empty());
    let emails = UserFilter { email: vec!["ADA@example.com".into(), "Linus@Example.COM".into()], ..Default::default() };
    assert_eq!(find_in(&ctx, Scope::Platform, emails.clone()).await, ["ada", "linus"]);
    assert_eq!(find_in(&ctx, Scope::Org(ORG_A), emails).await, ["ada"], "scope still applies");
    let statuses = UserFilter { status: vec![UserStatus::Banned, UserStatus::Pending], ..Default::default() };
    assert_eq!(find_in(&ctx, Scope::Platform, statuses).await, ["barbara", "linus"]);
    let roles = UserFilter { role: vec!["Owner".into(), "admin".into()], ..Default::default() };
    assert_eq!(find_in(&ctx, Scope::Platform, roles).await, ["ada", "barbara"]);
    let in_a = UserFilter { role: vec!["viewer".into(), "admin".into()], ..Default::default() };
    assert_eq!(find_in(&ctx, Scope::Org(ORG_A), in_a).await, ["grace", "odd_one"]);
    let orgs = UserFilter { org_id: vec![ORG_B, Uuid::from_u128(0xC)], ..Default::default() };
    assert_eq!(find_in(&ctx, Scope::Platform, orgs).await, ["barbara"]);
    let q = |s: &str| UserFilter { q: Some(s.into()), ..Default::default() };
    assert_eq!(find_in(&ctx, Scope::Platform, q("%")).await, ["odd_one"]);
    assert_eq!(find_in(&ctx, Scope::Platform, q("_")).await, ["odd_one"]);
    assert_eq!(find_in(&ctx, Scope::Platform, q(r"\")).await, ["odd_one"]);
    assert_eq!(find_in(&ctx, Scope::Platform, q("LISK")).await, ["barbara"]);
    assert_eq!(find_in(&ctx, Scope::Platform, q("example")).await.len(), 5);
    let name = UserFilter { name: Some("ace".into()), ..Default::default() };
    assert_eq!(find_in(&ctx, Scope::Platform, name).await, ["ada", "grace"]);
    let everything = UserFilter {
        q: Some("a".into()),
        status: vec![UserStatus::Active],
        org_id: vec![ORG_A],
        predicate: Some(attr("remote", Eq, Typed::Bool(false))),
        ..Default::default()
    };
    assert_eq!(find_in(&ctx, Scope::Org(ORG_A), everything).await, ["grace"]);
}

#[tokio::test]
async fn sorting_puts_nulls_last_ascending_and_first_descending() {
    let ctx = fixture().await;
    let list = |sort: &'static [(UserSortField, bool)]| {
        let q = query(Scope::Platform, UserFilter::default(), sort, 10, Paging::Offset { page: 1 });
        let users = &ctx.users;
        async move { names(&users.list(&q).await.unwrap()) }
    };
    use UserSortField::*;
    // linus and odd_one have no login: ties are broken by id (creation
    // order), in the direction of the last sort key.
    assert_eq!(list(&[(LastLoginAt, false)]).await, ["grace", "barbara", "ada", "linus", "odd_one"]);
    // grace and barbara logged in at the same time: ids descending too.
    assert_eq!(list(&[(LastLoginAt, true)]).await, ["odd_one", "linus", "ada", "barbara", "grace"]);
    assert_eq!(list(&[(LastLoginAt, true), (Email, true)]).await, ["odd_one", "linus", "ada", "grace", "barbara"]);
    assert_eq!(list(&[(FamilyName, false)]).await, ["grace", "barbara", "ada", "linus", "odd_one"]);
}

#[tokio::test]
async fn offset_pages_report_more_and_totals() {
    let ctx = fixture().await;
    let mut q = query(
        Scope::Platform,
        UserFilter::default(),
        &[(UserSortField::CreatedAt, true)],
        2,
        Paging::Offset { page: 2 },
    );
    let p = ctx.users.list(&q).await.unwrap();
    assert_eq!(
        (names(&p), p.total, p.page, p.has_more),
        (vec!["linus".into(), "grace".into()], Some(5), Some(2), true)
    );
    q.paging = Paging::Offset { page: 3 };
    q.with_total = false;
    let p = ctx.users.list(&q).await.unwrap();
    assert_eq!((names(&p), p.total, p.page, p.has_more), (vec!["ada".into()], None, Some(3), false));
    // A cursor that does not fit the sort is refused.
    q.paging = Paging::Keyset(Some(Keyset { values: vec![], id: Uuid::nil() }));
    assert!(matches!(ctx.users.list(&q).await, Err(RepoError::Internal(_))));
}

#[path = "directory/paging.rs"]
mod paging;
