//! [`ApiKeyRepository`] on PostgreSQL. Every query of an organization's keys
//! is scoped by its `org_id`, so another organization's key id is "not
//! found"; revoked keys stay (their prefix and hash remain taken) but no
//! query here returns them.
//!
//! A duplicate prefix or hash violates `api_keys_prefix_key` or
//! `api_keys_secret_hash_key`, which [`crate::error`] reports as `Internal`:
//! with 32 random bytes per key it means a broken generator, not a conflict
//! a caller could resolve.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::TokenHash;
use roster_domain::org::{ApiKey, NewApiKey};
use roster_domain::ports::ApiKeyRepository;
use roster_domain::user::Page;
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::rows::{limit_offset, to_u64};
use crate::schema::api_keys;

/// How stale `last_used_at` must be before a use writes it again.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Organizations' API keys in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgApiKeyRepository {
    db: Db,
}

impl PgApiKeyRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One row of `api_keys`, without its hash and revocation.
#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
struct ApiKeyRow {
    id: Uuid,
    org_id: Uuid,
    name: String,
    prefix: String,
    permissions: Vec<String>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> Self {
        ApiKey {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            prefix: r.prefix,
            permissions: r.permissions,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        }
    }
}

/// The live key with hash `$1` unexpired at `$2`, its `last_used_at` set to
/// `$2` unless it was used after `$3`: one round trip, and no write while
/// the last use is fresh. The update tests staleness on the row it locks,
/// so of concurrent uses only the first writes; the others return the
/// `last_used_at` they read, at most a minute old.
const AUTHENTICATE_SQL: &str = "\
    WITH k AS (\
        SELECT id, org_id, name, prefix, permissions, created_by, created_at, last_used_at, expires_at \
        FROM api_keys \
        WHERE secret_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)\
    ), touched AS (\
        UPDATE api_keys a SET last_used_at = $2 FROM k \
        WHERE a.id = k.id AND (a.last_used_at IS NULL OR a.last_used_at < $3) \
        RETURNING a.id, a.last_used_at\
    ) \
    SELECT k.id, k.org_id, k.name, k.prefix, k.permissions, k.created_by, k.created_at, \
        COALESCE(t.last_used_at, k.last_used_at) AS last_used_at, k.expires_at \
    FROM k LEFT JOIN touched t ON t.id = k.id";

/// Inserts the key as given.
async fn create(conn: &mut AsyncPgConnection, k: &NewApiKey) -> Result<ApiKey, DbError> {
    let row: ApiKeyRow = diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(k.id),
            api_keys::org_id.eq(k.org_id),
            api_keys::name.eq(&k.name),
            api_keys::prefix.eq(&k.prefix),
            api_keys::secret_hash.eq(k.hash.as_slice()),
            api_keys::permissions.eq(&k.permissions),
            api_keys::created_by.eq(k.created_by),
            api_keys::created_at.eq(k.now),
            api_keys::expires_at.eq(k.expires_at),
        ))
        .returning(ApiKeyRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

/// One page of `org`'s live keys, newest first, and the total, read in one
/// read-only repeatable-read transaction so that they agree.
async fn list(conn: &mut AsyncPgConnection, org: Uuid, page: u32, per_page: u32) -> Result<Page<ApiKey>, DbError> {
    let (limit, offset) = limit_offset(page, per_page)?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|c| {
            async move {
                let mut rows: Vec<ApiKeyRow> = api_keys::table
                    .filter(api_keys::org_id.eq(org).and(api_keys::revoked_at.is_null()))
                    .order_by((api_keys::created_at.desc(), api_keys::id.desc()))
                    .limit(limit)
                    .offset(offset)
                    .select(ApiKeyRow::as_select())
                    .load(c)
                    .await?;
                let has_more = rows.len() > per_page as usize;
                rows.truncate(per_page as usize);
                let total: i64 = api_keys::table
                    .filter(api_keys::org_id.eq(org).and(api_keys::revoked_at.is_null()))
                    .count()
                    .get_result(c)
                    .await?;
                let items = rows.into_iter().map(ApiKey::from).collect();
                Ok(Page { items, total: Some(to_u64(total)?), page: Some(page), per_page, has_more })
            }
            .scope_boxed()
        })
        .await
}

/// Live key `id` if it is one of `org`'s.
async fn get(conn: &mut AsyncPgConnection, org: Uuid, id: Uuid) -> Result<Option<ApiKey>, DbError> {
    let row: Option<ApiKeyRow> = api_keys::table
        .filter(api_keys::org_id.eq(org).and(api_keys::id.eq(id)).and(api_keys::revoked_at.is_null()))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(ApiKey::from))
}

/// Revokes `org`'s live key `id` at `now`; `false` if there is no such key.
async fn revoke(conn: &mut AsyncPgConnection, org: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbError> {
    let n = diesel::update(
        api_keys::table.filter(api_keys::org_id.eq(org).and(api_keys::id.eq(id)).and(api_keys::revoked_at.is_null())),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// The live key with `hash`, unexpired at `now`, with its use recorded
/// (see [`AUTHENTICATE_SQL`]).
async fn authenticate(
    conn: &mut AsyncPgConnection,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Option<ApiKey>, DbError> {
    let row: Option<ApiKeyRow> = diesel::sql_query(AUTHENTICATE_SQL)
        .bind::<Bytea, _>(hash.as_slice())
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(now - TOUCH_EVERY)
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(ApiKey::from))
}

#[async_trait]
impl ApiKeyRepository for PgApiKeyRepository {
    async fn create(&self, key: &NewApiKey) -> Result<ApiKey, RepoError> {
        self.db.run(|c| create(c, key).scope_boxed()).await
    }

    async fn list(&self, org: Uuid, page: u32, per_page: u32) -> Result<Page<ApiKey>, RepoError> {
        self.db.run(|c| list(c, org, page, per_page).scope_boxed()).await
    }

    async fn get(&self, org: Uuid, id: Uuid) -> Result<Option<ApiKey>, RepoError> {
        self.db.run(|c| get(c, org, id).scope_boxed()).await
    }

    async fn revoke(&self, org: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError> {
        self.db.run(|c| revoke(c, org, id, now).scope_boxed()).await
    }

    async fn authenticate(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<Option<ApiKey>, RepoError> {
        self.db.run(|c| authenticate(c, hash, now).scope_boxed()).await
    }
}
