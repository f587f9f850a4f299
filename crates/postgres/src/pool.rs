//! The bounded connection pool (deadpool over diesel-async).
//!
//! Every wait is bounded: checking out of an exhausted pool, connecting to a
//! database that is down, and re-checking a pooled connection all fail after
//! their timeout, so callers can answer 503 instead of hanging.

use std::time::Duration;

use deadpool::Runtime;
use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{BuildError, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// The pool every repository takes connections from.
pub type PgPool = Pool<AsyncPgConnection>;

/// Size and timeouts of the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections open at once.
    pub max_size: usize,
    /// How long a checkout waits for a free slot.
    pub wait_timeout: Duration,
    /// How long opening a new connection may take.
    pub create_timeout: Duration,
    /// How long re-checking an idle connection may take.
    pub recycle_timeout: Duration,
    /// `statement_timeout` set on every new connection; server default if `None`.
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait_timeout: Duration::from_secs(5),
            create_timeout: Duration::from_secs(5),
            recycle_timeout: Duration::from_secs(5),
            statement_timeout: None,
        }
    }
}

/// Errors of [`ping`].
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    /// No connection could be checked out (pool exhausted, database down).
    #[error("no database connection available: {0}")]
    Pool(#[from] PoolError),
    /// The connection failed the query.
    #[error("database did not answer: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Builds the pool for `url`. Connections are opened lazily, so this
/// succeeds even while the database is down; use [`ping`] to check it.
pub fn build_pool(url: &str, cfg: &PoolConfig) -> Result<PgPool, BuildError> {
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    if let Some(timeout) = cfg.statement_timeout {
        let millis = timeout.as_millis();
        manager_config.custom_setup = Box::new(move |url| {
            let url = url.to_owned();
            Box::pin(async move {
                let mut conn = AsyncPgConnection::establish(&url).await?;
                conn.batch_execute(&format!("SET statement_timeout = {millis}"))
                    .await
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            })
        });
    }
    let manager = AsyncDieselConnectionManager::new_with_config(url, manager_config);
    Pool::builder(manager)
        .max_size(cfg.max_size)
        .wait_timeout(Some(cfg.wait_timeout))
        .create_timeout(Some(cfg.create_timeout))
        .recycle_timeout(Some(cfg.recycle_timeout))
        .runtime(Runtime::Tokio1)
        .build()
}

/// `(size, available, max_size)` of the pool, for metrics: connections
/// open, idle ones, and the limit.
pub fn pool_status(pool: &PgPool) -> (usize, usize, usize) {
    let status = pool.status();
    (status.size, status.available, status.max_size)
}

/// Runs `SELECT 1` on a pooled connection, for readiness checks.
pub async fn ping(pool: &PgPool) -> Result<(), PingError> {
    let mut conn = pool.get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await?;
    Ok(())
}
