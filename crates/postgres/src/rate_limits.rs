//! [`RateLimitStore`] on PostgreSQL: one counter row per key and window,
//! incremented with an atomic upsert.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use roster_domain::ports::RateLimitStore;
use roster_domain::RepoError;

use crate::db::conn;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::rate_limit_hits;

/// Counts one hit. Binds `$1` the key, `$2` the window's start.
const HIT_SQL: &str = "\
    INSERT INTO rate_limit_hits (key, window_start, hits) VALUES ($1, $2, 1) \
    ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 \
    RETURNING hits";

/// Rate-limit counters in PostgreSQL, shared by every process.
#[derive(Clone)]
pub struct PgRateLimits {
    pool: PgPool,
}

impl PgRateLimits {
    /// A store taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl std::fmt::Debug for PgRateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRateLimits").finish_non_exhaustive()
    }
}

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = Integer)]
    hits: i32,
}

#[async_trait]
impl RateLimitStore for PgRateLimits {
    async fn hit(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, RepoError> {
        let mut c = conn(&self.pool).await?;
        let row: Hits = diesel::sql_query(HIT_SQL)
            .bind::<Text, _>(key)
            .bind::<Timestamptz, _>(window_start)
            .get_result(&mut c)
            .await
            .map_err(DbError::from)?;
        let hits = u32::try_from(row.hits)
            .map_err(|_| DbError::Corrupt(format!("rate limit window has {} hits", row.hits)))?;
        Ok(hits)
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut c = conn(&self.pool).await?;
        let n = diesel::delete(rate_limit_hits::table)
            .filter(rate_limit_hits::window_start.lt(before))
            .execute(&mut c)
            .await
            .map_err(DbError::from)?;
        Ok(n as u64)
    }
}
