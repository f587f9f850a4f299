//! Row structs shared by the repositories, the joins that give a user their
//! default-organization role, and the mapping to domain types. The domain
//! never sees these types.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::SessionSubject;
use roster_domain::image::Avatar;
use roster_domain::user::{MembershipView, Profile, User, UserStatus};
use uuid::Uuid;

use crate::error::DbError;
use crate::schema::{locations, memberships, organizations, roles, users};

diesel::define_sql_function! {
    /// SQL `lower(text)`: email comparisons go through it so that the index
    /// `users_email_lower_key` on `lower(email)` is used.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `users` left-joined to the user's membership in the default organization
/// and its role. Select `roles::name.nullable()` for `User::role`.
macro_rules! users_with_role {
    () => {
        $crate::schema::users::table
            .left_join(
                $crate::schema::memberships::table.on($crate::schema::memberships::user_id
                    .eq($crate::schema::users::id)
                    .and($crate::schema::memberships::org_id.eq(::roster_domain::DEFAULT_ORG_ID))),
            )
            .left_join(
                $crate::schema::roles::table.on($crate::schema::roles::id.eq($crate::schema::memberships::role_id)),
            )
    };
}
pub(crate) use users_with_role;

/// One row of `users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub status: String,
    pub birthdate: Option<NaiveDate>,
    pub gender: Option<String>,
    pub pronouns: Option<String>,
    pub employee_id: Option<String>,
    pub position: Option<String>,
    pub department: Option<String>,
    pub attributes: serde_json::Value,
    pub is_superadmin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub managed_by: Uuid,
    pub avatar_image_id: Option<Uuid>,
    pub mfa_enabled: bool,
}

impl UserRow {
    /// The domain user, with the role name from the join.
    pub fn into_user(self, role: Option<String>) -> Result<User, DbError> {
        let status = UserStatus::parse(&self.status)
            .ok_or_else(|| DbError::Corrupt(format!("user {} has unknown status {:?}", self.id, self.status)))?;
        let attributes = match self.attributes {
            serde_json::Value::Object(map) => map,
            other => return Err(DbError::Corrupt(format!("user {} has non-object attributes: {other}", self.id))),
        };
        Ok(User {
            id: self.id,
            email: self.email,
            email_verified: self.email_verified,
            name: self.name,
            given_name: self.given_name,
            family_name: self.family_name,
            phone: self.phone,
            locale: self.locale,
            timezone: self.timezone,
            status,
            profile: Profile {
                birthdate: self.birthdate,
                gender: self.gender,
                pronouns: self.pronouns,
                employee_id: self.employee_id,
                position: self.position,
                department: self.department,
            },
            attributes,
            role,
            is_superadmin: self.is_superadmin,
            mfa_enabled: self.mfa_enabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_login_at: self.last_login_at,
            managed_by: Some(self.managed_by),
            avatar: self.avatar_image_id.map(Avatar::new),
            membership: None,
        })
    }
}

/// What a `users_with_role!()` query selects for a [`SessionSubject`]: the
/// user, the role name, the role's permissions and the membership's extra ones.
pub(crate) type SubjectRow = (UserRow, Option<String>, Option<Vec<String>>, Option<Vec<String>>);

/// The selection matching [`SubjectRow`].
#[allow(clippy::type_complexity)]
pub(crate) fn subject_columns() -> (
    diesel::helper_types::AsSelect<UserRow, diesel::pg::Pg>,
    diesel::helper_types::Nullable<roles::name>,
    diesel::helper_types::Nullable<roles::permissions>,
    diesel::helper_types::Nullable<memberships::permissions>,
) {
    (UserRow::as_select(), roles::name.nullable(), roles::permissions.nullable(), memberships::permissions.nullable())
}

/// The user and the union of their role's and membership's permissions,
/// sorted and without duplicates.
pub(crate) fn into_subject((row, role, role_perms, extra): SubjectRow) -> Result<SessionSubject, DbError> {
    let permissions: BTreeSet<String> = role_perms.into_iter().flatten().chain(extra.into_iter().flatten()).collect();
    Ok(SessionSubject::in_default_org(row.into_user(role)?, permissions.into_iter().collect()))
}

/// The user with their default-org role, or `None`.
pub(crate) async fn load_user(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<User>, DbError> {
    let row: Option<(UserRow, Option<String>)> = users_with_role!()
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), roles::name.nullable()))
        .first(conn)
        .await
        .optional()?;
    row.map(|(u, role)| u.into_user(role)).transpose()
}

