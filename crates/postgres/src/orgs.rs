//! [`OrganizationRepository`] on PostgreSQL: the organizations themselves,
//! created with their built-in roles. What belongs to an organization has a
//! repository of its own (roles and registered permissions, locations,
//! members), each in its module.
//!
//! Every query of an organization's rows is scoped by its `org_id`, so an
//! id of another organization is "not found"; the composite foreign keys
//! from `memberships` keep a member's role and location in their own
//! organization.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::Permission;
use roster_domain::org::{OrgPatch, Organization};
use roster_domain::ports::OrganizationRepository;
use roster_domain::user::Page;
use roster_domain::{Patch, RepoError, DEFAULT_ORG_ID};
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::rows::{limit_offset, to_u64, Count};
use crate::schema::{invitations, memberships, organizations, roles};

/// The built-in permissions of the built-in `admin` role: managing users,
/// their sessions, the members and the locations.
pub const ADMIN_PERMISSIONS: [Permission; 7] = [
    Permission::UsersRead,
    Permission::UsersWrite,
    Permission::UsersDelete,
    Permission::UsersManageStatus,
    Permission::SessionsRevoke,
    Permission::MembersManage,
    Permission::LocationsManage,
];

/// The names of `permissions`, as roles hold them.
fn names(permissions: &[Permission]) -> Vec<String> {
    permissions.iter().map(|p| p.as_str().to_owned()).collect()
}

/// The permissions of the built-in `owner` role: the whole built-in catalogue.
pub fn owner_permissions() -> Vec<String> {
    names(&Permission::ALL)
}

/// The built-in roles every organization has, as `(name, title,
/// description, permissions)`; migrations `000006_organizations` and
/// `000011_managed_users` give the default organization's the same.
pub fn builtin_roles() -> [(&'static str, &'static str, &'static str, Vec<String>); 3] {
    [
        ("owner", "Owner", "Full control of the organization", owner_permissions()),
        ("admin", "Admin", "Manages the users of the organization", names(&ADMIN_PERMISSIONS)),
        ("member", "Member", "Reads and edits only itself", Vec::new()),
    ]
}

/// Organizations in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgOrgRepository {
    db: Db,
}

impl PgOrgRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One row of `organizations`.
#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = organizations, check_for_backend(diesel::pg::Pg))]
struct OrgRow {
    id: Uuid,
    slug: String,
    name: String,
    is_default: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    password_policy: Option<serde_json::Value>,
}

