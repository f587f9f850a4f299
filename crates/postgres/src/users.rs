//! [`UserRepository`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::SessionSubject;
use roster_domain::mail::Effects;
use roster_domain::org::{MemberChange, MemberOutcome};
use roster_domain::ports::{LastLogin, LoginRecord, UserRepository};
use roster_domain::user::{
    BuiltinRole, NewMembership, NewUserRecord, Page, Scope, User, UserChanges, UserFilter, UserListQuery, UserStatus,
};
use roster_domain::values::Email;
use roster_domain::{Patch, RepoError, DEFAULT_ORG_ID};
use uuid::Uuid;

use crate::db::Db;
use crate::effects::write_effects;
use crate::error::DbError;
use crate::members::update_member_tx;
use crate::pool::PgPool;
use crate::push_tokens::claim_token;
use crate::rows::{default_org_role_id, into_subject, load_user, load_user_in, lower, users_with_role, UserRow};
use crate::schema::{invitations, memberships, password_credentials, roles, sessions, users};
use crate::users_query;

/// The user directory in PostgreSQL: `users`, their `password_credentials`
/// and their membership in the default organization.
#[derive(Clone, Debug)]
pub struct PgUserRepository {
    db: Db,
}

impl PgUserRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// A user to insert.
#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    id: Uuid,
    email: &'a str,
    email_verified: bool,
    name: Option<&'a str>,
    given_name: Option<&'a str>,
    family_name: Option<&'a str>,
    phone: Option<&'a str>,
    locale: Option<&'a str>,
    timezone: Option<&'a str>,
    status: &'a str,
    birthdate: Option<NaiveDate>,
    gender: Option<&'a str>,
    pronouns: Option<&'a str>,
    employee_id: Option<&'a str>,
    position: Option<&'a str>,
    department: Option<&'a str>,
    attributes: serde_json::Value,
    is_superadmin: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    managed_by: Uuid,
    settings: serde_json::Value,
    block_unknown_ips: bool,
}

/// Changes to a user: `None` leaves a column alone, `Some(None)` sets NULL.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserChangeset<'a> {
    email: Option<&'a str>,
    email_verified: Option<bool>,
    name: Option<Option<&'a str>>,
    given_name: Option<Option<&'a str>>,
    family_name: Option<Option<&'a str>>,
    phone: Option<Option<&'a str>>,
    locale: Option<Option<&'a str>>,
    timezone: Option<Option<&'a str>>,
    birthdate: Option<Option<NaiveDate>>,
    gender: Option<Option<&'a str>>,
    pronouns: Option<Option<&'a str>>,
    employee_id: Option<Option<&'a str>>,
    position: Option<Option<&'a str>>,
    department: Option<Option<&'a str>>,
    attributes: Option<serde_json::Value>,
    managed_by: Option<Uuid>,
    updated_at: DateTime<Utc>,
}

/// `Keep` → leave the column, `Clear` → NULL, `Set` → the value.
fn change(p: &Patch<String>) -> Option<Option<&str>> {
    match p {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(v) => Some(Some(v.as_str())),
    }
}

/// The value to insert: only `Set` gives one.
fn initial(p: &Patch<String>) -> Option<&str> {
    match p {
        Patch::Set(v) => Some(v.as_str()),
        Patch::Keep | Patch::Clear => None,
    }
}

fn attributes_value(map: Option<&serde_json::Map<String, serde_json::Value>>) -> serde_json::Value {
    serde_json::Value::Object(map.cloned().unwrap_or_default())
}

impl<'a> UserChangeset<'a> {
    fn new(c: &'a UserChanges, now: DateTime<Utc>) -> Self {
        let birthdate = match c.birthdate {
            Patch::Keep => None,
            Patch::Clear => Some(None),
            Patch::Set(d) => Some(Some(d)),
        };
        UserChangeset {
            email: c.email.as_ref().map(Email::as_str),
            email_verified: c.email_verified,
            name: change(&c.name),
            given_name: change(&c.given_name),
            family_name: change(&c.family_name),
            phone: change(&c.phone),
            locale: change(&c.locale),
            timezone: change(&c.timezone),
            birthdate,
            gender: change(&c.gender),
            pronouns: change(&c.pronouns),
            employee_id: change(&c.employee_id),
            position: change(&c.position),
            department: change(&c.department),
            attributes: c.attributes.as_ref().map(|m| attributes_value(Some(m))),
            managed_by: c.managed_by,
            updated_at: now,
        }
    }
}

