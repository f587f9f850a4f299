//! Shared set-up of the adapter tests: a fresh migrated database per test,
//! a pool on it, and builders for users, sessions, tokens and letters.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::auth::TokenHash;
use roster_domain::mail::{Effects, MailTemplate, NewToken, QueuedMail, TokenPurpose};
use roster_domain::org::{Location, Organization, Role};
use roster_domain::ports::{NewRole, NewSession, OrganizationRepository, RoleRepository, UserRepository};
use roster_domain::user::{BuiltinRole, NewMembership, NewUserExtras, NewUserRecord, User, UserChanges, UserStatus};
use roster_domain::values::Email;
use roster_domain::Patch;
use roster_postgres::schema::outbox;
use roster_postgres::{
    build_pool, PgAccountRepository, PgLocationRepository, PgMemberRepository, PgOrgRepository, PgOutboxRepository,
    PgPool, PgRateLimits, PgRoleRepository, PgSessionRepository, PgUserRepository, PoolConfig,
};
use roster_testkit::TestDatabase;
use uuid::Uuid;

/// One test's database (dropped with it) and repositories over a pool on it.
pub struct Ctx {
    pub db: TestDatabase,
    pub pool: PgPool,
    pub users: PgUserRepository,
    pub sessions: PgSessionRepository,
    pub accounts: PgAccountRepository,
    pub outbox: PgOutboxRepository,
    pub rate_limits: PgRateLimits,
    pub orgs: PgOrgRepository,
    pub roles: PgRoleRepository,
    pub locations: PgLocationRepository,
    pub members: PgMemberRepository,
}

pub async fn setup() -> Ctx {
    let db = roster_testkit::fresh_database().await.expect("test database");
    let pool = build_pool(db.url(), &PoolConfig { max_size: 12, ..PoolConfig::default() }).expect("pool");
    Ctx {
        users: PgUserRepository::new(pool.clone()),
        sessions: PgSessionRepository::new(pool.clone()),
        accounts: PgAccountRepository::new(pool.clone()),
        outbox: PgOutboxRepository::new(pool.clone()),
        rate_limits: PgRateLimits::new(pool.clone()),
        orgs: PgOrgRepository::new(pool.clone()),
        roles: PgRoleRepository::new(pool.clone()),
        locations: PgLocationRepository::new(pool.clone()),
        members: PgMemberRepository::new(pool.clone()),
        pool,
        db,
    }
}

/// A fixed instant, `secs` seconds after 2026-11-24T12:00:00Z.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

pub fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

pub fn new_user(address: &str, role: BuiltinRole, now: DateTime<Utc>) -> NewUserRecord {
    NewUserRecord {
        id: Uuid::now_v7(),
        email: email(address),
        password_hash: Some(format!("hash-of-{address}")),
        status: UserStatus::Active,
        email_verified: false,
        is_superadmin: false,
        membership: NewMembership::Platform(role),
        fields: UserChanges::default(),
        extras: NewUserExtras::default(),
        now,
    }
}

/// Creates an active member with the given display name.
pub async fn member(ctx: &Ctx, address: &str, name: Option<&str>, now: DateTime<Utc>) -> User {
    let mut u = new_user(address, BuiltinRole::Member, now);
    if let Some(n) = name {
        u.fields.name = Patch::Set(n.to_owned());
    }
    ctx.users.create(&u, &Effects::none()).await.unwrap()
}

/// A distinct token hash.
pub fn hash(tag: u8) -> TokenHash {
    let mut h = [0u8; 32];
    h[0] = tag;
    h[31] = 0xA5;
    h
}

/// A session of `user_id` opened at `now`, living an hour, whose first
/// refresh token is `hash(token)`.
pub fn new_session(user_id: Uuid, token: u8, now: DateTime<Utc>) -> NewSession {
    NewSession {
        id: Uuid::now_v7(),
        user_id,
        org_id: roster_domain::DEFAULT_ORG_ID,
        refresh_hash: hash(token),
        refresh_expires_at: now + Duration::minutes(30),
        expires_at: now + Duration::hours(1),
        user_agent: Some("test-agent".to_owned()),
        ip: Some("127.0.0.1".to_owned()),
        amr: vec!["pwd".to_owned()],
        now,
    }
}

/// A token `hash(tag)` of `user_id` for `purpose`, mailed to `address` at
/// `now`, living an hour.
pub fn token(tag: u8, purpose: TokenPurpose, user_id: Uuid, address: &str, now: DateTime<Utc>) -> NewToken {
    NewToken {
        hash: hash(tag),
        purpose,
        user_id,
        email: email(address),
        invitation_id: None,
        expires_at: now + Duration::hours(1),
        now,
    }
}

/// A letter to `to`, queued at `now`, whose sealed content names it.
pub fn letter(template: MailTemplate, to: &str, now: DateTime<Utc>) -> QueuedMail {
    QueuedMail {
        id: Uuid::now_v7(),
        template,
        to: email(to),
        sealed: format!("sealed {} to {to}", template.as_str()).into_bytes(),
        created_at: now,
    }
}

/// Just a token, no letter.
pub fn only(token: NewToken) -> Effects {
    Effects { token: Some(token), mails: Vec::new() }
}

/// One row of the outbox as stored.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct OutboxRow {
    pub id: Uuid,
    pub template: String,
    pub recipient: String,
    pub payload: Option<Vec<u8>>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Every outbox row, oldest first.
pub async fn outbox_rows(ctx: &Ctx) -> Vec<OutboxRow> {
    let mut c = ctx.pool.get().await.unwrap();
    outbox::table.order_by((outbox::created_at, outbox::id)).load(&mut c).await.unwrap()
}

/// A new organization `slug` named after it, created at `at(0)`, with
/// `owner` as its first owner.
pub async fn org(ctx: &Ctx, slug: &str, owner: Option<Uuid>) -> Organization {
    ctx.orgs.create_org(Uuid::now_v7(), &slug.to_uppercase(), slug, owner, at(0)).await.unwrap()
}

/// A role of `org` that is not built in.
pub fn new_role(org: Uuid, name: &str, permissions: &[&str]) -> NewRole {
    NewRole {
        id: Uuid::now_v7(),
        org_id: org,
        name: name.to_owned(),
        title: None,
        description: Some(format!("The {name}s")),
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
        requires_location: false,
        now: at(1),
    }
}

/// `org`'s role called `name`.
pub async fn role(ctx: &Ctx, org: Uuid, name: &str) -> Role {
    ctx.roles.role_by_name(org, name).await.unwrap().unwrap_or_else(|| panic!("no role {name}"))
}

/// A location of `org` in Copenhagen, created at `at(secs)`.
pub fn location(org: Uuid, name: &str, keywords: &[&str], secs: i64) -> Location {
    Location {
        id: Uuid::now_v7(),
        org_id: org,
        name: name.to_owned(),
        timezone: "Europe/Copenhagen".to_owned(),
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        created_at: at(secs),
        updated_at: at(secs),
    }
}

/// `list` as strings.
pub fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
