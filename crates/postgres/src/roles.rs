//! [`RoleRepository`] on PostgreSQL: the roles of an organization and the
//! permissions it registered. Every query is scoped by `org_id`; the
//! built-in roles are written with their organization.
//!
//! Deleting a role that members or invitations still refer to is
//! `Conflict(InUse)`, checked under a lock on the role (the `RESTRICT`
//! foreign keys remain as the backstop). A registered permission is only named in `text[]`
//! columns, so deleting one checks for roles, members and live API keys
//! holding it under a lock on its row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::org::{OrgPermission, Role, RolePatch};
use roster_domain::ports::{NewRole, RoleRepository};
use roster_domain::{Conflict, Patch, RepoError};
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::{api_keys, invitations, memberships, org_permissions, roles};

/// Organizations' roles and registered permissions in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgRoleRepository {
    db: Db,
}

impl PgRoleRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One row of `roles`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = roles, check_for_backend(diesel::pg::Pg))]
struct RoleRow {
    id: Uuid,
    org_id: Uuid,
    name: String,
    description: Option<String>,
    permissions: Vec<String>,
    builtin: bool,
    requires_location: bool,
    created_at: DateTime<Utc>,
    title: Option<String>,
}

impl From<RoleRow> for Role {
    fn from(r: RoleRow) -> Self {
        Role {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            title: r.title,
            description: r.description,
            permissions: r.permissions,
            builtin: r.builtin,
            requires_location: r.requires_location,
            created_at: r.created_at,
        }
    }
}

/// Changes to a role: `None` leaves a column alone, `Some(None)` sets NULL.
#[derive(AsChangeset)]
#[diesel(table_name = roles)]
struct RoleChangeset<'a> {
    name: Option<&'a str>,
    title: Option<Option<&'a str>>,
    description: Option<Option<&'a str>>,
    permissions: Option<&'a Vec<String>>,
    requires_location: Option<bool>,
}

impl<'a> RoleChangeset<'a> {
    fn new(p: &'a RolePatch) -> Self {
        let text = |p: &'a Patch<String>| match p {
            Patch::Keep => None,
            Patch::Clear => Some(None),
            Patch::Set(d) => Some(Some(d.as_str())),
        };
        RoleChangeset {
            name: p.name.as_deref(),
            title: text(&p.title),
            description: text(&p.description),
            permissions: p.permissions.as_ref(),
            requires_location: p.requires_location,
        }
    }

    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.title.is_none()
            && self.description.is_none()
            && self.permissions.is_none()
            && self.requires_location.is_none()
    }
}

/// One row of `org_permissions`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = org_permissions, check_for_backend(diesel::pg::Pg))]
struct PermissionRow {
    org_id: Uuid,
    name: String,
    description: Option<String>,
}

impl From<PermissionRow> for OrgPermission {
    fn from(r: PermissionRow) -> Self {
        OrgPermission { name: r.name, description: r.description, org_id: Some(r.org_id) }
    }
}

/// The roles of `org`: the built-in ones first, then by name.
async fn list_roles(conn: &mut AsyncPgConnection, org: Uuid) -> Result<Vec<Role>, DbError> {
    let rows: Vec<RoleRow> = roles::table
        .filter(roles::org_id.eq(org))
        .order_by((roles::builtin.desc(), roles::name, roles::id))
        .select(RoleRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Role::from).collect())
}

/// Role `id` if it is one of `org`'s.
async fn get_role(conn: &mut AsyncPgConnection, org: Uuid, id: Uuid) -> Result<Option<Role>, DbError> {
    let row: Option<RoleRow> = roles::table
        .filter(roles::org_id.eq(org).and(roles::id.eq(id)))
        .select(RoleRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Role::from))
}

/// `org`'s role called `name`.
async fn role_by_name(conn: &mut AsyncPgConnection, org: Uuid, name: &str) -> Result<Option<Role>, DbError> {
    let row: Option<RoleRow> = roles::table
        .filter(roles::org_id.eq(org).and(roles::name.eq(name)))
        .select(RoleRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Role::from))
}