/// The user with their default-org role and permissions, whatever their
/// status, or `None`.
pub(crate) async fn load_subject(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<SessionSubject>, DbError> {
    let row: Option<SubjectRow> =
        users_with_role!().filter(users::id.eq(id)).select(subject_columns()).first(conn).await.optional()?;
    row.map(into_subject).transpose()
}

/// `subject` acting in `org`: their role there and their permissions there
/// (role ∪ extra). `None` if they are not a member of `org`, or are one
/// deactivated there (never in the default organization: no query).
pub(crate) async fn subject_in_org(
    conn: &mut AsyncPgConnection,
    subject: SessionSubject,
    org: Uuid,
) -> Result<Option<SessionSubject>, DbError> {
    if org == roster_domain::DEFAULT_ORG_ID {
        return Ok(Some(subject));
    }
    let row: Option<(String, Vec<String>, Vec<String>)> = memberships::table
        .inner_join(roles::table.on(roles::id.eq(memberships::role_id)))
        .filter(memberships::org_id.eq(org))
        .filter(memberships::user_id.eq(subject.user.id))
        .filter(memberships::deactivated_at.is_null())
        .select((roles::name, roles::permissions, memberships::permissions))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(role, role_perms, extra)| {
        let permissions: BTreeSet<String> = role_perms.into_iter().chain(extra).collect();
        SessionSubject {
            user: subject.user,
            permissions: permissions.into_iter().collect(),
            org_id: org,
            org_role: Some(role),
        }
    }))
}

/// One membership as its organization shows it beside a user.
type ViewRow = (Uuid, String, Option<String>, Option<Uuid>, Option<String>, bool, String);

/// The memberships in `org` of the users `ids` (those who have one), by
/// user: their role's name and the [`MembershipView`]. `managed` is left
/// `false`; [`with_membership`] sets it from the user.
pub(crate) async fn membership_views(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (String, MembershipView)>, DbError> {
    let rows: Vec<ViewRow> = memberships::table
        .inner_join(roles::table.on(roles::id.eq(memberships::role_id)))
        .inner_join(organizations::table.on(organizations::id.eq(memberships::org_id)))
        .left_join(locations::table.on(locations::id.nullable().eq(memberships::location_id)))
        .filter(memberships::org_id.eq(org))
        .filter(memberships::user_id.eq_any(ids))
        .select((
            memberships::user_id,
            roles::name,
            roles::title,
            memberships::location_id,
            locations::name.nullable(),
            memberships::deactivated_at.is_null(),
            organizations::name,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(user, role, title, location_id, location_name, active, org_name)| {
            let view = MembershipView {
                org_id: org,
                org_name,
                role_name: title.unwrap_or_else(|| role.clone()),
                location_id,
                location_name,
                membership_active: active,
                managed: false,
            };
            (user, (role, view))
        })
        .collect())
}

/// `row` as a user of `org`: their role there and their membership view,
/// if they have one.
pub(crate) fn with_membership(row: UserRow, view: Option<(String, MembershipView)>) -> Result<User, DbError> {
    let managed_by = row.managed_by;
    match view {
        None => row.into_user(None),
        Some((role, mut view)) => {
            view.managed = managed_by == view.org_id;
            let mut user = row.into_user(Some(role))?;
            user.membership = Some(view);
            Ok(user)
        }
    }
}

/// The user as organization `org` sees them, or `None` if they are no
/// member of it.
pub(crate) async fn load_user_in(conn: &mut AsyncPgConnection, org: Uuid, id: Uuid) -> Result<Option<User>, DbError> {
    let row: Option<UserRow> = users::table.find(id).select(UserRow::as_select()).first(conn).await.optional()?;
    let Some(row) = row else { return Ok(None) };
    let mut views = membership_views(conn, org, &[id]).await?;
    match views.remove(&id) {
        None => Ok(None),
        view => with_membership(row, view).map(Some),
    }
}

/// The id of the role `name` in the default organization.
pub(crate) async fn default_org_role_id(conn: &mut AsyncPgConnection, name: &str) -> Result<Uuid, DbError> {
    roles::table
        .filter(roles::org_id.eq(roster_domain::DEFAULT_ORG_ID).and(roles::name.eq(name)))
        .select(roles::id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| DbError::Corrupt(format!("the default organization has no role {name:?}")))
}

/// The result of a raw `SELECT count(*) AS n …`.
#[derive(QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// A count from the database as `u64`.
pub(crate) fn to_u64(n: i64) -> Result<u64, DbError> {
    u64::try_from(n).map_err(|_| DbError::Corrupt(format!("negative count {n}")))
}

/// `LIMIT` and `OFFSET` of the 1-based `page` of offset paging: one row more
/// than the page, which tells whether another page follows.
pub(crate) fn limit_offset(page: u32, per_page: u32) -> Result<(i64, i64), DbError> {
    let skip = u64::from(page.saturating_sub(1)) * u64::from(per_page);
    let offset = i64::try_from(skip).map_err(|_| DbError::Corrupt(format!("offset {skip} is out of range")))?;
    Ok((i64::from(per_page) + 1, offset))
}

/// `s` with the `LIKE` wildcards and the escape character escaped, wrapped
/// in `%…%`: a case-insensitive substring pattern for `ILIKE`.
pub(crate) fn contains_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(contains_pattern("ada"), "%ada%");
        assert_eq!(contains_pattern(r"100%_a\b"), r"%100\%\_a\\b%");
    }
}