/// Inserts or replaces the user's password hash.
pub(crate) async fn upsert_password(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(password_credentials::table)
        .values((
            password_credentials::user_id.eq(user_id),
            password_credentials::hash.eq(hash),
            password_credentials::updated_at.eq(now),
        ))
        .on_conflict(password_credentials::user_id)
        .do_update()
        .set((
            password_credentials::hash.eq(excluded(password_credentials::hash)),
            password_credentials::updated_at.eq(excluded(password_credentials::updated_at)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the user a member of the default organization with `role`,
/// replacing the role of an existing membership.
pub(crate) async fn upsert_default_membership(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    role: BuiltinRole,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    upsert_membership(conn, user_id, &NewMembership::Platform(role), now).await.map(|_| ())
}

/// The organization and role of `membership`: the default organization's
/// built-in role, or the one named by id.
pub(crate) async fn membership_role(
    conn: &mut AsyncPgConnection,
    membership: &NewMembership,
) -> Result<(Uuid, Uuid, Option<Uuid>), DbError> {
    Ok(match membership {
        NewMembership::Platform(role) => (DEFAULT_ORG_ID, default_org_role_id(conn, role.as_str()).await?, None),
        NewMembership::Org { org_id, role_id, location_id } => (*org_id, *role_id, *location_id),
    })
}

/// Makes the user a member as `membership` says (replacing the role and
/// location of an existing membership there); returns the role's name.
/// The composite foreign keys keep the role and location in their
/// organization.
pub(crate) async fn upsert_membership(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    membership: &NewMembership,
    now: DateTime<Utc>,
) -> Result<String, DbError> {
    let (org_id, role_id, location_id) = membership_role(conn, membership).await?;
    diesel::insert_into(memberships::table)
        .values((
            memberships::org_id.eq(org_id),
            memberships::user_id.eq(user_id),
            memberships::role_id.eq(role_id),
            memberships::location_id.eq(location_id),
            memberships::created_at.eq(now),
        ))
        .on_conflict((memberships::org_id, memberships::user_id))
        .do_update()
        .set((
            memberships::role_id.eq(excluded(memberships::role_id)),
            memberships::location_id.eq(excluded(memberships::location_id)),
        ))
        .execute(conn)
        .await?;
    Ok(roles::table.find(role_id).select(roles::name).first(conn).await?)
}

/// Revokes the live sessions of a user, but `keep`; returns how many.
pub(crate) async fn revoke_sessions(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    let n = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::id.nullable().is_distinct_from(keep))
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
        .await?;
    Ok(n as u64)
}

/// Inserts the user, their password credential if they have one, and their
/// default-org membership; returns the user with their role.
pub(crate) async fn insert_user(conn: &mut AsyncPgConnection, u: &NewUserRecord) -> Result<User, DbError> {
    let f = &u.fields;
    let birthdate = match f.birthdate {
        Patch::Set(d) => Some(d),
        Patch::Keep | Patch::Clear => None,
    };
    let row = NewUserRow {
        id: u.id,
        email: u.email.as_str(),
        email_verified: u.email_verified,
        name: initial(&f.name),
        given_name: initial(&f.given_name),
        family_name: initial(&f.family_name),
        phone: initial(&f.phone),
        locale: initial(&f.locale),
        timezone: initial(&f.timezone),
        status: u.status.as_str(),
        birthdate,
        gender: initial(&f.gender),
        pronouns: initial(&f.pronouns),
        employee_id: initial(&f.employee_id),
        position: initial(&f.position),
        department: initial(&f.department),
        attributes: attributes_value(f.attributes.as_ref()),
        is_superadmin: u.is_superadmin,
        created_at: u.now,
        updated_at: u.now,
        managed_by: u.membership.managed_by(),
        settings: serde_json::Value::Object(u.extras.settings.as_ref().map(|c| c.document.clone()).unwrap_or_default()),
        block_unknown_ips: u.extras.block_unknown_ips,
    };
    let inserted: UserRow =
        diesel::insert_into(users::table).values(&row).returning(UserRow::as_returning()).get_result(conn).await?;
    if let Some(hash) = &u.password_hash {
        upsert_password(conn, u.id, hash, u.now).await?;
    }
    let role = upsert_membership(conn, u.id, &u.membership, u.now).await?;
    if let Some(token) = &u.extras.push_token {
        claim_token(conn, u.id, token, u.now).await?;
    }
    // The role is the default organization's: the platform's view of a user.
    let default_role = (u.membership.managed_by() == DEFAULT_ORG_ID).then_some(role);
    inserted.into_user(default_role)
}

async fn upsert_superadmin_tx(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    email: &Email,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(User, bool), DbError> {
    let existing: Option<Uuid> = users::table
        .filter(lower(users::email).eq(lower(email.as_str())))
        .select(users::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let (user_id, created) = match existing {
        Some(user_id) => {
            diesel::update(users::table.find(user_id))
                .set((
                    users::is_superadmin.eq(true),
                    users::status.eq(UserStatus::Active.as_str()),
                    users::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            (user_id, false)
        }
        None => {
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(id),
                    users::email.eq(email.as_str()),
                    users::email_verified.eq(true),
                    users::status.eq(UserStatus::Active.as_str()),
                    users::is_superadmin.eq(true),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            (id, true)
        }
    };
    upsert_password(conn, user_id, hash, now).await?;
    upsert_default_membership(conn, user_id, BuiltinRole::Owner, now).await?;
    let user = load_user(conn, user_id)
        .await?
        .ok_or_else(|| DbError::Corrupt(format!("superadmin {user_id} vanished inside its transaction")))?;
    Ok((user, created))
}

/// The user with `email` (case-insensitively), their default-org role and
/// permissions, and their password hash if they have one.
async fn find_login(conn: &mut AsyncPgConnection, email: &Email) -> Result<Option<LoginRecord>, DbError> {
    type LoginRow = (UserRow, Option<String>, Option<Vec<String>>, Option<Vec<String>>, Option<String>);
    let row: Option<LoginRow> = users_with_role!()
        .left_join(password_credentials::table)
        .filter(lower(users::email).eq(lower(email.as_str())))
        .select((
            UserRow::as_select(),
            roles::name.nullable(),
            roles::permissions.nullable(),
            memberships::permissions.nullable(),
            password_credentials::hash.nullable(),
        ))
        .first(conn)
        .await
        .optional()?;
    let record = match row {
        None => None,
        Some((user, role, role_perms, extra, password_hash)) => {
            let subject: SessionSubject = into_subject((user, role, role_perms, extra))?;
            Some(LoginRecord { subject, password_hash })
        }
    };
    Ok(record)
}

/// Applies the changes to user `id` and writes `effects`; `false` if there
/// is no such user.
async fn update_user(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges,
    effects: &Effects,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated: Option<Uuid> = diesel::update(users::table.find(id))
        .set(UserChangeset::new(changes, now))
        .returning(users::id)
        .get_result(conn)
        .await
        .optional()?;
    if updated.is_some() {
        write_effects(conn, effects).await?;
    }
    Ok(updated.is_some())
}

/// The user's account and membership in `org` changed together, inside a
/// transaction: the membership first (it may refuse, and locks the
/// organization's owners), then the account.
async fn update_in_tx(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    id: Uuid,
    changes: &UserChanges,
    member: Option<&MemberChange>,
    effects: &Effects,
    now: DateTime<Utc>,
) -> Result<MemberOutcome<User>, DbError> {
    match member {
        Some(change) => match update_member_tx(conn, org, id, change).await? {
            MemberOutcome::Done(_) => {}
            MemberOutcome::NotFound => return Ok(MemberOutcome::NotFound),
            MemberOutcome::LastOwner => return Ok(MemberOutcome::LastOwner),
        },
        None => {
            let member: Option<Uuid> = memberships::table
                .find((org, id))
                .select(memberships::user_id)
                .for_key_share()
                .first(conn)
                .await
                .optional()?;
            if member.is_none() {
                return Ok(MemberOutcome::NotFound);
            }
        }
    }
    if !changes.is_empty() && !update_user(conn, id, changes, effects, now).await? {
        return Ok(MemberOutcome::NotFound);
    }
    match load_user_in(conn, org, id).await? {
        Some(user) => Ok(MemberOutcome::Done(user)),
        None => Ok(MemberOutcome::NotFound),
    }
}

#[async_trait]
impl UserRepository for PgUserRepository {
    async fn create(&self, user: &NewUserRecord, effects: &Effects) -> Result<User, RepoError> {
        self.db
            .transaction(|c| {
                async move {
                    // First the user: the token refers to them.
                    let created = insert_user(c, user).await?;
                    write_effects(c, effects).await?;
                    Ok(created)
                }
                .scope_boxed()
            })
            .await
    }

    async fn get(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        self.db.run(|c| load_user(c, id).scope_boxed()).await
    }

    async fn get_in(&self, org: Uuid, id: Uuid) -> Result<Option<User>, RepoError> {
        self.db.run(|c| load_user_in(c, org, id).scope_boxed()).await
    }

    async fn find_login(&self, email: &Email) -> Result<Option<LoginRecord>, RepoError> {
        self.db.run(|c| find_login(c, email).scope_boxed()).await
    }

    async fn last_login(&self, id: Uuid) -> Result<Option<LastLogin>, RepoError> {
        self.db
            .run(|c| {
                async move {
                    let row: Option<(Option<DateTime<Utc>>, Option<String>)> = users::table
                        .find(id)
                        .select((users::last_login_at, users::last_login_ip))
                        .first(c)
                        .await
                        .optional()?;
                    Ok(row.and_then(|(at, ip)| at.map(|at| LastLogin { at, ip })))
                }
                .scope_boxed()
            })
            .await
    }

    async fn password_hash(&self, id: Uuid) -> Result<Option<String>, RepoError> {
        self.db
            .run(|c| {
                async move {
                    let hash = password_credentials::table
                        .find(id)
                        .select(password_credentials::hash)
                        .first(c)
                        .await
                        .optional()?;
                    Ok(hash)
                }
                .scope_boxed()
            })
            .await
    }

    async fn update(
        &self,
        id: Uuid,
        changes: &UserChanges,
        effects: &Effects,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, RepoError> {
        self.db
            .transaction(|c| {
                async move {
                    if !update_user(c, id, changes, effects, now).await? {
                        return Ok(None);
                    }
                    load_user(c, id).await
                }
                .scope_boxed()
            })
            .await
    }

    async fn update_in(
        &self,
        org: Uuid,
        id: Uuid,
        changes: &UserChanges,
        member: Option<MemberChange>,
        effects: &Effects,
        now: DateTime<Utc>,
    ) -> Result<MemberOutcome<User>, RepoError> {
        let member = member.as_ref();
        self.db.transaction(|c| update_in_tx(c, org, id, changes, member, effects, now).scope_boxed()).await
    }

    async fn set_status(&self, id: Uuid, status: UserStatus, now: DateTime<Utc>) -> Result<Option<User>, RepoError> {
        self.db
            .transaction(|c| {
                async move {
                    let updated = diesel::update(users::table.find(id))
                        .set((users::status.eq(status.as_str()), users::updated_at.eq(now)))
                        .execute(c)
                        .await?;
                    if updated == 0 {
                        return Ok(None);
                    }
                    if !status.can_sign_in() {
                        revoke_sessions(c, id, None, &format!("status_{status}"), now).await?;
                    }
                    load_user(c, id).await
                }
                .scope_boxed()
            })
            .await
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepoError> {
        self.db
            .transaction(|c| {
                async move {
                    // `invitations.user_id` is no foreign key (a revoked
                    // invitation outlives the pending user it removed), so the
                    // user's invitations go here, as a cascade would take them.
                    diesel::delete(invitations::table.filter(invitations::user_id.eq(id))).execute(c).await?;
                    Ok(diesel::delete(users::table.find(id)).execute(c).await? > 0)
                }
                .scope_boxed()
            })
            .await
    }

    async fn set_password(
        &self,
        id: Uuid,
        hash: &str,
        keep_session: Option<Uuid>,
        now: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<(), RepoError> {
        self.db
            .transaction(|c| {
                async move {
                    upsert_password(c, id, hash, now).await?;
                    revoke_sessions(c, id, keep_session, "password_changed", now).await?;
                    write_effects(c, effects).await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }

    async fn list(&self, query: &UserListQuery) -> Result<Page<User>, RepoError> {
        self.db.run(|c| users_query::list(c, query).scope_boxed()).await
    }

    async fn count(&self, scope: Scope, filter: &UserFilter) -> Result<u64, RepoError> {
        self.db.run(|c| users_query::count(c, scope, filter).scope_boxed()).await
    }

    async fn upsert_superadmin(
        &self,
        id: Uuid,
        email: &Email,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), RepoError> {
        self.db.transaction(|c| upsert_superadmin_tx(c, id, email, hash, now).scope_boxed()).await
    }
}
