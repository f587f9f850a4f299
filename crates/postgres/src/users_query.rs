//! Listing and counting users: the shortcut filters, whitelisted sorting and
//! paging, built with diesel's boxed query builder.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::user::{Page, User, UserFilter, UserListQuery, UserSortField};

use crate::error::DbError;
use crate::rows::{contains_pattern, lower, users_with_role, UserRow};
use crate::schema::{roles, users};

/// Adds the filters of a [`UserFilter`] to a boxed query over `users`.
macro_rules! filtered {
    ($query:expr, $filter:expr) => {{
        let filter: &UserFilter = $filter;
        let mut query = $query;
        if let Some(q) = &filter.q {
            let p = contains_pattern(q);
            query = query.filter(
                users::email
                    .ilike(p.clone())
                    .or(users::name.ilike(p.clone()))
                    .or(users::given_name.ilike(p.clone()))
                    .or(users::family_name.ilike(p)),
            );
        }
        if let Some(email) = &filter.email {
            query = query.filter(lower(users::email).eq(lower(email.clone())));
        }
        if let Some(name) = &filter.name {
            let p = contains_pattern(name);
            query = query.filter(
                users::name.ilike(p.clone()).or(users::given_name.ilike(p.clone())).or(users::family_name.ilike(p)),
            );
        }
        if let Some(status) = filter.status {
            query = query.filter(users::status.eq(status.as_str()));
        }
        query
    }};
}

/// Adds one sort key. Ascending puts NULLs last and descending puts them
/// first (PostgreSQL's defaults).
macro_rules! sorted_by {
    ($query:expr, $column:expr, $descending:expr) => {
        if $descending {
            $query.then_order_by($column.desc())
        } else {
            $query.then_order_by($column.asc())
        }
    };
}

fn to_i64(n: u64, what: &str) -> Result<i64, DbError> {
    i64::try_from(n).map_err(|_| DbError::Corrupt(format!("{what} {n} is out of range")))
}

/// One page of users matching `query`, sorted by its keys then by id, with
/// the number of all matching users.
pub(crate) async fn list(conn: &mut AsyncPgConnection, query: &UserListQuery) -> Result<Page<User>, DbError> {
    let mut q = filtered!(
        users_with_role!().select((UserRow::as_select(), roles::name.nullable())).into_boxed(),
        &query.filter
    );
    for key in &query.sort {
        q = match key.field {
            UserSortField::CreatedAt => sorted_by!(q, users::created_at, key.descending),
            UserSortField::UpdatedAt => sorted_by!(q, users::updated_at, key.descending),
            UserSortField::Email => sorted_by!(q, users::email, key.descending),
            UserSortField::Name => sorted_by!(q, users::name, key.descending),
            UserSortField::GivenName => sorted_by!(q, users::given_name, key.descending),
            UserSortField::FamilyName => sorted_by!(q, users::family_name, key.descending),
            UserSortField::Status => sorted_by!(q, users::status, key.descending),
            UserSortField::LastLoginAt => sorted_by!(q, users::last_login_at, key.descending),
        };
    }
    let rows: Vec<(UserRow, Option<String>)> = q
        .then_order_by(users::id.asc())
        .limit(i64::from(query.per_page))
        .offset(to_i64(query.offset(), "offset")?)
        .load(conn)
        .await?;
    let items = rows.into_iter().map(|(u, role)| u.into_user(role)).collect::<Result<Vec<_>, _>>()?;
    let total = count(conn, &query.filter).await?;
    Ok(Page { items, total, page: query.page, per_page: query.per_page })
}

/// How many users match `filter`.
pub(crate) async fn count(conn: &mut AsyncPgConnection, filter: &UserFilter) -> Result<u64, DbError> {
    let n: i64 = filtered!(users::table.into_boxed(), filter).count().get_result(conn).await?;
    u64::try_from(n).map_err(|_| DbError::Corrupt(format!("negative count {n}")))
}
