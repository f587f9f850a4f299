//! [`LocationRepository`] on PostgreSQL: the locations of an organization.
//! Every query is scoped by `org_id`. Deleting a location members still
//! have is `Conflict(InUse)`, checked under a lock on the location; the
//! `RESTRICT` foreign key `memberships_location_fkey`, which
//! [`crate::error`] reports the same way, remains as the backstop.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::org::{Location, LocationPatch};
use roster_domain::ports::LocationRepository;
use roster_domain::user::Page;
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::rows::{contains_pattern, limit_offset, to_u64, Count};
use crate::schema::{locations, memberships};

/// Organizations' locations in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgLocationRepository {
    db: Db,
}

impl PgLocationRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One row of `locations`.
#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = locations, check_for_backend(diesel::pg::Pg))]
struct LocationRow {
    id: Uuid,
    org_id: Uuid,
    name: String,
    timezone: String,
    keywords: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<LocationRow> for Location {
    fn from(r: LocationRow) -> Self {
        Location {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            timezone: r.timezone,
            keywords: r.keywords,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Changes to a location: `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = locations)]
struct LocationChangeset<'a> {
    name: Option<&'a str>,
    timezone: Option<&'a str>,
    keywords: Option<&'a Vec<String>>,
    updated_at: DateTime<Utc>,
}

/// The locations of `$1` matching `$2`, an `ILIKE` pattern or NULL for all:
/// by name or by any keyword.
macro_rules! locations_where {
    () => {
        " FROM locations l WHERE l.org_id = $1 AND ($2::text IS NULL OR l.name ILIKE $2 \
           OR EXISTS (SELECT 1 FROM unnest(l.keywords) AS k(keyword) WHERE k.keyword ILIKE $2))"
    };
}

/// One page by name. Binds `$1` the organization, `$2` the pattern or NULL,
/// `$3` the limit, `$4` the offset.
const LIST_SQL: &str = concat!(
    "SELECT l.id, l.org_id, l.name, l.timezone, l.keywords, l.created_at, l.updated_at",
    locations_where!(),
    " ORDER BY lower(l.name), l.id LIMIT $3 OFFSET $4"
);

/// How many match. Binds `$1` the organization, `$2` the pattern or NULL.
const COUNT_SQL: &str = concat!("SELECT count(*) AS n", locations_where!());

/// One page of `org`'s locations by name whose name or a keyword contains
/// `q` (case-insensitively, `%` and `_` taken literally), and the total,
/// read in one read-only repeatable-read transaction so that they agree.
async fn list(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    q: Option<&str>,
    page: u32,
    per_page: u32,
) -> Result<Page<Location>, DbError> {
    let (limit, offset) = limit_offset(page, per_page)?;
    let pattern = q.map(contains_pattern);
    let pattern = pattern.as_deref();
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|c| {
            async move {
                let mut rows: Vec<LocationRow> = diesel::sql_query(LIST_SQL)
                    .bind::<diesel::sql_types::Uuid, _>(org)
                    .bind::<Nullable<Text>, _>(pattern)
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
                    .load(c)
                    .await?;
                let has_more = rows.len() > per_page as usize;
                rows.truncate(per_page as usize);
                let total: Count = diesel::sql_query(COUNT_SQL)
                    .bind::<diesel::sql_types::Uuid, _>(org)
                    .bind::<Nullable<Text>, _>(pattern)
                    .get_result(c)
                    .await?;
                let items = rows.into_iter().map(Location::from).collect();
                Ok(Page { items, total: Some(to_u64(total.n)?), page: Some(page), per_page, has_more })
            }
            .scope_boxed()
        })
        .await
}

/// Location `id` if it is one of `org`'s.
async fn get(conn: &mut AsyncPgConnection, org: Uuid, id: Uuid) -> Result<Option<Location>, DbError> {
    let row: Option<LocationRow> = locations::table
        .filter(locations::org_id.eq(org).and(locations::id.eq(id)))
        .select(LocationRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Location::from))
}

/// Inserts the location as given.
async fn create(conn: &mut AsyncPgConnection, l: &Location) -> Result<Location, DbError> {
    let row: LocationRow = diesel::insert_into(locations::table)
        .values((
            locations::id.eq(l.id),
            locations::org_id.eq(l.org_id),
            locations::name.eq(&l.name),
            locations::timezone.eq(&l.timezone),
            locations::keywords.eq(&l.keywords),
            locations::created_at.eq(l.created_at),
            locations::updated_at.eq(l.updated_at),
        ))
        .returning(LocationRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

/// Applies the patch (keywords replaced whole) to `org`'s location `id`;
/// `None` if there is no such location.
async fn update(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    id: Uuid,
    patch: &LocationPatch,
    now: DateTime<Utc>,
) -> Result<Option<Location>, DbError> {
    let changes = LocationChangeset {
        name: patch.name.as_deref(),
        timezone: patch.timezone.as_deref(),
        keywords: patch.keywords.as_ref(),
        updated_at: now,
    };
    let row: Option<LocationRow> =
        diesel::update(locations::table.filter(locations::org_id.eq(org).and(locations::id.eq(id))))
            .set(changes)
            .returning(LocationRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
    Ok(row.map(Location::from))
}

/// Deletes `org`'s location `id`; `false` if there is no such location.
///
/// Run in a transaction: the location row is locked, then a member still
/// having it is `Conflict(InUse)` — decided here, not from the server's message.
async fn delete(conn: &mut AsyncPgConnection, org: Uuid, id: Uuid) -> Result<bool, DbError> {
    let found: Option<Uuid> = locations::table
        .filter(locations::org_id.eq(org).and(locations::id.eq(id)))
        .select(locations::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    if found.is_none() {
        return Ok(false);
    }
    let held: bool = diesel::select(diesel::dsl::exists(
        memberships::table.filter(memberships::org_id.eq(org)).filter(memberships::location_id.eq(id)),
    ))
    .get_result(conn)
    .await?;
    if held {
        return Err(DbError::Conflict(roster_domain::Conflict::InUse));
    }
    let n = diesel::delete(locations::table.filter(locations::org_id.eq(org).and(locations::id.eq(id))))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

#[async_trait]
impl LocationRepository for PgLocationRepository {
    async fn list_locations(
        &self,
        org: Uuid,
        q: Option<String>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Location>, RepoError> {
        self.db.run(|c| list(c, org, q.as_deref(), page, per_page).scope_boxed()).await
    }

    async fn get_location(&self, org: Uuid, id: Uuid) -> Result<Option<Location>, RepoError> {
        self.db.run(|c| get(c, org, id).scope_boxed()).await
    }

    async fn create_location(&self, location: &Location) -> Result<Location, RepoError> {
        self.db.run(|c| create(c, location).scope_boxed()).await
    }

    async fn update_location(
        &self,
        org: Uuid,
        id: Uuid,
        patch: &LocationPatch,
        now: DateTime<Utc>,
    ) -> Result<Option<Location>, RepoError> {
        self.db.run(|c| update(c, org, id, patch, now).scope_boxed()).await
    }

    async fn delete_location(&self, org: Uuid, id: Uuid) -> Result<bool, RepoError> {
        self.db.transaction(|c| delete(c, org, id).scope_boxed()).await
    }
}