impl OrgRow {
    fn into_org(self) -> Result<Organization, DbError> {
        let password_policy = self
            .password_policy
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| DbError::Corrupt(format!("organization {} has a bad password policy: {e}", self.id)))?;
        Ok(Organization {
            id: self.id,
            slug: self.slug,
            name: self.name,
            is_default: self.is_default,
            password_policy,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The condition "all organizations, or those `$1` is an active member of".
macro_rules! orgs_where {
    () => {
        " FROM organizations o WHERE ($1::uuid IS NULL OR EXISTS \
           (SELECT 1 FROM memberships m WHERE m.org_id = o.id AND m.user_id = $1 AND m.deactivated_at IS NULL))"
    };
}

/// One page by name. Binds `$1` the member or NULL, `$2` the limit, `$3` the offset.
const LIST_ORGS_SQL: &str = concat!(
    "SELECT o.id, o.slug, o.name, o.is_default, o.created_at, o.updated_at, o.password_policy",
    orgs_where!(),
    " ORDER BY lower(o.name), o.id LIMIT $2 OFFSET $3"
);

/// How many there are. Binds `$1` the member or NULL.
const COUNT_ORGS_SQL: &str = concat!("SELECT count(*) AS n", orgs_where!());

async fn create_org_tx(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    slug: &str,
    owner: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Organization, DbError> {
    let org: OrgRow = diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(id),
            organizations::slug.eq(slug),
            organizations::name.eq(name),
            organizations::is_default.eq(false),
            organizations::created_at.eq(now),
            organizations::updated_at.eq(now),
        ))
        .returning(OrgRow::as_returning())
        .get_result(conn)
        .await?;
    let mut owner_role = None;
    for (role, title, description, permissions) in builtin_roles() {
        let role_id = Uuid::now_v7();
        diesel::insert_into(roles::table)
            .values((
                roles::id.eq(role_id),
                roles::org_id.eq(id),
                roles::name.eq(role),
                roles::title.eq(title),
                roles::description.eq(description),
                roles::permissions.eq(permissions),
                roles::builtin.eq(true),
                roles::requires_location.eq(false),
                roles::created_at.eq(now),
            ))
            .execute(conn)
            .await?;
        if role == "owner" {
            owner_role = Some(role_id);
        }
    }
    if let (Some(user), Some(role_id)) = (owner, owner_role) {
        diesel::insert_into(memberships::table)
            .values((
                memberships::org_id.eq(id),
                memberships::user_id.eq(user),
                memberships::role_id.eq(role_id),
                memberships::created_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    org.into_org()
}

async fn get_org(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Organization>, DbError> {
    let row: Option<OrgRow> = organizations::table.find(id).select(OrgRow::as_select()).first(conn).await.optional()?;
    row.map(OrgRow::into_org).transpose()
}

/// One page of organizations by name and the total, read in one read-only
/// repeatable-read transaction so that they agree.
async fn list_orgs(
    conn: &mut AsyncPgConnection,
    member: Option<Uuid>,
    page: u32,
    per_page: u32,
) -> Result<Page<Organization>, DbError> {
    let (limit, offset) = limit_offset(page, per_page)?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|c| {
            async move {
                let mut rows: Vec<OrgRow> = diesel::sql_query(LIST_ORGS_SQL)
                    .bind::<Nullable<diesel::sql_types::Uuid>, _>(member)
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
                    .load(c)
                    .await?;
                let has_more = rows.len() > per_page as usize;
                rows.truncate(per_page as usize);
                let total: Count = diesel::sql_query(COUNT_ORGS_SQL)
                    .bind::<Nullable<diesel::sql_types::Uuid>, _>(member)
                    .get_result(c)
                    .await?;
                let items = rows.into_iter().map(OrgRow::into_org).collect::<Result<_, _>>()?;
                Ok(Page { items, total: Some(to_u64(total.n)?), page: Some(page), per_page, has_more })
            }
            .scope_boxed()
        })
        .await
}

async fn update_org(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    patch: &OrgPatch,
    now: DateTime<Utc>,
) -> Result<Option<Organization>, DbError> {
    let policy = match &patch.password_policy {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(p) => Some(Some(serde_json::to_value(p).map_err(|e| DbError::Corrupt(e.to_string()))?)),
    };
    let row: Option<OrgRow> = diesel::update(organizations::table.find(id))
        .set((
            patch.name.as_deref().map(|n| organizations::name.eq(n)),
            patch.slug.as_deref().map(|s| organizations::slug.eq(s)),
            policy.map(|p| organizations::password_policy.eq(p)),
            organizations::updated_at.eq(now),
        ))
        .returning(OrgRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    row.map(OrgRow::into_org).transpose()
}

/// Makes the accounts `org` manages members of the default organization
/// (`member`, unless they are one already), before the organization goes
/// and its deletion hands them to the platform (`ON DELETE SET DEFAULT`).
const ADOPT_MANAGED_SQL: &str = "\
    INSERT INTO memberships (org_id, user_id, role_id, created_at) \
    SELECT $2, u.id, r.id, now() FROM users u \
    JOIN roles r ON r.org_id = $2 AND r.name = 'member' AND r.builtin \
    WHERE u.managed_by = $1 \
    ON CONFLICT (org_id, user_id) DO NOTHING";

/// Deletes a non-default organization. The accounts it managed join the
/// default organization and go back to the platform. Memberships and
/// invitations refer to its roles (and locations) with `RESTRICT` foreign
/// keys, so they go first; roles, locations, registered permissions and API
/// keys cascade.
async fn delete_org_tx(conn: &mut AsyncPgConnection, id: Uuid) -> Result<bool, DbError> {
    if id == DEFAULT_ORG_ID {
        return Ok(false);
    }
    let is_default: Option<bool> =
        organizations::table.find(id).select(organizations::is_default).for_update().first(conn).await.optional()?;
    if is_default != Some(false) {
        return Ok(false);
    }
    diesel::sql_query(ADOPT_MANAGED_SQL)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::Uuid, _>(DEFAULT_ORG_ID)
        .execute(conn)
        .await?;
    diesel::delete(memberships::table.filter(memberships::org_id.eq(id))).execute(conn).await?;
    let org_roles = roles::table.filter(roles::org_id.eq(id)).select(roles::id);
    diesel::delete(invitations::table.filter(invitations::role_id.eq_any(org_roles))).execute(conn).await?;
    Ok(diesel::delete(organizations::table.find(id)).execute(conn).await? > 0)
}

#[async_trait]
impl OrganizationRepository for PgOrgRepository {
    async fn create_org(
        &self,
        id: Uuid,
        name: &str,
        slug: &str,
        owner: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Organization, RepoError> {
        self.db.transaction(|c| create_org_tx(c, id, name, slug, owner, now).scope_boxed()).await
    }

    async fn get_org(&self, id: Uuid) -> Result<Option<Organization>, RepoError> {
        self.db.run(|c| get_org(c, id).scope_boxed()).await
    }

    async fn list_orgs(&self, member: Option<Uuid>, page: u32, per_page: u32) -> Result<Page<Organization>, RepoError> {
        self.db.run(|c| list_orgs(c, member, page, per_page).scope_boxed()).await
    }

    async fn update_org(
        &self,
        id: Uuid,
        patch: &OrgPatch,
        now: DateTime<Utc>,
    ) -> Result<Option<Organization>, RepoError> {
        self.db.run(|c| update_org(c, id, patch, now).scope_boxed()).await
    }

    async fn delete_org(&self, id: Uuid) -> Result<bool, RepoError> {
        self.db.transaction(|c| delete_org_tx(c, id).scope_boxed()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_permissions_come_from_the_catalogue() {
        let catalogue: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(owner_permissions(), catalogue);
        assert!(ADMIN_PERMISSIONS.iter().all(|p| Permission::ALL.contains(p)));
        let names: Vec<&str> = builtin_roles().iter().map(|(n, _, _, _)| *n).collect();
        assert_eq!(names, ["owner", "admin", "member"]);
    }
}
