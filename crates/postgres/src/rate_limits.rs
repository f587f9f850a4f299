//! [`RateLimitStore`] on PostgreSQL: one counter row per key and window,
//! incremented with an atomic upsert.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::ports::RateLimitStore;
use roster_domain::RepoError;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::rate_limit_hits;

/// Counts one hit. Binds `$1` the key, `$2` the window's start.
const HIT_SQL: &str = "\
    INSERT INTO rate_limit_hits (key, window_start, hits) VALUES ($1, $2, 1) \
    ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 \
    RETURNING hits";

/// Rate-limit counters in PostgreSQL, shared by every process.
#[derive(Clone, Debug)]
pub struct PgRateLimits {
    db: Db,
}

impl PgRateLimits {
    /// A store taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = Integer)]
    hits: i32,
}

/// Counts one hit on `key` in the window starting at `window_start`;
/// returns the window's hits so far.
async fn hit(conn: &mut AsyncPgConnection, key: &str, window_start: DateTime<Utc>) -> Result<u32, DbError> {
    let row: Hits =
        diesel::sql_query(HIT_SQL).bind::<Text, _>(key).bind::<Timestamptz, _>(window_start).get_result(conn).await?;
    u32::try_from(row.hits).map_err(|_| DbError::Corrupt(format!("rate limit window has {} hits", row.hits)))
}

/// Deletes the windows that started before `before`; returns how many.
async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> Result<u64, DbError> {
    let n =
        diesel::delete(rate_limit_hits::table).filter(rate_limit_hits::window_start.lt(before)).execute(conn).await?;
    Ok(n as u64)
}

#[async_trait]
impl RateLimitStore for PgRateLimits {
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, RepoError> {
        self.db.run(|c| hit(c, key, window_start).scope_boxed()).await
    }

    async fn count(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, RepoError> {
        self.db
            .run(|c| {
                async move {
                    let hits: Option<i32> = rate_limit_hits::table
                        .find((key, window_start))
                        .select(rate_limit_hits::hits)
                        .first(c)
                        .await
                        .optional()?;
                    Ok(u32::try_from(hits.unwrap_or(0)).unwrap_or(0))
                }
                .scope_boxed()
            })
            .await
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        self.db.run(|c| prune(c, before).scope_boxed()).await
    }
}
