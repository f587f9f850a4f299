//! Listing and counting the directory: the scope and filters compiled by
//! [`crate::filter_sql`], whitelisted sorting with `id` as the final
//! tie-breaker (in the direction of the last key), offset or keyset paging, and the optional exact total.

use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::user::{Page, Paging, Scope, User, UserFilter, UserListQuery, UserSortField};

use crate::error::DbError;
use crate::filter_sql::{Compiler, Cond};
use crate::keyset;
use crate::rows::{membership_views, with_membership, UserRow};
use crate::schema::{memberships, roles, users};

/// Adds one sort key. Ascending puts NULLs last and descending puts them
/// first (PostgreSQL's defaults, which [`keyset::after`] follows).
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

/// The WHERE condition of `scope` and `filter`.
fn condition(scope: Scope, filter: &UserFilter) -> Result<Vec<Cond>, DbError> {
    Compiler { role_org: scope.role_org() }.filter(scope, filter)
}

/// One page of users matching `query`, sorted by its keys then by id. With
/// `with_total`, the page and the count are read in one read-only
/// repeatable-read transaction so that they agree.
pub(crate) async fn list(conn: &mut AsyncPgConnection, query: &UserListQuery) -> Result<Page<User>, DbError> {
    if query.with_total {
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run(|c| async move { page(c, query).await }.scope_boxed())
            .await
    } else {
        page(conn, query).await
    }
}

/// `q` in the query's order: its sort keys, then the id in the direction of
/// the last key (so an index on (key, id) serves the order in either
/// direction without a sort).
fn sorted<'a, S>(
    mut q: users::BoxedQuery<'a, diesel::pg::Pg, S>,
    query: &UserListQuery,
) -> users::BoxedQuery<'a, diesel::pg::Pg, S> {
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
    if keyset::id_descending(&query.sort) {
        q.then_order_by(users::id.desc())
    } else {
        q.then_order_by(users::id.asc())
    }
}

/// The rows of `ids`, in their order; one deleted in between is left out.
async fn rows_in_order(conn: &mut AsyncPgConnection, ids: &[uuid::Uuid]) -> Result<Vec<UserRow>, DbError> {
    let mut rows: Vec<UserRow> =
        users::table.filter(users::id.eq_any(ids)).select(UserRow::as_select()).load(conn).await?;
    let position: std::collections::HashMap<uuid::Uuid, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    rows.sort_by_key(|r| position.get(&r.id).copied().unwrap_or(usize::MAX));
    Ok(rows)
}

async fn page(conn: &mut AsyncPgConnection, query: &UserListQuery) -> Result<Page<User>, DbError> {
    let per_page = query.per_page;
    let mut parts = condition(query.scope, &query.filter)?;
    let (offset, page_number) = match &query.paging {
        Paging::Offset { page } => {
            let skip = u64::from(page.saturating_sub(1)) * u64::from(per_page);
            (to_i64(skip, "offset")?, Some(*page))
        }
        Paging::Keyset(None) => (0, None),
        Paging::Keyset(Some(k)) => {
            parts.push(keyset::after(&query.sort, k)?);
            (0, None)
        }
    };
    // The page is chosen on `users` alone, so the planner can stop after
    // `per_page + 1` rows (one more tells whether another page follows);
    // roles and memberships are looked up for those rows only. An
    // organization's directory chooses the page's ids first and reads their
    // rows after (a deferred join): each user it passes over is checked
    // against the organization's memberships by id, which an index in the
    // sort order holds, so the rows it rejects are never read — some 9,000
    // of them for a first page of a 1M-member organization's admins.
    let limit = i64::from(per_page) + 1;
    let (mut rows, found) = match query.scope {
        Scope::Platform => {
            let q = users::table.select(UserRow::as_select()).filter(Cond::all(parts)).into_boxed();
            let rows = sorted(q, query).limit(limit).offset(offset).load::<UserRow>(conn).await?;
            let found = rows.len();
            (rows, found)
        }
        Scope::Org(_) => {
            let q = users::table.select(users::id).filter(Cond::all(parts)).into_boxed();
            let mut ids: Vec<uuid::Uuid> = sorted(q, query).limit(limit).offset(offset).load(conn).await?;
            let found = ids.len();
            ids.truncate(per_page as usize);
            (rows_in_order(conn, &ids).await?, found)
        }
    };
    let has_more = found > per_page as usize;
    rows.truncate(per_page as usize);
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let items = match query.scope {
        // An organization's view: each user's membership there.
        Scope::Org(org) => {
            let mut views = membership_views(conn, org, &ids).await?;
            rows.into_iter()
                .map(|u| {
                    let view = views.remove(&u.id);
                    with_membership(u, view)
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        // The platform's: the role in the default organization.
        Scope::Platform => {
            let roles: std::collections::HashMap<uuid::Uuid, String> = memberships::table
                .inner_join(roles::table.on(roles::id.eq(memberships::role_id)))
                .filter(memberships::org_id.eq(query.scope.role_org()))
                .filter(memberships::user_id.eq_any(&ids))
                .select((memberships::user_id, roles::name))
                .load::<(uuid::Uuid, String)>(conn)
                .await?
                .into_iter()
                .collect();
            rows.into_iter()
                .map(|u| {
                    let role = roles.get(&u.id).cloned();
                    u.into_user(role)
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let total = if query.with_total { Some(count(conn, query.scope, &query.filter).await?) } else { None };
    Ok(Page { items, total, page: page_number, per_page, has_more })
}

/// How many users in `scope` match `filter`.
pub(crate) async fn count(conn: &mut AsyncPgConnection, scope: Scope, filter: &UserFilter) -> Result<u64, DbError> {
    let n: i64 = users::table.filter(Cond::all(condition(scope, filter)?)).count().get_result(conn).await?;
    u64::try_from(n).map_err(|_| DbError::Corrupt(format!("negative count {n}")))
}