/// Inserts a role that is not built in.
async fn create_role(conn: &mut AsyncPgConnection, r: &NewRole) -> Result<Role, DbError> {
    let row: RoleRow = diesel::insert_into(roles::table)
        .values((
            roles::id.eq(r.id),
            roles::org_id.eq(r.org_id),
            roles::name.eq(&r.name),
            roles::title.eq(r.title.as_deref()),
            roles::description.eq(r.description.as_deref()),
            roles::permissions.eq(&r.permissions),
            roles::builtin.eq(false),
            roles::requires_location.eq(r.requires_location),
            roles::created_at.eq(r.now),
        ))
        .returning(RoleRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

/// Applies the patch to `org`'s role `id`; `None` if there is no such role.
async fn update_role(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    id: Uuid,
    patch: &RolePatch,
) -> Result<Option<Role>, DbError> {
    let changes = RoleChangeset::new(patch);
    if changes.is_empty() {
        return get_role(conn, org, id).await;
    }
    let row: Option<RoleRow> = diesel::update(roles::table.filter(roles::org_id.eq(org).and(roles::id.eq(id))))
        .set(changes)
        .returning(RoleRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(Role::from))
}

/// Deletes `org`'s role `id`; `false` if there is no such role.
///
/// Run in a transaction: the role row is locked first (a concurrent
/// membership taking the role holds a key-share lock on it, so the check and
/// the delete cannot be overtaken), then a member or invitation still naming
/// it is `Conflict(InUse)` — decided here, not from the server's message.
async fn delete_role(conn: &mut AsyncPgConnection, org: Uuid, id: Uuid) -> Result<bool, DbError> {
    let found: Option<Uuid> = roles::table
        .filter(roles::org_id.eq(org).and(roles::id.eq(id)))
        .select(roles::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    if found.is_none() {
        return Ok(false);
    }
    let held: bool =
        diesel::select(exists(memberships::table.filter(memberships::role_id.eq(id)))).get_result(conn).await?;
    let invited: bool =
        diesel::select(exists(invitations::table.filter(invitations::role_id.eq(id)))).get_result(conn).await?;
    if held || invited {
        return Err(DbError::Conflict(Conflict::InUse));
    }
    let n = diesel::delete(roles::table.filter(roles::org_id.eq(org).and(roles::id.eq(id)))).execute(conn).await?;
    Ok(n > 0)
}

/// The permissions `org` registered, by name.
async fn list_permissions(conn: &mut AsyncPgConnection, org: Uuid) -> Result<Vec<OrgPermission>, DbError> {
    let rows: Vec<PermissionRow> = org_permissions::table
        .filter(org_permissions::org_id.eq(org))
        .order_by(org_permissions::name)
        .select(PermissionRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(OrgPermission::from).collect())
}

/// Registers a permission for `org`.
async fn register_permission(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    name: &str,
    description: Option<&str>,
    now: DateTime<Utc>,
) -> Result<OrgPermission, DbError> {
    let row: PermissionRow = diesel::insert_into(org_permissions::table)
        .values((
            org_permissions::org_id.eq(org),
            org_permissions::name.eq(name),
            org_permissions::description.eq(description),
            org_permissions::created_at.eq(now),
        ))
        .returning(PermissionRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

/// Deletes a registered permission unless a role, a member or a live
/// (unrevoked) API key of `org` holds it (`Conflict(InUse)`), inside a
/// transaction; `false` if `org` did not register it.
async fn delete_permission_tx(conn: &mut AsyncPgConnection, org: Uuid, name: &str) -> Result<bool, DbError> {
    let this = org_permissions::table.filter(org_permissions::org_id.eq(org).and(org_permissions::name.eq(name)));
    let found: Option<String> = this.select(org_permissions::name).for_update().first(conn).await.optional()?;
    if found.is_none() {
        return Ok(false);
    }
    let held = vec![name.to_owned()];
    let by_role: bool =
        diesel::select(exists(roles::table.filter(roles::org_id.eq(org).and(roles::permissions.contains(&held)))))
            .get_result(conn)
            .await?;
    let by_member: bool = diesel::select(exists(
        memberships::table.filter(memberships::org_id.eq(org).and(memberships::permissions.contains(&held))),
    ))
    .get_result(conn)
    .await?;
    let by_key: bool = diesel::select(exists(
        api_keys::table
            .filter(api_keys::org_id.eq(org).and(api_keys::revoked_at.is_null()))
            .filter(api_keys::permissions.contains(&held)),
    ))
    .get_result(conn)
    .await?;
    if by_role || by_member || by_key {
        return Err(DbError::Conflict(Conflict::InUse));
    }
    Ok(diesel::delete(this).execute(conn).await? > 0)
}

#[async_trait]
impl RoleRepository for PgRoleRepository {
    async fn list_roles(&self, org: Uuid) -> Result<Vec<Role>, RepoError> {
        self.db.run(|c| list_roles(c, org).scope_boxed()).await
    }

    async fn get_role(&self, org: Uuid, id: Uuid) -> Result<Option<Role>, RepoError> {
        self.db.run(|c| get_role(c, org, id).scope_boxed()).await
    }

    async fn role_by_name(&self, org: Uuid, name: &str) -> Result<Option<Role>, RepoError> {
        self.db.run(|c| role_by_name(c, org, name).scope_boxed()).await
    }

    async fn create_role(&self, role: &NewRole) -> Result<Role, RepoError> {
        self.db.run(|c| create_role(c, role).scope_boxed()).await
    }

    async fn update_role(&self, org: Uuid, id: Uuid, patch: &RolePatch) -> Result<Option<Role>, RepoError> {
        self.db.run(|c| update_role(c, org, id, patch).scope_boxed()).await
    }

    async fn delete_role(&self, org: Uuid, id: Uuid) -> Result<bool, RepoError> {
        self.db.transaction(|c| delete_role(c, org, id).scope_boxed()).await
    }

    async fn list_permissions(&self, org: Uuid) -> Result<Vec<OrgPermission>, RepoError> {
        self.db.run(|c| list_permissions(c, org).scope_boxed()).await
    }

    async fn register_permission(
        &self,
        org: Uuid,
        name: &str,
        description: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<OrgPermission, RepoError> {
        self.db.run(|c| register_permission(c, org, name, description.as_deref(), now).scope_boxed()).await
    }

    async fn delete_permission(&self, org: Uuid, name: &str) -> Result<bool, RepoError> {
        self.db.transaction(|c| delete_permission_tx(c, org, name).scope_boxed()).await
    }
}
