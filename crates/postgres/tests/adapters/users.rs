//! `PgUserRepository` against a real PostgreSQL.

use std::time::{Duration as StdDuration, Instant};

use crate::common::{at, email, member, new_session, new_user, setup};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::auth::Permission;
use roster_domain::mail::Effects;
use roster_domain::ports::{SessionRepository, UserRepository};
use roster_domain::user::{
    BuiltinRole, Paging, Scope, SortKey, UserChanges, UserFilter, UserListQuery, UserSortField, UserStatus,
};
use roster_domain::{Conflict, Patch, RepoError, DEFAULT_ORG_ID};
use roster_postgres::schema::{memberships, password_credentials, sessions};
use roster_postgres::{build_pool, PgUserRepository, PoolConfig};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn create_then_get() {
    let ctx = setup().await;
    let mut rec = new_user("Ada@Example.COM", BuiltinRole::Member, at(0));
    rec.fields.name = Patch::Set("Ada Lovelace".into());
    rec.fields.given_name = Patch::Set("Ada".into());
    rec.fields.birthdate = Patch::Set(NaiveDate::from_ymd_opt(1815, 12, 10).unwrap());
    rec.fields.attributes = Some(json!({"team": "engines"}).as_object().unwrap().clone());
    let created = ctx.users.create(&rec, &Effects::none()).await.unwrap();
    assert_eq!(created.email, "Ada@example.com");
    assert_eq!(created.role.as_deref(), Some("member"));

    let got = ctx.users.get(rec.id).await.unwrap().unwrap();
    assert_eq!(got, created);
    assert_eq!(got.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(got.family_name, None);
    assert_eq!(got.profile.birthdate, NaiveDate::from_ymd_opt(1815, 12, 10));
    assert_eq!(got.attributes["team"], "engines");
    assert_eq!((got.status, got.email_verified, got.is_superadmin), (UserStatus::Active, false, false));
    assert_eq!((got.created_at, got.updated_at, got.last_login_at), (at(0), at(0), None));
    assert_eq!(ctx.users.password_hash(rec.id).await.unwrap().as_deref(), Some("hash-of-Ada@Example.COM"));

    // Invited: no password credential. Admin role is stored as such.
    let mut invited = new_user("invited@example.com", BuiltinRole::Admin, at(1));
    invited.password_hash = None;
    invited.status = UserStatus::Pending;
    let u = ctx.users.create(&invited, &Effects::none()).await.unwrap();
    assert_eq!((u.role.as_deref(), u.status), (Some("admin"), UserStatus::Pending));
    assert_eq!(ctx.users.password_hash(invited.id).await.unwrap(), None);

    assert_eq!(ctx.users.get(Uuid::now_v7()).await.unwrap(), None);
}

#[tokio::test]
async fn duplicate_email_differing_in_case_is_a_conflict() {
    let ctx = setup().await;
    ctx.users.create(&new_user("grace@example.com", BuiltinRole::Member, at(0)), &Effects::none()).await.unwrap();
    let dup = new_user("GRACE@example.com", BuiltinRole::Member, at(1));
    assert_eq!(ctx.users.create(&dup, &Effects::none()).await, Err(RepoError::Conflict(Conflict::EmailTaken)));
    // Nothing of the failed insert remains.
    assert_eq!(ctx.users.get(dup.id).await.unwrap(), None);

    let other = member(&ctx, "other@example.com", None, at(2)).await;
    let changes = UserChanges { email: Some(email("Grace@Example.com")), ..UserChanges::default() };
    assert_eq!(
        ctx.users.update(other.id, &changes, &Effects::none(), at(3)).await,
        Err(RepoError::Conflict(Conflict::EmailTaken))
    );
}

#[tokio::test]
async fn update_keep_clear_set() {
    let ctx = setup().await;
    let mut rec = new_user("lin@example.com", BuiltinRole::Member, at(0));
    rec.fields.name = Patch::Set("Lin".into());
    rec.fields.phone = Patch::Set("+4512345678".into());
    rec.fields.given_name = Patch::Set("L".into());
    rec.fields.department = Patch::Set("R&D".into());
    rec.fields.attributes = Some(json!({"a": 1, "b": 2}).as_object().unwrap().clone());
    ctx.users.create(&rec, &Effects::none()).await.unwrap();

    let changes = UserChanges {
        name: Patch::Clear,
        phone: Patch::Set("+4587654321".into()),
        birthdate: Patch::Set(NaiveDate::from_ymd_opt(1990, 1, 2).unwrap()),
        department: Patch::Clear,
        attributes: Some(json!({"c": 3}).as_object().unwrap().clone()),
        email: Some(email("Lin.New@Example.com")),
        email_verified: Some(true),
        ..UserChanges::default()
    };
    let u = ctx.users.update(rec.id, &changes, &Effects::none(), at(10)).await.unwrap().unwrap();
    assert_eq!(u.name, None);
    assert_eq!(u.phone.as_deref(), Some("+4587654321"));
    assert_eq!(u.given_name.as_deref(), Some("L"), "Keep leaves the column alone");
    assert_eq!(u.profile.department, None);
    assert_eq!(u.profile.birthdate, NaiveDate::from_ymd_opt(1990, 1, 2));
    assert_eq!(serde_json::Value::Object(u.attributes.clone()), json!({"c": 3}));
    assert_eq!((u.email.as_str(), u.email_verified), ("Lin.New@example.com", true));
    assert_eq!((u.created_at, u.updated_at), (at(0), at(10)));
    assert_eq!(u.role.as_deref(), Some("member"));
    assert_eq!(ctx.users.get(rec.id).await.unwrap().unwrap(), u);

    // An empty change still bumps updated_at and keeps everything else.
    let same = ctx.users.update(rec.id, &UserChanges::default(), &Effects::none(), at(20)).await.unwrap().unwrap();
    assert_eq!(same.updated_at, at(20));
    assert_eq!(same.phone, u.phone);
    assert_eq!(same.attributes, u.attributes);

    assert_eq!(ctx.users.update(Uuid::now_v7(), &changes, &Effects::none(), at(30)).await, Ok(None));
}

#[tokio::test]
async fn banning_revokes_every_session() {
    let ctx = setup().await;
    let u = member(&ctx, "ban@example.com", None, at(0)).await;
    let s1 = new_session(u.id, 1, at(0));
    let s2 = new_session(u.id, 2, at(0));
    ctx.sessions.create(&s1).await.unwrap();
    ctx.sessions.create(&s2).await.unwrap();

    let banned = ctx.users.set_status(u.id, UserStatus::Banned, at(5)).await.unwrap().unwrap();
    assert_eq!((banned.status, banned.updated_at), (UserStatus::Banned, at(5)));
    let mut c = ctx.pool.get().await.unwrap();
    let reasons: Vec<Option<String>> =
        sessions::table.filter(sessions::user_id.eq(u.id)).select(sessions::revoked_reason).load(&mut c).await.unwrap();
    assert_eq!(reasons, vec![Some("status_banned".to_owned()); 2]);

    // Activating again revokes nothing and leaves the old sessions revoked.
    let s3 = new_session(u.id, 3, at(6));
    ctx.sessions.create(&s3).await.unwrap();
    let active = ctx.users.set_status(u.id, UserStatus::Active, at(7)).await.unwrap().unwrap();
    assert_eq!(active.status, UserStatus::Active);
    assert!(ctx.sessions.subject(s3.id, u.id, at(8)).await.unwrap().is_some());
    assert!(ctx.sessions.subject(s1.id, u.id, at(8)).await.unwrap().is_none());

    assert_eq!(ctx.users.set_status(Uuid::now_v7(), UserStatus::Inactive, at(9)).await, Ok(None));
}

#[tokio::test]
async fn delete_cascades() {
    let ctx = setup().await;
    let u = member(&ctx, "gone@example.com", None, at(0)).await;
    let keep = member(&ctx, "stays@example.com", None, at(0)).await;
    ctx.sessions.create(&new_session(u.id, 1, at(0))).await.unwrap();
    ctx.sessions.create(&new_session(keep.id, 2, at(0))).await.unwrap();

    assert!(ctx.users.delete(u.id).await.unwrap());
    assert!(!ctx.users.delete(u.id).await.unwrap());
    assert_eq!(ctx.users.get(u.id).await.unwrap(), None);

    let mut c = ctx.pool.get().await.unwrap();
    let sessions_left: i64 =
        sessions::table.filter(sessions::user_id.eq(u.id)).count().get_result(&mut c).await.unwrap();
    let members_left: i64 =
        memberships::table.filter(memberships::user_id.eq(u.id)).count().get_result(&mut c).await.unwrap();
    let creds_left: i64 = password_credentials::table
        .filter(password_credentials::user_id.eq(u.id))
        .count()
        .get_result(&mut c)
        .await
        .unwrap();
    assert_eq!((sessions_left, members_left, creds_left), (0, 0, 0));
    let others: i64 = sessions::table.filter(sessions::user_id.eq(keep.id)).count().get_result(&mut c).await.unwrap();
    assert_eq!(others, 1);
}

#[tokio::test]
async fn set_password_revokes_other_sessions() {
    let ctx = setup().await;
    let u = member(&ctx, "pw@example.com", None, at(0)).await;
    let sessions: Vec<_> = (1..=3).map(|i| new_session(u.id, i, at(0))).collect();
    for s in &sessions {
        ctx.sessions.create(s).await.unwrap();
    }
    ctx.users.set_password(u.id, "new-hash", Some(sessions[0].id), at(5), &Effects::none()).await.unwrap();
    assert_eq!(ctx.users.password_hash(u.id).await.unwrap().as_deref(), Some("new-hash"));
    assert!(ctx.sessions.subject(sessions[0].id, u.id, at(6)).await.unwrap().is_some());
    assert!(ctx.sessions.subject(sessions[1].id, u.id, at(6)).await.unwrap().is_none());
    assert!(ctx.sessions.subject(sessions[2].id, u.id, at(6)).await.unwrap().is_none());

    // Without a session to keep, every session goes; a user without a
    // password gets one.
    ctx.users.set_password(u.id, "newer-hash", None, at(7), &Effects::none()).await.unwrap();
    assert!(ctx.sessions.subject(sessions[0].id, u.id, at(8)).await.unwrap().is_none());
    let mut invited = new_user("nopw@example.com", BuiltinRole::Member, at(0));
    invited.password_hash = None;
    ctx.users.create(&invited, &Effects::none()).await.unwrap();
    ctx.users.set_password(invited.id, "first-hash", None, at(9), &Effects::none()).await.unwrap();
    assert_eq!(ctx.users.password_hash(invited.id).await.unwrap().as_deref(), Some("first-hash"));
}

fn query(filter: UserFilter, page: u32, per_page: u32, sort: &[(UserSortField, bool)]) -> UserListQuery {
    UserListQuery {
        scope: Scope::Platform,
        filter,
        per_page,
        sort: sort.iter().map(|&(field, descending)| SortKey { field, descending }).collect(),
        paging: Paging::Offset { page },
        with_total: true,
    }
}

fn emails(page: &roster_domain::user::Page<roster_domain::user::User>) -> Vec<&str> {
    page.items.iter().map(|u| u.email.as_str()).collect()
}

#[tokio::test]
async fn list_filters_sorts_and_pages() {
    let ctx = setup().await;
    member(&ctx, "ada@example.com", Some("Ada Lovelace"), at(1)).await;
    member(&ctx, "grace@example.com", Some("Grace Hopper"), at(2)).await;
    member(&ctx, "percent@example.com", Some("100% Sure"), at(3)).await;
    member(&ctx, "under_score@example.com", None, at(4)).await;
    let banned = member(&ctx, "linus@example.com", Some("Linus"), at(5)).await;
    ctx.users.set_status(banned.id, UserStatus::Banned, at(6)).await.unwrap();
    let mut rec = new_user("barbara@example.com", BuiltinRole::Admin, at(6));
    rec.fields.family_name = Patch::Set("Liskov".into());
    ctx.users.create(&rec, &Effects::none()).await.unwrap();

    let all = ctx.users.list(&query(UserFilter::default(), 1, 20, &[(UserSortField::CreatedAt, false)])).await.unwrap();
    assert_eq!(all.total, Some(6));
    assert_eq!(
        emails(&all),
        [
            "ada@example.com",
            "grace@example.com",
            "percent@example.com",
            "under_score@example.com",
            "linus@example.com",
            "barbara@example.com"
        ]
    );
    assert_eq!(all.items[5].role.as_deref(), Some("admin"));

    // Paging with a descending key; total counts every match.
    let p2 = ctx.users.list(&query(UserFilter::default(), 2, 2, &[(UserSortField::CreatedAt, true)])).await.unwrap();
    assert_eq!((p2.total, p2.page, p2.per_page), (Some(6), Some(2), 2));
    assert_eq!(emails(&p2), ["under_score@example.com", "percent@example.com"]);
    let past = ctx.users.list(&query(UserFilter::default(), 9, 2, &[(UserSortField::CreatedAt, true)])).await.unwrap();
    assert_eq!((past.items.len(), past.total, past.has_more), (0, Some(6), false));

    // NULL names sort last ascending and first descending.
    let by_name = ctx.users.list(&query(UserFilter::default(), 1, 20, &[(UserSortField::Name, false)])).await.unwrap();
    assert_eq!(
        emails(&by_name)[..4],
        ["percent@example.com", "ada@example.com", "grace@example.com", "linus@example.com"]
    );
    assert_eq!(emails(&by_name)[4..], ["under_score@example.com", "barbara@example.com"], "ties broken by id");
    let by_name_desc =
        ctx.users.list(&query(UserFilter::default(), 1, 2, &[(UserSortField::Name, true)])).await.unwrap();
    // Ties break on id in the direction of the last key: descending here.
    assert_eq!(emails(&by_name_desc), ["barbara@example.com", "under_score@example.com"]);

    // `%` and `_` in q are literal characters, not wildcards.
    let f = |q: &str| UserFilter { q: Some(q.into()), ..UserFilter::default() };
    let pct = ctx.users.list(&query(f("%"), 1, 20, &[(UserSortField::CreatedAt, false)])).await.unwrap();
    assert_eq!(emails(&pct), ["percent@example.com"]);
    let us = ctx.users.list(&query(f("_"), 1, 20, &[(UserSortField::CreatedAt, false)])).await.unwrap();
    assert_eq!(emails(&us), ["under_score@example.com"]);
    assert_eq!(ctx.users.count(Scope::Platform, &f("\\")).await.unwrap(), 0);
    // q is case-insensitive over email and the three names.
    assert_eq!(ctx.users.count(Scope::Platform, &f("LISKOV")).await.unwrap(), 1);
    assert_eq!(ctx.users.count(Scope::Platform, &f("HOPPER")).await.unwrap(), 1);
    assert_eq!(ctx.users.count(Scope::Platform, &f("example.COM")).await.unwrap(), 6);

    let by_email = UserFilter { email: vec!["GRACE@example.com".into()], ..UserFilter::default() };
    assert_eq!(
        emails(&ctx.users.list(&query(by_email, 1, 20, &[(UserSortField::Email, false)])).await.unwrap()),
        ["grace@example.com"]
    );
    // name matches names only, not the email.
    let by_name = UserFilter { name: Some("li".into()), ..UserFilter::default() };
    let names = ctx.users.list(&query(by_name.clone(), 1, 20, &[(UserSortField::Email, false)])).await.unwrap();
    assert_eq!(emails(&names), ["barbara@example.com", "linus@example.com"]);
    let banned_only = UserFilter { status: vec![UserStatus::Banned], ..UserFilter::default() };
    assert_eq!(ctx.users.count(Scope::Platform, &banned_only).await.unwrap(), 1);
    let combined = UserFilter { status: vec![UserStatus::Active], ..by_name };
    assert_eq!(ctx.users.count(Scope::Platform, &combined).await.unwrap(), 1);
    assert_eq!(ctx.users.count(Scope::Platform, &UserFilter::default()).await.unwrap(), 6);

    // Several keys: status, then email descending.
    let multi = ctx
        .users
        .list(&query(UserFilter::default(), 1, 3, &[(UserSortField::Status, false), (UserSortField::Email, true)]))
        .await
        .unwrap();
    assert_eq!(emails(&multi), ["under_score@example.com", "percent@example.com", "grace@example.com"]);
}

#[tokio::test]
async fn find_login_is_case_insensitive_with_permissions() {
    let ctx = setup().await;
    let admin =
        ctx.users.create(&new_user("Boss@example.com", BuiltinRole::Admin, at(0)), &Effects::none()).await.unwrap();
    let login = ctx.users.find_login(&email("BOSS@EXAMPLE.COM")).await.unwrap().unwrap();
    assert_eq!(login.subject.user, admin);
    assert_eq!(login.password_hash.as_deref(), Some("hash-of-Boss@example.com"));
    for p in [
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::UsersDelete,
        Permission::UsersManageStatus,
        Permission::SessionsRevoke,
    ]
    .map(Permission::as_str)
    {
        assert!(login.subject.permissions.iter().any(|x| x == p), "admin lacks {p}");
    }
    assert!(!login.subject.permissions.iter().any(|x| x == "org:manage"));

    // A member has no permissions, until the membership grants extra ones.
    let m = member(&ctx, "member@example.com", None, at(0)).await;
    let login = ctx.users.find_login(&email("member@example.com")).await.unwrap().unwrap();
    assert!(login.subject.permissions.is_empty());
    let mut c = ctx.pool.get().await.unwrap();
    diesel::update(memberships::table.find((DEFAULT_ORG_ID, m.id)))
        .set(memberships::permissions.eq(vec!["beacons:toggle".to_owned(), "metrics:view".to_owned()]))
        .execute(&mut c)
        .await
        .unwrap();
    let login = ctx.users.find_login(&email("Member@example.com")).await.unwrap().unwrap();
    assert_eq!(login.subject.permissions, ["beacons:toggle", "metrics:view"]);

    assert_eq!(ctx.users.find_login(&email("nobody@example.com")).await.unwrap(), None);
}

#[tokio::test]
async fn upsert_superadmin_creates_then_promotes() {
    let ctx = setup().await;
    let id = Uuid::now_v7();
    let (root, created) =
        ctx.users.upsert_superadmin(id, &email("root@example.com"), "root-hash", at(0)).await.unwrap();
    assert!(created);
    assert_eq!(root.id, id);
    assert!(root.is_superadmin && root.email_verified);
    assert_eq!((root.status, root.role.as_deref()), (UserStatus::Active, Some("owner")));
    assert_eq!(ctx.users.password_hash(id).await.unwrap().as_deref(), Some("root-hash"));

    // Running it again changes the password only.
    let (again, created) =
        ctx.users.upsert_superadmin(Uuid::now_v7(), &email("ROOT@example.com"), "root-hash-2", at(1)).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, id);
    assert_eq!(ctx.users.password_hash(id).await.unwrap().as_deref(), Some("root-hash-2"));

    // An existing banned member is promoted, reactivated and made owner.
    let m = member(&ctx, "ops@example.com", None, at(2)).await;
    ctx.users.set_status(m.id, UserStatus::Banned, at(3)).await.unwrap();
    let (promoted, created) =
        ctx.users.upsert_superadmin(Uuid::now_v7(), &email("Ops@example.com"), "ops-hash", at(4)).await.unwrap();
    assert!(!created);
    assert_eq!(promoted.id, m.id);
    assert!(promoted.is_superadmin);
    assert_eq!((promoted.status, promoted.role.as_deref()), (UserStatus::Active, Some("owner")));
    let login = ctx.users.find_login(&email("ops@example.com")).await.unwrap().unwrap();
    assert_eq!(login.password_hash.as_deref(), Some("ops-hash"));
    assert!(login.subject.permissions.iter().any(|p| p == "roles:manage"));
}

#[tokio::test]
async fn closed_port_is_unavailable_quickly() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let cfg = PoolConfig {
        max_size: 2,
        wait_timeout: StdDuration::from_secs(2),
        create_timeout: StdDuration::from_secs(2),
        recycle_timeout: StdDuration::from_secs(2),
        statement_timeout: None,
    };
    let pool = build_pool(&format!("postgres://roster:secret@127.0.0.1:{port}/roster"), &cfg).unwrap();
    let repo = PgUserRepository::new(pool);
    let started = Instant::now();
    let r = repo.get(Uuid::now_v7()).await;
    assert!(matches!(r, Err(RepoError::Unavailable(_))), "{r:?}");
    let r = repo.create(&new_user("x@example.com", BuiltinRole::Member, at(0)), &Effects::none()).await;
    assert!(matches!(r, Err(RepoError::Unavailable(_))), "{r:?}");
    assert!(started.elapsed() < StdDuration::from_secs(5), "took {:?}", started.elapsed());
}
